/**
 * The probe bench's edit part (bench/probe.ts): edit and page-noise pairs of the edit-detection
 * section run on the worker both ways — probe-then-browser, and the browser alone — which must
 * find the same edits. Also the recapture helpers both files use.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import { createChromiumPageCapturer } from "../shared/adapters/chromium/page-capturer.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import { type ProcessCaptureDeps, processCapture } from "../shared/domain/capture/index.ts";
import { newCaptureId, urlIdFor } from "../shared/domain/ids.ts";
import type { CaptureRecord } from "../shared/domain/model.ts";
import { normaliseUrl } from "../shared/domain/url.ts";
import type { FixtureSite } from "../test/support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../test/support/loopback-browser.ts";
import { type CaptureRig, startCaptureRig } from "./capture-rig.ts";
import { loadCorpusArticles, seededRandom } from "./diff.ts";
import { buildDonors, furniture, generators, injectNoise, pageRandom } from "./edit-detection.ts";
import { corpusDir } from "./extraction.ts";

/** Records a scheduled recapture of `url` (what the sweeper leaves) and returns its id. */
export async function scheduledCapture(rig: Pick<CaptureRig, "repository">, url: string): Promise<string> {
  const normalised = normaliseUrl(url);
  const captureId = newCaptureId();
  await rig.repository.putCapture({
    captureId,
    urlId: urlIdFor(normalised),
    url: normalised,
    status: "queued",
    requestedAt: new Date().toISOString(),
    attempts: 0,
    trigger: "schedule",
  });
  return captureId;
}

export async function processed(deps: ProcessCaptureDeps, captureId: string): Promise<CaptureRecord> {
  const outcome = await processCapture(deps, captureId);
  if (outcome.kind !== "succeeded") throw new Error(`capture ${captureId} ended ${outcome.kind}`);
  return outcome.capture;
}

/** An edit pair's side as a plain server-rendered news page. */
function pageOf(article: { title: string; byline: string | null; text: string }): string {
  const escapeHtml = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  const paragraphs = article.text
    .split(/\n\s*\n/)
    .map((p) => `<p>${escapeHtml(p.trim())}</p>`)
    .join("\n");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(article.title)}</title></head>
<body><header><nav><a href="/">Home</a></nav></header><main><article><h1>${escapeHtml(article.title)}</h1>
${article.byline ? `<p class="byline">By ${escapeHtml(article.byline)}</p>` : ""}
${paragraphs}
</article></main><footer><p>The Bench Gazette</p></footer></body></html>`;
}

interface EditPairPage {
  category: string;
  before: string;
  after: string;
}

/**
 * The edit-detection section's page-noise pairs: a corpus page with two different sets of injected
 * furniture (timestamps, counters, rotated boxes, a cookie banner…), which must make no edit.
 */
function noisePairPages(count: number): EditPairPage[] {
  const articles = loadCorpusArticles();
  const titles = articles.map((a) => a.title).filter(Boolean);
  const pairs: EditPairPage[] = [];
  const step = Math.max(1, Math.floor(articles.length / Math.max(1, count)));
  for (let i = 0; i < articles.length && pairs.length < count; i += step) {
    const source = articles[i] as (typeof articles)[number];
    const file = join(corpusDir(), "html", `${source.id}.html.gz`);
    if (!existsSync(file)) continue;
    const html = gunzipSync(readFileSync(file)).toString("utf8");
    const random = pageRandom(source.id);
    pairs.push({
      category: `page noise ${source.id}`,
      before: injectNoise(html, source.text, furniture(random, titles, false)).html,
      after: injectNoise(html, source.text, furniture(random, titles, true)).html,
    });
  }
  return pairs;
}

/** The edit-detection section's substantive pairs (same seed), as pages. */
function editPairPages(): EditPairPage[] {
  const articles = loadCorpusArticles();
  if (articles.length === 0) return [];
  const random = seededRandom(7);
  const donors = buildDonors(articles);
  const pairs: EditPairPage[] = [];
  for (const [category, [, generate]] of Object.entries(generators)) {
    for (const source of articles) {
      const pair = generate(source, random, donors);
      if (!pair) continue;
      pairs.push({
        category,
        before: pageOf({ ...pair.before, title: pair.before.title ?? "" }),
        after: pageOf({ ...pair.after, title: pair.after.title ?? "" }),
      });
    }
  }
  return pairs;
}

export interface EditFigures {
  /** The substantive pairs available, and those run end to end both ways. */
  pairs: number;
  endToEnd: number;
  /** Page-noise pairs run the same way (no edit expected). */
  noisePairs: number;
  /** End-to-end pairs where the browser alone found an edit. */
  browserFlagged: number;
  /** Pairs where probe-then-browser and the browser alone differ (edit or not, significance, kinds). */
  disagreed: string[];
  /** End-to-end recaptures the probe settled over HTTP (only pages the browser finds unchanged may be). */
  settledOverHttp: number;
}

export async function editsBothWays(
  site: FixtureSite,
  endToEnd: number,
  noisePairs: number,
): Promise<EditFigures | null> {
  const edited = editPairPages();
  if (edited.length === 0) return null;
  // Every k-th substantive pair (spread over the categories), then the noise pairs.
  const step = Math.max(1, Math.floor(edited.length / endToEnd));
  const sample = [
    ...edited.filter((_, i) => i % step === 0).slice(0, endToEnd),
    ...noisePairPages(noisePairs),
  ];
  const host = new URL(site.origin).host;
  // Corpus pages name public hosts: the browser reaches 127.0.0.1 only, as in capture-real.
  const rig = await startCaptureRig({
    allowedHost: host,
    config: loadCaptureConfig({ ALLOW_PRIVATE_HOSTS: host }),
    createCapturer: (options) =>
      createChromiumPageCapturer({ ...options, extraArgs: [NO_DNS], egress: loopbackEgress() }),
  });
  const browserOnly: ProcessCaptureDeps = { ...rig.deps };
  delete browserOnly.probe;
  const figures: EditFigures = {
    pairs: edited.length,
    endToEnd: 0,
    noisePairs: 0,
    browserFlagged: 0,
    disagreed: [],
    settledOverHttp: 0,
  };
  try {
    for (const [i, pair] of sample.entries()) {
      const outcomes: CaptureRecord[] = [];
      for (const [way, deps] of [
        ["probe", rig.deps],
        ["browser", browserOnly],
      ] as const) {
        const path = `/probe-edits/${i}/${way}`;
        site.setPage(path, pair.before);
        await rig.process(await rig.submit(site.url(path), "adaptive"));
        site.setPage(path, pair.after);
        outcomes.push(await processed(deps, await scheduledCapture(rig, site.url(path))));
        site.clearRoute(path);
      }
      const [probed, browsed] = outcomes as [CaptureRecord, CaptureRecord];
      if (pair.category.startsWith("page noise")) figures.noisePairs++;
      else figures.endToEnd++;
      if (probed.method === "http") figures.settledOverHttp++;
      if (browsed.changed) figures.browserFlagged++;
      const kinds = (c: CaptureRecord) =>
        c.edit ? `${c.edit.significance} [${c.edit.kinds.join(",")}]` : "none";
      if (probed.changed !== browsed.changed || kinds(probed) !== kinds(browsed)) {
        figures.disagreed.push(
          `${pair.category} #${i}: probe-first ${kinds(probed)}, browser ${kinds(browsed)}`,
        );
      }
    }
  } finally {
    await rig.close();
  }
  return figures;
}
