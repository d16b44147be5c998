import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { ROUTES } from "../../functions/api/routes.ts";
import {
  DUE_INDEX_NAME,
  TABLE_READ_ACTIONS,
  TABLE_WRITE_ACTIONS,
} from "../../infra/constructs/archive-table.ts";
import { BLOB_KEY_PREFIX, REPO_ROOT } from "../../infra/constructs/defaults.ts";
import { EDIT_EVENT_SOURCE } from "../../infra/constructs/edit-events.ts";
import { BLOB_PREFIX } from "../../shared/adapters/s3-blob-store.ts";
import { TABLE_INDEXES } from "../../shared/adapters/table-schema.ts";
import {
  loadApiConfig,
  loadCaptureConfig,
  loadPublishConfig,
  loadStorageConfig,
  requireString,
} from "../../shared/config.ts";
import { ENV } from "../../shared/env-names.ts";
import { allowedActions, logicalIdOf, refersTo, statementsOf, synthPalimpsest } from "./synth.ts";
import { DYNAMODB_COMMAND_ACTIONS, deriveTableAccess } from "./table-access.ts";

type CfnResources = Record<string, { Type: string; Properties: Record<string, unknown> }>;

/**
 * Resolves a request to the API Gateway method that would answer it, the way API Gateway matches:
 * on each level a fixed path part before a `{param}` before a `{proxy+}` (which takes the rest),
 * and on the resource the exact method before `ANY`. Returns undefined where no method exists.
 */
function gatewayMethodFor(template: Template, httpMethod: string, requestPath: string) {
  const resources = template.toJSON().Resources as CfnResources;
  const childrenOf = (parent: string | "root") =>
    Object.entries(resources)
      .filter(([, r]) => r.Type === "AWS::ApiGateway::Resource")
      .filter(([, r]) => {
        const ref = r.Properties.ParentId as { Ref?: string; "Fn::GetAtt"?: [string, string] };
        return parent === "root" ? ref["Fn::GetAtt"]?.[1] === "RootResourceId" : ref.Ref === parent;
      })
      .map(([id, r]) => ({ id, part: r.Properties.PathPart as string }));
  const segments = requestPath.split("/").slice(1);
  let current: string | "root" = "root";
  let resourcePath = "";
  if (requestPath !== "/") {
    for (let i = 0; i < segments.length; i++) {
      const children = childrenOf(current);
      const segment = segments[i] as string;
      const next =
        children.find((c) => c.part === segment) ??
        children.find((c) => /^\{\w+\}$/.test(c.part)) ??
        children.find((c) => c.part.endsWith("+}"));
      if (!next) return undefined;
      current = next.id;
      resourcePath += `/${next.part}`;
      if (next.part.endsWith("+}")) break;
    }
  }
  const methods = Object.values(resources).filter((r) => {
    if (r.Type !== "AWS::ApiGateway::Method") return false;
    const ref = r.Properties.ResourceId as { Ref?: string; "Fn::GetAtt"?: [string, string] };
    return current === "root" ? ref["Fn::GetAtt"]?.[1] === "RootResourceId" : ref.Ref === current;
  });
  const method =
    methods.find((m) => m.Properties.HttpMethod === httpMethod) ??
    methods.find((m) => m.Properties.HttpMethod === "ANY");
  return method && { resourcePath: resourcePath || "/", properties: method.Properties };
}

/** Requests that exercise every route of `functions/api` (a test checks that none is missed). */
const SAMPLE_REQUESTS: ReadonlyArray<[method: string, path: string]> = [
  ["GET", "/"],
  ["HEAD", "/"],
  ["GET", "/ui"],
  ["GET", "/ui/captures/cap_1"],
  ["GET", "/ui/captures/cap_1/status"],
  ["POST", "/ui/captures"],
  ["GET", "/ui/urls/url_1"],
  ["POST", "/ui/urls/url_1"],
  ["GET", "/ui/urls/url_1/versions/ver_1"],
  ["GET", "/ui/urls/url_1/versions/ver_1/replay"],
  ["GET", "/ui/urls/url_1/diff"],
  ["GET", "/ui/assets/app.css"],
  ["GET", "/ui/no/such/page"],
  ["GET", "/v1/edits.atom"],
  ["HEAD", "/v1/edits.atom"],
  ["GET", "/v1/urls/url_1/edits.atom"],
  ["GET", "/timemap/link/https://news.example/a"],
  ["GET", "/timegate/https://news.example/a"],
  ["HEAD", "/timegate/https://news.example/a"],
  ["GET", "/memento/20240102030405/https://news.example/a"],
  ["GET", "/v1/available"],
  ["GET", "/v1/signing-key"],
  ["HEAD", "/v1/signing-key"],
  ["POST", "/v1/captures"],
  ["GET", "/v1/captures"],
  ["GET", "/v1/captures/cap_1"],
  ["GET", "/v1/urls"],
  ["GET", "/v1/urls/url_1"],
  ["PATCH", "/v1/urls/url_1"],
  ["GET", "/v1/urls/url_1/captures"],
  ["GET", "/v1/urls/url_1/diff"],
  ["GET", "/v1/edits"],
  ["GET", "/v1/sources/src_1/edits.atom"],
  ["HEAD", "/v1/sources/src_1/edits.atom"],
  ["POST", "/v1/sources"],
  ["GET", "/v1/sources"],
  ["GET", "/v1/sources.opml"],
  ["POST", "/v1/sources/opml"],
  ["GET", "/v1/sources/src_1"],
  ["PATCH", "/v1/sources/src_1"],
  ["DELETE", "/v1/sources/src_1"],
  ["GET", "/v1/sources/src_1/urls"],
  ["GET", "/v1/urls/url_1/noise-rules"],
  ["PUT", "/v1/urls/url_1/noise-rules"],
  ["DELETE", "/v1/urls/url_1/noise-rules"],
  ["GET", "/v1/sources/src_1/noise-rules"],
  ["PUT", "/v1/sources/src_1/noise-rules"],
  ["DELETE", "/v1/sources/src_1/noise-rules"],
  ["GET", "/ui/sources"],
  ["POST", "/ui/sources"],
  ["GET", "/ui/sources/src_1"],
  ["POST", "/ui/sources/src_1"],
];

/** The handler's route for a request (HEAD is answered like GET), as `routeRequest` picks it. */
const routeFor = (method: string, requestPath: string) =>
  ROUTES.find((r) => r.pattern.test(requestPath) && r.method === (method === "HEAD" ? "GET" : method));

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
    synth.service.sweeperFunction,
    synth.service.pollFunction,
  ];
  /** Whether an IAM resource is the poll queue (in the service stack itself). */
  const refersToPollQueue = (value: unknown) =>
    JSON.stringify(value) ===
    JSON.stringify({ "Fn::GetAtt": [logicalIdOf(synth.service.pollQueue.queue), "Arn"] });
  /** Whether a value in the service template refers to `token` of the storage stack. */
  const isStorage = (value: unknown, token: string) =>
    refersTo(value, synth.storage, synth.storageTemplate, token);
  const mappingsOf = (fn: Synth["service"]["apiFunction"]) =>
    Object.values(
      service.findResources("AWS::Lambda::EventSourceMapping", {
        Properties: { FunctionName: { Ref: logicalIdOf(fn) } },
      }),
    ).map((m) => m.Properties);
  const mappingOf = (fn: Synth["service"]["apiFunction"]) => {
    const mappings = mappingsOf(fn);
    assert.equal(mappings.length, 1, `${fn.node.id} has one event source`);
    return mappings[0];
  };
  /** Whether an IAM resource or a mapping's source is one of the two capture queues. */
  const isScheduledQueue = (value: unknown) => isStorage(value, synth.storage.queue.queue.queueArn);
  const isInteractiveQueue = (value: unknown) =>
    isStorage(value, synth.storage.queue.interactiveQueue.queueArn);

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

    test("gets the table, the bucket, the edits bus and its capture settings", () => {
      const env = envOf(synth.service.captureFunction);
      for (const name of [
        ENV.tableName,
        ENV.bucketName,
        ENV.eventBusName,
        ENV.logLevel,
        ENV.navigationTimeoutMs,
        ENV.idleTimeoutMs,
        ENV.screenshotMaxHeightPx,
      ]) {
        assert.ok(env[name] !== undefined, `${name} is set`);
      }
      assert.ok(isStorage(env[ENV.eventBusName], synth.storage.editEvents.bus.eventBusName), "the edits bus");
      assert.equal(env.NODE_OPTIONS, "--enable-source-maps");
      assert.ok(Number(env[ENV.navigationTimeoutMs]) > 0);
      assert.ok(Number(env[ENV.idleTimeoutMs]) > 0);
    });

    test("is triggered by both capture queues, a mapping and a concurrency cap each, one message at a time", () => {
      const mappings = mappingsOf(synth.service.captureFunction);
      assert.equal(mappings.length, 2, "one mapping per capture queue");
      const scheduled = mappings.filter((m) => isScheduledQueue(m.EventSourceArn));
      const interactive = mappings.filter((m) => isInteractiveQueue(m.EventSourceArn));
      assert.equal(scheduled.length, 1, "the scheduled queue");
      assert.equal(interactive.length, 1, "the interactive queue");
      for (const mapping of mappings) {
        assert.equal(mapping.BatchSize, 1);
        assert.deepEqual(mapping.FunctionResponseTypes, ["ReportBatchItemFailures"]);
      }
      // Each lane its own browsers: a scheduled backlog cannot take the interactive mapping's.
      assert.equal(scheduled[0]?.ScalingConfig.MaximumConcurrency, 10);
      assert.equal(interactive[0]?.ScalingConfig.MaximumConcurrency, 5);
    });
  });

  describe("API function", () => {
    test("runs Node.js 24 on arm64 within API Gateway's 29 s", () => {
      const props = functionProps(synth.service.apiFunction);
      assert.equal(props.Runtime, "nodejs24.x");
      assert.deepEqual(props.Architectures, ["arm64"]);
      assert.ok(props.Timeout <= 29);
      assert.deepEqual(props.TracingConfig, { Mode: "Active" });
    });

    test("gets the table, bucket, interactive queue URL and presign TTL, and no private-host exemptions", () => {
      const env = envOf(synth.service.apiFunction);
      for (const name of [ENV.tableName, ENV.bucketName, ENV.interactiveQueueUrl, ENV.logLevel]) {
        assert.ok(env[name] !== undefined, `${name} is set`);
      }
      // Every capture the API starts is a person's: it has no way to the scheduled queue.
      assert.ok(isStorage(env[ENV.interactiveQueueUrl], synth.storage.queue.interactiveQueue.queueUrl));
      assert.equal(env[ENV.queueUrl], undefined);
      assert.equal(env[ENV.presignedUrlTtlSeconds], "900");
      assert.equal(env[ENV.allowPrivateHosts], "");
    });

    test("loads its bundle without Node's source maps (its logger maps logged stacks on first use)", () => {
      const env = envOf(synth.service.apiFunction);
      assert.equal(env.NODE_OPTIONS, undefined);
      for (const fn of allFunctions().filter((f) => f !== synth.service.apiFunction)) {
        assert.equal(envOf(fn).NODE_OPTIONS, "--enable-source-maps", fn.node.path);
      }
    });
  });

  test("every function but the capture function (its Chromium is an x86_64 binary) runs on arm64", () => {
    const capture = logicalIdOf(synth.service.captureFunction);
    const functions = Object.entries(service.findResources("AWS::Lambda::Function"));
    assert.ok(functions.length >= allFunctions().length);
    for (const [id, fn] of functions) {
      assert.deepEqual(fn.Properties.Architectures, [id === capture ? "x86_64" : "arm64"], id);
    }
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
        Object.entries(env).map(([k, v]) => [
          k,
          // The replay origin is the function URL's, known once deployed; an origin stands in.
          typeof v === "string"
            ? v
            : k === ENV.publicReplayUrl
              ? "https://abc.lambda-url.eu-west-1.on.aws"
              : `resolved-${k}`,
        ]),
      );
    const api = concrete(envOf(synth.service.apiFunction));
    const capture = concrete(envOf(synth.service.captureFunction));
    const deadLetter = concrete(envOf(synth.service.deadLetterFunction));
    assert.doesNotThrow(() => loadStorageConfig(api));
    assert.equal(loadApiConfig(api).presignedUrlTtlSeconds, 900);
    assert.equal(loadApiConfig(api).allowPrivateHosts, undefined);
    assert.equal(loadApiConfig(api).publicReplayUrl, "https://abc.lambda-url.eu-west-1.on.aws");
    assert.doesNotThrow(() => loadStorageConfig(capture));
    const config = loadCaptureConfig(capture);
    assert.equal(config.maxAttempts, 3);
    assert.ok(config.navigationTimeoutMs + config.idleTimeoutMs < 180_000);
    // The capture handler never sends to a queue (issue 18), so it has no QUEUE_URL to read.
    assert.equal(capture[ENV.queueUrl], undefined);
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

    test("the capture function consumes both capture queues, never sends to them, and never touches the DLQ", () => {
      const actions = allowedActions(service, synth.service.captureFunction);
      assert.ok(actions.has("sqs:ReceiveMessage") && actions.has("sqs:DeleteMessage"));
      const sqs = statementsOf(service, synth.service.captureFunction).filter((s) =>
        s.actions.some((a) => a.startsWith("sqs:")),
      );
      // Politeness is decided before a message is queued (issue 18): no capture is re-sent to wait
      // for its host, so no loop of the function through its own queue is possible.
      assert.ok(!actions.has("sqs:SendMessage"), "the capture function cannot re-enqueue");
      const resources = sqs.flatMap((s) => s.resources);
      for (const resource of resources) {
        assert.ok(isScheduledQueue(resource) || isInteractiveQueue(resource), "capture queues only");
      }
      assert.ok(resources.some(isScheduledQueue), "receives from the scheduled queue");
      assert.ok(resources.some(isInteractiveQueue), "receives from the interactive queue");
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

    test("the capture function can write blobs under blobs/ only, and list nothing", () => {
      const s3 = statementsOf(service, synth.service.captureFunction).filter((s) =>
        s.actions.some((a) => a.startsWith("s3:")),
      );
      const put = s3.filter((s) => s.actions.includes("s3:PutObject"));
      assert.ok(put.length > 0);
      for (const statement of put) {
        assert.match(JSON.stringify(statement.resources), /\/blobs\/\*/);
      }
      // Identical bytes are stored once by a conditional PUT, not by looking first.
      assert.ok(!s3.some((s) => s.actions.includes("s3:ListBucket")), "no s3:ListBucket");
    });

    test("the API function can presign reads and read the queue depth, but cannot write blobs or consume", () => {
      const actions = allowedActions(service, synth.service.apiFunction);
      assert.ok(actions.has("s3:GetObject"));
      assert.ok(actions.has("sqs:SendMessage"));
      assert.ok(actions.has("sqs:GetQueueAttributes"), "queue depth for 429 back-pressure");
      for (const denied of [
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:ListBucket",
        "sqs:ReceiveMessage",
        "sqs:DeleteMessage",
        "sqs:PurgeQueue",
        "events:PutEvents",
      ]) {
        assert.ok(!actions.has(denied), `API function must not have ${denied}`);
      }
      for (const statement of statementsOf(service, synth.service.apiFunction)) {
        if (!statement.actions.some((a) => a.startsWith("sqs:"))) continue;
        // A followed source's first poll is queued at once: send, and nothing else, on the poll queue.
        if (refersToPollQueue(statement.resources[0])) {
          assert.deepEqual(statement.actions, ["sqs:SendMessage"]);
          assert.equal(statement.resources.length, 1);
          continue;
        }
        assert.ok(isInteractiveQueue(statement.resources[0]), "the interactive capture queue only");
        assert.equal(statement.resources.length, 1);
      }
      const s3 = statementsOf(service, synth.service.apiFunction).filter((s) =>
        s.actions.some((a) => a.startsWith("s3:")),
      );
      for (const statement of s3) assert.match(JSON.stringify(statement.resources), /\/blobs\/\*/);
    });

    test("the sweeper queries the due index, claims and records captures, and enqueues: nothing else", () => {
      const statements = statementsOf(service, synth.service.sweeperFunction).filter(
        (s) => !s.actions.some((a) => a.startsWith("logs:") || a.startsWith("xray:")),
      );
      const actions = statements.flatMap((s) => s.actions).sort();
      assert.deepEqual(actions, [
        "dynamodb:BatchWriteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:UpdateItem",
        "sqs:GetQueueAttributes",
        "sqs:SendMessage",
        "sqs:SendMessage",
      ]);
      const query = statements.find((s) => s.actions.includes("dynamodb:Query"));
      assert.deepEqual(query?.actions, ["dynamodb:Query"]);
      assert.match(JSON.stringify(query?.resources), new RegExp(`/index/${DUE_INDEX_NAME}"`));
      assert.equal(query?.resources.length, 1);
      for (const statement of statements.filter((s) => s.actions.some((a) => a.startsWith("sqs:")))) {
        assert.deepEqual(statement.resources.length, 1);
        // One poll job per due source: send only, on the poll queue.
        if (refersToPollQueue(statement.resources[0])) {
          assert.deepEqual(statement.actions, ["sqs:SendMessage"]);
          continue;
        }
        assert.ok(
          isStorage(statement.resources[0], synth.storage.queue.queue.queueArn),
          "capture queue only",
        );
      }
    });

    test("the due index the sweeper may query is the one the repository's listDue reads", () => {
      assert.ok(TABLE_INDEXES.some((i) => i.indexName === DUE_INDEX_NAME));
      const repository = readFileSync(path.join(REPO_ROOT, "shared/adapters/dynamo-due-index.ts"), "utf8");
      const listDue = repository.slice(repository.indexOf("async listDue("));
      assert.match(
        listDue.slice(0, listDue.indexOf("async ", 10)),
        new RegExp(`IndexName: "${DUE_INDEX_NAME}"`),
      );
    });

    /** The table actions and queried index names `fn`'s role holds, sorted. */
    const tableGrantOf = (fn: Synth["service"]["apiFunction"]) => {
      const tableArn = synth.storage.table.table.tableArn;
      const dynamo = statementsOf(service, fn).filter((s) =>
        s.actions.some((a) => a.startsWith("dynamodb:")),
      );
      const onTable = dynamo.filter((s) => s.resources.some((r) => isStorage(r, tableArn)));
      const onIndexes = dynamo.filter((s) => !onTable.includes(s));
      assert.deepEqual(
        [...new Set(onIndexes.flatMap((s) => s.actions))],
        onIndexes.length ? ["dynamodb:Query"] : [],
      );
      const indexes = JSON.stringify(onIndexes.flatMap((s) => s.resources));
      assert.ok(!indexes.includes("*"), `${fn.node.id}: no index/*`);
      return {
        tableActions: [...new Set(onTable.flatMap((s) => s.actions))].sort(),
        indexes: [...indexes.matchAll(/\/index\/(\w+)/g)].map((m) => m[1] as string).sort(),
      };
    };
    const entries = () =>
      [
        [synth.service.apiFunction, "functions/api/handler.ts"],
        [synth.service.captureFunction, "functions/capture/handler.ts"],
        [synth.service.deadLetterFunction, "functions/dead-letter/handler.ts"],
        [synth.service.sweeperFunction, "functions/sweeper/handler.ts"],
        [synth.service.pollFunction, "functions/poll/handler.ts"],
      ] as const;

    test("every function may send each DynamoDB call its bundled code makes", async () => {
      assert.equal(entries().length, allFunctions().length);
      for (const [fn, entry] of entries()) {
        const derived = await deriveTableAccess(entry);
        assert.ok(derived.methods.length > 0, `${entry} uses the table`);
        const granted = tableGrantOf(fn);
        for (const action of derived.tableActions) {
          assert.ok(
            granted.tableActions.includes(action),
            `${fn.node.id} sends ${action} (${derived.methods.join(", ")})`,
          );
        }
        for (const index of derived.queriedIndexes) {
          assert.ok(granted.indexes.includes(index), `${fn.node.id} queries index ${index}`);
        }
      }
    });

    test("the API and dead-letter functions hold exactly the DynamoDB access their code sends", async () => {
      for (const [fn, entry] of entries()) {
        if (fn !== synth.service.apiFunction && fn !== synth.service.deadLetterFunction) continue;
        const derived = await deriveTableAccess(entry);
        const granted = tableGrantOf(fn);
        const why = `${fn.node.id} uses ${derived.methods.join(", ")}: update its TableAccessGrant in infra/constructs/archive-table.ts`;
        assert.deepEqual(granted.tableActions, [...derived.tableActions].sort(), why);
        assert.deepEqual(granted.indexes, [...derived.queriedIndexes].sort(), why);
      }
    });

    test("the dead-letter function may only read a capture and finish it; the API may not delete archive records or batch-write", async () => {
      assert.deepEqual(tableGrantOf(synth.service.deadLetterFunction), {
        tableActions: ["dynamodb:GetItem", "dynamodb:UpdateItem"],
        indexes: [],
      });
      const api = tableGrantOf(synth.service.apiFunction);
      for (const denied of ["dynamodb:BatchWriteItem", "dynamodb:Scan"]) {
        assert.ok(!api.tableActions.includes(denied), `API function must not have ${denied}`);
      }
      assert.ok(!api.indexes.includes(DUE_INDEX_NAME), "the API never reads the due index");
      // Unfollowing deletes a source's own items; no URL, version or capture may go. The only
      // deletes the API's code sends are those (cleared noise rules are written as none).
      const derived = await deriveTableAccess("functions/api/handler.ts");
      assert.deepEqual(derived.deletingMethods, ["shared/adapters/dynamo-source-repository.ts#deleteSource"]);
      const deletes = statementsOf(service, synth.service.apiFunction).filter((s) =>
        s.actions.includes("dynamodb:DeleteItem"),
      );
      assert.equal(deletes.length, 1);
      assert.deepEqual(deletes[0]?.actions, ["dynamodb:DeleteItem"]);
      service.hasResourceProperties("AWS::IAM::Policy", {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: "dynamodb:DeleteItem",
              Condition: {
                "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["SOURCE#*", "SOURCEURL#*"] },
              },
            }),
          ]),
        },
      });
    });

    test("the capture function reads and writes the table and queries each index by name", () => {
      const granted = tableGrantOf(synth.service.captureFunction);
      assert.deepEqual(granted.tableActions, [...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS].sort());
      assert.deepEqual(
        granted.indexes,
        TABLE_INDEXES.map((i) => i.indexName),
      );
    });

    test("every DynamoDB command the adapters send is granted, and none of them scans", () => {
      const adapters = ["dynamo-archive-repository.ts", "dynamo-host-gate.ts"].map((file) =>
        readFileSync(path.join(REPO_ROOT, "shared/adapters", file), "utf8"),
      );
      const commands = new Set(
        adapters.flatMap((source) => [...source.matchAll(/new (\w+)Command\(/g)].map((m) => m[1])),
      );
      assert.ok(commands.size > 0);
      const granted = new Set<string>([...TABLE_READ_ACTIONS, ...TABLE_WRITE_ACTIONS]);
      for (const command of commands) {
        const action = DYNAMODB_COMMAND_ACTIONS[command as string];
        assert.ok(action, `unknown DynamoDB command ${command}Command: map it to its IAM action here`);
        assert.ok(
          granted.has(action),
          `${command}Command needs ${action}, which ArchiveTable does not grant`,
        );
      }
      for (const fn of allFunctions()) {
        assert.ok(!allowedActions(service, fn).has("dynamodb:Scan"), `${fn.node.id} must not scan`);
      }
    });

    test("roles carry no AWS managed policy, write only their own log group, and allow only X-Ray on *", () => {
      const roles = service.findResources("AWS::IAM::Role");
      for (const fn of allFunctions()) {
        const role = roles[logicalIdOf(fn.executionRole)]?.Properties;
        assert.ok(role, `${fn.node.id} has its role`);
        assert.equal(role.ManagedPolicyArns, undefined, `${fn.node.id}: no managed policies`);
        const statements = statementsOf(service, fn);
        const logs = statements.filter((s) => s.actions.some((a) => a.startsWith("logs:")));
        assert.deepEqual(logs.flatMap((s) => s.actions).sort(), [
          "logs:CreateLogStream",
          "logs:PutLogEvents",
        ]);
        assert.deepEqual(
          logs.flatMap((s) => s.resources),
          [{ "Fn::GetAtt": [logicalIdOf(fn.logs), "Arn"] }],
        );
        const onEverything = statements.filter((s) => s.resources.includes("*"));
        assert.deepEqual(onEverything.flatMap((s) => s.actions).sort(), [
          // The sweeper reads the capture queue's age (back-pressure); GetMetricData has no ARN.
          ...(fn === synth.service.sweeperFunction ? ["cloudwatch:GetMetricData"] : []),
          "xray:PutTelemetryRecords",
          "xray:PutTraceSegments",
        ]);
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
      for (const capture of mappingsOf(synth.service.captureFunction)) {
        assert.ok(!isStorage(capture.EventSourceArn, dlqArn()));
      }
    });

    test("drains the dead letters of both capture queues: they share the one DLQ it consumes", () => {
      const queues = synth.storageTemplate.findResources("AWS::SQS::Queue");
      const dlqId = logicalIdOf(synth.storage.queue.deadLetterQueue);
      for (const queue of [synth.storage.queue.queue, synth.storage.queue.interactiveQueue]) {
        const redrive = queues[logicalIdOf(queue)]?.Properties.RedrivePolicy;
        assert.deepEqual(redrive?.deadLetterTargetArn, { "Fn::GetAtt": [dlqId, "Arn"] }, queue.node.id);
        assert.equal(redrive?.maxReceiveCount, synth.storage.queue.maxReceiveCount, queue.node.id);
      }
      assert.ok(isStorage(mappingOf(synth.service.deadLetterFunction).EventSourceArn, dlqArn()));
    });

    test("runs Node.js 24 with tracing and gets the table name and nothing else to reach", () => {
      const props = functionProps(synth.service.deadLetterFunction);
      assert.equal(props.Runtime, "nodejs24.x");
      assert.deepEqual(props.TracingConfig, { Mode: "Active" });
      const env = envOf(synth.service.deadLetterFunction);
      assert.ok(isStorage(env[ENV.tableName], synth.storage.table.table.tableName));
      for (const name of [ENV.bucketName, ENV.queueUrl, ENV.interactiveQueueUrl, ENV.eventBusName]) {
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
      assert.ok(actions.includes("dynamodb:GetItem") && actions.includes("dynamodb:UpdateItem"));
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

  describe("sweeper and its schedule", () => {
    const scheduleProps = () => {
      const schedules = Object.values(service.findResources("AWS::Scheduler::Schedule"));
      assert.equal(schedules.length, 1);
      return schedules[0]?.Properties;
    };
    const sweeperArn = () => ({ "Fn::GetAtt": [logicalIdOf(synth.service.sweeperFunction), "Arn"] });

    test("runs Node.js 24 with tracing for 5 minutes, unreserved, and gets the table and queue only", () => {
      const props = functionProps(synth.service.sweeperFunction);
      assert.equal(props.Runtime, "nodejs24.x");
      assert.deepEqual(props.TracingConfig, { Mode: "Active" });
      assert.equal(props.Timeout, 300);
      assert.equal(props.ReservedConcurrentExecutions, undefined);
      const env = envOf(synth.service.sweeperFunction);
      assert.ok(isStorage(env[ENV.tableName], synth.storage.table.table.tableName));
      assert.ok(isStorage(env[ENV.queueUrl], synth.storage.queue.queue.queueUrl));
      for (const name of [
        ENV.bucketName,
        ENV.eventBusName,
        ENV.captureMaxAttempts,
        ENV.interactiveQueueUrl,
      ]) {
        assert.equal(env[name], undefined, `${name} is not set`);
      }
    });

    test("runs every 5 minutes on the beat, with the scheduled time as the sweep's clock", () => {
      const props = scheduleProps();
      assert.equal(props.ScheduleExpression, "rate(5 minutes)");
      assert.deepEqual(props.FlexibleTimeWindow, { Mode: "OFF" });
      assert.equal(props.State, "ENABLED");
      assert.deepEqual(props.Target.Arn, sweeperArn());
      assert.deepEqual(JSON.parse(props.Target.Input), { time: "<aws.scheduler.scheduled-time>" });
    });

    test("retries undelivered runs twice within 5 minutes, then dead-letters them", () => {
      const target = scheduleProps().Target;
      assert.deepEqual(target.RetryPolicy, { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 300 });
      const dlq = synth.service.sweepSchedule.deadLetterQueue;
      assert.deepEqual(target.DeadLetterConfig, { Arn: { "Fn::GetAtt": [logicalIdOf(dlq), "Arn"] } });
      const queue = service.findResources("AWS::SQS::Queue")[logicalIdOf(dlq)]?.Properties;
      assert.equal(queue?.SqsManagedSseEnabled, true);
      service.hasResourceProperties("AWS::SQS::QueuePolicy", {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      });
      const alarm =
        service.findResources("AWS::CloudWatch::Alarm")[
          logicalIdOf(synth.service.sweepSchedule.undeliveredAlarm)
        ]?.Properties;
      assert.equal(alarm?.MetricName, "ApproximateNumberOfMessagesVisible");
      assert.deepEqual(alarm?.Dimensions[0].Value, { "Fn::GetAtt": [logicalIdOf(dlq), "QueueName"] });
    });

    test("its role may only invoke the sweeper (and dead-letter), and only Scheduler of this account may assume it", () => {
      const role = synth.service.sweepSchedule.role;
      assert.deepEqual(scheduleProps().Target.RoleArn, { "Fn::GetAtt": [logicalIdOf(role), "Arn"] });
      const policies = Object.values(service.findResources("AWS::IAM::Policy")).filter((p) =>
        p.Properties.Roles.some((r: { Ref?: string }) => r.Ref === logicalIdOf(role)),
      );
      const statements = policies.flatMap((p) => p.Properties.PolicyDocument.Statement);
      assert.deepEqual(
        statements.map((st: { Action: string; Resource: unknown }) => [st.Action, st.Resource]),
        [
          ["lambda:InvokeFunction", sweeperArn()],
          [
            "sqs:SendMessage",
            { "Fn::GetAtt": [logicalIdOf(synth.service.sweepSchedule.deadLetterQueue), "Arn"] },
          ],
        ],
      );
      const trust =
        service.findResources("AWS::IAM::Role")[logicalIdOf(role)]?.Properties.AssumeRolePolicyDocument;
      assert.deepEqual(trust.Statement[0].Principal, { Service: "scheduler.amazonaws.com" });
      assert.deepEqual(trust.Statement[0].Condition.StringEquals["aws:SourceAccount"], {
        Ref: "AWS::AccountId",
      });
      assert.match(
        JSON.stringify(trust.Statement[0].Condition.StringEquals["aws:SourceArn"]),
        /schedule-group\/default/,
      );
    });

    test("Lambda does not retry a failed sweep or keep a stale one: the next run is the retry", () => {
      const configs = Object.values(
        service.findResources("AWS::Lambda::EventInvokeConfig", {
          Properties: { FunctionName: { Ref: logicalIdOf(synth.service.sweeperFunction) } },
        }),
      );
      assert.equal(configs.length, 1);
      assert.equal(configs[0]?.Properties.MaximumRetryAttempts, 0);
      assert.equal(configs[0]?.Properties.MaximumEventAgeInSeconds, 300);
    });

    test("an alarm fires when sweeps fail for 15 minutes", () => {
      const alarm =
        service.findResources("AWS::CloudWatch::Alarm")[
          logicalIdOf(synth.service.sweeperFunction.failingAlarm)
        ]?.Properties;
      assert.equal(alarm?.MetricName, "Errors");
      assert.equal(alarm?.Namespace, "AWS/Lambda");
      assert.equal(alarm?.EvaluationPeriods * alarm?.Period, 15 * 60);
      assert.equal(alarm?.TreatMissingData, "notBreaching");
    });

    test("the sweeper handler starts with the synthesized environment (no BUCKET_NAME)", async () => {
      const env = Object.fromEntries(
        Object.entries(envOf(synth.service.sweeperFunction)).map(([k, v]) => [
          k,
          typeof v === "string" ? v : `resolved-${k}`,
        ]),
      );
      const overrides: Record<string, string | undefined> = {
        ...env,
        AWS_REGION: "eu-west-1",
        [ENV.bucketName]: undefined,
      };
      const saved = Object.fromEntries(Object.keys(overrides).map((k) => [k, process.env[k]]));
      const apply = (values: Record<string, string | undefined>) => {
        for (const [k, v] of Object.entries(values)) {
          if (v === undefined) delete process.env[k];
          else process.env[k] = v;
        }
      };
      apply(overrides);
      try {
        // The handler wires itself at import (its cold start), so the environment comes first.
        const { handler } = await import("../../functions/sweeper/handler.ts");
        // No time left: the sweep stops before its first query, so only the cold start runs.
        const context = { getRemainingTimeInMillis: () => 0 } as unknown as Parameters<typeof handler>[1];
        const result = await handler({ time: "2024-01-01T00:00:00Z" }, context);
        assert.equal(result.complete, false);
      } finally {
        apply(saved);
      }
    });
  });

  describe("REST API", () => {
    test("proxies every method to the API function with one API-wide invoke permission", () => {
      const apiFunctionArn = { "Fn::GetAtt": [logicalIdOf(synth.service.apiFunction), "Arn"] };
      const methods = Object.entries(service.findResources("AWS::ApiGateway::Method"));
      assert.ok(methods.length > 0);
      for (const [id, method] of methods) {
        if (method.Properties.HttpMethod === "OPTIONS") continue;
        assert.equal(method.Properties.Integration.Type, "AWS_PROXY", id);
        assert.match(
          JSON.stringify(method.Properties.Integration.Uri),
          new RegExp(JSON.stringify(apiFunctionArn).replace(/[[\]{}]/g, "\\$&")),
        );
      }
      const permissions = Object.values(
        service.findResources("AWS::Lambda::Permission", {
          Properties: { FunctionName: apiFunctionArn, Principal: "apigateway.amazonaws.com" },
        }),
      );
      assert.equal(permissions.length, 1, "one permission, not one per method");
      assert.match(JSON.stringify(permissions[0]?.Properties.SourceArn), /\/\*\/\*\/\*"/);
    });

    test("the web UI, feeds, Memento and /v1/available are key-less; every other route needs the key", () => {
      const hit = new Set<unknown>();
      for (const [method, requestPath] of SAMPLE_REQUESTS) {
        const route = routeFor(method, requestPath);
        assert.ok(route, `the handler answers ${method} ${requestPath}`);
        hit.add(route);
        const gateway = gatewayMethodFor(service, method, requestPath);
        assert.ok(gateway, `API Gateway has a method for ${method} ${requestPath}`);
        assert.equal(
          gateway.properties.ApiKeyRequired,
          !route.public,
          `${method} ${requestPath} (resource ${gateway.resourcePath}) ${route.public ? "is public" : "needs a key"}`,
        );
      }
      const missed = ROUTES.filter((r) => !hit.has(r)).map((r) => `${r.method} ${r.pattern}`);
      assert.deepEqual(missed, [], "add a sample request for each new route");
    });

    test("a JSON method cannot be reached key-less through a public resource", () => {
      for (const [method, requestPath] of [
        ["POST", "/"],
        ["DELETE", "/ui/captures"],
        ["POST", "/v1/edits.atom"],
        ["PATCH", "/v1/urls/url_1/edits.atom"],
        ["POST", "/timegate/https://news.example/a"],
        ["GET", "/v1"],
        ["GET", "/timemap"],
      ] as const) {
        assert.equal(
          gatewayMethodFor(service, method, requestPath)?.properties.ApiKeyRequired,
          true,
          `${method} ${requestPath}`,
        );
      }
    });

    test("every resource answers: each has a keyed ANY, so no request falls into a hole", () => {
      const methods = Object.values(service.findResources("AWS::ApiGateway::Method"));
      const keyedAny = new Set(
        methods
          .filter((m) => m.Properties.HttpMethod === "ANY" && m.Properties.ApiKeyRequired === true)
          .map((m) => JSON.stringify(m.Properties.ResourceId)),
      );
      for (const id of Object.keys(service.findResources("AWS::ApiGateway::Resource"))) {
        assert.ok(keyedAny.has(JSON.stringify({ Ref: id })), `${id} has a keyed ANY`);
      }
      assert.equal(keyedAny.size, Object.keys(service.findResources("AWS::ApiGateway::Resource")).length + 1);
    });

    test("every method goes through the request validator, which checks bodies and parameters", () => {
      const validators = Object.entries(service.findResources("AWS::ApiGateway::RequestValidator"));
      assert.equal(validators.length, 1);
      const [validatorId, validator] = validators[0] ?? [];
      assert.equal(validator?.Properties.ValidateRequestBody, true);
      assert.equal(validator?.Properties.ValidateRequestParameters, true);
      for (const [id, method] of Object.entries(service.findResources("AWS::ApiGateway::Method"))) {
        if (method.Properties.HttpMethod === "OPTIONS") continue;
        assert.deepEqual(method.Properties.RequestValidatorId, { Ref: validatorId }, id);
      }
    });

    test("key-less methods have their own throttles: reads below the stage, the capture form far below", () => {
      const [stage] = Object.values(service.findResources("AWS::ApiGateway::Stage"));
      const settings = stage?.Properties.MethodSettings as Array<{
        HttpMethod: string;
        ResourcePath: string;
        ThrottlingRateLimit: number;
        ThrottlingBurstLimit: number;
      }>;
      const all = settings.find((m) => m.ResourcePath === "/*" && m.HttpMethod === "*");
      assert.ok(all && all.ThrottlingRateLimit > 0, "the stage throttle still covers everything");
      const publicMethods = Object.values(service.findResources("AWS::ApiGateway::Method")).filter(
        (m) => m.Properties.ApiKeyRequired === false && m.Properties.HttpMethod !== "OPTIONS",
      );
      assert.ok(publicMethods.length > 0);
      assert.equal(
        settings.filter((m) => m !== all).length,
        publicMethods.length,
        "one throttle per key-less method",
      );
      for (const setting of settings.filter((m) => m !== all)) {
        assert.ok(setting.ThrottlingRateLimit <= all.ThrottlingRateLimit, setting.ResourcePath);
        assert.ok(setting.ThrottlingBurstLimit <= all.ThrottlingBurstLimit, setting.ResourcePath);
      }
      const form = settings.find((m) => m.ResourcePath === "/~1ui~1{proxy+}" && m.HttpMethod === "POST");
      const page = settings.find((m) => m.ResourcePath === "/~1ui~1{proxy+}" && m.HttpMethod === "GET");
      assert.ok(form && page, "the capture form and the UI pages are throttled");
      assert.ok(form.ThrottlingRateLimit < page.ThrottlingRateLimit);
      assert.ok(
        settings.some((m) => m.ResourcePath === "/" && m.HttpMethod === "GET"),
        "the home page",
      );
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
        MethodSettings: Match.arrayWith([
          Match.objectLike({
            HttpMethod: "*",
            ResourcePath: "/*",
            DataTraceEnabled: false,
            ThrottlingRateLimit: Match.anyValue(),
            ThrottlingBurstLimit: Match.anyValue(),
          }),
        ]),
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
