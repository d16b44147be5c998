/**
 * Environment variable names read by the functions. The CDK constructs that grant access set
 * them; config.ts reads them. One list so the two sides agree.
 */
export const ENV = {
  tableName: "TABLE_NAME",
  bucketName: "BUCKET_NAME",
  /** The scheduled capture queue: the sweeper's recaptures and the articles polls find. */
  queueUrl: "QUEUE_URL",
  /** The interactive capture queue: captures a person asked for (the API). */
  interactiveQueueUrl: "INTERACTIVE_QUEUE_URL",
  pollQueueUrl: "POLL_QUEUE_URL",
  presignedUrlTtlSeconds: "PRESIGNED_URL_TTL_SECONDS",
  allowPrivateHosts: "ALLOW_PRIVATE_HOSTS",
  apiKey: "API_KEY",
  corsAllowOrigins: "CORS_ALLOW_ORIGINS",
  sourceForms: "SOURCE_FORMS",
  chromiumPath: "CHROMIUM_PATH",
  navigationTimeoutMs: "CAPTURE_NAVIGATION_TIMEOUT_MS",
  idleTimeoutMs: "CAPTURE_IDLE_TIMEOUT_MS",
  screenshotMaxHeightPx: "SCREENSHOT_MAX_HEIGHT_PX",
  s3Endpoint: "S3_ENDPOINT",
  dynamodbEndpoint: "DYNAMODB_ENDPOINT",
  captureMaxAttempts: "CAPTURE_MAX_ATTEMPTS",
  recaptureCadence: "RECAPTURE_CADENCE",
  maxQueueDepth: "MAX_QUEUE_DEPTH",
  hostMaxConcurrency: "HOST_MAX_CONCURRENCY",
  hostMinGapMs: "HOST_MIN_GAP_MS",
  hostLimits: "HOST_LIMITS",
  sweepSpreadMs: "SWEEP_SPREAD_MS",
  /** The capture queue's retention (its construct sets it): the sweep fails a capture pending longer. */
  captureQueueRetentionMs: "CAPTURE_QUEUE_RETENTION_MS",
  /** The sweeper holds its recaptures while the capture queue's oldest message is this old. */
  maxQueueAgeSeconds: "MAX_QUEUE_AGE_SECONDS",
  captureMaxBytes: "CAPTURE_MAX_BYTES",
  evidenceMaxBytes: "EVIDENCE_MAX_BYTES",
  captureTotalTimeoutMs: "CAPTURE_TOTAL_TIMEOUT_MS",
  captureMaxRedirects: "CAPTURE_MAX_REDIRECTS",
  captureMaxDomElements: "CAPTURE_MAX_DOM_ELEMENTS",
  captureDocumentDeadlineMs: "CAPTURE_DOCUMENT_DEADLINE_MS",
  captureStallMs: "CAPTURE_STALL_MS",
  captureRendererMaxMb: "CAPTURE_RENDERER_MAX_MB",
  probe: "PROBE",
  probeBrowserEvery: "PROBE_BROWSER_EVERY",
  probeBrowserMaxAgeMs: "PROBE_BROWSER_MAX_AGE_MS",
  probeTimeoutMs: "PROBE_TIMEOUT_MS",
  eventBusName: "EVENT_BUS_NAME",
  webhookUrl: "WEBHOOK_URL",
  webhookSecret: "WEBHOOK_SECRET",
  logLevel: "LOG_LEVEL",
  /**
   * `on`/`off`: the capture worker takes its secrets out of its process environment before Chromium
   * starts (shared/adapters/scrub-environ.ts). Default: on on Lambda, off elsewhere.
   */
  scrubEnviron: "SCRUB_ENVIRON",
  /** `on`/`off`: whether metrics are written (by default always on Lambda, elsewhere as the log). */
  metrics: "METRICS",
  signingKeyArn: "SIGNING_KEY_ARN",
  publicBaseUrl: "PUBLIC_BASE_URL",
  /** The replay origin readers' browsers load evidence replays from (shared/http/replay-site.ts). */
  publicReplayUrl: "PUBLIC_REPLAY_URL",
  /** The replay function's own (infra/constructs/replay-origin.ts): where its WACZ may come from. */
  replayStorageOrigin: "REPLAY_STORAGE_ORIGIN",
  replayFrameAncestors: "REPLAY_FRAME_ANCESTORS",
  replayAssetsDir: "REPLAY_ASSETS_DIR",
  /** The command line's (cli/): the API it talks to and the key it sends. Never set on AWS. */
  cliApi: "PALIMPSEST_API",
  cliApiKey: "PALIMPSEST_API_KEY",
  /** The local runner's (`npm start`) own: never set on AWS. */
  port: "PORT",
  replayPort: "REPLAY_PORT",
  dataDir: "DATA_DIR",
  workerConcurrency: "WORKER_CONCURRENCY",
  /** Set by Lambda itself; the blob reader signs for it. */
  region: "AWS_REGION",
  /** Set by Lambda itself: metrics are always written there (the alarms read them). */
  lambdaFunctionName: "AWS_LAMBDA_FUNCTION_NAME",
} as const;

/**
 * The CloudWatch namespace of Palimpsest's own metrics (captures, edits, queue wait…): the
 * functions write it in their embedded-metric-format lines and the dashboard reads it.
 */
export const METRICS_NAMESPACE = "Palimpsest";
