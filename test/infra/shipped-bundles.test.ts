/**
 * What ships is what is tested: the app is synthesized with bundling on (esbuild, and `npm ci` of
 * the capture function's unbundled packages into its asset), and each function's asset directory
 * from the cloud assembly runs in a fresh `node` process, as a Lambda execution environment would
 * run it, with the environment its template gives it (references resolved to local stand-ins).
 * The stand-ins speak the real protocols: dynalite and s3rver for the table and bucket, moto_server
 * for the queues and the event bus. The test plays the Lambda service in between: API Gateway
 * events for the API, the SQS event source mappings for the capture and dead-letter functions,
 * the Scheduler's input for the sweeper.
 *
 * What this catches that the other tiers cannot: a bundle that reads files by path at run time, a
 * package missing from the asset, an environment variable the template does not set, a handler
 * name or module format Lambda would not find.
 */
import assert from "node:assert/strict";
import { createHash, randomUUID } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, SQSBatchResponse } from "aws-lambda";
import { verifyWacz } from "../../shared/domain/evidence/verify-wacz.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";
import { type LambdaContainer, startLambdaContainer } from "../support/lambda-container.ts";
import { type LocalAccount, motoServerUnavailable, startLocalAccount } from "../support/local-account.ts";
import { type ShippedApp, type ShippedFunction, synthShippedApp } from "../support/shipped-app.ts";
import { logicalIdOf } from "./synth.ts";

/** Packages the capture function ships in its asset's node_modules (capture-function.ts). */
const CAPTURE_UNBUNDLED = ["@sparticuz/chromium", "playwright-core"];
/** Generous bounds: Chromium's first start inflates ~300 MB into the environment's /tmp. */
const CAPTURE_WAIT_MS = 120_000;

const motoMissing = motoServerUnavailable();

const STORY_FILLER = [
  "The council published the full minutes of the meeting on its website later that evening.",
  "Residents will be able to comment on the plans at a public session next month.",
  "The project is part of a wider programme of coastal works along the estuary.",
];

function story(figure: string): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Quay repairs approved</title>
<meta property="article:modified_time" content="2026-03-01T10:00:00Z"></head>
<body><article><h1>Quay repairs approved</h1><p class="byline">By Ana Silva</p>
<p>The harbour authority said on Monday that repairs to the quay would cost ${figure} and take two years to finish.</p>
${STORY_FILLER.map((f) => `<p>${f}</p>`).join("\n")}
<img src="/img/320x200-336699.png" alt="The quay"></article></body></html>`;
}

/** A REST API (v1) proxy event, as API Gateway sends it to the function on the `prod` stage. */
function restEvent(method: string, resourcePath: string, body?: unknown): APIGatewayProxyEvent {
  const headers: Record<string, string> = {
    host: "abcdef1234.execute-api.us-east-1.amazonaws.com",
    accept: "application/json",
    "user-agent": "shipped-bundles-test",
    "x-forwarded-proto": "https",
    ...(body === undefined ? {} : { "content-type": "application/json" }),
  };
  return {
    httpMethod: method,
    path: resourcePath,
    resource: "/v1/{proxy+}",
    pathParameters: { proxy: resourcePath.replace(/^\/v1\//, "") },
    headers,
    multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, [v]])),
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    stageVariables: null,
    requestContext: {
      accountId: "123456789012",
      apiId: "abcdef1234",
      domainName: headers.host,
      httpMethod: method,
      path: `/prod${resourcePath}`,
      protocol: "HTTP/1.1",
      requestId: randomUUID(),
      requestTimeEpoch: Date.now(),
      resourceId: "abc123",
      resourcePath: "/v1/{proxy+}",
      stage: "prod",
      identity: { sourceIp: "127.0.0.1", userAgent: headers["user-agent"] },
    } as APIGatewayProxyEvent["requestContext"],
  };
}

async function queueCounts(sqs: SQSClient, queueUrl: string): Promise<{ visible: number; inFlight: number }> {
  const out = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    }),
  );
  return {
    visible: Number(out.Attributes?.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0),
  };
}

/** Log lines at level error, from any function. */
function errorLines(logs: string): string[] {
  return logs.split("\n").filter((line) => /"level"\s*:\s*"error"/.test(line));
}

describe("the shipped Lambda bundles, from the synthesized cloud assembly", {
  skip: motoMissing ? `moto_server (SQS, EventBridge stand-in) is not available: ${motoMissing}` : false,
}, () => {
  let app: ShippedApp;
  let account: LocalAccount;
  let site: FixtureSite;
  let synthMs = 0;
  const containers = new Map<string, LambdaContainer>();

  /** One execution environment per function, started on first use (a cold start) and kept warm. */
  async function environmentOf(fn: ShippedFunction): Promise<LambdaContainer> {
    const running = containers.get(fn.logicalId);
    if (running) return running;
    const template = account.resolvedEnvironment(fn);
    const runtime = account.runtimeEnvironment();
    const clash = Object.keys(template).filter((name) => name in runtime);
    assert.deepEqual(clash, [], `${fn.logicalId}: the template sets variables the test must set`);
    // The template values the test changes: the fixture site is on loopback, which the URL
    // guard and the egress proxy refuse unless allowlisted (on AWS the list is empty).
    // And the sweep's spread: one due URL would otherwise wait up to five minutes in the queue.
    const local = { ALLOW_PRIVATE_HOSTS: new URL(site.origin).host, SWEEP_SPREAD_MS: "0" };
    const container = await startLambdaContainer({
      functionName: fn.logicalId,
      taskRoot: fn.assetDir,
      handler: fn.handler,
      timeoutSeconds: fn.timeoutSeconds,
      memoryMiB: fn.memoryMiB,
      environment: { ...template, ...runtime, ...local },
    });
    containers.set(fn.logicalId, container);
    return container;
  }

  async function callApi(method: string, resourcePath: string, body?: unknown) {
    const api = await environmentOf(app.functions.api);
    const result = await api.invokeOk<APIGatewayProxyResult>(restEvent(method, resourcePath, body));
    return {
      status: result.statusCode,
      headers: result.headers ?? {},
      json: JSON.parse(result.body) as Json,
    };
  }

  /** The queues the producers send to, as their templates name them: the API's and the sweeper's. */
  const interactiveQueueUrl = () =>
    account.resolvedEnvironment(app.functions.api).INTERACTIVE_QUEUE_URL ?? "";
  const captureQueueUrl = () => account.resolvedEnvironment(app.functions.sweeper).QUEUE_URL ?? "";

  /**
   * Delivers capture-queue messages to the capture function, as its event source mapping would,
   * until `captureId` has finished. A message the function hands back for a retry would come again
   * only after the queue's visibility timeout (18 minutes), so on this path a retry is a failure.
   */
  async function captureUntilFinished(captureId: string): Promise<Json> {
    const capture = await environmentOf(app.functions.capture);
    const deadline = Date.now() + CAPTURE_WAIT_MS;
    while (Date.now() < deadline) {
      const delivery = await account.deliver(app.functions.capture, capture);
      if (delivery) {
        const logs = capture.logs().slice(-8000);
        assert.ok(
          delivery.outcome.ok,
          `capture invocation failed: ${JSON.stringify(delivery.outcome)}\n${logs}`,
        );
        assert.deepEqual(
          (delivery.outcome.result as SQSBatchResponse).batchItemFailures,
          [],
          `the capture function handed the message back for a retry\n${logs}`,
        );
      }
      const { json } = await callApi("GET", `/v1/captures/${captureId}`);
      if (json.status === "succeeded" || json.status === "failed") return json;
    }
    throw new Error(
      `capture ${captureId} did not finish within ${CAPTURE_WAIT_MS} ms\n${capture.logs().slice(-8000)}`,
    );
  }

  before(
    async () => {
      const started = performance.now();
      app = synthShippedApp();
      synthMs = performance.now() - started;
      site = await startFixtureSite();
      account = await startLocalAccount(app);
    },
    { timeout: 240_000 },
  );

  after(async () => {
    for (const container of containers.values()) await container.close();
    await account?.close();
    await site?.close();
    app?.remove();
  });

  it("synthesizes each function as a bundle in its own asset, Chromium and Playwright beside the capture bundle", (t) => {
    t.diagnostic(
      `synth with bundling (esbuild ×4, npm ci into the capture asset): ${Math.round(synthMs)} ms`,
    );
    for (const [name, fn] of Object.entries(app.functions)) {
      assert.equal(fn.runtime, "nodejs24.x", name);
      assert.equal(fn.handler, "index.handler", name);
      assert.ok(existsSync(path.join(fn.assetDir, "index.mjs")), `${name}: index.mjs in ${fn.assetDir}`);
      const kib = Math.round(statSync(path.join(fn.assetDir, "index.mjs")).size / 1024);
      t.diagnostic(`${name}: ${path.basename(fn.assetDir)} index.mjs ${kib} KiB`);
    }
    const modules = path.join(app.functions.capture.assetDir, "node_modules");
    for (const name of CAPTURE_UNBUNDLED) {
      assert.ok(existsSync(path.join(modules, name, "package.json")), `${name} is in the capture asset`);
    }
    assert.ok(
      existsSync(path.join(modules, "@sparticuz/chromium/bin/chromium.br")),
      "the Chromium archive ships in the capture asset",
    );
    for (const fn of [app.functions.api, app.functions.sweeper, app.functions.deadLetter]) {
      assert.equal(
        existsSync(path.join(fn.assetDir, "node_modules")),
        false,
        `${fn.logicalId} ships only its bundle`,
      );
    }
  });

  it("runs a bundle the way Lambda loads it: a package the asset lacks fails, even where the repository has it", {
    timeout: 60_000,
  }, async () => {
    const fake = path.join(app.outdir, "runtime-guard-check");
    mkdirSync(fake, { recursive: true });
    const start = (source: string) => {
      writeFileSync(path.join(fake, "index.mjs"), source);
      return startLambdaContainer({
        functionName: "RuntimeGuardCheck",
        taskRoot: fake,
        handler: "index.handler",
        timeoutSeconds: 5,
        memoryMiB: 128,
        environment: account.runtimeEnvironment(),
      });
    };
    // s3rver is in the repository's node_modules, above the asset, but in no asset.
    await assert.rejects(
      start('import "s3rver"; export const handler = async () => "loaded";'),
      /Cannot find package 's3rver'.*not in the function's asset/s,
    );
    const sdk = await start('import "@aws-sdk/client-sqs"; export const handler = async (e) => e;');
    try {
      assert.deepEqual(await sdk.invokeOk({ echo: 1 }), { echo: 1 });
      assert.deepEqual(sdk.runtimeModules(), ["@aws-sdk/client-sqs"]);
    } finally {
      await sdk.close();
    }
  });

  let captureId: string;
  let urlId: string;
  const articlePath = "/shipped/quay-repairs";

  it("API: POST /v1/captures answers 202 and sends the capture to the interactive queue; GET shows it queued", {
    timeout: 60_000,
  }, async () => {
    site.setPage(articlePath, story("4 million euros"));
    const submitted = await callApi("POST", "/v1/captures", { url: site.url(articlePath) });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
    assert.equal(submitted.json.status, "queued");
    captureId = submitted.json.captureId;
    urlId = submitted.json.urlId;
    assert.match(captureId, /^[A-Za-z0-9_-]+$/);
    // A person's capture: on the interactive queue, nothing added to the scheduled one's backlog.
    assert.notEqual(interactiveQueueUrl(), captureQueueUrl());
    assert.deepEqual(await queueCounts(account.sqs, interactiveQueueUrl()), { visible: 1, inFlight: 0 });
    assert.deepEqual(await queueCounts(account.sqs, captureQueueUrl()), { visible: 0, inFlight: 0 });
    // And the capture function's mappings read both.
    const consumed = app.functions.capture.eventSources.map((s) =>
      account.queueUrl(app.resolve(app.functions.capture.stackName, s.eventSourceArn, account)),
    );
    assert.deepEqual(consumed.sort(), [captureQueueUrl(), interactiveQueueUrl()].sort());

    const read = await callApi("GET", `/v1/captures/${captureId}`);
    assert.equal(read.status, 200);
    assert.equal(read.json.status, "queued");
    assert.equal(read.json.url, site.url(articlePath));
  });

  it("capture: the queued message, delivered as the event source mapping does, ends the capture succeeded with its artifacts in S3", {
    timeout: 240_000,
  }, async () => {
    assert.ok(captureId, "needs the capture submitted above");
    const finished = await captureUntilFinished(captureId);
    assert.equal(finished.status, "succeeded", JSON.stringify(finished.error));
    assert.ok(site.requestCount(articlePath) >= 1, "Chromium fetched the page");
    assert.deepEqual(await queueCounts(account.sqs, interactiveQueueUrl()), { visible: 0, inFlight: 0 });

    const artifacts = finished.artifacts as Record<string, { url: string; sha256: string; bytes: number }>;
    for (const name of ["snapshot", "screenshot", "article", "text", "raw", "wacz"]) {
      assert.ok(artifacts[name], `artifact ${name} in ${JSON.stringify(Object.keys(artifacts))}`);
    }
    // The evidence package, signed through KMS (moto's) with the key the stack made for it.
    const wacz = new Uint8Array(await (await fetch(artifacts.wacz?.url ?? "")).arrayBuffer());
    assert.deepEqual((await verifyWacz(wacz)).problems, []);
    // The links are presigned by the API bundle; following them reads what the capture bundle stored.
    for (const [name, link] of Object.entries(artifacts)) {
      const response = await fetch(link.url);
      assert.equal(response.status, 200, `${name}: GET ${link.url}`);
      const body = Buffer.from(await response.arrayBuffer());
      assert.equal(body.length, link.bytes, `${name}: size`);
      assert.equal(createHash("sha256").update(body).digest("hex"), link.sha256, `${name}: sha256`);
    }
    const listed = await account.s3.send(
      new ListObjectsV2Command({ Bucket: account.bucketName, Prefix: "blobs/" }),
    );
    assert.ok((listed.KeyCount ?? 0) >= Object.keys(artifacts).length, "blobs stored under blobs/");

    // What Chromium's renderer could read of its parent (scrub-environ.ts): the capture runtime's
    // /proc environ keeps the credential names with their values blanked; the API's, which never
    // scrubs (it starts no browser), shows that this reading sees them where they are.
    const environOf = async (fn: ShippedFunction) =>
      readFileSync(`/proc/${(await environmentOf(fn)).pid}/environ`, "latin1").split("\0");
    const credential = /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=./;
    assert.deepEqual(
      (await environOf(app.functions.capture)).filter((entry) => credential.test(entry)),
      [],
    );
    assert.equal((await environOf(app.functions.api)).filter((entry) => credential.test(entry)).length, 3);
  });

  it("sweeper: answers the schedule's event; at a later clock it enqueues the due URL, whose recapture publishes the edit on the bus", {
    timeout: 240_000,
  }, async () => {
    assert.ok(urlId, "needs the capture above");
    const fn = app.functions.sweeper;
    const [schedule] = fn.schedules;
    assert.ok(schedule, "a schedule invokes the sweeper");
    const scheduledEvent = (at: Date) =>
      JSON.parse(
        schedule.input.replaceAll("<aws.scheduler.scheduled-time>", at.toISOString().replace(/\.\d+Z$/, "Z")),
      );
    const sweeper = await environmentOf(fn);

    const now = await sweeper.invokeOk<{ enqueued: number; complete: boolean }>(scheduledEvent(new Date()));
    // `polls`: the sweep also enqueues a poll job per due source (none here), on the poll queue.
    assert.deepEqual(
      now,
      { enqueued: 0, polls: 0, lostClaims: 0, parked: 0, expired: 0, complete: true },
      "nothing is due yet",
    );

    // Subscribe to the edits bus the way its output says, with a queue as the target.
    const busName = account.ref(app.storage.stackName, logicalIdOf(app.storage.editEvents.bus));
    const tap = await account.sqs.send(new CreateQueueCommand({ QueueName: "shipped-bundles-edit-tap" }));
    const tapUrl = tap.QueueUrl ?? "";
    const tapArn =
      (
        await account.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: tapUrl, AttributeNames: ["QueueArn"] }),
        )
      ).Attributes?.QueueArn ?? "";
    await account.events.send(
      new PutRuleCommand({
        Name: "shipped-bundles-edits",
        EventBusName: busName,
        EventPattern: JSON.stringify({ source: ["palimpsest"], "detail-type": ["ArticleEdited"] }),
      }),
    );
    await account.events.send(
      new PutTargetsCommand({
        Rule: "shipped-bundles-edits",
        EventBusName: busName,
        Targets: [{ Id: "tap", Arn: tapArn }],
      }),
    );

    site.setPage(articlePath, story("6 million euros"));
    const tomorrow = new Date(Date.now() + 24 * 3600_000);
    const later = await sweeper.invokeOk<{ enqueued: number; complete: boolean }>(scheduledEvent(tomorrow));
    assert.deepEqual(later, { enqueued: 1, polls: 0, lostClaims: 0, parked: 0, expired: 0, complete: true });

    assert.deepEqual(await queueCounts(account.sqs, captureQueueUrl()), { visible: 1, inFlight: 0 });
    const listed = await callApi("GET", `/v1/urls/${urlId}/captures`);
    const queued = (listed.json.items as Json[]).filter((c) => c.status === "queued");
    assert.equal(queued.length, 1, JSON.stringify(listed.json.items));
    const recaptureId = queued[0].captureId as string;
    assert.equal(queued[0].trigger, "schedule");

    const recapture = await captureUntilFinished(recaptureId);
    assert.equal(recapture.status, "succeeded", JSON.stringify(recapture.error));
    assert.equal(recapture.changed, true, "the figure changed");

    const delivered = await account.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: tapUrl, WaitTimeSeconds: 5, MaxNumberOfMessages: 10 }),
    );
    const editEvents = (delivered.Messages ?? []).map((m) => JSON.parse(m.Body ?? "{}") as Json);
    assert.equal(editEvents.length, 1, JSON.stringify(editEvents));
    assert.equal(editEvents[0]["detail-type"], "ArticleEdited");
    assert.equal(editEvents[0].detail.url, site.url(articlePath));
    assert.equal(editEvents[0].detail.captureId, recaptureId);
  });

  it("dead-letter: a capture message that SQS gives up on ends the capture failed with the reason", {
    timeout: 60_000,
  }, async () => {
    const lostPath = "/shipped/never-captured";
    site.setPage(lostPath, story("1 million euros"));
    const submitted = await callApi("POST", "/v1/captures", { url: site.url(lostPath) });
    assert.equal(submitted.status, 202, JSON.stringify(submitted.json));
    const lostId = submitted.json.captureId as string;

    // Stands for the capture function failing on the message every time: received and never
    // deleted, visible again at once, until the capture queue's redrive policy (from the template)
    // moves it to the queue the dead-letter function's event source mapping reads.
    const queueUrl = interactiveQueueUrl();
    const fn = app.functions.deadLetter;
    const dlqUrl = account.queueUrl(app.resolve(fn.stackName, fn.eventSources[0]?.eventSourceArn, account));
    let receives = 0;
    while ((await queueCounts(account.sqs, dlqUrl)).visible === 0) {
      assert.ok(receives < 10, "the redrive policy moved the message to the dead-letter queue");
      await account.sqs.send(new ReceiveMessageCommand({ QueueUrl: queueUrl, VisibilityTimeout: 0 }));
      receives++;
    }

    const deadLetter = await environmentOf(fn);
    const delivery = await account.deliver(fn, deadLetter);
    assert.ok(delivery, "the dead letter was delivered");
    assert.ok(delivery.outcome.ok, JSON.stringify(delivery.outcome));
    assert.equal(JSON.parse(delivery.event.Records[0]?.body ?? "{}").captureId, lostId);
    assert.deepEqual((delivery.outcome.result as SQSBatchResponse).batchItemFailures, []);
    assert.deepEqual(await queueCounts(account.sqs, dlqUrl), { visible: 0, inFlight: 0 });

    const read = await callApi("GET", `/v1/captures/${lostId}`);
    assert.equal(read.json.status, "failed");
    assert.equal(read.json.error.code, "retries_exhausted");
    assert.match(read.json.error.message, /failed on every attempt/);
    assert.equal(site.requestCount(lostPath), 0, "no browser ever loaded it");
  });

  it("no function logged an error along the way", (t) => {
    for (const [name, container] of containers) {
      t.diagnostic(`${name} loaded from the runtime: ${container.runtimeModules().join(", ") || "nothing"}`);
      assert.deepEqual(errorLines(container.logs()), [], `${name} logged errors`);
    }
  });
});
