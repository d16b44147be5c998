/**
 * Capture validity end to end: the local runner with a real Chromium captures a loopback site that
 * answers with each bot vendor's challenge (served with the vendor's status and headers) and one
 * wall of every other class, between captures of the same article. No wall makes a version or an
 * edit, a first capture behind a challenge makes no first version, and the API and the UI say what
 * each capture showed and since when the URL has not shown its article.
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import type { Validity } from "../../shared/domain/model.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

const FIXTURES = new URL("../fixtures/validity/", import.meta.url);

interface WallPage {
  file: string;
  validity: Validity;
  vendor: string;
  status: number;
  headers: Record<string, string>;
}

const { pages } = JSON.parse(readFileSync(new URL("pages.json", FIXTURES), "utf8")) as { pages: WallPage[] };
/** Every challenge vendor, and the first page of every other class. */
const WALLS = pages.filter(
  (p, i) => p.validity === "challenge" || pages.findIndex((q) => q.validity === p.validity) === i,
);

let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;

before(async () => {
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-validity-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "8000",
      CAPTURE_IDLE_TIMEOUT_MS: "1500",
    },
  });
});

after(async () => {
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

async function getJson(path: string): Promise<Record<string, Json>> {
  const response = await fetch(`${runner.url}${path}`);
  assert.equal(response.status, 200, path);
  return (await response.json()) as Record<string, Json>;
}

async function getHtml(path: string): Promise<string> {
  const response = await fetch(`${runner.url}${path}`);
  assert.equal(response.status, 200, path);
  return response.text();
}

const ARTICLE = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Ferry timetable cut for the winter</title></head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<article><h1>Ferry timetable cut for the winter</h1><p class="byline">By Tomas Reyes</p>
<p>The island ferry will run four crossings a day instead of seven from the first of November, the operator said on Thursday, blaming a shortage of crew and the cost of fuel.</p>
<p>Islanders who commute to the mainland said the last sailing back, now at six in the evening, would leave them stranded after late shifts at the hospital and the port.</p>
<p>The operator said the summer timetable would return in April and that it was training twelve new deckhands, who should be certified by the end of the winter.</p>
<p>The county council, which subsidises the route, will ask the operator to add a late sailing on Fridays and has asked for monthly figures on cancelled crossings.</p>
</article><footer><a href="/privacy">Privacy</a></footer></body></html>`;

function serveWall(path: string, page: WallPage): void {
  site.setPage(path, readFileSync(new URL(page.file, FIXTURES)), {
    status: page.status,
    // A 429 asks to wait; the test would wait it out, so this one asks for no wait at all.
    headers: { ...page.headers, ...(page.headers["retry-after"] ? { "retry-after": "0" } : {}) },
  });
}

describe("walls captured in a real browser", () => {
  it("makes no first version from a first capture behind a Cloudflare challenge, and says so", async () => {
    const path = "/validity/first-behind-challenge";
    serveWall(path, pages.find((p) => p.file === "cloudflare-challenge.html") ?? assert.fail());
    const blocked = await captureUntilDone(runner.url, site.url(path));
    assert.equal(blocked.status, "succeeded", "a challenge is what the outlet served, not a dead link");
    assert.equal(blocked.validity, "challenge");
    assert.match(String(blocked.validityReason), /Cloudflare/);
    assert.equal(blocked.httpStatus, 403);
    assert.equal(blocked.versionId, undefined);
    assert.ok(blocked.artifacts.snapshot && blocked.artifacts.screenshot, "kept as evidence");

    const url = await getJson(`/v1/urls/${blocked.urlId}`);
    assert.equal(url.versionCount, 0);
    assert.deepEqual(url.versions, []);
    assert.equal(url.lastValidity, "challenge");
    assert.equal(url.notOkSince, blocked.finishedAt);

    const capturePage = await getHtml(`/ui/captures/${blocked.captureId}`);
    assert.match(capturePage, /Bot challenge/);
    assert.match(capturePage, /Cloudflare challenge: the server answered 403/);
    const urlPage = await getHtml(`/ui/urls/${blocked.urlId}`);
    assert.match(urlPage, /No capture has shown the article yet \(the last one: bot challenge\)/);
  });

  it("makes no version and no edit for any wall between two captures of the article", async () => {
    const path = "/validity/full-wall-full";
    site.setPage(path, ARTICLE);
    const first = await captureUntilDone(runner.url, site.url(path));
    assert.equal(first.validity, "ok");
    const seen: Array<[string, Json]> = [];
    let latest = first.versionId;
    for (const page of WALLS) {
      serveWall(path, page);
      const walled = await captureUntilDone(runner.url, site.url(path));
      seen.push([page.file, walled.validity]);
      assert.equal(walled.validity, page.validity, `${page.file}: ${walled.validityReason}`);
      site.setPage(path, ARTICLE);
      const back = await captureUntilDone(runner.url, site.url(path));
      assert.equal(back.validity, "ok", page.file);
      if (page.validity !== "soft_404") {
        assert.equal(walled.changed, false, page.file);
        assert.equal(back.changed, false, page.file);
        assert.equal(back.versionId, latest, page.file);
      }
      latest = back.versionId;
    }
    const url = await getJson(`/v1/urls/${first.urlId}`);
    const versions = url.versions as Array<Record<string, Json>>;
    // One version, plus the removal and restoration the soft 404 made.
    assert.deepEqual(
      versions.map((v) => v.edit?.kinds ?? null),
      [null, ["removed_article"], ["restored_article"]],
      JSON.stringify(seen),
    );
    assert.equal(url.lastValidity, "ok");
    assert.equal(url.notOkSince, undefined);
  });
});
