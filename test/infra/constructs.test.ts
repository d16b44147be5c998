import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Duration, RemovalPolicy, type Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { Key } from "aws-cdk-lib/aws-kms";
import { ApiFunction } from "../../infra/constructs/api-function.ts";
import { ArchiveApi } from "../../infra/constructs/archive-api.ts";
import { ArchiveBucket } from "../../infra/constructs/archive-bucket.ts";
import { ArchiveTable } from "../../infra/constructs/archive-table.ts";
import { CaptureFunction } from "../../infra/constructs/capture-function.ts";
import { CaptureQueue, type CaptureQueueProps } from "../../infra/constructs/capture-queue.ts";
import { DeadLetterFunction } from "../../infra/constructs/dead-letter-function.ts";
import { DEFAULTS } from "../../infra/constructs/defaults.ts";
import { EditEvents } from "../../infra/constructs/edit-events.ts";
import { HostShaping } from "../../infra/constructs/host-shaping.ts";
import { PalimpsestFunction } from "../../infra/constructs/palimpsest-function.ts";
import { PollQueue } from "../../infra/constructs/poll-queue.ts";
import { SweepSchedule } from "../../infra/constructs/sweep-schedule.ts";
import { SweeperFunction } from "../../infra/constructs/sweeper-function.ts";
import { addPalimpsestStacks, readAppOptions } from "../../infra/palimpsest-app.ts";
import {
  PalimpsestServiceStack,
  type PalimpsestServiceStackProps,
} from "../../infra/stacks/service-stack.ts";
import { PalimpsestStorageStack } from "../../infra/stacks/storage-stack.ts";
import { DEFAULT_MAX_QUEUE_AGE_SECONDS, loadSweepBackPressureConfig } from "../../shared/config.ts";
import { retriedMessageAgeMs } from "../../shared/domain/back-pressure.ts";
import { ENV } from "../../shared/env-names.ts";
import { allowedActions, logicalIdOf, newApp, newStack, refersTo, synthPalimpsest } from "./synth.ts";

/** The stateful constructs in one stack, to hang functions on. */
function storageIn(stack: Stack, queue: CaptureQueueProps = {}) {
  return {
    table: new ArchiveTable(stack, "Table"),
    bucket: new ArchiveBucket(stack, "Bucket"),
    queue: new CaptureQueue(stack, "Queue", queue),
    pollQueue: new PollQueue(stack, "PollQueue"),
    bundling: false,
  };
}

describe("impossible prop combinations throw at synth", () => {
  test("Object Lock: whole days from 1 day to 100 years, a known mode, and compliance is never destroyed", () => {
    for (const defaultRetention of [Duration.hours(12), Duration.hours(36), Duration.days(36_501)]) {
      assert.throws(
        () => new ArchiveBucket(newStack(), "B", { objectLock: { defaultRetention } }),
        /defaultRetention must be whole days/,
      );
    }
    assert.throws(
      () =>
        new ArchiveBucket(newStack(), "B", {
          objectLock: { mode: "legal" as "governance" },
        }),
      /mode must be governance or compliance/,
    );
    assert.throws(
      () =>
        new ArchiveBucket(newStack(), "B", {
          objectLock: { mode: "compliance" },
          removalPolicy: RemovalPolicy.DESTROY,
        }),
      /contradicts compliance-mode Object Lock/,
    );
    assert.doesNotThrow(
      () => new ArchiveBucket(newStack(), "B", { removalPolicy: RemovalPolicy.DESTROY }),
      "a governance lock can be bypassed by whoever may edit the bucket policy",
    );
  });

  test("backup retention is whole days, at least a week, and the trail keeps whole days", () => {
    for (const retention of [Duration.days(6), Duration.hours(200)]) {
      assert.throws(
        () => new PalimpsestStorageStack(newApp(), "S", { backup: { retention } }),
        /ArchiveBackup: retention/,
      );
    }
    assert.throws(
      () => new PalimpsestStorageStack(newApp(), "S", { trail: { retention: Duration.hours(12) } }),
      /ArchiveTrail: retention/,
    );
  });

  test("a public domain needs a valid name, a zone it belongs to or a certificate; links must be https", () => {
    const zone = { hostedZoneId: "Z0123456789ABCDEFGHIJ", zoneName: "example.org" };
    for (const [publicDomain, message] of [
      [{ domainName: "Archive.Example.org", hostedZone: zone }, /lower-case DNS name/],
      [{ domainName: "archive.example.org" }, /give hostedZone/],
      [{ domainName: "archive.example.net", hostedZone: zone }, /not in the hosted zone/],
      [{ domainName: "archive.example.org", certificateArn: "arn:aws:iam::1:cert" }, /certificateArn/],
    ] as const) {
      assert.throws(() => new PalimpsestStorageStack(newApp(), "S", { publicDomain }), message);
    }
    const stack = newStack();
    const storage = storageIn(stack);
    for (const publicBaseUrl of [
      "http://archive.example.org",
      "https://archive.example.org/",
      "https://a.example?x=1",
    ]) {
      assert.throws(
        () => new ApiFunction(stack, `A${publicBaseUrl.length}`, { ...storage, publicBaseUrl }),
        /publicBaseUrl must be an https URL/,
      );
    }
  });

  test("the tiering delay is whole days", () => {
    assert.throws(
      () => new ArchiveBucket(newStack(), "B", { intelligentTieringAfter: Duration.hours(36) }),
      /intelligentTieringAfter must be whole days/,
    );
  });

  test("a lifecycle rule that would expire evidence fails synthesis", () => {
    for (const rule of [
      { expiration: Duration.days(400) },
      { prefix: "blobs/sha256/", noncurrentVersionExpiration: Duration.days(30) },
      { prefix: "blob", expiration: Duration.days(30) },
    ]) {
      const stack = newStack();
      new ArchiveBucket(stack, "B").bucket.addLifecycleRule(rule);
      assert.throws(() => Template.fromStack(stack), /expires objects under blobs\//, JSON.stringify(rule));
    }
    const stack = newStack();
    new ArchiveBucket(stack, "B").bucket.addLifecycleRule({ prefix: "tmp/", expiration: Duration.days(1) });
    assert.doesNotThrow(() => Template.fromStack(stack), "other prefixes may expire");
  });

  test("a deletion-protected table cannot be destroyed with its stack", () => {
    assert.throws(
      () => new ArchiveTable(newStack(), "T", { removalPolicy: RemovalPolicy.DESTROY }),
      /contradicts deletionProtection/,
    );
    assert.doesNotThrow(
      () =>
        new ArchiveTable(newStack(), "T", {
          removalPolicy: RemovalPolicy.DESTROY,
          deletionProtection: false,
        }),
    );
  });

  test("the queue's visibility timeout cannot be shorter than its consumer's timeout", () => {
    assert.throws(
      () =>
        new CaptureQueue(newStack(), "Q", {
          consumerTimeout: Duration.minutes(3),
          visibilityTimeout: Duration.minutes(2),
        }),
      /shorter than the consumer timeout/,
    );
  });

  test("a visibility timeout below 6 × the consumer timeout only warns", () => {
    const stack = newStack();
    new CaptureQueue(stack, "Q", {
      consumerTimeout: Duration.minutes(3),
      visibilityTimeout: Duration.minutes(5),
    });
    Annotations.fromStack(stack).hasWarning("/Test/Q", Match.stringLikeRegexp("6 × the consumer timeout"));
  });

  test("the dead-letter queue cannot expire messages before the source queue does", () => {
    assert.throws(
      () =>
        new CaptureQueue(newStack(), "Q", {
          retentionPeriod: Duration.days(4),
          deadLetterRetentionPeriod: Duration.days(1),
        }),
      /expire on arrival/,
    );
  });

  test("maxReceiveCount must be a positive integer", () => {
    for (const maxReceiveCount of [0, 1.5]) {
      assert.throws(() => new CaptureQueue(newStack(), "Q", { maxReceiveCount }), /maxReceiveCount/);
    }
  });

  test("a capture function that outlives the queue's visibility timeout cannot consume it", () => {
    const stack = newStack();
    const storage = storageIn(stack, {
      consumerTimeout: Duration.minutes(1),
      visibilityTimeout: Duration.minutes(2),
    });
    assert.throws(() => new CaptureFunction(stack, "Capture", storage), /exceeds the visibility timeout/);
  });

  test("each capture queue drives 2 to 1,000 concurrent workers, the interactive one its own", () => {
    const stack = newStack();
    assert.throws(
      () => new CaptureFunction(stack, "Capture", { ...storageIn(stack), maxConcurrency: 1 }),
      /maxConcurrency/,
    );
    for (const interactiveMaxConcurrency of [1, 1001, 2.5]) {
      const other = newStack();
      assert.throws(
        () => new CaptureFunction(other, "Capture", { ...storageIn(other), interactiveMaxConcurrency }),
        /interactiveMaxConcurrency must be an integer in 2\.\.1000/,
      );
    }
    const sized = newStack();
    new CaptureFunction(sized, "Capture", { ...storageIn(sized), interactiveMaxConcurrency: 20 });
    const caps = Object.values(
      Template.fromStack(sized).findResources("AWS::Lambda::EventSourceMapping"),
    ).map((m) => m.Properties.ScalingConfig.MaximumConcurrency);
    assert.deepEqual(
      caps.sort((a, b) => a - b),
      [10, 20],
    );
  });

  test("the page budget must fit inside the capture function's timeout", () => {
    const stack = newStack();
    assert.throws(
      () =>
        new CaptureFunction(stack, "Capture", {
          ...storageIn(stack),
          navigationTimeout: Duration.minutes(2),
          idleTimeout: Duration.minutes(1),
        }),
      /shorter than the function timeout/,
    );
  });

  test("the capture's own cap leaves the function time to record why it stopped", () => {
    const stack = newStack();
    const storage = storageIn(stack);
    assert.throws(
      () => new CaptureFunction(stack, "A", { ...storage, timeout: Duration.seconds(100) }),
      /capture cap \(90 s\) must be at least 30 s shorter/,
    );
    // A navigation cap past the default whole-capture cap needs a longer one too…
    assert.throws(
      () => new CaptureFunction(stack, "B", { ...storage, navigationTimeout: Duration.seconds(100) }),
      /CAPTURE_TOTAL_TIMEOUT_MS/,
    );
    // …which the default function timeout (180 s) still fits.
    const fn = new CaptureFunction(stack, "C", {
      ...storage,
      navigationTimeout: Duration.seconds(100),
      captureTimeout: Duration.seconds(140),
    });
    assert.ok(fn);
  });

  test("the API function must answer within API Gateway's 29 s", () => {
    const stack = newStack();
    assert.throws(
      () => new ApiFunction(stack, "Api", { ...storageIn(stack), timeout: Duration.seconds(30) }),
      /integration timeout/,
    );
  });

  test("settings the handlers would reject at cold start are rejected at synth", () => {
    const stack = newStack();
    const storage = storageIn(stack);
    assert.throws(
      () => new ApiFunction(stack, "A", { ...storage, presignedUrlTtl: Duration.days(8) }),
      /ApiFunction: .*PRESIGNED_URL_TTL_SECONDS/,
    );
    // Fractional seconds cannot be expressed in the env var at all.
    assert.throws(() => new ApiFunction(stack, "B", { ...storage, presignedUrlTtl: Duration.millis(1500) }));
    assert.throws(
      () => new CaptureFunction(stack, "C", { ...storage, screenshotMaxHeightPx: 10 }),
      /CaptureFunction: .*SCREENSHOT_MAX_HEIGHT_PX/,
    );
    assert.throws(
      () => new CaptureFunction(stack, "D", { ...storage, probe: { browserEvery: 0 } }),
      /CaptureFunction: .*PROBE_BROWSER_EVERY/,
    );
    assert.throws(
      () => new CaptureFunction(stack, "E", { ...storage, probe: { timeout: Duration.millis(100) } }),
      /CaptureFunction: .*PROBE_TIMEOUT_MS/,
    );
  });

  test("the worker's attempt budget is the queue's receive count, so both must fit the worker", () => {
    const stack = newStack();
    const storage = storageIn(stack, { maxReceiveCount: 50 });
    assert.throws(() => new CaptureFunction(stack, "C", storage), /CAPTURE_MAX_ATTEMPTS/);
  });

  test("the dead-letter function must fit the dead-letter queue's visibility timeout", () => {
    const stack = newStack();
    const storage = storageIn(stack, { deadLetterVisibilityTimeout: Duration.seconds(20) });
    assert.throws(
      () => new DeadLetterFunction(stack, "DeadLetter", storage),
      /exceeds the dead-letter queue's visibility timeout/,
    );
  });

  test("dead-letter batches hold 1..10 messages, and the alarm delay is whole 5-minute periods", () => {
    const stack = newStack();
    const storage = storageIn(stack);
    assert.throws(() => new DeadLetterFunction(stack, "A", { ...storage, batchSize: 11 }), /batchSize/);
    assert.throws(
      () => new DeadLetterFunction(stack, "B", { ...storage, maxConcurrency: 1 }),
      /maxConcurrency/,
    );
    for (const alarmAfter of [Duration.minutes(7), Duration.days(2)]) {
      assert.throws(() => new DeadLetterFunction(stack, "C", { ...storage, alarmAfter }), /alarmAfter/);
    }
  });

  test("an edits archive must exist to have a retention, and keep events at least a day", () => {
    assert.throws(
      () => new EditEvents(newStack(), "E", { archive: false, archiveRetention: Duration.days(7) }),
      /needs archive: true/,
    );
    assert.throws(
      () => new EditEvents(newStack(), "E", { archiveRetention: Duration.hours(1) }),
      /at least one day/,
    );
  });

  test("env vars owned by a bind method cannot be set by hand", () => {
    assert.throws(
      () =>
        new PalimpsestFunction(newStack(), "F", {
          entry: "functions/api/handler.ts",
          bundling: false,
          environment: { TABLE_NAME: "sneaky" },
        }),
      /set by a bind method/,
    );
  });

  test("a per-key throttle above the stage throttle could never be reached", () => {
    const stack = newStack();
    const handler = new ApiFunction(stack, "Fn", storageIn(stack));
    assert.throws(
      () =>
        new ArchiveApi(stack, "Api", {
          handler,
          stageThrottle: { rateLimit: 5, burstLimit: 10 },
          usagePlanThrottle: { rateLimit: 10, burstLimit: 10 },
        }),
      /could never be reached/,
    );
  });

  test("CORS origins: none means omit the prop, and * stands alone", () => {
    const stack = newStack();
    const handler = new ApiFunction(stack, "Fn", storageIn(stack));
    assert.throws(() => new ArchiveApi(stack, "A", { handler, corsAllowOrigins: [] }), /omit it/);
    assert.throws(
      () => new ArchiveApi(stack, "B", { handler, corsAllowOrigins: ["*", "https://example.org"] }),
      /stand alone/,
    );
  });

  test("the sweeper needs a minute to sweep, and reserved concurrency is a positive integer", () => {
    const stack = newStack();
    const storage = storageIn(stack);
    assert.throws(
      () => new SweeperFunction(stack, "A", { ...storage, timeout: Duration.seconds(30) }),
      /timeout/,
    );
    assert.throws(
      () => new SweeperFunction(stack, "B", { ...storage, reservedConcurrency: 0 }),
      /reservedConcurrency/,
    );
  });

  test("the API's reserved concurrency is a positive integer", () => {
    const stack = newStack();
    const storage = storageIn(stack);
    for (const reservedConcurrency of [0, 2.5]) {
      assert.throws(
        () => new ApiFunction(stack, `A${reservedConcurrency}`, { ...storage, reservedConcurrency }),
        /reservedConcurrency must be a positive integer/,
      );
    }
  });

  test("the sweep schedule runs every whole minute or more, within Scheduler's retry limits", () => {
    const stack = newStack();
    const sweeper = new SweeperFunction(stack, "Sweeper", storageIn(stack));
    for (const [id, props, message] of [
      ["A", { interval: Duration.seconds(90) }, /whole number of minutes/],
      ["B", { retryAttempts: 186 }, /retryAttempts/],
      ["C", { maxEventAge: Duration.seconds(30) }, /maxEventAge/],
      ["D", { maxEventAge: Duration.days(2) }, /maxEventAge/],
    ] as const) {
      assert.throws(() => new SweepSchedule(stack, id, { sweeper, ...props }), message);
    }
  });

  test("the sweeper learns the capture queue's retention, so a shorter one still fails expired captures", () => {
    const stack = newStack();
    const storage = storageIn(stack, { retentionPeriod: Duration.days(4) });
    const sweeper = new SweeperFunction(stack, "Sweeper", storage);
    const env =
      Template.fromStack(stack).findResources("AWS::Lambda::Function")[logicalIdOf(sweeper)]?.Properties
        .Environment.Variables;
    assert.equal(env[ENV.captureQueueRetentionMs], String(4 * 86_400_000));
    assert.throws(
      () => new CaptureQueue(newStack(), "Q", { retentionPeriod: Duration.days(15) }),
      /CaptureQueue: retentionPeriod: .*CAPTURE_QUEUE_RETENTION_MS/,
    );
  });

  test("sweeper back-pressure: its props reach the environment, a bad one fails at synth, and it may read the queue's age", () => {
    const stack = newStack();
    const sweeper = new SweeperFunction(stack, "Sweeper", {
      ...storageIn(stack),
      maxQueueAge: Duration.minutes(75),
      maxQueueDepth: 700,
    });
    const template = Template.fromStack(stack);
    const env =
      template.findResources("AWS::Lambda::Function")[logicalIdOf(sweeper)]?.Properties.Environment.Variables;
    assert.equal(env[ENV.maxQueueAgeSeconds], "4500");
    assert.equal(env[ENV.maxQueueDepth], "700");
    assert.ok(allowedActions(template, sweeper).has("cloudwatch:GetMetricData"));
    const other = newStack();
    assert.throws(
      () => new SweeperFunction(other, "B", { ...storageIn(other), maxQueueAge: Duration.seconds(30) }),
      /SweeperFunction: .*MAX_QUEUE_AGE_SECONDS/,
    );
  });

  test("sweeper back-pressure below the age an ordinarily retried capture reaches is refused at synth", () => {
    // Default queue: 18-minute visibility, 3 deliveries: 15 min of delay + 2 × 18 min = 51 min.
    const floor = retriedMessageAgeMs({
      maxReceiveCount: DEFAULTS.maxReceiveCount,
      visibilityTimeoutMs:
        DEFAULTS.captureFunctionTimeout.toMilliseconds() * DEFAULTS.visibilityTimeoutFactor,
    });
    assert.equal(floor, 51 * 60_000);
    for (const maxQueueAge of [Duration.minutes(30), Duration.minutes(51)]) {
      const stack = newStack();
      assert.throws(
        () => new SweeperFunction(stack, "S", { ...storageIn(stack), maxQueueAge }),
        /SweeperFunction: MAX_QUEUE_AGE_SECONDS \(\d+\) must be above 3060, .*2 visibility timeouts of 1080 s/,
      );
    }
    // The floor follows the queue it is given: 1-minute consumers (6-minute visibility), 4 deliveries.
    const small = newStack();
    const queue = { consumerTimeout: Duration.minutes(1), maxReceiveCount: 4 };
    assert.throws(
      () =>
        new SweeperFunction(small, "S", { ...storageIn(small, queue), maxQueueAge: Duration.minutes(33) }),
      /must be above 1980/,
    );
    const ok = newStack();
    assert.doesNotThrow(
      () => new SweeperFunction(ok, "S", { ...storageIn(ok, queue), maxQueueAge: Duration.minutes(34) }),
    );
    // The default holds at the backlog alarm's threshold, above the default queue's floor.
    assert.equal(DEFAULT_MAX_QUEUE_AGE_SECONDS, loadSweepBackPressureConfig({}).maxQueueAgeSeconds);
    assert.ok(DEFAULT_MAX_QUEUE_AGE_SECONDS * 1000 > floor);
    assert.ok(DEFAULT_MAX_QUEUE_AGE_SECONDS >= DEFAULTS.captureBacklogAlarmAfter.toSeconds());
    const defaults = newStack();
    assert.doesNotThrow(() => new SweeperFunction(defaults, "S", storageIn(defaults)));
  });

  test("a capture queue's retention must outlast the longest delay and every delivery", () => {
    // Defaults: 15 min + 3 × 18 min = 69 min.
    assert.throws(
      () => new CaptureQueue(newStack(), "Q", { retentionPeriod: Duration.minutes(68) }),
      /CaptureQueue: retentionPeriod \(1 hour 8 minutes\) is below 1 hour 9 minutes .*SQS would drop captures/,
    );
    assert.doesNotThrow(() => new CaptureQueue(newStack(), "Q", { retentionPeriod: Duration.minutes(69) }));
    // Shorter consumers, shorter floor: 15 min + 2 × 6 min = 27 min.
    const short = { consumerTimeout: Duration.minutes(1), maxReceiveCount: 2 };
    assert.throws(
      () => new CaptureQueue(newStack(), "Q", { ...short, retentionPeriod: Duration.minutes(26) }),
      /below 27 minutes/,
    );
    assert.doesNotThrow(
      () => new CaptureQueue(newStack(), "Q", { ...short, retentionPeriod: Duration.minutes(27) }),
    );
  });

  test("a sweeper that outlives the interval only warns (overlapping sweeps are safe)", () => {
    const stack = newStack();
    const sweeper = new SweeperFunction(stack, "Sweeper", {
      ...storageIn(stack),
      timeout: Duration.minutes(10),
    });
    new SweepSchedule(stack, "Schedule", { sweeper });
    Annotations.fromStack(stack).hasWarning("/Test/Schedule", Match.stringLikeRegexp("will overlap"));
  });

  test("a bad re-capture cadence, politeness setting or queue depth fails at synth", () => {
    const stack = newStack();
    const storage = storageIn(stack);
    assert.throws(
      () => new CaptureFunction(stack, "A", { ...storage, recaptureCadence: "3h:1m" }),
      /CaptureFunction: RECAPTURE_CADENCE/,
    );
    assert.throws(
      () => new ApiFunction(stack, "B", { ...storage, recaptureCadence: "soon" }),
      /ApiFunction: RECAPTURE_CADENCE/,
    );
    // Politeness is checked by the handlers' own loader and HOST_LIMITS parser.
    assert.throws(() => new HostShaping({ hostMaxConcurrency: 0 }), /HostShaping: .*HOST_MAX_CONCURRENCY/);
    assert.throws(() => new HostShaping({ hostMinGap: Duration.hours(2) }), /HostShaping: .*HOST_MIN_GAP_MS/);
    assert.throws(() => new HostShaping({ hostLimits: "news.example" }), /HostShaping: HOST_LIMITS/);
    assert.throws(() => new HostShaping({ hostLimits: "news.example=soon" }), /HostShaping: HOST_LIMITS/);
    assert.throws(
      () => new SweeperFunction(stack, "S", { ...storage, sweepSpread: Duration.minutes(20) }),
      /SweeperFunction: .*SWEEP_SPREAD_MS/,
    );
    assert.throws(() => new ApiFunction(stack, "E", { ...storage, maxQueueDepth: 0 }), /MAX_QUEUE_DEPTH/);
  });

  test("CORS origins must be origins, and CORS_ALLOW_ORIGINS belongs to the API construct", () => {
    const stack = newStack();
    const handler = new ApiFunction(stack, "Fn", storageIn(stack));
    assert.throws(
      () => new ArchiveApi(stack, "A", { handler, corsAllowOrigins: ["https://news.example/path"] }),
      /ArchiveApi: CORS_ALLOW_ORIGINS/,
    );
    assert.throws(
      () =>
        new PalimpsestFunction(newStack(), "F", {
          entry: "functions/api/handler.ts",
          bundling: false,
          environment: { [ENV.corsAllowOrigins]: "*" },
        }),
      /set by a bind method/,
    );
  });

  test("key-less throttles cannot exceed the stage throttle", () => {
    const stack = newStack();
    const handler = new ApiFunction(stack, "Fn", storageIn(stack));
    assert.throws(
      () => new ArchiveApi(stack, "A", { handler, publicReadThrottle: { rateLimit: 500, burstLimit: 500 } }),
      /public read throttle exceeds the stage throttle/,
    );
    assert.throws(
      () => new ArchiveApi(stack, "B", { handler, publicSubmitThrottle: { rateLimit: 0, burstLimit: 1 } }),
      /public submit rateLimit must be a positive number/,
    );
  });

  test("app context: stage and bundling are validated", () => {
    assert.throws(() => readAppOptions(newApp({ context: { bundling: "maybe" } })), /bundling/);
    assert.throws(() => readAppOptions(newApp({ context: { stage: "Prod_1" } })), /stage/);
    assert.deepEqual(readAppOptions(newApp({ context: { bundling: "false", stage: "dev" } })), {
      stage: "dev",
      bundling: false,
    });
    assert.deepEqual(readAppOptions(newApp()), {});
  });

  test("app context: the public domain comes as domainName with a zone or a certificate", () => {
    const zone = {
      domainName: "archive.example.org",
      hostedZoneId: "Z0123456789ABCDEFGHIJ",
      zoneName: "example.org",
    };
    assert.deepEqual(readAppOptions(newApp({ context: zone })), {
      publicDomain: {
        domainName: "archive.example.org",
        hostedZone: { hostedZoneId: "Z0123456789ABCDEFGHIJ", zoneName: "example.org" },
      },
    });
    assert.throws(() => readAppOptions(newApp({ context: { zoneName: "example.org" } })), /need domainName/);
    assert.throws(
      () => readAppOptions(newApp({ context: { domainName: "a.example.org", zoneName: "example.org" } })),
      /go together/,
    );
    const app = newApp({ context: zone });
    const { service } = addPalimpsestStacks(app, { ...readAppOptions(app), bundling: false });
    const env =
      Template.fromStack(service).findResources("AWS::Lambda::Function")[logicalIdOf(service.apiFunction)]
        ?.Properties.Environment.Variables;
    assert.equal(env[ENV.publicBaseUrl], "https://archive.example.org");
  });
});

describe("optional features", () => {
  test("a public domain lives in the storage stack; the service stack maps its API there and links from it", () => {
    const app = newApp();
    const storage = new PalimpsestStorageStack(app, "S", {
      publicDomain: {
        domainName: "archive.example.org",
        hostedZone: { hostedZoneId: "Z0123456789ABCDEFGHIJ", zoneName: "example.org" },
      },
    });
    const service = new PalimpsestServiceStack(app, "V", { storage, bundling: false });
    const stored = Template.fromStack(storage);
    const served = Template.fromStack(service);
    stored.hasResourceProperties("AWS::CertificateManager::Certificate", {
      DomainName: "archive.example.org",
      ValidationMethod: "DNS",
      DomainValidationOptions: [{ DomainName: "archive.example.org", HostedZoneId: "Z0123456789ABCDEFGHIJ" }],
    });
    stored.hasResourceProperties("AWS::ApiGateway::DomainName", {
      DomainName: "archive.example.org",
      EndpointConfiguration: { Types: ["REGIONAL"] },
      SecurityPolicy: "TLS_1_2",
    });
    stored.hasResourceProperties("AWS::Route53::RecordSet", {
      Name: "archive.example.org.",
      Type: "A",
      HostedZoneId: "Z0123456789ABCDEFGHIJ",
    });
    stored.hasOutput("PublicBaseUrl", { Value: "https://archive.example.org" });
    served.resourceCountIs("AWS::ApiGateway::DomainName", 0);
    const [mapping] = Object.values(served.findResources("AWS::ApiGateway::BasePathMapping"));
    assert.deepEqual(mapping?.Properties.RestApiId, { Ref: logicalIdOf(service.api.api) });
    assert.deepEqual(mapping?.Properties.Stage, { Ref: logicalIdOf(service.api.api.deploymentStage) });
    assert.equal(mapping?.Properties.BasePath, undefined, "mapped at the root: URIs carry no stage");
    const domain = storage.publicDomain?.domain;
    assert.ok(domain);
    assert.ok(
      refersTo(mapping?.Properties.DomainName, storage, stored, domain.domainName),
      "the storage stack's domain",
    );
    const env =
      served.findResources("AWS::Lambda::Function")[logicalIdOf(service.apiFunction)]?.Properties.Environment
        .Variables;
    assert.equal(env[ENV.publicBaseUrl], "https://archive.example.org");
    served.hasOutput("ApiUrl", { Value: "https://archive.example.org/" });
  });

  test("a public domain can use an existing certificate and a DNS provider outside Route 53", () => {
    const storage = new PalimpsestStorageStack(newApp(), "S", {
      publicDomain: {
        domainName: "archive.example.org",
        certificateArn: "arn:aws:acm:eu-west-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef",
      },
    });
    const template = Template.fromStack(storage);
    template.resourceCountIs("AWS::CertificateManager::Certificate", 0);
    template.resourceCountIs("AWS::Route53::RecordSet", 0);
    template.hasOutput("RegionalDomainName", {});
  });

  test("the storage stack can keep a locked AWS Backup copy of the bucket and the table", () => {
    const app = newApp();
    const storage = new PalimpsestStorageStack(app, "S", { backup: {} });
    const template = Template.fromStack(storage);
    template.hasResourceProperties("AWS::Backup::BackupVault", {
      LockConfiguration: { MinRetentionDays: 365 },
    });
    const [vault] = Object.values(template.findResources("AWS::Backup::BackupVault"));
    assert.equal(vault?.Properties.LockConfiguration.ChangeableForDays, undefined, "governance");
    assert.equal(vault?.DeletionPolicy, "Retain");
    template.hasResourceProperties("AWS::Backup::BackupPlan", {
      BackupPlan: { BackupPlanRule: [Match.objectLike({ Lifecycle: { DeleteAfterDays: 365 } })] },
    });
    const [selection] = Object.values(template.findResources("AWS::Backup::BackupSelection"));
    const resources = JSON.stringify(selection?.Properties.BackupSelection.Resources);
    assert.ok(
      resources.includes(JSON.stringify(storage.resolve(storage.bucket.bucket.bucketArn))),
      "the bucket",
    );
    assert.ok(resources.includes(JSON.stringify(storage.resolve(storage.table.table.tableArn))), "the table");

    const compliance = Template.fromStack(
      new PalimpsestStorageStack(newApp(), "C", {
        backup: { lockMode: "compliance", retention: Duration.days(30) },
      }),
    );
    compliance.hasResourceProperties("AWS::Backup::BackupVault", {
      LockConfiguration: { MinRetentionDays: 30, ChangeableForDays: 3 },
    });
  });

  test("the trail can record reads too, or be turned off", () => {
    const reads = Template.fromStack(
      new PalimpsestStorageStack(newApp(), "R", { trail: { includeReads: true } }),
    );
    reads.hasResourceProperties("AWS::CloudTrail::Trail", {
      EventSelectors: [Match.objectLike({ ReadWriteType: "All" })],
    });
    const off = new PalimpsestStorageStack(newApp(), "O", { trail: false });
    assert.equal(off.trail, undefined);
    Template.fromStack(off).resourceCountIs("AWS::CloudTrail::Trail", 0);
  });

  test("Object Lock can be compliance mode with its own retention, or off; the deny policy stays", () => {
    const compliance = newStack();
    new ArchiveBucket(compliance, "B", {
      objectLock: { mode: "compliance", defaultRetention: Duration.days(730) },
    });
    Template.fromStack(compliance).hasResourceProperties("AWS::S3::Bucket", {
      ObjectLockConfiguration: { Rule: { DefaultRetention: { Mode: "COMPLIANCE", Days: 730 } } },
    });
    const off = newStack();
    new ArchiveBucket(off, "B", { objectLock: false, intelligentTieringAfter: false });
    const template = Template.fromStack(off);
    const [bucket] = Object.values(template.findResources("AWS::S3::Bucket"));
    assert.equal(bucket?.Properties.ObjectLockEnabled, undefined);
    assert.equal(bucket?.Properties.ObjectLockConfiguration, undefined);
    assert.deepEqual(bucket?.Properties.VersioningConfiguration, { Status: "Enabled" });
    assert.ok(
      !JSON.stringify(bucket?.Properties.LifecycleConfiguration).includes("INTELLIGENT_TIERING"),
      "no tiering",
    );
    template.hasResourceProperties("AWS::S3::BucketPolicy", {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Sid: "DenyEvidenceDeletion" }),
          Match.objectLike({ Sid: "DenyEvidenceOverwrite" }),
        ]),
      },
    });
  });

  test("the edits bus can go without an archive", () => {
    const stack = newStack();
    const events = new EditEvents(stack, "Events", { archive: false, eventBusName: "newsroom-edits" });
    const template = Template.fromStack(stack);
    assert.equal(events.archive, undefined);
    template.resourceCountIs("AWS::Events::Archive", 0);
    template.hasResourceProperties("AWS::Events::EventBus", { Name: "newsroom-edits" });
  });

  test("a capture function without an edits bus publishes nothing and gets no EventBridge access", () => {
    const stack = newStack();
    const capture = new CaptureFunction(stack, "Capture", storageIn(stack));
    const template = Template.fromStack(stack);
    assert.ok(![...allowedActions(template, capture)].some((a) => a.startsWith("events:")));
    const props = template.findResources("AWS::Lambda::Function")[logicalIdOf(capture)]?.Properties;
    assert.equal(props?.Environment.Variables.EVENT_BUS_NAME, undefined);
  });

  test("CORS adds key-less preflight and CORS headers on gateway errors", () => {
    const stack = newStack();
    const handler = new ApiFunction(stack, "Fn", storageIn(stack));
    new ArchiveApi(stack, "Api", { handler, corsAllowOrigins: ["https://watchdog.example"] });
    const template = Template.fromStack(stack);
    const preflights = Object.values(
      template.findResources("AWS::ApiGateway::Method", { Properties: { HttpMethod: "OPTIONS" } }),
    );
    const resources = Object.keys(template.findResources("AWS::ApiGateway::Resource")).length;
    assert.equal(preflights.length, resources + 1, "every resource and the root");
    for (const preflight of preflights) assert.equal(preflight.Properties.ApiKeyRequired, false);
    const env =
      template.findResources("AWS::Lambda::Function")[logicalIdOf(handler)]?.Properties.Environment.Variables;
    assert.equal(
      env[ENV.corsAllowOrigins],
      "https://watchdog.example",
      "the handler answers with the same CORS",
    );
    template.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
      ResponseType: "INVALID_API_KEY",
      ResponseParameters: {
        "gatewayresponse.header.Access-Control-Allow-Origin": "'https://watchdog.example'",
      },
    });
  });

  test("the service stack gives its re-capture cadence to the API and capture functions alike", () => {
    const cadence = "3h:15m,1d:1h,7d:3h";
    const app = newApp();
    const storage = new PalimpsestStorageStack(app, "Storage");
    const service = new PalimpsestServiceStack(app, "Service", {
      storage,
      bundling: false,
      recaptureCadence: cadence,
    });
    const functions = Template.fromStack(service).findResources("AWS::Lambda::Function");
    for (const fn of [service.apiFunction, service.captureFunction]) {
      assert.equal(
        functions[logicalIdOf(fn)]?.Properties.Environment.Variables[ENV.recaptureCadence],
        cadence,
      );
    }
    const plain = synthPalimpsest();
    const plainEnv =
      plain.serviceTemplate.findResources("AWS::Lambda::Function")[logicalIdOf(plain.service.apiFunction)]
        ?.Properties.Environment.Variables;
    assert.equal(plainEnv[ENV.recaptureCadence], undefined, "unset: the handlers' default curve applies");
  });

  test("politeness, queue depth and cadence props reach the functions' environment", () => {
    const cadence = "3h:15m,1d:1h,7d:3h";
    const stack = newStack();
    const storage = storageIn(stack);
    const hostShaping = new HostShaping({
      hostMaxConcurrency: 3,
      hostMinGap: Duration.seconds(2),
      hostLimits: "news.example=5s",
    });
    const api = new ApiFunction(stack, "Api", {
      ...storage,
      recaptureCadence: cadence,
      maxQueueDepth: 500,
      hostShaping,
    });
    const capture = new CaptureFunction(stack, "Capture", { ...storage, recaptureCadence: cadence });
    const sweeper = new SweeperFunction(stack, "Sweeper", {
      ...storage,
      hostShaping,
      sweepSpread: Duration.seconds(90),
    });
    const functions = Template.fromStack(stack).findResources("AWS::Lambda::Function");
    const envOf = (fn: PalimpsestFunction) => functions[logicalIdOf(fn)]?.Properties.Environment.Variables;
    assert.equal(envOf(api)[ENV.recaptureCadence], cadence);
    assert.equal(envOf(api)[ENV.maxQueueDepth], "500");
    assert.equal(envOf(capture)[ENV.recaptureCadence], cadence);
    for (const fn of [api, sweeper]) {
      assert.equal(envOf(fn)[ENV.hostMaxConcurrency], "3");
      assert.equal(envOf(fn)[ENV.hostMinGapMs], "2000");
      assert.equal(envOf(fn)[ENV.hostLimits], "news.example=5s");
    }
    assert.equal(envOf(sweeper)[ENV.sweepSpreadMs], "90000");
    // The capture worker runs each capture on arrival: shaping is the producers' job.
    for (const name of [ENV.hostMaxConcurrency, ENV.hostMinGapMs, ENV.hostLimits]) {
      assert.equal(envOf(capture)[name], undefined, name);
    }
  });

  test("the sweeper can reserve concurrency, and the schedule can start disabled", () => {
    const stack = newStack();
    const sweeper = new SweeperFunction(stack, "Sweeper", { ...storageIn(stack), reservedConcurrency: 1 });
    new SweepSchedule(stack, "Schedule", { sweeper, enabled: false });
    const template = Template.fromStack(stack);
    assert.equal(
      template.findResources("AWS::Lambda::Function")[logicalIdOf(sweeper)]?.Properties
        .ReservedConcurrentExecutions,
      1,
    );
    template.hasResourceProperties("AWS::Scheduler::Schedule", { State: "DISABLED" });
  });

  test("the API can reserve concurrency (the service stack passes it through)", () => {
    const app = newApp();
    const storage = new PalimpsestStorageStack(app, "S");
    const service = new PalimpsestServiceStack(app, "V", {
      storage,
      bundling: false,
      apiFunction: { reservedConcurrency: 50 },
      sweeperFunction: { reservedConcurrency: 2 },
    });
    const functions = Template.fromStack(service).findResources("AWS::Lambda::Function");
    assert.equal(functions[logicalIdOf(service.apiFunction)]?.Properties.ReservedConcurrentExecutions, 50);
    assert.equal(functions[logicalIdOf(service.sweeperFunction)]?.Properties.ReservedConcurrentExecutions, 2);
    assert.equal(
      functions[logicalIdOf(service.captureFunction)]?.Properties.ReservedConcurrentExecutions,
      undefined,
    );
  });

  test("the API's queue depth is the default of the poll function's and the sweeper's fallback", () => {
    const depthOf = (service: PalimpsestServiceStack) => {
      const functions = Template.fromStack(service).findResources("AWS::Lambda::Function");
      return [service.apiFunction, service.pollFunction, service.sweeperFunction].map(
        (fn) => functions[logicalIdOf(fn)]?.Properties.Environment.Variables[ENV.maxQueueDepth],
      );
    };
    const serviceOf = (props: Omit<PalimpsestServiceStackProps, "storage" | "bundling">) => {
      const app = newApp();
      const storage = new PalimpsestStorageStack(app, "S");
      return new PalimpsestServiceStack(app, "V", { storage, bundling: false, ...props });
    };
    const both = serviceOf({
      apiFunction: { maxQueueDepth: 500 },
      pollFunction: { maxQueueDepth: 800 },
    });
    assert.deepEqual(depthOf(both), ["500", "800", "500"], "the poll's own bound is its own only");
    const own = serviceOf({
      apiFunction: { maxQueueDepth: 500 },
      sweeperFunction: { maxQueueDepth: 300 },
    });
    assert.deepEqual(depthOf(own), ["500", "500", "300"]);
  });

  test("a KMS-encrypted bucket grants the key to presigners and writers", () => {
    const stack = newStack();
    const storage = {
      ...storageIn(stack),
      bucket: new ArchiveBucket(stack, "KmsBucket", { encryptionKey: new Key(stack, "Key") }),
    };
    const api = new ApiFunction(stack, "Api", storage);
    const capture = new CaptureFunction(stack, "Capture", storage);
    const template = Template.fromStack(stack);
    template.hasResourceProperties("AWS::S3::Bucket", {
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [
          Match.objectLike({ ServerSideEncryptionByDefault: Match.objectLike({ SSEAlgorithm: "aws:kms" }) }),
        ],
      },
    });
    assert.ok(allowedActions(template, api).has("kms:Decrypt"));
    assert.ok(!allowedActions(template, api).has("kms:Encrypt"));
    assert.ok(allowedActions(template, capture).has("kms:GenerateDataKey*"));
  });
});
