import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { BLOB_KEY_PREFIX } from "../../infra/constructs/defaults.ts";
import { BLOB_PREFIX } from "../../shared/adapters/s3-blob-store.ts";
import { loadApiConfig, loadCaptureConfig, loadStorageConfig } from "../../shared/config.ts";
import { ENV } from "../../shared/env-names.ts";
import { allowedActions, logicalIdOf, statementsOf, synthPalimpsest } from "./synth.ts";

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

    test("gets the table, the bucket and its capture settings, but no queue URL", () => {
      const env = envOf(synth.service.captureFunction);
      for (const name of [
        ENV.tableName,
        ENV.bucketName,
        ENV.logLevel,
        ENV.navigationTimeoutMs,
        ENV.idleTimeoutMs,
        ENV.screenshotMaxHeightPx,
      ]) {
        assert.ok(env[name] !== undefined, `${name} is set`);
      }
      assert.equal(env[ENV.queueUrl], undefined);
      assert.equal(env.NODE_OPTIONS, "--enable-source-maps");
      assert.ok(Number(env[ENV.navigationTimeoutMs]) > 0);
      assert.ok(Number(env[ENV.idleTimeoutMs]) > 0);
    });

    test("is triggered one message at a time, reports partial batch failures, and caps concurrency", () => {
      service.hasResourceProperties("AWS::Lambda::EventSourceMapping", {
        FunctionName: { Ref: logicalIdOf(synth.service.captureFunction) },
        BatchSize: 1,
        FunctionResponseTypes: ["ReportBatchItemFailures"],
        ScalingConfig: { MaximumConcurrency: Match.anyValue() },
      });
      const [mapping] = Object.values(service.findResources("AWS::Lambda::EventSourceMapping"));
      assert.ok(mapping?.Properties.ScalingConfig.MaximumConcurrency >= 2);
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
    assert.doesNotThrow(() => loadStorageConfig(api));
    assert.equal(loadApiConfig(api).presignedUrlTtlSeconds, 900);
    assert.equal(loadApiConfig(api).allowPrivateHosts, undefined);
    assert.doesNotThrow(() => loadStorageConfig(capture));
    const config = loadCaptureConfig(capture);
    assert.equal(config.maxAttempts, 3);
    assert.ok(config.navigationTimeoutMs + config.idleTimeoutMs < 180_000);
  });

  test("functions only read env vars named in shared/env-names.ts", () => {
    const known = new Set<string>([...Object.values(ENV), "NODE_OPTIONS"]);
    for (const fn of [synth.service.apiFunction, synth.service.captureFunction]) {
      for (const name of Object.keys(envOf(fn))) assert.ok(known.has(name), `${fn.node.id}: ${name}`);
    }
  });

  describe("least privilege", () => {
    test("no inline policy allows a service-wide wildcard action", () => {
      for (const fn of [synth.service.apiFunction, synth.service.captureFunction]) {
        for (const action of allowedActions(service, fn)) {
          assert.ok(action !== "*" && !action.endsWith(":*"), `${fn.node.id} allows ${action}`);
        }
      }
    });

    test("the capture function can consume the queue but cannot send to it", () => {
      const actions = allowedActions(service, synth.service.captureFunction);
      assert.ok(actions.has("sqs:ReceiveMessage") && actions.has("sqs:DeleteMessage"));
      assert.ok(!actions.has("sqs:SendMessage"));
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

    test("both functions read and write the table and its indexes", () => {
      for (const fn of [synth.service.apiFunction, synth.service.captureFunction]) {
        const dynamo = statementsOf(service, fn).filter((s) => s.actions.includes("dynamodb:PutItem"));
        assert.ok(dynamo.length > 0, `${fn.node.id} writes`);
        assert.ok(dynamo.some((s) => s.actions.includes("dynamodb:Query")));
        assert.match(JSON.stringify(dynamo.flatMap((s) => s.resources)), /\/index\/\*/);
      }
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
