import path from "node:path";
import { Annotations, type Duration, RemovalPolicy, type Size, Validations } from "aws-cdk-lib";
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import { Role, ServicePrincipal } from "aws-cdk-lib/aws-iam";
import { Architecture, Code, Runtime, Tracing } from "aws-cdk-lib/aws-lambda";
import {
  type BundlingOptions,
  Charset,
  NodejsFunction,
  OutputFormat,
  SourceMapMode,
} from "aws-cdk-lib/aws-lambda-nodejs";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import type { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import { DEFAULTS, type LogLevel, REPO_ROOT } from "./defaults.ts";

/**
 * Env vars that only a bind method may set (it grants the matching access in the same call), plus
 * those this construct sets from its own props.
 */
const RESERVED_ENVIRONMENT: ReadonlySet<string> = new Set([
  ENV.tableName,
  ENV.bucketName,
  ENV.queueUrl,
  ENV.pollQueueUrl,
  ENV.captureMaxAttempts,
  ENV.eventBusName,
  ENV.corsAllowOrigins,
  ENV.hostMaxConcurrency,
  ENV.hostMinGapMs,
  ENV.hostLimits,
  ENV.logLevel,
  "NODE_OPTIONS",
]);

/**
 * ESM bundles have no `require`; CommonJS dependencies inside them (and esbuild's `__require`
 * shim) still call it, for Node built-ins among others.
 */
const ESM_REQUIRE_BANNER =
  "import { createRequire as __palimpsestCreateRequire } from 'node:module'; const require = __palimpsestCreateRequire(import.meta.url);";

/**
 * Credential sources that the SDK's default chain imports dynamically, only after the environment
 * had no credentials: SSO, profiles and their login, credential processes, web identity, container
 * and instance metadata. A Lambda function always has its role's credentials in the environment
 * (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`) and no `AWS_PROFILE`, so the
 * chain stops at `fromEnv` and these are never loaded. Left out of the bundles: a sixth of each
 * (the STS and SSO clients they pull in). A function whose own code imports one bundles it
 * (`bundledCredentialProviders`).
 */
export const LAZY_CREDENTIAL_PROVIDERS: readonly string[] = [
  "@aws-sdk/credential-provider-ini",
  "@aws-sdk/credential-provider-login",
  "@aws-sdk/credential-provider-sso",
  "@aws-sdk/credential-provider-process",
  "@aws-sdk/credential-provider-web-identity",
  "@aws-sdk/credential-provider-http",
  "@smithy/credential-provider-imds",
];

/** What a function synthesized without bundling runs: a loud failure, never a silent no-op. */
const PLACEHOLDER_CODE =
  'exports.handler = async () => { throw new Error("Synthesized with bundling off: this function is a placeholder and must not be deployed."); };';

/** Props of {@link PalimpsestFunction}. */
export interface PalimpsestFunctionProps {
  /** Handler module, relative to the repository root, that exports `handler` (e.g. `functions/api/handler.ts`). */
  readonly entry: string;
  /**
   * Description shown in the Lambda console.
   * @default - none
   */
  readonly description?: string;
  /**
   * Bundle the entry with the local esbuild. `false` deploys a placeholder that throws, so that
   * assertion tests and cfn-lint synthesize fast, offline and without the handler sources.
   * @default true
   */
  readonly bundling?: boolean;
  /**
   * Packages installed (with npm, from the project lock file) into the asset's `node_modules`
   * instead of being bundled — for packages that read their own files at run time.
   * @default - none: everything, the AWS SDK included, is bundled at the locked versions
   */
  readonly nodeModules?: readonly string[];
  /**
   * Credential sources (of {@link LAZY_CREDENTIAL_PROVIDERS}) the function's own code imports, so
   * bundled rather than left out: the capture function builds `fromHttp` itself where its role's
   * credentials come from a container endpoint (scrub-environ.ts).
   * @default - none: every lazy credential source is left out
   */
  readonly bundledCredentialProviders?: readonly string[];
  /**
   * Minify the bundle (with `keepNames`, so error classes keep their names in logs). Turn it off
   * for code that hands functions to a browser as source text (`page.evaluate(fn)`): `keepNames`
   * wraps them in a `__name()` helper that exists only in the bundle, never in the page.
   * @default true
   */
  readonly minify?: boolean;
  /** @default 1024 */
  readonly memorySize?: number;
  /** @default Duration.seconds(20) */
  readonly timeout?: Duration;
  /** @default Size.mebibytes(512) (the Lambda default) */
  readonly ephemeralStorageSize?: Size;
  /** @default - unreserved */
  readonly reservedConcurrentExecutions?: number;
  /**
   * Instruction set. Graviton (arm64) costs 20% less per GB-second and runs these bundles (plain
   * JavaScript, no native module) as they are; only a function that ships an x86_64 binary (the
   * capture function's Chromium) needs x86_64.
   * @default Architecture.ARM_64
   */
  readonly architecture?: Architecture;
  /**
   * Extra environment. Names that a bind method owns (`TABLE_NAME`, `BUCKET_NAME`, `QUEUE_URL`,
   * `POLL_QUEUE_URL`, `CAPTURE_MAX_ATTEMPTS`, `EVENT_BUS_NAME`, `CORS_ALLOW_ORIGINS`, `HOST_*`) and those set from props here
   * (`LOG_LEVEL`, `NODE_OPTIONS`) are refused.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Have Node map stack traces through the bundle's source map (`NODE_OPTIONS=--enable-source-maps`).
   * Node then reads the map and measures every line of the bundle as it loads it, at each cold
   * start. When false the map still ships beside the bundle and the logger maps the stacks of the
   * errors it logs, reading the map on first use (shared/stack-map.ts); only stacks printed
   * elsewhere (an init failure the runtime reports) stay unmapped.
   * @default true
   */
  readonly sourceMapsAtRuntime?: boolean;
  /** @default "info" */
  readonly logLevel?: LogLevel;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The base of every Palimpsest Lambda: Node.js 24 on arm64 (unless told otherwise), an ESM bundle (`.mjs`) built by the
 * local esbuild with its source map (read by Node at load, or by the logger on first use), X-Ray tracing, and its own log group with a
 * retention. Its role starts with nothing but writing to that log group (no AWS managed policy);
 * data access is added afterwards with the storage constructs' bind methods.
 */
export class PalimpsestFunction extends NodejsFunction {
  /** The function's log group. */
  public readonly logs: LogGroup;
  /** The function's execution role (what the bind methods grant to). */
  public readonly executionRole: Role;
  /**
   * In alarm when invocations have been throttled in each of the last 15 minutes: the account's
   * Lambda concurrency is used up (or the function's reserved concurrency is too small).
   */
  public readonly throttledAlarm: Alarm;

  constructor(scope: Construct, id: string, props: PalimpsestFunctionProps) {
    for (const name of Object.keys(props.environment ?? {})) {
      if (RESERVED_ENVIRONMENT.has(name)) {
        throw new Error(
          `PalimpsestFunction ${id}: environment variable ${name} is set by a bind method or a prop.`,
        );
      }
    }
    // The log group is created first (as a sibling) because the function's props must name it.
    // Function logs are operational, not archive data: they go with the stateless stack.
    const logs = new LogGroup(scope, `${id}Logs`, {
      retention: props.logRetention ?? DEFAULTS.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Instead of AWSLambdaBasicExecutionRole (logs:CreateLogGroup and write access to every log
    // group in the account): write access to this function's own log group, which already exists.
    const role = new Role(scope, `${id}Role`, {
      assumedBy: new ServicePrincipal("lambda.amazonaws.com"),
      description: `Execution role of ${id}`,
    });
    logs.grantWrite(role);
    const bundling = props.bundling ?? true;
    super(scope, id, {
      role,
      description: props.description,
      runtime: Runtime.NODEJS_24_X,
      architecture: props.architecture ?? Architecture.ARM_64,
      memorySize: props.memorySize ?? DEFAULTS.functionMemoryMiB,
      timeout: props.timeout ?? DEFAULTS.functionTimeout,
      ephemeralStorageSize: props.ephemeralStorageSize,
      reservedConcurrentExecutions: props.reservedConcurrentExecutions,
      tracing: Tracing.ACTIVE,
      logGroup: logs,
      environment: {
        ...props.environment,
        [ENV.logLevel]: props.logLevel ?? DEFAULTS.logLevel,
        ...((props.sourceMapsAtRuntime ?? true) ? { NODE_OPTIONS: "--enable-source-maps" } : {}),
      },
      ...(bundling
        ? {
            entry: path.join(REPO_ROOT, props.entry),
            handler: "handler",
            projectRoot: REPO_ROOT,
            depsLockFilePath: path.join(REPO_ROOT, "package-lock.json"),
            bundling: bundlingOptions(props),
          }
        : { code: Code.fromInline(PLACEHOLDER_CODE), handler: "index.handler" }),
    });
    this.logs = logs;
    this.executionRole = role;
    const periods = DEFAULTS.alarmSustainedPeriods;
    this.throttledAlarm = new Alarm(this, "ThrottledAlarm", {
      alarmDescription:
        `Lambda has throttled ${id} in each of the last ${periods * DEFAULTS.alarmPeriod.toMinutes()} minutes: the ` +
        "account's concurrent executions are used up (new accounts may run only 10 at once) or the " +
        "function's reserved concurrency is too small. Throttled captures count as deliveries and end " +
        "up dead-lettered, throttled sweeps are skipped, throttled API calls fail. Raise the Lambda " +
        "concurrency quota (Service Quotas) or lower the capture function's maxConcurrency.",
      metric: this.metricThrottles({ period: DEFAULTS.alarmPeriod, statistic: Stats.SUM }),
      threshold: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    // Tracing.ACTIVE added xray:PutTraceSegments and xray:PutTelemetryRecords to the role's default
    // policy; a test checks they are the only actions on "*" there.
    const defaultPolicy = role.node.tryFindChild("DefaultPolicy");
    if (defaultPolicy) {
      Validations.of(defaultPolicy).acknowledge({
        id: "AwsSolutions-IAM5[Resource::*]",
        reason:
          "X-Ray PutTraceSegments and PutTelemetryRecords, and CloudWatch GetMetricData (the sweeper's back-pressure), support no resource-level permissions.",
      });
    }
    if (!bundling) {
      Annotations.of(this).addWarningV2(
        "palimpsest:bundling-off",
        "Bundling is off: this function is a placeholder that throws. Do not deploy this synth.",
      );
    }
  }
}

/**
 * How the local esbuild bundles a function (never Docker). Exported so a test can build a bundle
 * with exactly these options and inspect it.
 */
export function bundlingOptions(
  props: Pick<PalimpsestFunctionProps, "minify" | "nodeModules" | "bundledCredentialProviders">,
): BundlingOptions & { minify: boolean; keepNames: boolean } {
  const minify = props.minify ?? true;
  return {
    format: OutputFormat.ESM,
    target: "node24",
    // Prefer packages' ESM builds: they tree-shake (the AWS SDK v3 above all).
    mainFields: ["module", "main"],
    banner: ESM_REQUIRE_BANNER,
    minify,
    // Error classes name themselves from `new.target.name`; minified names would leak into logs.
    // Unminified code keeps its names without the `__name()` wrappers keepNames injects.
    keepNames: minify,
    sourceMap: true,
    sourceMapMode: SourceMapMode.DEFAULT,
    sourcesContent: false,
    charset: Charset.UTF8,
    // Bundle the AWS SDK too: the code runs against the versions it was tested with, not
    // whatever the runtime ships this month. All but the credential sources a Lambda never uses.
    externalModules: LAZY_CREDENTIAL_PROVIDERS.filter(
      (name) => !props.bundledCredentialProviders?.includes(name),
    ),
    // Only when there are some: an empty list still makes CDK run `npm ci` into the asset.
    ...(props.nodeModules?.length ? { nodeModules: [...props.nodeModules] } : {}),
  };
}
