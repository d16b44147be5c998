/**
 * Edit truth end to end: fixture pages that change between captures, captured by the local
 * runner with a real Chromium, must yield new versions with the right edit, a diff through the
 * API, an entry in /v1/edits and a signed webhook delivery — and page noise must yield nothing.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { signBody } from "../../shared/adapters/webhook-publisher.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone as submitAndWait } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

const SECRET = "test-webhook-secret";
let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;
let receiver: Server;
const deliveries: Array<{ body: string; signature: string | undefined }> = [];

before(async () => {
  site = await startFixtureSite();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      deliveries.push({
        body: Buffer.concat(chunks).toString("utf8"),
        signature: req.headers["x-palimpsest-signature"] as string,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((done) => receiver.listen(0, "127.0.0.1", done));
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-edits-"));
  runner = await startLocalRunner({
    dataDir,
    port: 0,
    logger: createLogger({}, "silent"),
    env: {
      ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
      CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
      CAPTURE_IDLE_TIMEOUT_MS: "2000",
      WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
      WEBHOOK_SECRET: SECRET,
    },
  });
});

after(async () => {
  await runner?.close();
  await site?.close();
  await new Promise((done) => receiver?.close(done));
  await rm(dataDir, { recursive: true, force: true });
});

async function get(path: string) {
  const response = await fetch(`${runner.url}${path}`);
  return { status: response.status, json: (await response.json()) as Record<string, Json> };
}

function capture(url: string): Promise<Record<string, Json>> {
  return submitAndWait(runner.url, url);
}

const FILLER = [
  "The council published the full minutes of the meeting on its website later that evening.",
  "Residents will be able to comment on the plans at a public session next month.",
  "The project is part of a wider programme of coastal works along the estuary.",
];

function staticStory(options: { headline: string; figure: string; modified: string; noise: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${options.headline}</title>
<meta property="article:modified_time" content="${options.modified}"></head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<article><h1>${options.headline}</h1><p class="byline">By Ana Silva</p>
<p class="updated">${options.noise}</p>
<p>The harbour authority said on Monday that repairs to the quay would cost ${options.figure} and take two years to finish.</p>
${FILLER.map((f) => `<p>${f}</p>`).join("\n")}
<aside class="most-read"><h2>Most read</h2><ul><li><a href="/a">${options.noise} story</a></li></ul></aside>
</article></body></html>`;
}

describe("edits between captures", () => {
  it("flags a changed figure on a static page as a major stealth edit, diffs it and delivers it signed", async () => {
    const path = "/edits/static";
    site.setPage(
      path,
      staticStory({
        headline: "Quay repairs approved",
        figure: "4 million euros",
        modified: "2026-03-01T10:00:00Z",
        noise: "Updated 5 minutes ago",
      }),
    );
    const first = await capture(site.url(path));
    assert.equal(first.changed, false);

    // Noise only: a new relative timestamp and a rotated "Most read" box.
    site.setPage(
      path,
      staticStory({
        headline: "Quay repairs approved",
        figure: "4 million euros",
        modified: "2026-03-01T10:00:00Z",
        noise: "Updated 17 minutes ago",
      }),
    );
    const noisy = await capture(site.url(path));
    assert.equal(noisy.changed, false, "page noise is not an edit");
    assert.equal(noisy.versionId, first.versionId);

    site.setPage(
      path,
      staticStory({
        headline: "Quay repairs approved",
        figure: "6 million euros",
        modified: "2026-03-01T10:00:00Z",
        noise: "Updated 1 hour ago",
      }),
    );
    const edited = await capture(site.url(path));
    assert.equal(edited.changed, true);
    assert.equal(edited.edit.significance, "major");
    assert.ok(edited.edit.kinds.includes("number"), JSON.stringify(edited.edit));
    assert.equal(edited.edit.stealth, true, "the declared modification time did not move");

    const diff = await get(`/v1/urls/${first.urlId}/diff`);
    assert.equal(diff.status, 200);
    assert.equal(diff.json.from, first.versionId);
    assert.equal(diff.json.to, edited.versionId);
    assert.equal(diff.json.significance, "major");
    const replaced = diff.json.changes.find((c: { op: string }) => c.op === "replace");
    assert.match(replaced.before, /4 million/);
    assert.match(replaced.after, /6 million/);
    assert.match(diff.json.html, /<del[^>]*>[^<]*4[^<]*<\/del>/);
    assert.match(diff.json.html, /<ins[^>]*>[^<]*6[^<]*<\/ins>/);

    const edits = await get("/v1/edits");
    assert.equal(edits.json.items[0].versionId, edited.versionId);
    assert.equal(edits.json.items[0].url, site.url(path));

    await waitFor(() => deliveries.some((d) => d.body.includes(edited.versionId)));
    const delivery = deliveries.find((d) => d.body.includes(edited.versionId));
    assert.ok(delivery);
    assert.equal(delivery.signature, signBody(delivery.body, SECRET), "HMAC-SHA256 of the exact body");
    const event = JSON.parse(delivery.body);
    assert.equal(event.type, "ArticleEdited");
    assert.equal(event.previousVersionId, first.versionId);

    // Back to the first text: a revert to the first version, not a brand-new text.
    site.setPage(
      path,
      staticStory({
        headline: "Quay repairs approved",
        figure: "4 million euros",
        modified: "2026-03-01T12:00:00Z",
        noise: "Updated 2 hours ago",
      }),
    );
    const reverted = await capture(site.url(path));
    assert.equal(reverted.changed, true);
    assert.equal(reverted.edit.stealth, false, "the page declared a new modification time");
    const url = await get(`/v1/urls/${first.urlId}`);
    assert.equal(url.json.versions.at(-1).revertOf, first.versionId);
  });

  it("flags a headline change on a script-rendered page", async () => {
    const story = (headline: string) =>
      JSON.stringify({
        headline,
        byline: "Lee Park",
        paragraphs: [
          "Rail services between the two cities will resume on Thursday after engineering works ended early.",
          ...FILLER,
        ],
      });
    site.setPage("/api/story.json", story("Rail line to reopen on Thursday"), {
      contentType: "application/json",
    });
    const first = await capture(site.url("/script-article.html"));
    site.setPage("/api/story.json", story("Rail line to reopen on Friday"), {
      contentType: "application/json",
    });
    const edited = await capture(site.url("/script-article.html"));
    site.clearRoute("/api/story.json");
    assert.equal(edited.changed, true, "the rendered headline changed");
    assert.notEqual(edited.versionId, first.versionId);
    assert.ok(edited.edit.kinds.includes("headline"), JSON.stringify(edited.edit));
    assert.equal(edited.edit.significance, "major");
  });

  it("sees an entry added to a live blog whose older entries load only on scroll", async () => {
    const entries = (extra: string[]) =>
      JSON.stringify([
        ...extra,
        "09:10 The first ferry of the day left the harbour on time despite the strong wind.",
        "08:45 Port officials confirmed that all berths are open to traffic this morning.",
        "08:00 Good morning and welcome to our live coverage of the storm as it reaches the coast.",
      ]);
    site.setPage("/live", liveBlog(), {});
    site.setPage("/live/older.json", entries([]), { contentType: "application/json" });
    const first = await capture(site.url("/live"));
    const firstText = await (await fetch(first.artifacts.text.url)).text();
    assert.match(firstText, /Good morning and welcome/, "entries that load on scroll are archived");

    site.setPage(
      "/live/older.json",
      entries(["09:30 Coastguard crews rescued two sailors whose yacht lost its mast near the breakwater."]),
      { contentType: "application/json" },
    );
    const edited = await capture(site.url("/live"));
    assert.equal(edited.changed, true);
    assert.ok(edited.edit.kinds.includes("added"), JSON.stringify(edited.edit));
  });
});

describe("lifecycle", () => {
  it("records a removal, keeps history, and records the article coming back and redirecting", async () => {
    const path = "/edits/lifecycle";
    const page = staticStory({
      headline: "Port strike ends",
      figure: "2 million euros",
      modified: "2026-04-01T10:00:00Z",
      noise: "",
    });
    site.setPage(path, page);
    const first = await capture(site.url(path));

    site.setPage(path, "<html><body><h1>Page not found</h1></body></html>", { status: 404 });
    const gone = await capture(site.url(path));
    assert.equal(gone.status, "succeeded", "observing a removal is a successful capture");
    assert.equal(gone.removed, true);
    assert.equal(gone.httpStatus, 404);
    assert.deepEqual(gone.edit.kinds, ["removed_article"]);
    // What the URL showed instead is kept as evidence: snapshot, screenshot, raw response.
    assert.deepEqual(Object.keys(gone.artifacts).sort(), ["raw", "screenshot", "snapshot"]);
    const evidence = await fetch(gone.artifacts.snapshot.url);
    assert.match(await evidence.text(), /Page not found/);
    assert.equal((await fetch(gone.artifacts.screenshot.url)).headers.get("content-type"), "image/jpeg");
    await waitFor(() => deliveries.some((d) => d.body.includes(gone.versionId)));

    const stillGone = await capture(site.url(path));
    assert.equal(stillGone.changed, false, "a removal is recorded once");
    assert.equal(stillGone.versionId, gone.versionId);

    site.setPage(path, page);
    const back = await capture(site.url(path));
    assert.equal(back.changed, true);
    assert.deepEqual(back.edit.kinds, ["restored_article"], "same text as before the removal");

    site.setPage("/edits/lifecycle-new-home", page);
    site.setRoute(path, (_req, res) => {
      res.writeHead(301, { location: "/edits/lifecycle-new-home" }).end();
    });
    const moved = await capture(site.url(path));
    assert.equal(moved.changed, true);
    assert.ok(moved.edit.kinds.includes("redirected"), JSON.stringify(moved.edit));

    const url = await get(`/v1/urls/${first.urlId}`);
    assert.equal(url.json.versionCount, 4, "history is never lost");
    assert.equal(url.json.versions[1].removed, true);
    assert.equal(url.json.versions[3].finalUrl, site.url("/edits/lifecycle-new-home"));
  });

  it("fails a first capture of a missing page, keeping what it showed: nothing was there to remove", async () => {
    const response = await fetch(`${runner.url}/v1/captures`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: site.url("/not-found") }),
    });
    const { captureId } = (await response.json()) as { captureId: string };
    let status: Record<string, Json> = {};
    for (let i = 0; i < 200 && status.status !== "failed" && status.status !== "succeeded"; i++) {
      status = (await get(`/v1/captures/${captureId}`)).json;
      await new Promise((r) => setTimeout(r, 100));
    }
    assert.equal(status.status, "failed");
    assert.equal(status.error.code, "http_error");
    assert.equal(status.httpStatus, 404);
    // What the address served is kept with the failure.
    assert.deepEqual(Object.keys(status.artifacts).sort(), ["raw", "screenshot", "snapshot"]);
    assert.match(await (await fetch(status.artifacts.snapshot.url)).text(), /Not found/);
  });
});

function liveBlog(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Storm live: latest updates</title></head>
<body><article><h1>Storm live: latest updates</h1>
<p>Our reporters are following the storm as it moves along the coast through the day.</p>
<div style="height:3000px"></div>
<div id="entries"></div><div id="sentinel" style="height:10px"></div></article>
<script>
  const observer = new IntersectionObserver((seen) => {
    if (!seen.some((e) => e.isIntersecting)) return;
    observer.disconnect();
    fetch("/live/older.json").then((r) => r.json()).then((entries) => {
      const box = document.getElementById("entries");
      for (const text of entries) { const p = document.createElement("p"); p.textContent = text; box.append(p); }
    });
  });
  observer.observe(document.getElementById("sentinel"));
</script></body></html>`;
}

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}
