/**
 * The evidence package in the web UI, as a reader uses it: the local runner archives a fixture
 * page, the version page offers "Download evidence (WACZ)" and "Replay", and the replay shows
 * the archived page — its text and what its script fetched — inside a frame of the replay
 * origin (the runner's second port), with the fixture site already shut down. Around it, the
 * origin rules that keep archived scripts away from the API: the replay origin serves only its
 * three files, and the storage front lets only the replay origin read across origins.
 *
 * The version's WACZ is the one its capture recorded where the capture worker records one, else
 * one built by the evidence library from the page's exchanges, stored and attached as artifact
 * `wacz` through the archive's own adapters, as the worker would; for the "no evidence" case it
 * is taken away, as a version from before evidence was recorded has none.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Frame, type Page } from "playwright-core";
import { openArchive, openBlobReader } from "../../functions/compose/archive.ts";
import { openBlobStore } from "../../functions/compose/blob-store.ts";
import { openLocalCredentials } from "../../local/local-credentials.ts";
import {
  BUCKET_NAME,
  LOCAL_REGION,
  type LocalRunner,
  S3_KEY_FILE,
  startLocalRunner,
  TABLE_NAME,
} from "../../local/runner.ts";
import { chromiumLaunchArgs, resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { buildWacz } from "../../shared/domain/evidence/build-wacz.ts";
import type { EvidenceInput, RecordedExchange } from "../../shared/domain/evidence/model.ts";
import type { ArtifactRef, EvidenceMissing, VersionRecord } from "../../shared/domain/model.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone } from "../support/capture-client.ts";
import { testSigner } from "../support/evidence-fixture.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { openPage, saveScreenshot, type WatchedPage } from "./harness.ts";

const STORY_PATH = "/news/ferry-timetable";
const STORY_HTML = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ferry timetable changes from Monday</title>
<meta property="article:published_time" content="2026-02-02T07:00:00Z">
<link rel="stylesheet" href="/css/site.css"></head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<article><h1>Ferry timetable changes from Monday</h1><p class="byline">By Jonas Berg</p>
<p>The island ferry will leave the harbour twenty minutes earlier on weekdays from Monday, the operator said.</p>
<p>The change follows a survey of commuters, most of whom asked for an earlier arrival on the mainland.</p>
<p>Weekend sailings keep their current times until the summer timetable starts in June.</p>
<p id="sailings">Loading today's sailings…</p>
</article>
<script>
fetch("/api/sailings.json").then((r) => r.json()).then((d) => {
  document.getElementById("sailings").textContent = d.sailings + " sailings today";
});
</script></body></html>`;
const STORY_CSS = "h1 { color: rgb(0, 85, 119); }\n";
const SAILINGS_JSON = '{"sailings": 14}';

let site: FixtureSite;
let runner: LocalRunner;
let browser: Browser;
let dataDir: string;
let watched: WatchedPage;
let storyUrl: string;
let urlId: string;
let version: VersionRecord;
let wacz: ArtifactRef;
/** The version page's presigned link to the WACZ. */
let waczLink: string;

const encoder = new TextEncoder();

/** One exchange as the fixture site answers it (the WACZ's content is what the site served). */
function exchange(url: string, contentType: string, body: string, at: string): RecordedExchange {
  const target = new URL(url);
  return {
    url,
    startedAt: at,
    request: {
      method: "GET",
      httpVersion: "HTTP/1.1",
      headers: [
        ["Host", target.host],
        ["Accept", "*/*"],
      ],
    },
    response: {
      httpVersion: "HTTP/1.1",
      status: 200,
      statusText: "OK",
      headers: [
        ["Content-Type", contentType],
        ["Content-Length", String(encoder.encode(body).length)],
      ],
      body: encoder.encode(body),
    },
    remoteAddress: "127.0.0.1",
  };
}

function storyEvidence(capturedAt: string): EvidenceInput {
  return {
    pageUrl: storyUrl,
    capturedAt,
    createdAt: new Date().toISOString(),
    title: "Ferry timetable changes from Monday",
    exchanges: [
      exchange(storyUrl, "text/html; charset=utf-8", STORY_HTML, capturedAt),
      exchange(site.url("/css/site.css"), "text/css; charset=utf-8", STORY_CSS, capturedAt),
      exchange(site.url("/api/sailings.json"), "application/json", SAILINGS_JSON, capturedAt),
    ],
    resources: [],
    provenance: {
      hosts: [{ host: new URL(storyUrl).host, addresses: ["127.0.0.1"] }],
      userAgent: "Mozilla/5.0 (X11; Linux x86_64)",
      browserVersion: browser.version(),
      palimpsestVersion: "0.1.0",
      timings: {},
    },
  };
}

/**
 * Gives the version `wacz` (or, with undefined, no WACZ: a version from before evidence was
 * recorded), through the archive's own adapters. Without a WACZ to give, one is built of the
 * story's exchanges and stored as the capture worker stores it.
 */
async function setEvidence(
  given: ArtifactRef | null | undefined,
  missing?: EvidenceMissing,
): Promise<ArtifactRef | undefined> {
  const identity = {
    credentials: await openLocalCredentials(join(dataDir, S3_KEY_FILE)),
    region: LOCAL_REGION,
  };
  const storage = {
    tableName: TABLE_NAME,
    bucketName: BUCKET_NAME,
    s3Endpoint: runner.s3Endpoint,
    dynamodbEndpoint: runner.dynamodbEndpoint,
  };
  const { repository } = openArchive(storage, identity);
  const { blobs } = openBlobStore(storage, openBlobReader(storage, LOCAL_REGION, identity), identity);
  let ref = given ?? undefined;
  if (given === null) {
    const built = await buildWacz(storyEvidence(version.capturedAt), testSigner(), { version: "0.1.0" });
    ref = await blobs.putBlob(built.bytes, { contentType: "application/wacz", fileName: "capture.wacz" });
  }
  const { wacz: _old, ...others } = version.artifacts;
  const stored = await repository.putVersion(
    {
      ...version,
      artifacts: ref ? { ...others, wacz: ref } : others,
      ...(missing ? { evidence: missing } : {}),
    },
    { replace: true },
  );
  assert.ok(stored);
  return ref;
}

/** The frame ReplayWeb.page replays `pathEnd` in (`…/replay/w/<collection>/<ts>mp_/<url>`). */
async function replayFrame(page: Page, pathEnd: string, timeoutMs: number): Promise<Frame> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const frame = page
      .frames()
      .find((f) => /\/replay\/w\/.+mp_\//.test(f.url()) && f.url().endsWith(pathEnd));
    if (frame) return frame;
    await page.waitForTimeout(200);
  }
  throw new Error(
    `no replay frame for ${pathEnd}; frames: ${page
      .frames()
      .map((f) => f.url())
      .join(", ")}; errors: ${watched.errors.join(" | ")}`,
  );
}

before(async () => {
  site = await startFixtureSite();
  site.setPage(STORY_PATH, STORY_HTML);
  site.setPage("/css/site.css", STORY_CSS, { contentType: "text/css; charset=utf-8" });
  site.setPage("/api/sailings.json", SAILINGS_JSON, { contentType: "application/json" });
  storyUrl = site.url(STORY_PATH);
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-replay-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    sweepIntervalMs: 0,
    logger: createLogger({}, "silent"),
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      HOST_MIN_GAP_MS: "0",
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "2000",
      LOG_LEVEL: "silent",
    },
  });
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? (await resolveBundledChromium()),
    args: chromiumLaunchArgs(),
    headless: true,
  });
  const capture = await captureUntilDone(runner.url, storyUrl);
  urlId = String(capture.urlId);
  const url = (await (await fetch(`${runner.url}/v1/urls/${urlId}`)).json()) as { versions: VersionRecord[] };
  const first = url.versions[0];
  assert.ok(first, "the capture made a version");
  const openedArchive = openArchive(
    { tableName: TABLE_NAME, dynamodbEndpoint: runner.dynamodbEndpoint },
    { credentials: await openLocalCredentials(join(dataDir, S3_KEY_FILE)), region: LOCAL_REGION },
  );
  version = (await openedArchive.repository.getVersion(urlId, first.versionId)) as VersionRecord;
  watched = await openPage(browser);
});

after(async () => {
  await watched?.context.close();
  await browser?.close();
  await runner?.close();
  await site?.close();
  if (dataDir) await rm(dataDir, { recursive: true, force: true });
});

describe("evidence in the web UI", () => {
  it("a version without a WACZ says it has no evidence package, and offers no replay", async () => {
    // Captures that make a version record a WACZ (once the capture worker does): take it away.
    await setEvidence(undefined);
    const { page } = watched;
    await page.goto(`${runner.url}/ui/urls/${urlId}/versions/${version.versionId}`);
    await page.locator("#evidence").waitFor();
    assert.match((await page.locator("main").textContent()) ?? "", /has no evidence package \(WACZ\)/);
    assert.equal(await page.getByRole("link", { name: "Replay", exact: true }).count(), 0);
    assert.equal(await page.getByRole("link", { name: "Download evidence (WACZ)" }).count(), 0);
    const replay = await fetch(`${runner.url}/ui/urls/${urlId}/versions/${version.versionId}/replay`);
    assert.equal(replay.status, 404);
    assert.match(await replay.text(), /no evidence package/);
  });

  it("a version kept without its package because signing failed says so, on its page, its replay and the API", async () => {
    const missing: EvidenceMissing = {
      status: "missing",
      code: "signing_failed",
      message:
        "The evidence package could not be signed: the signing key did not answer, so the version was kept without it.",
    };
    await setEvidence(undefined, missing);
    const pageHtml = await (
      await fetch(`${runner.url}/ui/urls/${urlId}/versions/${version.versionId}`)
    ).text();
    assert.match(pageHtml, /could not be signed: the signing key did not answer/);
    assert.doesNotMatch(pageHtml, /captured before Palimpsest recorded/);
    const replay = await fetch(`${runner.url}/ui/urls/${urlId}/versions/${version.versionId}/replay`);
    assert.equal(replay.status, 404);
    const replayHtml = await replay.text();
    assert.match(replayHtml, /could not be signed/);
    assert.doesNotMatch(replayHtml, /captured before Palimpsest recorded/);
    const api = (await (await fetch(`${runner.url}/v1/urls/${urlId}`)).json()) as {
      versions: VersionRecord[];
    };
    assert.deepEqual(api.versions[0]?.evidence, missing);
  });

  it("Download evidence (WACZ) serves the package's exact bytes as an attachment", async () => {
    // The capture's own WACZ where the worker recorded one, else one built of the story's exchanges.
    wacz = (await setEvidence(version.artifacts.wacz ?? null)) as ArtifactRef;
    const { page } = watched;
    await page.goto(`${runner.url}/ui/urls/${urlId}/versions/${version.versionId}`);
    const download = page.getByRole("link", { name: "Download evidence (WACZ)" });
    const href = (await download.getAttribute("href")) ?? "";
    assert.ok(href.startsWith(`${runner.s3Endpoint}/`), `${href} is a presigned storage link`);
    waczLink = href;
    const response = await fetch(href);
    assert.equal(response.status, 200);
    const bytes = new Uint8Array(await response.arrayBuffer());
    assert.equal(createHash("sha256").update(bytes).digest("hex"), wacz.sha256);
    assert.equal(bytes.length, wacz.bytes);
    const stamp = version.capturedAt.replace(/\D/g, "").slice(0, 14);
    assert.match(
      response.headers.get("content-disposition") ?? "",
      new RegExp(`^attachment; filename="palimpsest-${urlId}-${stamp}\\.wacz"`),
    );
    assert.equal(response.headers.get("content-type"), "application/wacz");
    // The page states the package's digest, so a reader can check the download against it.
    assert.match(
      (await page.locator("#evidence ~ p.meta").first().textContent()) ?? "",
      new RegExp(wacz.sha256),
    );
  });

  it("Replay shows the archived page, scripts run, in a frame of the replay origin, with the site gone", async () => {
    assert.ok(wacz, "the download test attached the WACZ");
    await site.close();
    const { page, errors, external } = watched;
    const requestsToApi: string[] = [];
    page.context().on("request", (request) => {
      // Only the UI page itself talks to the API origin; nothing inside the replay does (the
      // service worker's requests have no frame, and are the replay's too).
      const fromUi = !request.serviceWorker() && request.frame() === page.mainFrame();
      if (!fromUi && request.url().startsWith(`${runner.url}/`)) requestsToApi.push(request.url());
    });
    const failed: string[] = [];
    page.context().on("response", (response) => {
      if (response.status() >= 400) failed.push(response.url());
    });
    await page.goto(`${runner.url}/ui/urls/${urlId}/versions/${version.versionId}`);
    await page.getByRole("link", { name: "Replay", exact: true }).click();
    await page.waitForURL(/\/replay$/);
    const frameSrc = await page.locator("iframe#replay").getAttribute("src");
    assert.ok(frameSrc?.startsWith(`${runner.replayUrl}/?`), `${frameSrc} is on the replay origin`);
    assert.notEqual(new URL(runner.replayUrl).origin, new URL(runner.url).origin);

    const story = await replayFrame(page, STORY_PATH, 20_000);
    assert.equal(
      new URL(story.url()).origin,
      runner.replayUrl,
      "the archived page runs on the replay origin",
    );
    await story.waitForFunction(
      () => document.querySelector("h1")?.textContent === "Ferry timetable changes from Monday",
      null,
      { timeout: 30_000 },
    );
    assert.match(
      // biome-ignore lint/performance/useDomNodeTextContent: the text as rendered is what a reader sees
      await story.locator("article").innerText(),
      /leave the harbour twenty minutes earlier on weekdays/,
    );
    await story.waitForFunction(
      () => document.getElementById("sailings")?.textContent === "14 sailings today",
      null,
      {
        timeout: 30_000,
      },
    );
    assert.equal(
      await story.evaluate(() => getComputedStyle(document.querySelector("h1") as Element).color),
      "rgb(0, 85, 119)",
      "the stylesheet replays",
    );
    // The archived page cannot reach the UI's cookies: it is another origin.
    assert.equal(await story.evaluate(() => document.cookie.includes("csrf")), false);
    await saveScreenshot(page, "evidence-replay");
    assert.deepEqual(requestsToApi, [], "nothing in the replay asked the API's origin");
    assert.deepEqual(external, [], "no request left the loopback interface");
    // ReplayWeb.page asks its service worker's API before the worker controls the page, and the
    // archived page asks for what it never loaded (a favicon): 404s inside the replay, and only there.
    const unexpected = failed.filter((url) => !url.startsWith(`${runner.replayUrl}/replay/w/`));
    assert.deepEqual(unexpected, [], "nothing outside the replay's own paths failed");
    const notFound = /^Failed to load resource: the server responded with a status of 404/;
    assert.deepEqual(
      errors.filter((e) => !notFound.test(e)),
      [],
      "no console errors (CSP violations would show here)",
    );
  });
});

describe("the replay origin and the storage front", () => {
  it("the replay origin serves its three files and nothing else", async () => {
    const ok = await fetch(`${runner.replayUrl}/replay/sw.js`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get("content-type") ?? "", /javascript/);
    const policy = ok.headers.get("content-security-policy") ?? "";
    assert.match(policy, new RegExp(`connect-src 'self' data: ${runner.s3Endpoint}(;|$)`));
    assert.match(policy, new RegExp(`frame-ancestors 'self' ${runner.url}(;|$)`));
    assert.equal((await fetch(`${runner.replayUrl}/?source=x`)).status, 200);
    for (const path of ["/replay/../package.json", "/package.json", "/v1/captures", "/ui/", "/replay/w/x"]) {
      const refused = await fetch(`${runner.replayUrl}${path}`);
      assert.equal(refused.status, 404, path);
      await refused.body?.cancel();
    }
    const post = await fetch(`${runner.replayUrl}/`, { method: "POST", body: "x" });
    assert.equal(post.status, 405);
    // And the API's own origin frames only the replay origin.
    const replayPage = await fetch(`${runner.url}/ui/urls/${urlId}/versions/${version.versionId}/replay`);
    assert.match(
      replayPage.headers.get("content-security-policy") ?? "",
      new RegExp(`frame-src ${runner.replayUrl}(;|$)`),
    );
  });

  it("storage lets the replay origin read a WACZ across origins (ranges too), and no other origin", async () => {
    assert.ok(wacz, "the download test attached the WACZ");
    const link = waczLink;
    const preflight = (origin: string, headers = "range") =>
      fetch(link, {
        method: "OPTIONS",
        headers: {
          origin,
          "access-control-request-method": "GET",
          "access-control-request-headers": headers,
        },
      });
    const allowed = await preflight(runner.replayUrl);
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get("access-control-allow-origin"), runner.replayUrl);
    assert.match(allowed.headers.get("access-control-allow-methods") ?? "", /^GET, HEAD$/);
    for (const origin of [runner.url, "http://127.0.0.1:9"]) {
      const refused = await preflight(origin);
      assert.equal(refused.status, 403, origin);
      assert.equal(refused.headers.get("access-control-allow-origin"), null);
    }
    assert.equal((await preflight(runner.replayUrl, "range, x-evil")).status, 403);

    const last = await fetch(link, { headers: { origin: runner.replayUrl, range: "bytes=-22" } });
    assert.equal(last.status, 206);
    assert.equal(last.headers.get("access-control-allow-origin"), runner.replayUrl);
    assert.match(last.headers.get("access-control-expose-headers") ?? "", /Content-Range/);
    assert.equal(
      last.headers.get("content-range"),
      `bytes ${wacz.bytes - 22}-${wacz.bytes - 1}/${wacz.bytes}`,
    );
    const tail = new Uint8Array(await last.arrayBuffer());
    // The zip's end-of-central-directory record: what a reader of a remote WACZ asks for first.
    assert.deepEqual([...tail.subarray(0, 4)], [0x50, 0x4b, 0x05, 0x06]);

    const elsewhere = await fetch(link, { headers: { origin: runner.url } });
    assert.equal(elsewhere.status, 200);
    assert.equal(elsewhere.headers.get("access-control-allow-origin"), null);
    await elsewhere.body?.cancel();
  });
});
