import { RemovalPolicy, Validations } from "aws-cdk-lib";
import {
  AccessLogField,
  AccessLogFormat,
  ApiKey,
  type CorsOptions,
  EndpointType,
  type IResource,
  LambdaIntegration,
  LogGroupLogDestination,
  type MethodDeploymentOptions,
  MethodLoggingLevel,
  Period,
  type QuotaSettings,
  type RequestValidator,
  ResponseType,
  RestApi,
  type ThrottleSettings,
  UsagePlan,
} from "aws-cdk-lib/aws-apigateway";
import { Alarm, ComparisonOperator, Stats, TreatMissingData } from "aws-cdk-lib/aws-cloudwatch";
import type { Function as LambdaFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { loadApiConfig } from "../../shared/config.ts";
import { ENV } from "../../shared/env-names.ts";
import { DEFAULTS } from "./defaults.ts";

/** Request headers a browser client sends (the API key, Memento's Accept-Datetime). */
const CORS_ALLOW_HEADERS = ["Content-Type", "X-Api-Key", "Accept-Datetime"];
/** What the handler's own CORS middleware allows (`shared/http/api-gateway.ts`). */
const CORS_ALLOW_METHODS = ["GET", "HEAD", "POST", "PATCH", "DELETE", "OPTIONS"];

/** Methods a browser or feed reader uses to read a page. */
const READ_METHODS = ["GET", "HEAD"] as const;

/**
 * What is readable without an API key: the routes marked `public: true` in `functions/api` (the
 * web UI, its capture form, the Atom feeds, Memento, `/v1/available` and the evidence signing key). Browsers and feed readers
 * cannot send a key. Everything else, the JSON API above all, keeps requiring one; a test matches
 * every route of the handler against the resources built from this list.
 *
 * API Gateway picks the most specific resource (a fixed segment over `{param}` over `{proxy+}`)
 * and on it the exact method over `ANY`; so each resource below also gets a keyed `ANY`, and
 * parents get a keyed `{proxy+}` where their subtree would otherwise have holes.
 */
export const PUBLIC_PATHS: ReadonlyArray<{ path: string; methods: readonly string[] }> = [
  { path: "/", methods: READ_METHODS },
  { path: "/ui", methods: READ_METHODS },
  // POST: the capture form (`POST /ui/captures`), the one key-less way to submit.
  { path: "/ui/{proxy+}", methods: [...READ_METHODS, "POST"] },
  // The sources and URL pages are read key-less; their forms (POST) change what is followed and
  // how it is compared (noise rules), and keep the key.
  { path: "/ui/sources", methods: READ_METHODS },
  { path: "/ui/sources/{proxy+}", methods: READ_METHODS },
  { path: "/ui/urls", methods: READ_METHODS },
  { path: "/ui/urls/{proxy+}", methods: READ_METHODS },
  { path: "/timemap/{proxy+}", methods: READ_METHODS },
  { path: "/timegate/{proxy+}", methods: READ_METHODS },
  { path: "/memento/{proxy+}", methods: READ_METHODS },
  { path: "/v1/available", methods: READ_METHODS },
  { path: "/v1/signing-key", methods: READ_METHODS },
  { path: "/v1/edits.atom", methods: READ_METHODS },
  { path: "/v1/urls/{urlId}/edits.atom", methods: READ_METHODS },
  { path: "/v1/sources/{sourceId}/edits.atom", methods: READ_METHODS },
];

/**
 * Resources with only a keyed `ANY` (the JSON API), created so that no request falls into a
 * subtree without a method. `{proxy+}` cannot sit beside `{urlId}`, hence `/v1/urls/{urlId}/{proxy+}`
 * (and the same for sources).
 */
const KEYED_PATHS = [
  "/{proxy+}",
  "/v1/{proxy+}",
  "/v1/urls/{urlId}/{proxy+}",
  "/v1/sources/{sourceId}/{proxy+}",
];

/**
 * API Gateway's own rejections (bad key, throttling, timeouts) in the API's error shape
 * `{"error":{"code","message"}}`. `$context.error.messageString` is already a quoted JSON string.
 */
const GATEWAY_ERRORS: ReadonlyArray<{ type: ResponseType; code: string }> = [
  { type: ResponseType.INVALID_API_KEY, code: "invalid_api_key" },
  { type: ResponseType.THROTTLED, code: "throttled" },
  { type: ResponseType.QUOTA_EXCEEDED, code: "quota_exceeded" },
  { type: ResponseType.REQUEST_TOO_LARGE, code: "request_too_large" },
  { type: ResponseType.INTEGRATION_TIMEOUT, code: "timeout" },
  { type: ResponseType.DEFAULT_4XX, code: "request_rejected" },
  { type: ResponseType.DEFAULT_5XX, code: "gateway_error" },
];

/** Props of {@link ArchiveApi}. */
export interface ArchiveApiProps {
  /**
   * The function that serves every path (Lambda proxy integration). The API sets its
   * `CORS_ALLOW_ORIGINS`, so the gateway and the handler agree on CORS.
   */
  readonly handler: LambdaFunction;
  /** @default "prod" */
  readonly stageName?: string;
  /**
   * Stage-wide throttle, all callers together (key holders and key-less readers).
   * @default { rateLimit: 50, burstLimit: 100 }
   */
  readonly stageThrottle?: ThrottleSettings;
  /**
   * Per-key throttle in the usage plan. Must not exceed the stage throttle (it could never be reached).
   * @default { rateLimit: 10, burstLimit: 20 }
   */
  readonly usagePlanThrottle?: ThrottleSettings;
  /**
   * Per-key request quota in the usage plan.
   * @default { limit: 10000, period: Period.DAY }
   */
  readonly usagePlanQuota?: QuotaSettings;
  /**
   * Throttle of each key-less read method (web UI, feeds, Memento), which no usage plan covers.
   * Must not exceed the stage throttle.
   * @default { rateLimit: 20, burstLimit: 40 }
   */
  readonly publicReadThrottle?: ThrottleSettings;
  /**
   * Throttle of the key-less capture form (`POST /ui/...`): each submission runs a browser.
   * Must not exceed the stage throttle.
   * @default { rateLimit: 1, burstLimit: 5 }
   */
  readonly publicSubmitThrottle?: ThrottleSettings;
  /**
   * Origins allowed to call the API from a browser (exact origins, or `["*"]` alone). Adds
   * preflight (OPTIONS, no key) and CORS headers on API Gateway's own error responses, and sets the
   * handler's `CORS_ALLOW_ORIGINS` so its responses carry them too.
   * @default - CORS off
   */
  readonly corsAllowOrigins?: readonly string[];
  /**
   * Create the account-wide IAM role API Gateway needs to write access and execution logs. It is
   * one setting per account and region: turn this off when another stack already manages it.
   * @default true
   */
  readonly cloudWatchRole?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly accessLogRetention?: RetentionDays;
}

/**
 * The REST API, proxied to one function. The JSON API is behind an API key with a usage plan
 * (per-key throttle and quota); the pages, feeds and Memento of {@link PUBLIC_PATHS} are open,
 * each method with its own throttle. Stage throttling, request validation, JSON access logs,
 * X-Ray tracing and gateway errors in the API's error shape apply to all.
 */
export class ArchiveApi extends Construct {
  /** The REST API. */
  public readonly api: RestApi;
  /** The API key callers send in `x-api-key` (its value is generated; read it with the AWS CLI). */
  public readonly apiKey: ApiKey;
  /** The usage plan that binds the key to the stage. */
  public readonly usagePlan: UsagePlan;
  /** Access log group of the stage. */
  public readonly accessLogs: LogGroup;
  /** Validates the parameters and bodies that methods declare (the handler validates the rest). */
  public readonly requestValidator: RequestValidator;
  /**
   * In alarm when, for 15 minutes, at least {@link DEFAULTS.apiServerErrorAlarmPercent} % of the
   * stage's requests were answered 5xx (handler errors, Lambda failures or throttles, timeouts).
   */
  public readonly serverErrorsAlarm: Alarm;

  constructor(scope: Construct, id: string, props: ArchiveApiProps) {
    super(scope, id);
    const stageThrottle = props.stageThrottle ?? DEFAULTS.apiThrottle;
    const usagePlanThrottle = props.usagePlanThrottle ?? DEFAULTS.usagePlanThrottle;
    const publicReadThrottle = props.publicReadThrottle ?? DEFAULTS.publicReadThrottle;
    const publicSubmitThrottle = props.publicSubmitThrottle ?? DEFAULTS.publicSubmitThrottle;
    const usagePlanQuota = props.usagePlanQuota ?? {
      limit: DEFAULTS.usagePlanQuotaPerDay,
      period: Period.DAY,
    };
    validateThrottle(stageThrottle, {
      "usage plan": usagePlanThrottle,
      "public read": publicReadThrottle,
      "public submit": publicSubmitThrottle,
    });
    const cors = corsOptions(props.corsAllowOrigins);
    if (cors) {
      const value = cors.allowOrigins.join(",");
      // The handler parses it at cold start; parsing it here makes a bad origin a synth error.
      try {
        loadApiConfig({ [ENV.corsAllowOrigins]: value });
      } catch (err) {
        throw new Error(`ArchiveApi: ${(err as Error).message}`, { cause: err });
      }
      props.handler.addEnvironment(ENV.corsAllowOrigins, value);
    }

    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.accessLogRetention ?? DEFAULTS.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    // One permission for the whole API instead of one per method (the function's resource policy
    // has a size limit, and every method here goes to this one function anyway).
    const integration = new LambdaIntegration(props.handler, { scopePermissionToMethod: false });
    // A method's settings replace the stage-wide ones rather than inherit them: repeat the logging.
    const throttleOf = (t: ThrottleSettings): MethodDeploymentOptions => ({
      throttlingRateLimit: t.rateLimit,
      throttlingBurstLimit: t.burstLimit,
      loggingLevel: MethodLoggingLevel.ERROR,
      dataTraceEnabled: false,
    });
    const methodOptions: Record<string, MethodDeploymentOptions> = {};
    for (const { path, methods } of PUBLIC_PATHS) {
      for (const method of methods) {
        // `//GET` is the root: the part before the last slash is the resource path.
        const key = `${path}/${method}`;
        methodOptions[key] = throttleOf(method === "POST" ? publicSubmitThrottle : publicReadThrottle);
      }
    }
    this.api = new RestApi(this, "Api", {
      description: "Palimpsest HTTP API",
      // Regional: callers are servers and scripts; an edge-optimised hop adds nothing.
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole ?? true,
      // The account-level logging role outlives this stack: other APIs in the account use it too.
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultIntegration: integration,
      ...(cors ? { defaultCorsPreflightOptions: cors } : {}),
      deployOptions: {
        stageName: props.stageName ?? DEFAULTS.apiStageName,
        throttlingRateLimit: stageThrottle.rateLimit,
        throttlingBurstLimit: stageThrottle.burstLimit,
        methodOptions,
        tracingEnabled: true,
        // Execution logs for errors only, and never request/response bodies (they carry URLs and keys).
        loggingLevel: MethodLoggingLevel.ERROR,
        dataTraceEnabled: false,
        accessLogDestination: new LogGroupLogDestination(this.accessLogs),
        accessLogFormat: AccessLogFormat.custom(
          JSON.stringify({
            requestId: AccessLogField.contextRequestId(),
            time: AccessLogField.contextRequestTime(),
            ip: AccessLogField.contextIdentitySourceIp(),
            method: AccessLogField.contextHttpMethod(),
            path: AccessLogField.contextResourcePath(),
            status: AccessLogField.contextStatus(),
            bytes: AccessLogField.contextResponseLength(),
            latencyMs: AccessLogField.contextResponseLatency(),
            apiKeyId: AccessLogField.contextIdentityApiKeyId(),
            error: AccessLogField.contextErrorMessage(),
          }),
        ),
      },
    });
    // The handler validates every body and query itself, with the contract's specific error
    // codes; this validator enforces whatever parameters or models a method declares.
    this.requestValidator = this.api.addRequestValidator("RequestValidator", {
      validateRequestBody: true,
      validateRequestParameters: true,
    });

    // Every resource gets a keyed ANY; public paths add their key-less methods beside it.
    const resources = new Map<string, IResource>([["/", this.api.root]]);
    const resourceAt = (path: string): IResource => {
      const existing = resources.get(path);
      if (existing) return existing;
      const slash = path.lastIndexOf("/");
      const parent = resourceAt(slash === 0 ? "/" : path.slice(0, slash));
      const resource = parent.addResource(path.slice(slash + 1));
      resource.addMethod("ANY", undefined, { apiKeyRequired: true, requestValidator: this.requestValidator });
      resources.set(path, resource);
      return resource;
    };
    this.api.root.addMethod("ANY", undefined, {
      apiKeyRequired: true,
      requestValidator: this.requestValidator,
    });
    for (const path of KEYED_PATHS) resourceAt(path);
    for (const { path, methods } of PUBLIC_PATHS) {
      const resource = resourceAt(path);
      for (const method of methods) {
        resource.addMethod(method, undefined, {
          apiKeyRequired: false,
          requestValidator: this.requestValidator,
        });
      }
    }

    // A gateway response cannot pick one origin out of a list, so with several origins its errors
    // stay without CORS headers rather than being opened to every origin.
    const errorOrigin = cors?.allowOrigins.length === 1 ? cors.allowOrigins[0] : undefined;
    const errorHeaders = errorOrigin ? { "Access-Control-Allow-Origin": `'${errorOrigin}'` } : undefined;
    for (const { type, code } of GATEWAY_ERRORS) {
      this.api.addGatewayResponse(`Error${type.responseType}`, {
        type,
        templates: {
          "application/json": `{"error":{"code":"${code}","message":$context.error.messageString}}`,
        },
        ...(errorHeaders ? { responseHeaders: errorHeaders } : {}),
      });
    }

    this.apiKey = new ApiKey(this, "ApiKey", { description: "Palimpsest default API key" });
    this.usagePlan = new UsagePlan(this, "UsagePlan", {
      description: "Palimpsest per-key throttle and quota",
      throttle: usagePlanThrottle,
      quota: usagePlanQuota,
      apiStages: [{ api: this.api, stage: this.api.deploymentStage }],
    });
    this.usagePlan.addApiKey(this.apiKey);

    const periods = DEFAULTS.alarmSustainedPeriods;
    this.serverErrorsAlarm = new Alarm(this, "ServerErrorsAlarm", {
      alarmDescription:
        `At least ${DEFAULTS.apiServerErrorAlarmPercent}% of the API's requests have been answered 5xx for ` +
        `${periods * DEFAULTS.alarmPeriod.toMinutes()} minutes: the API function is failing (its logs ` +
        "name each internal_error), throttled, or timing out, or DynamoDB, S3 or SQS is refusing it. " +
        "Expected refusals (400s, 404s, 429 back-pressure) are 4xx and do not count.",
      // 5XXError is 0 or 1 per request, so its average is the share of requests that failed.
      metric: this.api.deploymentStage.metricServerError({
        period: DEFAULTS.alarmPeriod,
        statistic: Stats.AVERAGE,
      }),
      threshold: DEFAULTS.apiServerErrorAlarmPercent / 100,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: periods,
      datapointsToAlarm: periods,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });

    Validations.of(this.api).acknowledge(
      {
        id: "AwsSolutions-APIG4",
        reason:
          "By design (PRODUCT.md): the JSON API is authorised by API keys with a usage plan; the web UI, feeds and Memento are public reads for browsers and feed readers, which cannot send a key.",
      },
      {
        id: "AwsSolutions-COG4",
        reason:
          "Callers are scripts and servers holding an API key, and anonymous readers; there are no user accounts to put in a Cognito pool.",
      },
      {
        id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]",
        reason:
          "The account-wide role API Gateway writes execution and access logs with; AWS's policy for it is the documented one and covers log groups API Gateway names itself.",
      },
    );
  }
}

function validateThrottle(stage: ThrottleSettings, others: Record<string, ThrottleSettings>): void {
  for (const [name, throttle] of Object.entries({ stage, ...others })) {
    for (const [field, value] of Object.entries({
      rateLimit: throttle.rateLimit,
      burstLimit: throttle.burstLimit,
    })) {
      if (value === undefined || !(value > 0)) {
        throw new Error(`ArchiveApi: ${name} ${field} must be a positive number, got ${value}.`);
      }
    }
  }
  for (const [name, throttle] of Object.entries(others)) {
    if (
      (throttle.rateLimit ?? 0) > (stage.rateLimit ?? 0) ||
      (throttle.burstLimit ?? 0) > (stage.burstLimit ?? 0)
    ) {
      throw new Error(
        `ArchiveApi: the ${name} throttle exceeds the stage throttle and could never be reached.`,
      );
    }
  }
}

function corsOptions(
  origins: readonly string[] | undefined,
): (CorsOptions & { allowOrigins: string[] }) | undefined {
  if (origins === undefined) return undefined;
  if (origins.length === 0) {
    throw new Error("ArchiveApi: corsAllowOrigins is empty; omit it to turn CORS off.");
  }
  if (origins.includes("*") && origins.length > 1) {
    throw new Error('ArchiveApi: corsAllowOrigins "*" must stand alone.');
  }
  return {
    allowOrigins: [...origins],
    allowMethods: CORS_ALLOW_METHODS,
    allowHeaders: CORS_ALLOW_HEADERS,
    // No cookies or HTTP auth: the API key travels in a header.
    allowCredentials: false,
  };
}
