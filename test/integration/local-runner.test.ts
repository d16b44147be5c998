/**
 * The whole capture path as a user drives it: the local runner (real API and capture handlers,
 * embedded S3 and DynamoDB, the file queue) archiving pages of a fixture site with a real Chromium.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone as submitAndWait } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;

const quietLogger = createLogger({}, "silent");

async function startRunner(): Promise<LocalRunner> {
  return startLocalRunner({
    dataDir,
    port: 0,
    logger: quietLogger,
    sweepIntervalMs: 0,
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "2000",
      LOG_LEVEL: "silent",
    },
  });
}

before(async () => {
  process.env.LOG_LEVEL = "silent";
  // A developer who deploys has real AWS credentials in the shell; the embedded servers must not
  // care (issue 18). Every capture below runs with bogus ones exported.
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: "AKIAEXAMPLEDEVELOPER",
    AWS_SECRET_ACCESS_KEY: "developer-secret-not-for-local",
    AWS_SESSION_TOKEN: "developer-session-token",
    AWS_PROFILE: "palimpsest-no-such-profile",
    AWS_REGION: "eu-west-3",
  });
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-runner-"));
  runner = await startRunner();
});

after(async () => {
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function api(method: string, path: string, body?: unknown) {
  const response = await fetch(`${runner.url}${path}`, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return {
    status: response.status,
    headers: response.headers,
    json: (await response.json()) as Record<string, Json>,
  };
}

/** Submits a URL and polls until the capture ends, failed or not. */
function captureUntilDone(url: string, timeoutMs = 60_000): Promise<Record<string, Json>> {
  return submitAndWait(runner.url, url, { timeoutMs, acceptFailed: true });
}

async function download(link: { url: string; sha256: string; bytes: number; contentType: string }) {
  const response = await fetch(link.url);
  assert.equal(response.status, 200);
  const body = Buffer.from(await response.arrayBuffer());
  assert.equal(body.length, link.bytes);
  assert.equal(createHash("sha256").update(body).digest("hex"), link.sha256, "the digest proves the bytes");
  assert.equal(response.headers.get("content-type"), link.contentType);
  return { body, response };
}

describe("local runner: archiving pages end to end", () => {
  it("archives a static article with every artifact behind a working link", async () => {
    const capture = await captureUntilDone(site.url("/static-article.html"));
    assert.equal(capture.status, "succeeded", JSON.stringify(capture.error));
    assert.equal(capture.changed, false, "a first version is not a change");
    assert.match(capture.versionId, /^ver_/);
    assert.deepEqual(Object.keys(capture.artifacts).sort(), [
      "article",
      "raw",
      "screenshot",
      "snapshot",
      "text",
      "wacz",
    ]);
    // The evidence package is a download, like the raw response.
    const wacz = await download(capture.artifacts.wacz);
    assert.match(
      wacz.response.headers.get("content-disposition") ?? "",
      /^attachment; filename="capture.wacz"/,
    );
    assert.equal(wacz.response.headers.get("content-type"), "application/wacz");

    const snapshot = await download(capture.artifacts.snapshot);
    const html = snapshot.body.toString("utf8");
    assert.doesNotMatch(html, /<script/i);
    assert.doesNotMatch(html, /\son(click|mouseover)=/i);
    assert.match(html, /data:image\/png;base64,/);
    assert.match(
      snapshot.response.headers.get("content-disposition") ?? "",
      /^inline; filename="snapshot.html"/,
    );

    const raw = await download(capture.artifacts.raw);
    assert.match(raw.response.headers.get("content-disposition") ?? "", /^attachment;/);
    assert.match(
      raw.body.toString("utf8"),
      /<script>window.fixtureInlineScriptRan = true;<\/script>/,
      "raw is as served",
    );

    const screenshot = await download(capture.artifacts.screenshot);
    assert.equal(screenshot.body.subarray(0, 3).toString("hex"), "ffd8ff", "a JPEG");

    const article = JSON.parse((await download(capture.artifacts.article)).body.toString("utf8"));
    assert.match(article.title, /Harbour council approves new sea wall/);
    assert.equal(article.publishedTime, "2026-03-02T08:15:00.000Z");
    assert.equal(article.modifiedTime, "2026-03-02T09:40:00.000Z");
    assert.equal(article.lang, "en");
    assert.match(article.text, /seven to two/);
    assert.match(article.text, /Construction is due to begin in the autumn/);
    const text = (await download(capture.artifacts.text)).body.toString("utf8");
    assert.equal(text, article.text);

    const url = await api("GET", `/v1/urls/${capture.urlId}`);
    assert.equal(url.json.captureCount, 1);
    assert.equal(url.json.versionCount, 1);
    assert.equal(url.json.versions[0].versionId, capture.versionId);
    assert.match(url.json.title, /Harbour council/);
  });

  it("archives a script-rendered article and one whose content loads on scroll", async () => {
    const scripted = await captureUntilDone(site.url("/script-article.html"));
    assert.equal(scripted.status, "succeeded", JSON.stringify(scripted.error));
    const scriptedText = (await download(scripted.artifacts.text)).body.toString("utf8");
    const scriptedSnapshot = (await download(scripted.artifacts.snapshot)).body.toString("utf8");
    assert.ok(scriptedText.length > 100, "the rendered text was extracted");
    assert.ok(scriptedSnapshot.includes(scriptedText.split("\n\n").at(-1)?.slice(0, 40) ?? "∅"));

    const lazy = await captureUntilDone(site.url("/lazy-article.html"));
    assert.equal(lazy.status, "succeeded", JSON.stringify(lazy.error));
    const lazySnapshot = (await download(lazy.artifacts.snapshot)).body.toString("utf8");
    assert.match(lazySnapshot, /data-lazy-loaded|lazy-paragraph|data:image\/png/);
  });

  it("records an unchanged recapture without a new version, and an edit as a new version", async () => {
    site.setPage(
      "/story",
      pageWith("Mayor opens bridge", [
        "The mayor opened the bridge on Tuesday.",
        "Traffic will flow from Friday.",
      ]),
    );
    const first = await captureUntilDone(site.url("/story"));
    assert.equal(first.status, "succeeded", JSON.stringify(first.error));

    // Only typography and whitespace differ: not an edit.
    site.setPage(
      "/story",
      pageWith("Mayor opens bridge", [
        "The mayor  opened the bridge on Tuesday.",
        "Traffic will flow from Friday.",
      ]),
    );
    const same = await captureUntilDone(site.url("/story"));
    assert.equal(same.status, "succeeded");
    assert.equal(same.versionId, first.versionId);
    assert.equal(same.changed, false);

    site.setPage(
      "/story",
      pageWith("Mayor opens bridge", [
        "The mayor opened the bridge on Wednesday.",
        "Traffic will flow from Friday.",
      ]),
    );
    const edited = await captureUntilDone(site.url("/story"));
    assert.equal(edited.changed, true);
    assert.notEqual(edited.versionId, first.versionId);

    const url = await api("GET", `/v1/urls/${first.urlId}`);
    assert.equal(url.json.captureCount, 3);
    assert.equal(url.json.versionCount, 2);
    assert.deepEqual(
      url.json.versions.map((v: { versionId: string }) => v.versionId),
      [first.versionId, edited.versionId],
    );
    const captures = await api("GET", `/v1/urls/${first.urlId}/captures`);
    assert.deepEqual(
      captures.json.items.map((c: { captureId: string }) => c.captureId),
      [edited.captureId, same.captureId, first.captureId],
    );
  });

  it("ends a capture of a failing page as failed with a reason", async () => {
    const missing = await captureUntilDone(site.url("/not-found"));
    assert.equal(missing.status, "failed");
    assert.equal(missing.error.code, "http_error");
    assert.match(missing.error.message, /404/);
  });

  it("keeps every archive across a restart on the same DATA_DIR", async () => {
    const capture = await captureUntilDone(site.url("/static-article.html"));
    await runner.close();
    runner = await startRunner();
    const again = await api("GET", `/v1/captures/${capture.captureId}`);
    assert.equal(again.json.status, "succeeded");
    await download(again.json.artifacts.snapshot);
    const url = await api("GET", `/v1/urls/${capture.urlId}`);
    assert.ok(url.json.captureCount >= 2);
  });
});

describe("local runner: re-archiving on a schedule", () => {
  it("schedules the next capture, sweeps it when due, and stops when recapture is off", async () => {
    site.setPage("/scheduled", pageWith("Scheduled story", ["A story that is watched for edits over time."]));
    const first = await captureUntilDone(site.url("/scheduled"));
    const url = await api("GET", `/v1/urls/${first.urlId}`);
    assert.equal(url.json.recapture, "adaptive");
    const next = Date.parse(url.json.nextCaptureAt);
    const delay = next - Date.parse(first.finishedAt);
    assert.ok(delay > 13 * 60_000 && delay < 17 * 60_000, `first re-capture ~15 min later, got ${delay} ms`);

    // Other pages captured in this file fall due around the same time; count this URL's captures.
    await sweepAt(new Date(next - 60_000));
    await runner.drain(60_000);
    assert.equal((await api("GET", `/v1/urls/${first.urlId}`)).json.captureCount, 1, "not due yet");
    const due = await sweepAt(new Date(next + 1000));
    assert.ok(due.enqueued >= 1);
    await runner.drain(60_000);
    const after = await api("GET", `/v1/urls/${first.urlId}`);
    assert.equal(after.json.captureCount, 2);
    const captures = await api("GET", `/v1/urls/${first.urlId}/captures`);
    assert.equal(captures.json.items[0].trigger, "schedule");
    assert.equal(captures.json.items[0].status, "succeeded");

    const off = await api("PATCH", `/v1/urls/${first.urlId}`, { recapture: "off" });
    assert.equal(off.status, 200);
    assert.equal(off.json.recapture, "off");
    assert.equal(off.json.nextCaptureAt, undefined);
    await sweepAt(new Date(next + 400 * 86_400_000));
    await runner.drain(60_000);
    assert.equal((await api("GET", `/v1/urls/${first.urlId}`)).json.captureCount, 2, "off means never again");

    const every = await api("PATCH", `/v1/urls/${first.urlId}`, { recapture: { everyMinutes: 60 } });
    assert.deepEqual(every.json.recapture, { everyMinutes: 60 });
    assert.ok(every.json.nextCaptureAt);
  });

  it("refuses bad recapture changes with specific codes", async () => {
    const first = await captureUntilDone(site.url("/static-article.html"));
    const cases: Array<[unknown, number, string]> = [
      [{ recapture: "weekly" }, 400, "invalid_recapture"],
      [{ recapture: { everyMinutes: 2 } }, 400, "invalid_recapture_interval"],
      [{}, 400, "missing_recapture"],
      [{ recapture: "off", url: "x" }, 400, "unknown_field"],
    ];
    for (const [body, status, code] of cases) {
      const res = await api("PATCH", `/v1/urls/${first.urlId}`, body);
      assert.equal(res.status, status);
      assert.equal(res.json.error.code, code);
    }
    assert.equal((await api("PATCH", "/v1/urls/url_missing", { recapture: "off" })).status, 404);
    const badSweep = await fetch(`${runner.url}/_local/sweep`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: '{"now": "yesterday"}',
    });
    assert.equal(badSweep.status, 400);
  });
});

async function sweepAt(now: Date): Promise<{ enqueued: number }> {
  const response = await fetch(`${runner.url}/_local/sweep`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ now: now.toISOString() }),
  });
  assert.equal(response.status, 200);
  return (await response.json()) as { enqueued: number };
}

function pageWith(title: string, paragraphs: string[]): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${title}</title></head>
<body><article><h1>${title}</h1>${paragraphs.map((p) => `<p>${p} ${"Context sentence for length. ".repeat(6)}</p>`).join("")}</article></body></html>`;
}
