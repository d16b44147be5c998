import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { BLOB_KEY_PREFIX } from "../../infra/constructs/defaults.ts";
import { EDIT_EVENT_SOURCE } from "../../infra/constructs/edit-events.ts";
import { BLOB_PREFIX } from "../../shared/adapters/s3-blob-store.ts";
import {
  loadApiConfig,
  loadCaptureConfig,
  loadPublishConfig,
  loadStorageConfig,
  requireString,
} from "../../shared/config.ts";
import { ENV } from "../../shared/env-names.ts";
import { allowedActions, logicalIdOf, refersTo, statementsOf, synthPalimpsest } from "./synth.ts";

type Synth = ReturnType<typeof synthPalimpsest>;

describe("service stack", () => {
  let synth: Synth;
  let service: Template;

  before(() => {
    synth = synthPalimpsest();
    service = synth.serviceTemplate;
  });

  const functionProps = (fn: Synth["service"]["apiFunction"]) => {
    const props = service.findResources("AWS::Lambda::Function")[logicalIdOf(fn)]?.Properties;
    assert.ok(props, `${fn.node.path} synthesized`);
    return props;
  };
  const envOf = (fn: Synth["service"]["apiFunction"]): Record<string, unknown> =>
    functionProps(fn).Environment.Variables;
  const allFunctions = () => [
    synth.service.apiFunction,
    synth.service.captureFunction,
    synth.service.deadLetterFunction,
  ];
  /** Whether a value in the service template refers to `token` of the storage stack. */
  const isStorage = (value: unknown, token: string) =>
    refersTo(value, synth.storage, synth.storageTemplate, token);
  const mappingOf = (fn: Synth["service"]["apiFunction"]) => {
    const mappings = Object.values(
      service.findResources("AWS::Lambda::EventSourceMapping", {
        Properties: { FunctionName: { Ref: logicalIdOf(fn) } },
      }),
    );
    assert.equal(mappings.length, 1, `${fn.node.id} has one event source`);
    return mappings[0]?.Properties;
  };

  describe("capture function", () => {
    test("runs Node.js 24 on x86_64 with 2048 MB, ≥ 1 GiB of /tmp, tracing and its own log group", () => {
      const props = functionProps(synth.service.captureFunction);
      assert.equal(props.Runtime, "nodejs24.x");
      assert.deepEqual(props.Architectures, ["x86_64"]);
      assert.equal(props.MemorySize, 2048);
      assert.ok(props.EphemeralStorage.Size >= 1024);
      assert.equal(props.Timeout, 180);
      assert.deepEqual(props.TracingConfig, { Mode: "Active" });
      assert.deepEqual(props.LoggingConfig, {
        LogGroup: { Ref: logicalIdOf(synth.service.captureFunction.logs) },
      });
    });

    test("gets the table, the bucket, the queue URL, the edits bus and its capture settings", () => {
      const env = envOf(synth.service.captureFunction);
      for (const name of [
        ENV.tableName,
        ENV.bucketName,
        ENV.queueUrl,
        ENV.eventBusName,
        ENV.logLevel,
        ENV.navigationTimeoutMs,
        ENV.idleTimeoutMs,
        ENV.screenshotMaxHeightPx,
      ]) {
        assert.ok(env[name] !== undefined, `${name} is set`);
      }
      assert.ok(isStorage(env[ENV.queueUrl], synth.storage.queue.queue.queueUrl), "the capture queue");
      assert.ok(isStorage(env[ENV.eventBusName], synth.storage.editEvents.bus.eventBusName), "the edits bus");
      assert.equal(env.NODE_OPTIONS, "--enable-source-maps");
      assert.ok(Number(env[ENV.navigationTimeoutMs]) > 0);
      assert.ok(Number(env[ENV.idleTimeoutMs]) > 0);
    });

    test("is triggered one message at a time, reports partial batch failures, and caps concurrency", () => {
      const mapping = mappingOf(synth.service.captureFunction);
      assert.ok(isStorage(mapping.EventSourceArn, synth.storage.queue.queue.queueArn), "the capture queue");
      assert.equal(mapping.BatchSize, 1);
      assert.deepEqual(mapping.FunctionResponseTypes, ["ReportBatchItemFailures"]);
      assert.ok(mapping.ScalingConfig.MaximumConcurrency >= 2);
    });
  });

  describe("API function", () => {
    test("runs Node.js 24 on x86_64 within API Gateway's 29 s", () => {
      const props = functionProps(synth.service.apiFunction);
      assert.equal(props.Runtime, "nodejs24.x");
      assert.deepEqual(props.Architectures, ["x86_64"]);
      assert.ok(props.Timeout <= 29);
      assert.deepEqual(props.TracingConfig, { Mode: "Active" });
    });

    test("gets the table, bucket, queue URL and presign TTL, and no private-host exemptions", () => {
      const env = envOf(synth.service.apiFunction);
      for (const name of [ENV.tableName, ENV.bucketName, ENV.queueUrl, ENV.logLevel]) {
        assert.ok(env[name] !== undefined, `${name} is set`);
      }
      assert.equal(env[ENV.presignedUrlTtlSeconds], "900");
      assert.equal(env[ENV.allowPrivateHosts], "");
    });
  });

  test("the capture worker's attempt budget is the queue's receive count", () => {
    const env = envOf(synth.service.captureFunction);
    assert.equal(env[ENV.captureMaxAttempts], String(synth.storage.queue.maxReceiveCount));
    const [queue] = Object.values(
      synth.storageTemplate.findResources("AWS::SQS::Queue", {
        Properties: { RedrivePolicy: Match.anyValue() },
      }),
    );
    assert.equal(String(queue?.Properties.RedrivePolicy.maxReceiveCount), env[ENV.captureMaxAttempts]);
  });

  test("the synthesized environments parse with the handlers' own config loaders", () => {
    // Resource names are tokens (imports from the storage stack) here; any non-empty string stands in.
    const concrete = (env: Record<string, unknown>) =>
      Object.fromEntries(
        Object.entries(env).map(([k, v]) => [k, typeof v === "string" ? v : `resolved-${k}`]),
      );
    const api = concrete(envOf(synth.service.apiFunction));
    const capture = concrete(envOf(synth.service.captureFunction));
    const deadLetter = concrete(envOf(synth.service.deadLetterFunction));
    assert.doesNotThrow(() => loadStorageConfig(api));
    assert.equal(loadApiConfig(api).presignedUrlTtlSeconds, 900);
    assert.equal(loadApiConfig(api).allowPrivateHosts, undefined);
    assert.doesNotThrow(() => loadStorageConfig(capture));
    const config = loadCaptureConfig(capture);
    assert.equal(config.maxAttempts, 3);
    assert.ok(config.navigationTimeoutMs + config.idleTimeoutMs < 180_000);
    // The capture handler reads these at cold start too.
    assert.doesNotThrow(() => requireString(capture, ENV.queueUrl));
    assert.equal(loadPublishConfig(capture).eventBusName, `resolved-${ENV.eventBusName}`);
    assert.equal(loadPublishConfig(capture).webhook, undefined);
    assert.doesNotThrow(() => requireString(deadLetter, ENV.tableName));
  });

  test("functions only read env vars named in shared/env-names.ts", () => {
    const known = new Set<string>([...Object.values(ENV), "NODE_OPTIONS"]);
    for (const fn of allFunctions()) {
      for (const name of Object.keys(envOf(fn))) assert.ok(known.has(name), `${fn.node.id}: ${name}`);
    }
  });

  describe("least privilege", () => {
    test("no inline policy allows a service-wide wildcard action", () => {
      for (const fn of allFunctions()) {
        for (const action of allowedActions(service, fn)) {
          assert.ok(action !== "*" && !action.endsWith(":*"), `${fn.node.id} allows ${action}`);
        }
      }
    });

    test("the capture function consumes the capture queue, re-enqueues only to it, and never touches the DLQ", () => {
      const actions = allowedActions(service, synth.service.captureFunction);
      assert.ok(actions.has("sqs:ReceiveMessage") && actions.has("sqs:DeleteMessage"));
      const sqs = statementsOf(service, synth.service.captureFunction).filter((s) =>
        s.actions.some((a) => a.startsWith("sqs:")),
      );
      assert.ok(
        sqs.some((s) => s.actions.includes("sqs:SendMessage")),
        "deferred captures are re-enqueued",
      );
      for (const statement of sqs) {
        assert.equal(statement.resources.length, 1);
        assert.ok(
          isStorage(statement.resources[0], synth.storage.queue.queue.queueArn),
          "capture queue only",
        );
      }
    });

    test("only the capture function may publish, on the edits bus only, as source palimpsest", () => {
      const publishing = statementsOf(service, synth.service.captureFunction).filter((s) =>
        s.actions.some((a) => a.startsWith("events:")),
      );
      assert.equal(publishing.length, 1);
      const [statement] = publishing;
      assert.deepEqual(statement?.actions, ["events:PutEvents"]);
      assert.equal(statement?.resources.length, 1);
      assert.notEqual(statement?.resources[0], "*");
      assert.ok(isStorage(statement?.resources[0], synth.storage.editEvents.bus.eventBusArn), "the bus ARN");
      service.hasResourceProperties("AWS::IAM::Policy", {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: "events:PutEvents",
              Condition: { StringEquals: { "events:source": EDIT_EVENT_SOURCE } },
            }),
          ]),
        },
      });
      for (const fn of [synth.service.apiFunction, synth.service.deadLetterFunction]) {
        assert.ok(![...allowedActions(service, fn)].some((a) => a.startsWith("events:")), fn.node.id);
      }
    });

    test("the blob grants cover the key prefix the S3 blob store writes to", () => {
      assert.ok(BLOB_PREFIX.startsWith(BLOB_KEY_PREFIX), `${BLOB_PREFIX} is under ${BLOB_KEY_PREFIX}`);
    });

    test("the capture function can write blobs, and check for them, under blobs/ only", () => {
      const s3 = statementsOf(service, synth.service.captureFunction).filter((s) =>
        s.actions.some((a) => a.startsWith("s3:")),
      );
      const put = s3.filter((s) => s.actions.includes("s3:PutObject"));
      assert.ok(put.length > 0);
      for (const statement of put) {
        assert.match(JSON.stringify(statement.resources), /\/blobs\/\*/);
      }
      assert.ok(
        s3.some((s) => s.actions.includes("s3:ListBucket")),
        "HeadObject answers 404, not 403",
      );
    });

    test("the API function can presign reads but cannot write to the bucket or consume the queue", () => {
      const actions = allowedActions(service, synth.service.apiFunction);
      assert.ok(actions.has("s3:GetObject"));
      assert.ok(actions.has("sqs:SendMessage"));
      for (const denied of ["s3:PutObject", "s3:DeleteObject", "s3:ListBucket", "sqs:ReceiveMessage"]) {
        assert.ok(!actions.has(denied), `API function must not have ${denied}`);
      }
    });

    test("every function reads and writes the table and its indexes", () => {
      for (const fn of allFunctions()) {
        const dynamo = statementsOf(service, fn).filter((s) => s.actions.includes("dynamodb:PutItem"));
        assert.ok(dynamo.length > 0, `${fn.node.id} writes`);
        assert.ok(dynamo.some((s) => s.actions.includes("dynamodb:Query")));
        assert.match(JSON.stringify(dynamo.flatMap((s) => s.resources)), /\/index\/\*/);
      }
    });
  });

  describe("dead-letter function", () => {
    const dlqArn = () => synth.storage.queue.deadLetterQueue.queueArn;

    test("consumes the dead-letter queue in batches of 10 with partial batch failures", () => {
      const mapping = mappingOf(synth.service.deadLetterFunction);
      assert.ok(isStorage(mapping.EventSourceArn, dlqArn()), "the dead-letter queue");
      assert.ok(!isStorage(mapping.EventSourceArn, synth.storage.queue.queue.queueArn));
      assert.equal(mapping.BatchSize, 10);
      assert.deepEqual(mapping.FunctionResponseTypes, ["ReportBatchItemFailures"]);
      assert.ok(mapping.ScalingConfig.MaximumConcurrency >= 2);
      // The capture function must not be the DLQ's consumer too.
      assert.ok(!isStorage(mappingOf(synth.service.captureFunction).EventSourceArn, dlqArn()));
    });

    test("runs Node.js 24 with tracing and gets the table name and nothing else to reach", () => {
      const props = functionProps(synth.service.deadLetterFunction);
      assert.equal(props.Runtime, "nodejs24.x");
      assert.deepEqual(props.TracingConfig, { Mode: "Active" });
      const env = envOf(synth.service.deadLetterFunction);
      assert.ok(isStorage(env[ENV.tableName], synth.storage.table.table.tableName));
      for (const name of [ENV.bucketName, ENV.queueUrl, ENV.eventBusName]) {
        assert.equal(env[name], undefined, `${name} is not set`);
      }
    });

    test("fits the DLQ's visibility timeout, which has room for 6 × its timeout", () => {
      const timeout = functionProps(synth.service.deadLetterFunction).Timeout as number;
      const dlq =
        synth.storageTemplate.findResources("AWS::SQS::Queue")[
          logicalIdOf(synth.storage.queue.deadLetterQueue)
        ]?.Properties;
      assert.ok(
        timeout > 0 && dlq?.VisibilityTimeout >= 6 * timeout,
        `${dlq?.VisibilityTimeout} vs ${timeout}`,
      );
    });

    test("cannot read S3, send to any queue or publish: it cannot feed a message back", () => {
      const statements = statementsOf(service, synth.service.deadLetterFunction);
      const actions = statements.flatMap((s) => s.actions);
      assert.ok(actions.includes("dynamodb:GetItem") && actions.includes("dynamodb:PutItem"));
      for (const action of actions) {
        assert.ok(!action.startsWith("s3:") && !action.startsWith("events:"), `must not have ${action}`);
        assert.notEqual(action, "sqs:SendMessage");
        assert.notEqual(action, "sqs:SendMessageBatch");
      }
      for (const statement of statements.filter((s) => s.actions.some((a) => a.startsWith("sqs:")))) {
        assert.deepEqual(statement.actions.sort(), [
          "sqs:ChangeMessageVisibility",
          "sqs:DeleteMessage",
          "sqs:GetQueueAttributes",
          "sqs:GetQueueUrl",
          "sqs:ReceiveMessage",
        ]);
        assert.equal(statement.resources.length, 1);
        assert.ok(isStorage(statement.resources[0], dlqArn()), "on the dead-letter queue only");
      }
    });

    test("an alarm fires when dead letters stay in the queue for 15 minutes", () => {
      const alarms = service.findResources("AWS::CloudWatch::Alarm");
      const alarm = alarms[logicalIdOf(synth.service.deadLetterFunction.backlogAlarm)]?.Properties;
      assert.ok(alarm, "the backlog alarm is synthesized");
      assert.match(alarm.AlarmDescription, /dead-letter queue has not been empty/);
      assert.equal(alarm.ComparisonOperator, "GreaterThanOrEqualToThreshold");
      assert.equal(alarm.Threshold, 1);
      assert.equal(alarm.TreatMissingData, "notBreaching");
      const metrics = alarm.Metrics as Array<{
        Id: string;
        Expression?: string;
        ReturnData?: boolean;
        MetricStat?: {
          Metric: {
            Namespace: string;
            MetricName: string;
            Dimensions: Array<{ Name: string; Value: unknown }>;
          };
          Period: number;
          Stat: string;
        };
      }>;
      const inputs = metrics.filter((m) => m.MetricStat);
      // Visible and in flight together: a message the function keeps failing on is mostly in flight.
      assert.deepEqual(inputs.map((m) => m.MetricStat?.Metric.MetricName).sort(), [
        "ApproximateNumberOfMessagesNotVisible",
        "ApproximateNumberOfMessagesVisible",
      ]);
      for (const input of inputs) {
        assert.equal(input.MetricStat?.Metric.Namespace, "AWS/SQS");
        assert.equal(input.MetricStat?.Stat, "Maximum");
        const [dimension] = input.MetricStat?.Metric.Dimensions ?? [];
        assert.equal(dimension?.Name, "QueueName");
        assert.ok(isStorage(dimension?.Value, synth.storage.queue.deadLetterQueue.queueName), "of the DLQ");
      }
      const expression = metrics.find((m) => m.Expression);
      assert.ok(expression?.ReturnData !== false);
      for (const input of inputs) assert.match(expression?.Expression ?? "", new RegExp(`\\b${input.Id}\\b`));
      const period = inputs[0]?.MetricStat?.Period as number;
      assert.equal(alarm.EvaluationPeriods * period, 15 * 60);
      assert.equal(alarm.DatapointsToAlarm, alarm.EvaluationPeriods);
    });
  });

  describe("REST API", () => {
    test("proxies ANY / and ANY /{proxy+} to the API function", () => {
      const apiFunctionArn = { "Fn::GetAtt": [logicalIdOf(synth.service.apiFunction), "Arn"] };
      const integration = Match.objectLike({
        Type: "AWS_PROXY",
        Uri: Match.objectLike({ "Fn::Join": Match.arrayWith([Match.arrayWith([apiFunctionArn])]) }),
      });
      service.hasResourceProperties("AWS::ApiGateway::Resource", { PathPart: "{proxy+}" });
      const anyMethods = service.findResources("AWS::ApiGateway::Method", {
        Properties: { HttpMethod: "ANY", Integration: integration },
      });
      assert.equal(Object.keys(anyMethods).length, 2, "root and proxy");
    });

    test("every method except CORS preflight requires an API key", () => {
      const methods = Object.entries(service.findResources("AWS::ApiGateway::Method"));
      assert.ok(methods.length > 0);
      for (const [id, method] of methods) {
        if (method.Properties.HttpMethod === "OPTIONS") continue;
        assert.equal(method.Properties.ApiKeyRequired, true, `${id} requires a key`);
      }
    });

    test("the usage plan binds a key to the stage with a throttle and a quota", () => {
      service.hasResourceProperties("AWS::ApiGateway::UsagePlan", {
        Throttle: { RateLimit: Match.anyValue(), BurstLimit: Match.anyValue() },
        Quota: { Limit: Match.anyValue(), Period: "DAY" },
        ApiStages: [Match.objectLike({ Stage: Match.anyValue() })],
      });
      service.hasResourceProperties("AWS::ApiGateway::UsagePlanKey", { KeyType: "API_KEY" });
      service.hasResourceProperties("AWS::ApiGateway::ApiKey", { Enabled: true });
      const [plan] = Object.values(service.findResources("AWS::ApiGateway::UsagePlan"));
      assert.ok(plan?.Properties.Throttle.RateLimit > 0 && plan?.Properties.Quota.Limit > 0);
    });

    test("the stage throttles, traces and writes JSON access logs, but never logs bodies", () => {
      service.hasResourceProperties("AWS::ApiGateway::Stage", {
        TracingEnabled: true,
        AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp("apiKeyId") },
        MethodSettings: [
          Match.objectLike({
            HttpMethod: "*",
            ResourcePath: "/*",
            DataTraceEnabled: false,
            ThrottlingRateLimit: Match.anyValue(),
            ThrottlingBurstLimit: Match.anyValue(),
          }),
        ],
      });
      const [stage] = Object.values(service.findResources("AWS::ApiGateway::Stage"));
      assert.doesNotThrow(() => JSON.parse(stage?.Properties.AccessLogSetting.Format));
    });

    test("gateway errors use the API's error shape", () => {
      service.hasResourceProperties("AWS::ApiGateway::GatewayResponse", {
        ResponseType: "THROTTLED",
        ResponseTemplates: {
          "application/json": '{"error":{"code":"throttled","message":$context.error.messageString}}',
        },
      });
      const responses = Object.values(service.findResources("AWS::ApiGateway::GatewayResponse"));
      for (const response of responses) {
        const template = response.Properties.ResponseTemplates["application/json"] as string;
        const sample = JSON.parse(template.replace("$context.error.messageString", '"m"'));
        assert.match(sample.error.code, /^[a-z_]+$/);
      }
    });

    test("is regional and CORS is off by default", () => {
      service.hasResourceProperties("AWS::ApiGateway::RestApi", {
        EndpointConfiguration: { Types: ["REGIONAL"] },
      });
      assert.deepEqual(
        service.findResources("AWS::ApiGateway::Method", { Properties: { HttpMethod: "OPTIONS" } }),
        {},
      );
    });
  });
});
