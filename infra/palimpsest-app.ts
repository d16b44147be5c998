import { type App, Duration, Tags } from "aws-cdk-lib";
import { loadHostShapingConfig, loadSweepSpreadMs } from "../shared/config.ts";
import { ENV } from "../shared/env-names.ts";
import { assertEmailAddress } from "./constructs/alarm-topic.ts";
import type { HostShapingProps } from "./constructs/host-shaping.ts";
import type { PublicDomainProps } from "./constructs/public-domain.ts";
import { PalimpsestServiceStack, type PalimpsestServiceStackProps } from "./stacks/service-stack.ts";
import { PalimpsestStorageStack, type PalimpsestStorageStackProps } from "./stacks/storage-stack.ts";

/** How the app is synthesized; read from CDK context by {@link readAppOptions}. */
export interface PalimpsestAppOptions {
  /**
   * Suffix of the stack names, to deploy several copies to one account (`-c stage=dev`).
   * @default - none: stacks `PalimpsestStorage` and `PalimpsestService`
   */
  readonly stage?: string;
  /**
   * Bundle the functions with esbuild (`-c bundling=false` turns it off).
   * @default true
   */
  readonly bundling?: boolean;
  /**
   * Email addresses subscribed to the alarm topic (`-c alarmEmail=ops@example.org`, several
   * separated by commas). Each must follow the confirmation link AWS sends.
   * @default - none: the topic's ARN is a stack output to subscribe to
   */
  readonly alarmEmails?: readonly string[];
  /**
   * An existing SNS topic for the alarms (`-c alarmTopicArn=arn:aws:sns:…`) instead of a new one.
   * @default - a topic in the storage stack
   */
  readonly alarmTopicArn?: string;
  /**
   * The archive's custom domain (`-c domainName=archive.example.org`, with `-c hostedZoneId=…
   * -c zoneName=example.org` for Route 53, or `-c certificateArn=…`).
   * @default - none: the API's execute-api address
   */
  readonly publicDomain?: PublicDomainProps;
  /**
   * A CloudFront distribution in front of the API (`-c edgeCache=true`) caching immutable
   * mementos and feeds, on the public domain when one is given (its certificate must then be in
   * us-east-1), else on its own `*.cloudfront.net` name.
   * @default false
   */
  readonly edgeCache?: boolean;
  /** Further storage stack props (Object Lock, backup, trail…). @default - its defaults */
  readonly storage?: Omit<PalimpsestStorageStackProps, "alarmTopic" | "publicDomain">;
  /** Further service stack props (concurrency, alarms, firewall…). @default - its defaults */
  readonly service?: Omit<PalimpsestServiceStackProps, "storage" | "bundling" | "edgeCache">;
}

const STAGE_PATTERN = /^[a-z][a-z0-9-]{0,15}$/;

/**
 * Reads `stage`, `bundling`, `alarmEmail`, the public domain and per-host politeness from CDK
 * context (`-c key=value` gives strings), failing on nonsense.
 */
export function readAppOptions(app: App): PalimpsestAppOptions {
  const stage: unknown = app.node.tryGetContext("stage");
  const bundling: unknown = app.node.tryGetContext("bundling");
  const edgeCache: unknown = app.node.tryGetContext("edgeCache");
  const alarmEmail: unknown = app.node.tryGetContext("alarmEmail");
  if (stage !== undefined && (typeof stage !== "string" || !STAGE_PATTERN.test(stage))) {
    throw new Error(`context stage must match ${STAGE_PATTERN}, got ${JSON.stringify(stage)}`);
  }
  if (bundling !== undefined && ![true, false, "true", "false"].includes(bundling as boolean | string)) {
    throw new Error(`context bundling must be true or false, got ${JSON.stringify(bundling)}`);
  }
  if (edgeCache !== undefined && ![true, false, "true", "false"].includes(edgeCache as boolean | string)) {
    throw new Error(`context edgeCache must be true or false, got ${JSON.stringify(edgeCache)}`);
  }
  const alarmEmails = parseAlarmEmails(alarmEmail);
  const publicDomain = readPublicDomain(app);
  const service = readPoliteness(app);
  const alarmTopicArn: unknown = app.node.tryGetContext("alarmTopicArn");
  if (
    alarmTopicArn !== undefined &&
    (typeof alarmTopicArn !== "string" || !alarmTopicArn.startsWith("arn:"))
  ) {
    throw new Error(`context alarmTopicArn must be an SNS topic ARN, got ${JSON.stringify(alarmTopicArn)}`);
  }
  return {
    ...(service === undefined ? {} : { service }),
    ...(alarmTopicArn === undefined ? {} : { alarmTopicArn }),
    ...(publicDomain === undefined ? {} : { publicDomain }),
    ...(stage === undefined ? {} : { stage }),
    ...(bundling === undefined ? {} : { bundling: bundling === true || bundling === "true" }),
    ...(edgeCache === undefined ? {} : { edgeCache: edgeCache === true || edgeCache === "true" }),
    ...(alarmEmails === undefined ? {} : { alarmEmails }),
  };
}

/**
 * The context keys of per-host politeness, each named like the variable it sets and given in its
 * syntax: `-c hostMinGapMs=2000 -c hostMaxConcurrency=1 -c hostLimits=news.example=5s -c
 * sweepSpreadMs=60000`.
 */
const POLITENESS_CONTEXT = {
  hostMaxConcurrency: ENV.hostMaxConcurrency,
  hostMinGapMs: ENV.hostMinGapMs,
  hostLimits: ENV.hostLimits,
  sweepSpreadMs: ENV.sweepSpreadMs,
} as const;

/**
 * Politeness from context, parsed by the handlers' own loaders (the construct parses again, with
 * HOST_LIMITS): a bad value fails synth with the variable's rule.
 */
function readPoliteness(app: App): PalimpsestAppOptions["service"] | undefined {
  const env: Record<string, string> = {};
  for (const [key, name] of Object.entries(POLITENESS_CONTEXT)) {
    const value: unknown = app.node.tryGetContext(key);
    if (value === undefined) continue;
    if (typeof value !== "string" && typeof value !== "number") {
      throw new Error(`context ${key} must be a string or a number, got ${JSON.stringify(value)}`);
    }
    env[name] = String(value);
  }
  if (Object.keys(env).length === 0) return undefined;
  let shaping: ReturnType<typeof loadHostShapingConfig>;
  let spreadMs: number;
  try {
    shaping = loadHostShapingConfig(env);
    spreadMs = loadSweepSpreadMs(env);
  } catch (err) {
    throw new Error(`context: ${(err as Error).message}`, { cause: err });
  }
  const hostShaping: HostShapingProps = {
    ...(env[ENV.hostMaxConcurrency] === undefined ? {} : { hostMaxConcurrency: shaping.hostMaxConcurrency }),
    ...(env[ENV.hostMinGapMs] === undefined ? {} : { hostMinGap: Duration.millis(shaping.hostMinGapMs) }),
    ...(shaping.hostLimits === undefined ? {} : { hostLimits: shaping.hostLimits }),
  };
  return {
    ...(Object.keys(hostShaping).length === 0 ? {} : { hostShaping }),
    ...(env[ENV.sweepSpreadMs] === undefined
      ? {}
      : { sweeperFunction: { sweepSpread: Duration.millis(spreadMs) } }),
  };
}

/** `domainName` with `hostedZoneId` and `zoneName`, and/or `certificateArn`; PublicDomain checks them. */
function readPublicDomain(app: App): PublicDomainProps | undefined {
  const read = (key: string): string | undefined => {
    const value: unknown = app.node.tryGetContext(key);
    if (value !== undefined && typeof value !== "string") {
      throw new Error(`context ${key} must be a string, got ${JSON.stringify(value)}`);
    }
    return value;
  };
  const domainName = read("domainName");
  const hostedZoneId = read("hostedZoneId");
  const zoneName = read("zoneName");
  const certificateArn = read("certificateArn");
  if (domainName === undefined) {
    if (hostedZoneId ?? zoneName ?? certificateArn) {
      throw new Error("context hostedZoneId, zoneName and certificateArn need domainName");
    }
    return undefined;
  }
  if ((hostedZoneId === undefined) !== (zoneName === undefined)) {
    throw new Error("context hostedZoneId and zoneName go together");
  }
  return {
    domainName,
    ...(hostedZoneId && zoneName ? { hostedZone: { hostedZoneId, zoneName } } : {}),
    ...(certificateArn === undefined ? {} : { certificateArn }),
  };
}

/** `alarmEmail`: one address or several separated by commas (`-c`), or a list (cdk.json). */
function parseAlarmEmails(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const list = typeof value === "string" ? value.split(",") : value;
  if (!Array.isArray(list) || !list.every((item) => typeof item === "string")) {
    throw new Error(`context alarmEmail must be email addresses, got ${JSON.stringify(value)}`);
  }
  const emails = list.map((item: string) => item.trim());
  for (const email of emails) assertEmailAddress(email, "context alarmEmail");
  return emails;
}

/**
 * Adds the Palimpsest stacks to `app`: the stateful storage stack and the stateless service stack
 * wired to it. Stacks are environment-agnostic, so synth needs no AWS account or lookups.
 */
export function addPalimpsestStacks(
  app: App,
  options: PalimpsestAppOptions = {},
): { storage: PalimpsestStorageStack; service: PalimpsestServiceStack } {
  if (options.stage !== undefined && !STAGE_PATTERN.test(options.stage)) {
    throw new Error(`stage must match ${STAGE_PATTERN}, got ${JSON.stringify(options.stage)}`);
  }
  const suffix = options.stage ? `-${options.stage}` : "";
  const storage = new PalimpsestStorageStack(app, `PalimpsestStorage${suffix}`, {
    ...options.storage,
    ...(options.alarmEmails === undefined && options.alarmTopicArn === undefined
      ? {}
      : {
          alarmTopic: {
            ...(options.alarmEmails === undefined ? {} : { emails: options.alarmEmails }),
            ...(options.alarmTopicArn === undefined ? {} : { topicArn: options.alarmTopicArn }),
          },
        }),
    ...(options.publicDomain === undefined
      ? {}
      : { publicDomain: { ...options.publicDomain, edgeCache: options.edgeCache ?? false } }),
  });
  const service = new PalimpsestServiceStack(app, `PalimpsestService${suffix}`, {
    ...options.service,
    edgeCache: options.edgeCache ?? false,
    storage,
    bundling: options.bundling ?? true,
  });
  Tags.of(app).add("project", "palimpsest");
  if (options.stage) Tags.of(app).add("stage", options.stage);
  return { storage, service };
}
