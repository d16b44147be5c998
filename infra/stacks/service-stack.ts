import { CfnOutput, Stack, type StackProps } from "aws-cdk-lib";
import { BasePathMapping } from "aws-cdk-lib/aws-apigateway";
import type { Construct } from "constructs";
import {
  AccountConcurrencyAlarm,
  type AccountConcurrencyAlarmProps,
} from "../constructs/account-concurrency-alarm.ts";
import { ApiFirewall, type ApiFirewallProps } from "../constructs/api-firewall.ts";
import { ApiFunction, type ApiFunctionProps } from "../constructs/api-function.ts";
import { ArchiveApi, type ArchiveApiProps } from "../constructs/archive-api.ts";
import { CaptureFunction, type CaptureFunctionProps } from "../constructs/capture-function.ts";
import { DeadLetterFunction, type DeadLetterFunctionProps } from "../constructs/dead-letter-function.ts";
import { DEFAULTS } from "../constructs/defaults.ts";
import { EdgeCache, type EdgeCacheOptions } from "../constructs/edge-cache.ts";
import { HostShaping, type HostShapingProps } from "../constructs/host-shaping.ts";
import { OperationsDashboard } from "../constructs/operations-dashboard.ts";
import { PollFunction, type PollFunctionProps } from "../constructs/poll-function.ts";
import { PollQueue, type PollQueueProps } from "../constructs/poll-queue.ts";
import { ReplayOrigin, type ReplayOriginProps } from "../constructs/replay-origin.ts";
import { SweepSchedule, type SweepScheduleProps } from "../constructs/sweep-schedule.ts";
import { SweeperFunction, type SweeperFunctionProps } from "../constructs/sweeper-function.ts";
import type { ArchiveStorage } from "./storage-stack.ts";

type StorageBoundProps = "table" | "bucket" | "queue" | "editEvents" | "bundling" | "recaptureCadence";

/** Props of {@link PalimpsestServiceStack}. */
export interface PalimpsestServiceStackProps extends StackProps {
  /** The stateful resources (usually the storage stack). */
  readonly storage: ArchiveStorage;
  /**
   * Bundle the functions with esbuild. `false` synthesizes placeholders (tests, cfn-lint).
   * @default true
   */
  readonly bundling?: boolean;
  /** @default - {@link ApiFunction}'s defaults */
  readonly apiFunction?: Omit<
    ApiFunctionProps,
    StorageBoundProps | "pollQueue" | "publicBaseUrl" | "hostShaping"
  >;
  /** @default - {@link CaptureFunction}'s defaults */
  readonly captureFunction?: Omit<CaptureFunctionProps, StorageBoundProps>;
  /** @default - {@link DeadLetterFunction}'s defaults */
  readonly deadLetterFunction?: Omit<DeadLetterFunctionProps, StorageBoundProps>;
  /** @default - {@link SweeperFunction}'s defaults */
  readonly sweeperFunction?: Omit<SweeperFunctionProps, StorageBoundProps | "pollQueue" | "hostShaping">;
  /**
   * The queue of poll jobs. It is here, not with the stateful resources: a poll job is disposable
   * (a source whose job is lost comes due again), so replacing this stack loses nothing.
   * @default - {@link PollQueue}'s defaults
   */
  readonly pollQueue?: PollQueueProps;
  /** @default - {@link PollFunction}'s defaults */
  readonly pollFunction?: Omit<
    PollFunctionProps,
    StorageBoundProps | "captureQueue" | "pollQueue" | "hostShaping"
  >;
  /** @default - {@link SweepSchedule}'s defaults: every 5 minutes */
  readonly sweepSchedule?: Omit<SweepScheduleProps, "sweeper">;
  /** @default - {@link ArchiveApi}'s defaults */
  readonly api?: Omit<ArchiveApiProps, "handler">;
  /**
   * The WAF web ACL in front of the API's stage; `false` for none (it costs about $9 a month, and
   * without it the key-less capture form has only its method throttle, shared by all visitors).
   * @default - {@link ApiFirewall}'s defaults
   */
  readonly firewall?: Omit<ApiFirewallProps, "stage"> | false;
  /**
   * Per-host politeness (`HOST_MAX_CONCURRENCY`, `HOST_MIN_GAP_MS`, `HOST_LIMITS`), given to the
   * functions that shape captures before they are queued: the API, the sweeper and the poll worker.
   * @default - the handlers' defaults: 2 at a time, 1 s apart, no per-host limits
   */
  readonly hostShaping?: HostShapingProps;
  /**
   * The adaptive re-capture curve (`RECAPTURE_CADENCE` syntax, e.g. `"3h:15m,1d:1h,7d:3h"`), given
   * to the API and capture functions alike so they schedule by the same curve.
   * @default - the handlers' default curve
   */
  readonly recaptureCadence?: string;
  /**
   * The account's Lambda concurrency quota and the share of it that raises the alarm.
   * @default - {@link AccountConcurrencyAlarm}'s defaults: 80% of 1,000
   */
  readonly accountConcurrency?: AccountConcurrencyAlarmProps;
  /**
   * The replay origin's settings. `uiOrigin` defaults to the one origin the web UI is read at: the
   * public domain's when the storage stack has one, else the API's own execute-api host.
   * @default - {@link ReplayOrigin}'s defaults
   */
  readonly replayOrigin?: Omit<ReplayOriginProps, "bucket" | "bundling" | "uiOrigin"> &
    Partial<Pick<ReplayOriginProps, "uiOrigin">>;
  /**
   * A CloudFront distribution in front of the API ({@link EdgeCache}): mementos and feeds served
   * from the edge, the rest passed through. On the storage stack's public domain when it has one
   * (which must then say `edgeCache: true`), else on its own `*.cloudfront.net` name, which then
   * becomes PUBLIC_BASE_URL (and changes if this stack is replaced: permanent URIs need a domain).
   * @default false (on when the storage stack's public domain says `edgeCache: true`)
   */
  readonly edgeCache?: EdgeCacheOptions | boolean;
}

/**
 * The stateless half of Palimpsest: the API, capture, dead-letter, sweeper and poll functions, the
 * poll queue, the sweep schedule, the REST API, its web ACL, the alarms and the operations dashboard. Each function gets its environment and its
 * permissions from the storage constructs' bind methods; every alarm notifies the storage stack's
 * alarm topic.
 */
export class PalimpsestServiceStack extends Stack {
  public readonly apiFunction: ApiFunction;
  public readonly captureFunction: CaptureFunction;
  public readonly deadLetterFunction: DeadLetterFunction;
  public readonly sweeperFunction: SweeperFunction;
  public readonly pollQueue: PollQueue;
  public readonly pollFunction: PollFunction;
  public readonly sweepSchedule: SweepSchedule;
  /** The per-host politeness settings bound to the API, sweeper and poll functions. */
  public readonly hostShaping: HostShaping;
  public readonly api: ArchiveApi;
  /** The CloudFront distribution in front of the API, when on. */
  public readonly edgeCache?: EdgeCache;
  /** The web ACL in front of the API, unless turned off with `firewall: false`. */
  public readonly firewall?: ApiFirewall;
  /** Fires before the account's Lambda concurrency runs out. */
  public readonly accountConcurrencyAlarm: AccountConcurrencyAlarm;
  /** The archive's health on one page: business metrics beside Lambda, SQS, DynamoDB and API Gateway. */
  public readonly dashboard: OperationsDashboard;
  /** Where version pages replay their evidence packages: an origin apart from the API's. */
  public readonly replayOrigin: ReplayOrigin;

  constructor(scope: Construct, id: string, props: PalimpsestServiceStackProps) {
    const {
      storage,
      bundling,
      apiFunction,
      captureFunction,
      deadLetterFunction,
      sweeperFunction,
      pollFunction,
      pollQueue,
      sweepSchedule,
      api,
      firewall,
      recaptureCadence,
      hostShaping,
      accountConcurrency,
      replayOrigin,
      edgeCache,
      ...stackProps
    } = props;
    super(scope, id, {
      description: "Palimpsest service: functions, sweep schedule and HTTP API",
      ...stackProps,
    });
    const bound = { table: storage.table, bucket: storage.bucket, queue: storage.queue, bundling };
    this.pollQueue = new PollQueue(this, "PollQueue", pollQueue);
    const cadence = recaptureCadence === undefined ? {} : { recaptureCadence };
    this.hostShaping = new HostShaping(hostShaping);

    this.apiFunction = new ApiFunction(this, "ApiFunction", {
      ...apiFunction,
      ...bound,
      ...cadence,
      pollQueue: this.pollQueue,
      hostShaping: this.hostShaping,
      ...(storage.publicDomain ? { publicBaseUrl: storage.publicDomain.baseUrl } : {}),
    });
    this.captureFunction = new CaptureFunction(this, "CaptureFunction", {
      ...captureFunction,
      ...bound,
      ...cadence,
      editEvents: storage.editEvents,
    });
    this.deadLetterFunction = new DeadLetterFunction(this, "DeadLetterFunction", {
      ...deadLetterFunction,
      table: storage.table,
      queue: storage.queue,
      bundling,
    });
    // The API's bound (its 429) is the one the others default to; the poll's own prop is its own only.
    const maxQueueDepth = apiFunction?.maxQueueDepth;
    this.sweeperFunction = new SweeperFunction(this, "SweeperFunction", {
      // Back-pressure's depth fallback: the same bound as the API's 429 and the poll's stop.
      ...(maxQueueDepth === undefined ? {} : { maxQueueDepth }),
      ...sweeperFunction,
      table: storage.table,
      queue: storage.queue,
      pollQueue: this.pollQueue,
      hostShaping: this.hostShaping,
      bundling,
    });
    this.pollFunction = new PollFunction(this, "PollFunction", {
      // The same back-pressure on both doors: a poll stops submitting where the API answers 429.
      ...(maxQueueDepth === undefined ? {} : { maxQueueDepth }),
      ...pollFunction,
      table: storage.table,
      captureQueue: storage.queue,
      pollQueue: this.pollQueue,
      hostShaping: this.hostShaping,
      bundling,
    });
    this.sweepSchedule = new SweepSchedule(this, "SweepSchedule", {
      ...sweepSchedule,
      sweeper: this.sweeperFunction,
    });
    this.api = new ArchiveApi(this, "Api", { ...api, handler: this.apiFunction });
    const domain = storage.publicDomain;
    if (domain && edgeCache !== undefined && domain.edgeCache !== (edgeCache !== false)) {
      throw new Error(
        "PalimpsestServiceStack: edgeCache and the storage stack's publicDomain.edgeCache must agree (the name is CloudFront's or API Gateway's).",
      );
    }
    if (domain?.edgeCache || (edgeCache !== undefined && edgeCache !== false)) {
      this.edgeCache = new EdgeCache(this, "EdgeCache", {
        ...(typeof edgeCache === "object" ? edgeCache : {}),
        api: this.api.api,
        stageName: api?.stageName ?? DEFAULTS.apiStageName,
        ...(domain
          ? {
              domain: {
                domainName: domain.domainName,
                certificate: domain.certificate,
                ...(domain.zone ? { zone: domain.zone } : {}),
              },
            }
          : {}),
      });
      // With a domain the API function already has it; without, the distribution's name is public.
      if (!domain) this.edgeCache.bindPublicBaseUrl(this.apiFunction);
    }
    // Where readers reach the archive: the public domain, else the distribution, else the API's
    // own host. Only the RestApi's id is named (not its stage URL, which depends on the methods
    // and so on the API function, whose environment names the replay URL: that would be a cycle).
    const publicBase =
      domain?.baseUrl ??
      this.edgeCache?.baseUrl ??
      `https://${this.api.api.restApiId}.execute-api.${this.region}.${this.urlSuffix}`;
    this.replayOrigin = new ReplayOrigin(this, "ReplayOrigin", {
      // The one origin whose version pages frame the replay.
      uiOrigin: publicBase,
      ...replayOrigin,
      bucket: storage.bucket,
      bundling,
    });
    this.replayOrigin.bindReplayUrl(this.apiFunction);
    if (domain?.domain) {
      // The mapping is the replaceable half of the custom domain: a new API maps itself, the
      // domain (and every URI under it) stays.
      new BasePathMapping(this, "PublicDomainMapping", {
        domainName: domain.domain,
        restApi: this.api.api,
        stage: this.api.api.deploymentStage,
      });
    }
    if (firewall !== false) {
      this.firewall = new ApiFirewall(this, "Firewall", {
        ...firewall,
        stage: this.api.api.deploymentStage,
        ...(this.edgeCache ? { edge: this.edgeCache.firewallBinding } : {}),
      });
    }
    this.accountConcurrencyAlarm = new AccountConcurrencyAlarm(
      this,
      "AccountConcurrency",
      accountConcurrency,
    );
    this.dashboard = new OperationsDashboard(this, "Dashboard", {
      functions: {
        api: this.apiFunction,
        capture: this.captureFunction,
        sweeper: this.sweeperFunction,
        poll: this.pollFunction,
        "dead-letter": this.deadLetterFunction,
      },
      captureQueue: storage.queue,
      interactiveCaptureQueue: storage.queue.interactiveQueue,
      pollQueue: this.pollQueue,
      table: storage.table.table,
      api: this.api.api,
    });
    storage.signingKey.bindSigner(this.captureFunction);
    storage.signingKey.bindPublicKeyReader(this.apiFunction);
    storage.alarmTopic.notifyOn(this);

    new CfnOutput(this, "ApiUrl", {
      value: domain || this.edgeCache ? `${publicBase}/` : this.api.api.url,
      description: "Base URL of the HTTP API",
    });
    if (this.edgeCache) {
      new CfnOutput(this, "EdgeCacheDomainName", {
        value: this.edgeCache.distribution.distributionDomainName,
        description:
          "The CloudFront distribution: point the public domain here (CNAME) when its DNS is not in Route 53",
      });
    }
    new CfnOutput(this, "ReplayUrl", {
      value: this.replayOrigin.origin,
      description: "The replay origin (ReplayWeb.page), apart from the API's",
    });
    new CfnOutput(this, "ApiKeyId", {
      value: this.api.apiKey.keyId,
      description: "Read the key with: aws apigateway get-api-key --include-value --api-key <ApiKeyId>",
    });
  }
}
