/**
 * The HTTP probe's pure decisions (shared/domain/capture/probe-policy.ts): what a browser capture
 * learns, when a scheduled recapture may be probed, and what a probe's answer vouches for. Every
 * doubt must decline: these tests pin each one.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { loadProbeConfig } from "../../shared/config.ts";
import { articleOfHtml, inlineDataSha256 } from "../../shared/domain/capture/article-text.ts";
import {
  type BrowserCaptureFacts,
  judgeAnswer,
  judgeText,
  learnFromBrowserCapture,
  noiseRulesKey,
  type ProbeAnswer,
  probeEligibility,
  probeValidator,
  stateAfterProbe,
} from "../../shared/domain/capture/probe-policy.ts";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import {
  type CaptureRecord,
  captureMethod,
  type UrlRecord,
  type VersionRecord,
} from "../../shared/domain/model.ts";
import { captureView } from "../../shared/domain/read/views.ts";
import type { BlobReader } from "../../shared/ports.ts";

const URL_ = "https://news.example/2026/11/pipes";
const RULES = noiseRulesKey({ dropSelectors: [], minChangedWords: 0 });
const OK = { validity: "ok", validityReason: "The article's text was extracted." } as const;

function facts(overrides: Partial<BrowserCaptureFacts> = {}): BrowserCaptureFacts {
  return {
    url: URL_,
    finalUrl: URL_,
    httpStatus: 200,
    headers: { etag: '"abc"', "last-modified": "Mon, 30 Nov 2026 08:00:00 GMT" },
    rendered: { extraction: "article", textSha256: "t1" },
    raw: { extraction: "article", textSha256: "t1" },
    rawVerdict: OK,
    verdict: OK,
    versionId: "ver_1",
    rulesKey: RULES,
    capturedAt: "2026-12-01T10:00:00.000Z",
    ...overrides,
  };
}

describe("learning at a browser capture", () => {
  it("finds a page server-rendered when the raw HTML's article is the rendered one, and keeps its validators", () => {
    const learned = learnFromBrowserCapture(facts());
    assert.equal(learned.serverRendered, true);
    assert.equal(learned.reason, undefined);
    assert.equal(learned.etag, '"abc"');
    assert.equal(learned.lastModified, "Mon, 30 Nov 2026 08:00:00 GMT");
    assert.equal(learned.versionId, "ver_1");
    assert.equal(learned.httpCount, 0);
  });

  it("refuses every doubt, each with its reason", () => {
    const cases: Array<[Partial<BrowserCaptureFacts>, RegExp]> = [
      [{ raw: { extraction: "article", textSha256: "t2" } }, /scripts write or change it/],
      [{ raw: { extraction: "fallback", textSha256: "t1" } }, /scripts write or change it/],
      [{ raw: null, rawVerdict: null }, /not HTML/],
      [{ rawVerdict: { validity: "consent_wall", validityReason: "…" } }, /does not read as the article/],
      [{ verdict: { validity: "paywall", validityReason: "…" } }, /did not show the article \(paywall\)/],
      [{ versionId: undefined }, /did not show the article/],
      [{ httpStatus: 303 }, /HTTP 303/],
      [{ finalUrl: "https://news.example/2026/11/pipes-updated" }, /led to/],
    ];
    for (const [overrides, reason] of cases) {
      const learned = learnFromBrowserCapture(facts(overrides));
      assert.equal(learned.serverRendered, false, JSON.stringify(overrides));
      assert.match(learned.reason ?? "", reason, JSON.stringify(overrides));
    }
  });

  it("does not keep validators a server repeated", () => {
    const learned = learnFromBrowserCapture(facts({ headers: { etag: '"a"\n"b"' } }));
    assert.equal(learned.etag, undefined);
  });

  it("reads raw and rendered HTML alike: the same article hashes the same", () => {
    const body = `<article><h1>Pipes</h1>${"<p>The board approved the plan to replace the old lead pipes under the town.</p>".repeat(5)}</article>`;
    const raw = `<!doctype html><html><head><title>Pipes</title></head><body>${body}</body></html>`;
    const rendered = `<html><head><title>Pipes</title></head><body>${body}<div id="late"></div></body></html>`;
    const none = { dropSelectors: [] };
    assert.equal(
      articleOfHtml(extractArticle, raw, URL_, none).textSha256,
      articleOfHtml(extractArticle, rendered, URL_, none).textSha256,
    );
  });
});

function url(probe: UrlRecord["probe"]): UrlRecord {
  return {
    urlId: "url_1",
    url: URL_,
    captureCount: 3,
    versionCount: 1,
    recapture: "adaptive",
    latestVersionId: "ver_1",
    createdAt: "2026-12-01T09:00:00.000Z",
    ...(probe ? { probe } : {}),
  };
}

const LATEST: VersionRecord = {
  versionId: "ver_1",
  urlId: "url_1",
  captureId: "cap_1",
  capturedAt: "2026-12-01T10:00:00.000Z",
  textSha256: "t1",
  artifacts: {},
};
const SCHEDULE = { browserEvery: 10, browserMaxAgeMs: 86_400_000 };
const NOW = new Date("2026-12-01T12:00:00.000Z");
const scheduled = { trigger: "schedule" } as const;

describe("whether a recapture is probed", () => {
  const learned = learnFromBrowserCapture(facts());

  it("probes a scheduled recapture of a server-rendered URL", () => {
    const verdict = probeEligibility(scheduled, { url: url(learned), latest: LATEST }, RULES, SCHEDULE, NOW);
    assert.equal(verdict.probe, true);
  });

  it("never probes a person's capture, and says nothing about it", () => {
    for (const trigger of ["api", "source", undefined] as const) {
      const verdict = probeEligibility(
        { trigger },
        { url: url(learned), latest: LATEST },
        RULES,
        SCHEDULE,
        NOW,
      );
      assert.deepEqual(verdict, { probe: false });
    }
  });

  it("uses the browser, with a reason, for every case a probe cannot vouch for", () => {
    const notRendered = learnFromBrowserCapture(facts({ raw: { extraction: "article", textSha256: "t9" } }));
    const cases: Array<[string, Parameters<typeof probeEligibility>[1], string, Date, RegExp]> = [
      ["nothing learned", { url: url(undefined), latest: LATEST }, RULES, NOW, /No browser capture/],
      ["not server-rendered", { url: url(notRendered), latest: LATEST }, RULES, NOW, /not server-rendered/],
      [
        "a newer version",
        { url: url(learned), latest: { ...LATEST, versionId: "ver_2" } },
        RULES,
        NOW,
        /latest version is not/,
      ],
      [
        "a removal",
        { url: url(learned), latest: { ...LATEST, removed: true } },
        RULES,
        NOW,
        /latest version/,
      ],
      [
        "a challenge since",
        { url: { ...url(learned), lastValidity: "challenge" }, latest: LATEST },
        RULES,
        NOW,
        /last capture did not show the article \(challenge\)/,
      ],
      [
        "changed noise rules",
        { url: url(learned), latest: LATEST },
        noiseRulesKey({ dropSelectors: [".clock"], minChangedWords: 0 }),
        NOW,
        /noise rules changed/,
      ],
      [
        "the 10th recapture",
        { url: url({ ...learned, httpCount: 9 }), latest: LATEST },
        RULES,
        NOW,
        /Every 10th recapture/,
      ],
      [
        "a day since the browser",
        { url: url(learned), latest: LATEST },
        RULES,
        new Date("2026-12-02T10:00:00.000Z"),
        /24 h old or more/,
      ],
    ];
    for (const [name, state, rules, now, reason] of cases) {
      const verdict = probeEligibility(scheduled, state, rules, SCHEDULE, now);
      assert.equal(verdict.probe, false, name);
      if (verdict.probe) continue;
      assert.equal(verdict.note?.outcome, "not_tried", name);
      assert.match(verdict.note?.reason ?? "", reason, name);
    }
    const ninth = probeEligibility(
      scheduled,
      { url: url({ ...learned, httpCount: 8 }), latest: LATEST },
      RULES,
      SCHEDULE,
      NOW,
    );
    assert.equal(ninth.probe, true, "the 9th recapture after a browser capture is still probed");
    const everyOne = probeEligibility(
      scheduled,
      { url: url(learned), latest: LATEST },
      RULES,
      { ...SCHEDULE, browserEvery: 1 },
      NOW,
    );
    assert.equal(everyOne.probe, false, "PROBE_BROWSER_EVERY=1: always the browser");
  });
});

describe("what the probe's answer vouches for", () => {
  const learned = learnFromBrowserCapture(facts());
  const page = (o: Partial<Extract<ProbeAnswer, { notModified: false }>> = {}): ProbeAnswer => ({
    notModified: false,
    status: 200,
    finalUrl: URL_,
    contentType: "text/html; charset=utf-8",
    redirects: [],
    ...o,
  });

  const notModified = (finalUrl = URL_, redirects: string[] = []): ProbeAnswer => ({
    notModified: true,
    finalUrl,
    redirects,
  });

  it("takes a 304 to its strong ETag as unchanged, and reads a 200's text", () => {
    assert.equal(judgeAnswer(notModified(), learned).kind, "unchanged");
    assert.equal(judgeAnswer(page(), learned).kind, "read_text");
  });

  it("sends only a strong ETag: never a weak one, never a Last-Modified date", () => {
    assert.equal(probeValidator(learned), '"abc"');
    assert.equal(probeValidator({ etag: 'W/"abc"' }), undefined);
    assert.equal(probeValidator({ etag: "abc" }), undefined, "not a quoted entity tag");
    const dateOnly = learnFromBrowserCapture(
      facts({ headers: { "last-modified": "Mon, 30 Nov 2026 08:00:00 GMT" } }),
    );
    assert.equal(probeValidator(dateOnly), undefined);
    // A 304 to a date or a weak tag (a server that ignores what was sent, or a cache) is no word.
    for (const state of [dateOnly, { ...learned, etag: 'W/"abc"' }]) {
      const judged = judgeAnswer(notModified(), state);
      assert.equal(judged.kind, "declined");
      if (judged.kind === "declined") assert.match(judged.reason, /no strong ETag/);
    }
  });

  it("replaces both validators with what a 200 carries, and keeps them after a 304", () => {
    const after200 = stateAfterProbe(learned, {
      notModified: false,
      lastModified: "Tue, 01 Dec 2026 08:00:00 GMT",
    });
    assert.equal(after200.etag, undefined, "an ETag the server no longer sends is dropped");
    assert.equal(after200.lastModified, "Tue, 01 Dec 2026 08:00:00 GMT");
    assert.equal(after200.httpCount, learned.httpCount + 1);
    assert.equal(stateAfterProbe(learned, { notModified: false, etag: '"def"' }).etag, '"def"');
    const after304 = stateAfterProbe(learned, { notModified: true });
    assert.equal(after304.etag, '"abc"');
    assert.equal(after304.lastModified, learned.lastModified);
  });

  it("declines a 304 it did not ask for, a redirect, another status and a document that is not HTML", () => {
    const bare = { ...learned };
    delete bare.etag;
    delete bare.lastModified;
    const cases: Array<[ProbeAnswer, typeof learned, RegExp]> = [
      [notModified(), bare, /no strong ETag/],
      [notModified(`${URL_}-moved`), learned, /redirects/],
      [notModified(URL_, [`${URL_}?amp=1`, URL_]), learned, /redirects/],
      [page({ redirects: [`${URL_}?amp=1`], finalUrl: `${URL_}?amp=1` }), learned, /redirects/],
      [page({ status: 203 }), learned, /HTTP 203, not 200/],
      [page({ contentType: "application/pdf" }), learned, /not HTML/],
    ];
    for (const [answer, state, reason] of cases) {
      const judged = judgeAnswer(answer, state);
      assert.equal(judged.kind, "declined", String(reason));
      if (judged.kind === "declined") assert.match(judged.reason, reason);
    }
  });

  it("vouches for the same text only when the raw HTML reads as the article", () => {
    assert.equal(judgeText({ extraction: "article", textSha256: "t1" }, OK, learned).kind, "unchanged");
    assert.equal(judgeText({ extraction: "article", textSha256: "t2" }, OK, learned).kind, "declined");
    const wall = { validity: "challenge", validityReason: "…" } as const;
    assert.equal(judgeText({ extraction: "article", textSha256: "t1" }, wall, learned).kind, "declined");
    assert.equal(judgeText(null, null, learned).kind, "declined");
  });

  it("declines when the page's inline data changed, though its HTML text did not", () => {
    const data = (n: number) =>
      `<script id="__NEXT_DATA__" type="application/json">{"props":{"cost":${n}}}</script>`;
    const withData = learnFromBrowserCapture(facts({ rawInlineData: inlineDataSha256(data(12)) }));
    const same = judgeText(
      { extraction: "article", textSha256: "t1" },
      OK,
      withData,
      inlineDataSha256(data(12)),
    );
    assert.equal(same.kind, "unchanged");
    const edited = judgeText(
      { extraction: "article", textSha256: "t1" },
      OK,
      withData,
      inlineDataSha256(data(14)),
    );
    assert.equal(edited.kind, "declined");
    assert.match(edited.reason, /inline data/);
    // Data that appeared where the browser capture saw none is a change too.
    assert.equal(
      judgeText({ extraction: "article", textSha256: "t1" }, OK, learned, inlineDataSha256(data(12))).kind,
      "declined",
    );
  });

  it("counts as inline data JSON scripts and global state objects, not JSON-LD or other scripts", () => {
    const none = inlineDataSha256(
      `<script type="application/ld+json">{"headline":"a"}</script><script>gtag("config","x-${Date.now()}")</script><script src="/app.js"></script>`,
    );
    assert.equal(none, undefined);
    const state = (s: string) => inlineDataSha256(`<script>window.__STATE__ = {"story":"${s}"};</script>`);
    assert.ok(state("a"));
    assert.notEqual(state("a"), state("b"));
    const json = (s: string) => inlineDataSha256(`<script type="application/json" id="d">["${s}"]</script>`);
    assert.notEqual(json("a"), json("b"));
    // A script that is not data (a nonce, a timestamp) changes nothing.
    assert.equal(
      inlineDataSha256(
        `<script type="application/json">["a"]</script><script>nonce="${Math.random()}"</script>`,
      ),
      inlineDataSha256(`<script type="application/json">["a"]</script>`),
    );
  });
});

describe("a capture's method", () => {
  const blobs = {
    presignGet: async () => "http://blob",
    getBlob: async () => new Uint8Array(),
  } as BlobReader;
  const base: CaptureRecord = {
    captureId: "cap_1",
    urlId: "url_1",
    url: URL_,
    status: "succeeded",
    requestedAt: "2026-12-01T10:00:00.000Z",
    attempts: 1,
  };

  it("reads as browser for captures recorded before probes, and is shown once the capture ended", async () => {
    assert.equal(captureMethod(base), "browser");
    assert.equal((await captureView(base, blobs, 60)).method, "browser");
    assert.equal((await captureView({ ...base, method: "http" }, blobs, 60)).method, "http");
    assert.equal((await captureView({ ...base, status: "queued" }, blobs, 60)).method, undefined);
  });
});

describe("probe configuration", () => {
  it("defaults to on, every 10th recapture or daily in the browser, and refuses bad values", () => {
    assert.deepEqual(loadProbeConfig({}), {
      enabled: true,
      browserEvery: 10,
      browserMaxAgeMs: 86_400_000,
      timeoutMs: 10_000,
    });
    assert.equal(loadProbeConfig({ PROBE: "off" }).enabled, false);
    assert.throws(() => loadProbeConfig({ PROBE: "maybe" }), /PROBE must be "on" or "off"/);
    assert.throws(() => loadProbeConfig({ PROBE_BROWSER_EVERY: "0" }), /PROBE_BROWSER_EVERY/);
  });
});
