import { RemovalPolicy } from "aws-cdk-lib";
import {
  AccessLogField,
  AccessLogFormat,
  ApiKey,
  type CorsOptions,
  EndpointType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  Period,
  type QuotaSettings,
  ResponseType,
  RestApi,
  type ThrottleSettings,
  UsagePlan,
} from "aws-cdk-lib/aws-apigateway";
import type { IFunction } from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Construct } from "constructs";
import { DEFAULTS } from "./defaults.ts";

/** Request headers a browser client sends (the API key, Memento's Accept-Datetime). */
const CORS_ALLOW_HEADERS = ["Content-Type", "X-Api-Key", "Accept-Datetime"];

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
  /** The function that serves every path (Lambda proxy integration). */
  readonly handler: IFunction;
  /** @default "prod" */
  readonly stageName?: string;
  /**
   * Stage-wide throttle, all keys together.
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
   * Origins allowed to call the API from a browser (exact origins, or `["*"]` alone). Adds
   * preflight (OPTIONS, no key) and CORS headers on API Gateway's own error responses; the
   * handler adds them to its responses.
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
 * The public REST API: `ANY /` and `ANY /{proxy+}` proxied to one function, every method behind an
 * API key with a usage plan (per-key throttle and quota), stage throttling, JSON access logs,
 * X-Ray tracing and gateway errors in the API's error shape.
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

  constructor(scope: Construct, id: string, props: ArchiveApiProps) {
    super(scope, id);
    const stageThrottle = props.stageThrottle ?? DEFAULTS.apiThrottle;
    const usagePlanThrottle = props.usagePlanThrottle ?? DEFAULTS.usagePlanThrottle;
    const usagePlanQuota = props.usagePlanQuota ?? {
      limit: DEFAULTS.usagePlanQuotaPerDay,
      period: Period.DAY,
    };
    validateThrottle(stageThrottle, usagePlanThrottle);
    const cors = corsOptions(props.corsAllowOrigins);

    this.accessLogs = new LogGroup(this, "AccessLogs", {
      retention: props.accessLogRetention ?? DEFAULTS.logRetention,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    const integration = new LambdaIntegration(props.handler, { allowTestInvoke: false });
    this.api = new RestApi(this, "Api", {
      description: "Palimpsest HTTP API",
      // Regional: callers are servers and scripts; an edge-optimised hop adds nothing.
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      cloudWatchRole: props.cloudWatchRole ?? true,
      // The account-level logging role outlives this stack: other APIs in the account use it too.
      cloudWatchRoleRemovalPolicy: RemovalPolicy.RETAIN,
      defaultIntegration: integration,
      defaultMethodOptions: { apiKeyRequired: true },
      ...(cors ? { defaultCorsPreflightOptions: cors } : {}),
      deployOptions: {
        stageName: props.stageName ?? DEFAULTS.apiStageName,
        throttlingRateLimit: stageThrottle.rateLimit,
        throttlingBurstLimit: stageThrottle.burstLimit,
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
    this.api.root.addMethod("ANY");
    this.api.root.addResource("{proxy+}").addMethod("ANY");

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
  }
}

function validateThrottle(stage: ThrottleSettings, perKey: ThrottleSettings): void {
  for (const [name, value] of Object.entries({
    "stage rateLimit": stage.rateLimit,
    "stage burstLimit": stage.burstLimit,
    "usage plan rateLimit": perKey.rateLimit,
    "usage plan burstLimit": perKey.burstLimit,
  })) {
    if (value === undefined || !(value > 0)) {
      throw new Error(`ArchiveApi: ${name} must be a positive number, got ${value}.`);
    }
  }
  if (
    (perKey.rateLimit ?? 0) > (stage.rateLimit ?? 0) ||
    (perKey.burstLimit ?? 0) > (stage.burstLimit ?? 0)
  ) {
    throw new Error(
      "ArchiveApi: the usage plan throttle exceeds the stage throttle and could never be reached.",
    );
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
    allowMethods: ["GET", "POST", "OPTIONS"],
    allowHeaders: CORS_ALLOW_HEADERS,
    // No cookies or HTTP auth: the API key travels in a header.
    allowCredentials: false,
  };
}
