/**
 * Each function's environment on AWS against what its code reads. The config loaders are the
 * truth: every function is composed here by the same `…FromEnvironment` its handler calls, on an
 * environment that records each name read. A variable the code reads that the stack cannot set
 * (a setting with no way to change it on AWS), or one the stack sets that nothing reads (a setting
 * that silently does nothing), fails here unless it is listed below with its reason.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import { Duration } from "aws-cdk-lib";
import { apiFromEnvironment } from "../../functions/compose/api.ts";
import { captureWorkerFromEnvironment } from "../../functions/compose/capture-worker.ts";
import { replayFromEnvironment } from "../../functions/compose/replay.ts";
import { replayBucketCorsFromEnvironment } from "../../functions/compose/replay-bucket-cors.ts";
import {
  deadLetterFromEnvironment,
  pollFromEnvironment,
  sweeperFromEnvironment,
} from "../../functions/compose/workers.ts";
import { REPO_ROOT } from "../../infra/constructs/defaults.ts";
import type { PalimpsestFunction } from "../../infra/constructs/palimpsest-function.ts";
import { type PalimpsestAppOptions, readAppOptions } from "../../infra/palimpsest-app.ts";
import { REPLAYWEBPAGE_DIR } from "../../local/replay-server.ts";
import { ENV } from "../../shared/env-names.ts";
import { logicalIdOf, newApp, synthPalimpsest } from "./synth.ts";

type Env = Record<string, string | undefined>;
type Synth = ReturnType<typeof synthPalimpsest>;
type FunctionName =
  | "apiFunction"
  | "captureFunction"
  | "deadLetterFunction"
  | "sweeperFunction"
  | "pollFunction"
  | "replayFunction"
  | "replayBucketCorsFunction";

/** Values that let every loader pass; which names are read does not depend on them. */
const PLAUSIBLE: Env = {
  [ENV.tableName]: "table",
  [ENV.bucketName]: "bucket",
  [ENV.queueUrl]: "https://sqs.us-east-1.amazonaws.com/123456789012/captures",
  [ENV.interactiveQueueUrl]: "https://sqs.us-east-1.amazonaws.com/123456789012/interactive-captures",
  [ENV.pollQueueUrl]: "https://sqs.us-east-1.amazonaws.com/123456789012/polls",
  [ENV.region]: "us-east-1",
  // Set so composing the capture worker does not unpack the bundled Chromium; it launches nothing.
  [ENV.chromiumPath]: "/nonexistent/chromium",
  [ENV.replayStorageOrigin]: "https://bucket.s3.us-east-1.amazonaws.com",
  // Where the replay function reads ReplayWeb.page's scripts at init (its layer's /opt on AWS).
  [ENV.replayAssetsDir]: REPLAYWEBPAGE_DIR,
};

/** The names `compose` reads from its environment (every loader reads all of its names). */
async function namesRead(compose: (env: Env) => unknown): Promise<Set<string>> {
  const read = new Set<string>();
  const env = new Proxy(PLAUSIBLE, {
    get(target, name) {
      if (typeof name === "string") read.add(name);
      return Reflect.get(target, name);
    },
  });
  await compose(env);
  return read;
}

/** Each function: its handler file and the composition that handler calls at cold start. */
const FUNCTIONS: Record<FunctionName, { handler: string; compose: (env: Env) => unknown }> = {
  apiFunction: { handler: "functions/api/handler.ts", compose: apiFromEnvironment },
  captureFunction: { handler: "functions/capture/handler.ts", compose: captureWorkerFromEnvironment },
  deadLetterFunction: { handler: "functions/dead-letter/handler.ts", compose: deadLetterFromEnvironment },
  sweeperFunction: { handler: "functions/sweeper/handler.ts", compose: sweeperFromEnvironment },
  pollFunction: { handler: "functions/poll/handler.ts", compose: pollFromEnvironment },
  replayFunction: { handler: "functions/replay/handler.ts", compose: replayFromEnvironment },
  replayBucketCorsFunction: {
    handler: "functions/replay-bucket-cors/handler.ts",
    compose: replayBucketCorsFromEnvironment,
  },
};

/** The function construct of each name (the replay origin's live in its construct). */
function functionOf(synth: Synth, name: FunctionName): PalimpsestFunction {
  if (name === "replayFunction") return synth.service.replayOrigin.fn;
  if (name === "replayBucketCorsFunction") return synth.service.replayOrigin.bucketCorsFunction;
  return synth.service[name];
}

/** Read on AWS but never set by the stacks, with the reason (any function). */
const READ_NOT_SET: Record<string, string> = {
  [ENV.region]: "Lambda sets it",
  [ENV.lambdaFunctionName]: "Lambda sets it",
  [ENV.metrics]:
    "on Lambda metrics are always written (the alarms read them): a switch for npm start and tests",
  [ENV.s3Endpoint]: "S3-compatible servers other than AWS (the local runner)",
  [ENV.dynamodbEndpoint]: "DynamoDB servers other than AWS (the local runner)",
  [ENV.chromiumPath]: "a local Chromium; on Lambda the bundled one is unpacked",
  [ENV.apiKey]: "on AWS API Gateway checks the keys",
  [ENV.webhookUrl]: "the webhook is configured locally only: on AWS the secret would sit in plain env",
  [ENV.webhookSecret]: "as WEBHOOK_URL",
  [ENV.captureMaxBytes]: "no deploy-time prop yet: the handler's default",
  [ENV.captureMaxRedirects]: "no deploy-time prop yet: the handler's default",
  [ENV.captureMaxDomElements]: "no deploy-time prop yet: the handler's default",
  [ENV.evidenceMaxBytes]: "no deploy-time prop yet: the handler's default",
  [ENV.captureDocumentDeadlineMs]:
    "no deploy-time prop yet: the handler's default (the redteam shortens it locally)",
  [ENV.captureStallMs]: "no deploy-time prop yet: the handler's default (the redteam shortens it locally)",
  [ENV.captureRendererMaxMb]:
    "no deploy-time prop yet: the handler's default (the redteam lowers it locally)",
  [ENV.replayAssetsDir]: "Lambda unpacks the replay function's layer under /opt, the default",
  [ENV.scrubEnviron]:
    "on by default on Lambda (AWS_LAMBDA_FUNCTION_NAME): a switch for tests and other hosts",
};

/** Set by the stacks but not (yet) read, per function, with the reason. */
const SET_NOT_READ: Partial<Record<FunctionName, Record<string, string>>> = {
  // The base construct sets LOG_LEVEL on every function; these two log nothing of their own
  // (a static site, and a deploy-time custom resource whose failures Lambda logs).
  replayFunction: { [ENV.logLevel]: "set on every function; the replay site does not log" },
  replayBucketCorsFunction: { [ENV.logLevel]: "set on every function; the custom resource does not log" },
};

/** Every setting the stacks expose that reaches a function's environment, set away from its default. */
const EVERY_SETTING: PalimpsestAppOptions = {
  publicDomain: {
    domainName: "archive.example.org",
    certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/01234567-89ab-cdef-0123-456789abcdef",
  },
  service: {
    recaptureCadence: "3h:15m,1d:1h",
    apiFunction: { maxQueueDepth: 500, presignedUrlTtl: Duration.minutes(5) },
    captureFunction: {
      captureTimeout: Duration.seconds(60),
      probe: {
        enabled: true,
        browserEvery: 5,
        browserMaxAge: Duration.hours(12),
        timeout: Duration.seconds(5),
      },
    },
    api: { corsAllowOrigins: ["https://news.example"] },
    hostShaping: { hostMaxConcurrency: 3, hostMinGap: Duration.seconds(2), hostLimits: "news.example=5s" },
    sweeperFunction: { sweepSpread: Duration.minutes(1), maxQueueAge: Duration.minutes(90) },
  },
};

function environmentOf(synth: Synth, name: FunctionName): Set<string> {
  const fn = functionOf(synth, name);
  const resource = synth.serviceTemplate.findResources("AWS::Lambda::Function")[logicalIdOf(fn)];
  assert.ok(resource, `${name} synthesized`);
  return new Set(Object.keys(resource.Properties.Environment?.Variables ?? {}));
}

describe("function environments against the config loaders", () => {
  const reads = new Map<FunctionName, Set<string>>();
  let defaults: Synth;
  let everything: Synth;

  before(async () => {
    for (const [name, { compose }] of Object.entries(FUNCTIONS)) {
      reads.set(name as FunctionName, await namesRead(compose));
    }
    defaults = synthPalimpsest();
    everything = synthPalimpsest(EVERY_SETTING);
  });

  test("every function of the service stack is checked here", () => {
    const functions = everything.serviceTemplate.findResources("AWS::Lambda::Function");
    const checked = new Set(
      Object.keys(FUNCTIONS).map((name) => logicalIdOf(functionOf(everything, name as FunctionName))),
    );
    // Functions CDK adds for its own purposes (custom resources) run no code of ours.
    const ours = Object.entries(functions).filter(([, r]) => r.Properties.Environment?.Variables?.LOG_LEVEL);
    assert.ok(ours.length >= checked.size, `${ours.length} functions found`);
    assert.deepEqual(
      ours.map(([id]) => id).filter((id) => !checked.has(id)),
      [],
      "a function whose environment is not checked: add it to FUNCTIONS with its composition",
    );
  });

  test("each handler is wired by the composition read here", () => {
    for (const { handler, compose } of Object.values(FUNCTIONS)) {
      const source = readFileSync(path.join(REPO_ROOT, handler), "utf8");
      assert.match(source, new RegExp(`export const handler = (await )?${compose.name}\\(\\)`), handler);
    }
  });

  test("nothing is set that the function does not read", () => {
    for (const synth of [defaults, everything]) {
      for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
        const read = reads.get(name) ?? new Set();
        const unread = [...environmentOf(synth, name)].filter(
          (v) => v !== "NODE_OPTIONS" && !read.has(v) && SET_NOT_READ[name]?.[v] === undefined,
        );
        assert.deepEqual(
          unread,
          [],
          `${name} sets variables its code never reads: stop setting them, or list them in SET_NOT_READ with the reason`,
        );
      }
    }
  });

  test("everything a function reads can be set from the app's settings", () => {
    for (const name of Object.keys(FUNCTIONS) as FunctionName[]) {
      const set = environmentOf(everything, name);
      const unset = [...(reads.get(name) ?? [])].filter((v) => !set.has(v) && READ_NOT_SET[v] === undefined);
      assert.deepEqual(
        unset,
        [],
        `${name} reads variables no setting reaches: give its construct a prop that sets them (parsed at synth by the same loader) and set it in EVERY_SETTING, or list them in READ_NOT_SET with the reason`,
      );
    }
  });

  test("the exceptions are still needed", () => {
    const readAnywhere = new Set([...reads.values()].flatMap((names) => [...names]));
    for (const name of Object.keys(READ_NOT_SET)) assert.ok(readAnywhere.has(name), `${name} is still read`);
  });
});

describe("politeness from CDK context", () => {
  test("reaches the shaping functions in the variables' own syntax", () => {
    const context = {
      hostMaxConcurrency: "1",
      hostMinGapMs: 2500,
      hostLimits: "news.example=5s",
      sweepSpreadMs: "0",
    };
    const synth = synthPalimpsest(readAppOptions(newApp({ context })));
    const functions = synth.serviceTemplate.findResources("AWS::Lambda::Function");
    const envOf = (name: FunctionName) =>
      functions[logicalIdOf(functionOf(synth, name))]?.Properties.Environment.Variables as Env;
    for (const name of ["apiFunction", "sweeperFunction", "pollFunction"] as const) {
      assert.equal(envOf(name)[ENV.hostMaxConcurrency], "1", name);
      assert.equal(envOf(name)[ENV.hostMinGapMs], "2500", name);
      assert.equal(envOf(name)[ENV.hostLimits], "news.example=5s", name);
    }
    assert.equal(envOf("sweeperFunction")[ENV.sweepSpreadMs], "0");
    assert.equal(envOf("captureFunction")[ENV.hostMinGapMs], undefined);
  });

  test("a value the handlers would refuse fails synth with the variable's rule", () => {
    for (const [context, pattern] of [
      [{ hostMaxConcurrency: "0" }, /HOST_MAX_CONCURRENCY must be an integer from 1 to 100/],
      [{ hostMinGapMs: "1s" }, /HOST_MIN_GAP_MS must be an integer/],
      [{ sweepSpreadMs: 3_600_000 }, /SWEEP_SPREAD_MS must be an integer from 0 to 900000/],
      [{ hostLimits: { "news.example": "5s" } }, /context hostLimits must be a string or a number/],
    ] as const) {
      assert.throws(() => readAppOptions(newApp({ context })), pattern, JSON.stringify(context));
    }
    // HOST_LIMITS is parsed when the shaper is composed; the construct parses it at synth.
    assert.throws(
      () => synthPalimpsest(readAppOptions(newApp({ context: { hostLimits: "news.example=never" } }))),
      /HostShaping: HOST_LIMITS/,
    );
  });
});
