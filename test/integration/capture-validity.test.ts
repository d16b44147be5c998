/**
 * Capture validity through the capture worker's domain, on the embedded S3 and DynamoDB behind the
 * real adapters: every wall page of test/fixtures/validity, handed over as the Chromium capturer
 * hands it (status, headers, rendered HTML; a 403, 429 or 503 as an `http_error` carrying the
 * page), between two captures of the same article, must make no version and no edit; an edit
 * after a run of walls is still flagged; a first capture behind a wall makes no first version.
 * (capture-validity-browser.test.ts drives the same pages through a real Chromium.)
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { processCapture } from "../../shared/domain/capture/index.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { Validity } from "../../shared/domain/model.ts";
import { type EmbeddedStorage, queuedCapture, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type Answer, article, PARAGRAPHS, servingSite } from "../support/serving-site.ts";

const FIXTURES = new URL("../fixtures/validity/", import.meta.url);

interface WallPage {
  file: string;
  validity: Validity;
  vendor: string;
  status: number;
  headers: Record<string, string>;
}

const { pages: WALLS } = JSON.parse(readFileSync(new URL("pages.json", FIXTURES), "utf8")) as {
  pages: WallPage[];
};

let storage: EmbeddedStorage;
before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

function wall(page: WallPage): Answer {
  return {
    html: readFileSync(new URL(page.file, FIXTURES), "utf8"),
    status: page.status,
    headers: page.headers,
  };
}

/** A URL whose server answers what the test sets: the article until then. */
function site(url: string) {
  return servingSite(storage, url, { html: article() });
}

describe("full → wall → full", () => {
  for (const page of WALLS) {
    it(`makes no version and no edit for ${page.file} (${page.vendor}, ${page.validity})`, async () => {
      const s = site(`https://news.example/walls/${page.file}`);
      const first = await s.capture();
      assert.equal(first.validity, "ok", first.validityReason);

      s.serve(wall(page));
      const walled = await s.capture();
      assert.equal(walled.status, "succeeded");
      assert.equal(walled.validity, page.validity, walled.validityReason);
      assert.ok(walled.validityReason && walled.validityReason.length > 20);
      assert.ok(walled.artifacts?.snapshot && walled.artifacts.screenshot, "what the outlet served is kept");
      const during = await s.record();
      assert.equal(during.lastValidity, page.validity);
      assert.equal(during.notOkSince, walled.finishedAt);

      s.serve({ html: article() });
      const back = await s.capture();
      assert.equal(back.validity, "ok");
      const versions = await s.versions();
      if (page.validity === "soft_404") {
        // A page that says it is gone is the article's removal (as a 404 is), and its return a
        // restoration: lifecycle events, with no text edit.
        assert.equal(walled.removed, true);
        assert.deepEqual(walled.edit?.kinds, ["removed_article"]);
        assert.deepEqual(back.edit?.kinds, ["restored_article"]);
        assert.deepEqual(
          versions.map((v) => v.edit?.kinds),
          [undefined, ["removed_article"], ["restored_article"]],
        );
      } else {
        assert.equal(walled.changed, false);
        assert.equal(walled.edit, undefined);
        assert.equal(walled.versionId, undefined, "no version stands for a wall");
        assert.equal(back.changed, false, "the article back as it was is no edit");
        assert.equal(back.versionId, first.versionId);
        assert.deepEqual(
          versions.map((v) => v.versionId),
          [first.versionId],
        );
      }
      const after = await s.record();
      assert.equal(after.lastValidity, "ok");
      assert.equal(after.notOkSince, undefined, "an ok capture ends the run of walls");
    });
  }
});

describe("walls and history", () => {
  it("makes no first version from a first capture behind a challenge, and makes it once the article shows", async () => {
    const s = site("https://news.example/walls/first-challenge");
    const cloudflare = WALLS.find((p) => p.file === "cloudflare-challenge.html") ?? assert.fail();
    s.serve(wall(cloudflare));
    const blocked = await s.capture();
    assert.equal(blocked.status, "succeeded", "a challenge is what the outlet served, not a dead link");
    assert.equal(blocked.validity, "challenge");
    assert.equal(blocked.httpStatus, 403);
    assert.equal(blocked.versionId, undefined);
    assert.match(blocked.validityReason ?? "", /Cloudflare/);
    assert.deepEqual(await s.versions(), []);
    const record = await s.record();
    assert.equal(record.latestVersionId, undefined);
    assert.equal(record.captureCount, 1);
    assert.equal(record.notOkSince, blocked.finishedAt);

    s.serve({ html: article() });
    const open = await s.capture();
    assert.equal(open.validity, "ok");
    assert.equal(open.changed, false, "a first version is no edit");
    assert.equal((await s.versions()).length, 1);
  });

  it("still flags a real edit after a run of walls, against the last full text", async () => {
    const s = site("https://news.example/walls/edit-after-walls");
    const first = await s.capture();
    for (const file of [
      "datadome-captcha.html",
      "consent-didomi-fr.html",
      "paywall-piano-en.html",
      "empty-app-shell.html",
    ]) {
      s.serve(wall(WALLS.find((p) => p.file === file) ?? assert.fail(file)));
      const walled = await s.capture();
      assert.notEqual(walled.validity, "ok", file);
      assert.equal(walled.changed, false, file);
    }
    const runBegan = (await s.record()).notOkSince;
    assert.ok(runBegan);
    s.serve({ html: article(PARAGRAPHS.map((p) => p.replace("4 million", "7 million"))) });
    const edited = await s.capture();
    assert.equal(edited.validity, "ok");
    assert.equal(edited.changed, true);
    assert.equal(edited.edit?.significance, "major");
    assert.ok(edited.edit?.kinds.includes("number"), JSON.stringify(edited.edit));
    const versions = await s.versions();
    assert.equal(versions.length, 2);
    assert.equal(versions[1]?.previousVersionId, first.versionId);
  });

  it("calls the article cut short (a teaser with no paywall words) a paywall, not an edit", async () => {
    const s = site("https://news.example/walls/cut-short");
    await s.capture();
    s.serve({ html: article(PARAGRAPHS.slice(0, 1)) });
    const teaser = await s.capture();
    assert.equal(teaser.validity, "paywall", teaser.validityReason);
    assert.equal(teaser.changed, false);
    assert.equal((await s.versions()).length, 1);
  });

  it("tracks an article that is always a teaser teaser-to-teaser, and never flags full against teaser", async () => {
    const s = site("https://news.example/walls/always-teaser");
    const piano = readFileSync(new URL("paywall-piano-en.html", FIXTURES), "utf8");
    s.serve({ html: piano });
    const first = await s.capture();
    assert.equal(first.validity, "paywall");
    assert.equal(first.versionId, undefined, "a first capture that is not ok makes no first version");
    assert.deepEqual(await s.versions(), []);
    // The teaser again: the article evidently always shows its teaser, which becomes version 1.
    const second = await s.capture();
    assert.equal(second.validity, "paywall");
    assert.ok(second.versionId, "the teaser is the outlet's article as it shows it");
    assert.equal(second.changed, false, "a first version is no edit");
    assert.equal((await s.capture()).changed, false);

    // The headline of the teaser changes: a real edit, flagged.
    s.serve({ html: piano.replaceAll("£40m shortfall", "£55m shortfall") });
    const edited = await s.capture();
    assert.equal(edited.validity, "paywall");
    assert.equal(edited.changed, true);
    assert.ok(edited.edit?.kinds.includes("headline"), JSON.stringify(edited.edit));

    // The full text shows once: a version, but no edit against the teaser.
    s.serve({ html: article() });
    const full = await s.capture();
    assert.equal(full.validity, "ok");
    assert.equal(full.changed, false);
    const versions = await s.versions();
    assert.deepEqual(
      versions.map((v) => [v.teaser === true, v.edit !== undefined]),
      [
        [true, false],
        [true, true],
        [false, false],
      ],
    );
    // And the teaser again after the full text: no version, no edit.
    s.serve({ html: piano });
    const again = await s.capture();
    assert.equal(again.validity, "paywall");
    assert.equal(again.changed, false);
    assert.equal((await s.versions()).length, 3);
  });

  it("gives a 404 removal its class too, and leaves a removed URL on its policy rather than backing off", async () => {
    const url = "https://news.example/walls/hard-404";
    const s = site(url);
    await s.capture();
    await storage.repository.setRecapture(urlIdFor(url), { everyMinutes: 6 * 60 }, null);
    const notFound: Answer = { html: "<html><body><h1>Not Found</h1></body></html>", status: 404 };
    for (const round of [1, 2]) {
      s.serve(notFound);
      const gone = await s.capture();
      assert.equal(gone.removed, true);
      assert.equal(gone.validity, "error_page", `round ${round}`);
      assert.match(gone.validityReason ?? "", /HTTP 404/);
      assert.equal((await s.record()).lastValidity, "error_page");
      const next = Date.parse((await s.record()).nextCaptureAt ?? assert.fail("no next capture"));
      assert.ok(
        next - Date.parse(gone.finishedAt ?? "") > 5 * 60 * 60_000,
        `round ${round}: policy, not backoff`,
      );
    }
    assert.deepEqual(
      (await s.versions()).map((v) => v.edit?.kinds),
      [undefined, ["removed_article"]],
    );
  });

  it("makes no version of a first capture that is a soft 404, and fails none", async () => {
    const s = site("https://news.example/walls/never-there");
    s.serve(wall(WALLS.find((p) => p.file === "soft404-en.html") ?? assert.fail()));
    const gone = await s.capture();
    assert.equal(gone.validity, "soft_404");
    assert.equal(gone.versionId, undefined);
    assert.equal(gone.removed, undefined);
    assert.deepEqual(await s.versions(), []);
  });
});

describe("retrying walls and refusals", () => {
  it("retries a wall sooner than the policy would, with a gap that grows while the walls last", async () => {
    const url = "https://news.example/walls/backoff";
    const s = site(url);
    await s.capture();
    await storage.repository.setRecapture(urlIdFor(url), { everyMinutes: 24 * 60 }, null);
    s.serve(wall(WALLS.find((p) => p.file === "perimeterx-press-hold.html") ?? assert.fail()));
    const walled = await s.capture();
    const next = Date.parse((await s.record()).nextCaptureAt ?? assert.fail("no next capture"));
    const finished = Date.parse(walled.finishedAt ?? "");
    assert.ok(next - finished >= 14 * 60_000 && next - finished <= 16 * 60_000, `${next - finished} ms`);

    s.serve({ html: article() });
    await s.capture();
    const afterOk = Date.parse((await s.record()).nextCaptureAt ?? assert.fail("no next capture"));
    // The policy's day, give or take its ±10 % jitter (DEFAULT_JITTER); a wall's retry is 15–30 min.
    assert.ok(afterOk - Date.now() > 21 * 60 * 60_000, "an ok capture goes back to the policy");
  });

  it("retries a 429 no sooner than its Retry-After asks, then records the page it showed", async () => {
    const url = "https://news.example/walls/rate-limited";
    const s = site(url);
    await s.capture();
    s.serve({
      html: "<html><body><h1>Too Many Requests</h1></body></html>",
      status: 429,
      headers: { "retry-after": "90" },
    });
    const captureId = await queuedCapture(storage.repository, url);
    const outcome = await processCapture(s.deps, captureId);
    assert.equal(outcome.kind, "retry");
    assert.equal(outcome.kind === "retry" ? outcome.delayMs : undefined, 90_000);
  });

  it("schedules the URL no sooner than Retry-After when a 429 ends the capture on its last attempt", async () => {
    const url = "https://news.example/walls/rate-limited-last";
    const s = site(url);
    await s.capture();
    await storage.repository.setRecapture(urlIdFor(url), { everyMinutes: 1 }, null);
    s.serve({
      html: "<html><body><h1>Too Many Requests</h1></body></html>",
      status: 429,
      headers: { "retry-after": "600" },
    });
    const captureId = await queuedCapture(storage.repository, url);
    const started = Date.now();
    const outcome = await processCapture({ ...s.deps, maxAttempts: 1 }, captureId);
    assert.equal(outcome.kind, "failed");
    const next = Date.parse((await s.record()).nextCaptureAt ?? assert.fail("no next capture"));
    assert.ok(next - started >= 590_000, `next capture in ${next - started} ms, asked 600 s`);
  });

  it("ends a capture whose 503 asks for more than the queue can wait, and schedules no sooner than asked", async () => {
    const url = "https://news.example/walls/maintenance";
    const s = site(url);
    await s.capture();
    await storage.repository.setRecapture(urlIdFor(url), { everyMinutes: 5 }, null);
    s.serve({
      html: "<html><body><h1>Down for maintenance</h1></body></html>",
      status: 503,
      headers: { "retry-after": "7200" },
    });
    const captureId = await queuedCapture(storage.repository, url);
    const started = Date.now();
    const outcome = await processCapture(s.deps, captureId);
    assert.equal(outcome.kind, "failed");
    const next = Date.parse((await s.record()).nextCaptureAt ?? assert.fail("no next capture"));
    assert.ok(next - started >= 7_190_000, `next capture in ${next - started} ms, asked 7,200 s`);
  });
});
