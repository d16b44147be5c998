/**
 * Capture validity benchmark, in two parts, in one run:
 *
 * 1. **Classification.** A labelled set: every article page of the WCXB corpus (read at run time
 *    from ../shared/corpus, labelled `ok`) and every wall page of test/fixtures/validity (labelled
 *    with its class, classified with the status and headers its vendor sends; the pages under
 *    held-out/ were written after the rules were settled, those under held-out-2/ blind, by someone
 *    who had not read the classifier; each held-out set is reported apart). Each page is
 *    extracted and classified as the capture worker does, with no history. Precision and recall
 *    of `ok`, the classes of the walls, and the classifier's own time per page.
 * 2. **False edits.** Through the capture worker's domain (`processCapture`) on the embedded S3 and
 *    DynamoDB: for a spread of corpus articles, the sequence article → wall → article for every
 *    wall page, plus the article cut to its first paragraphs (a teaser with no paywall words, and
 *    one with a membership line where it stops). A
 *    false edit is any version or edit a wall made, other than the removal and return a soft 404
 *    is (lifecycle events, correct). The target is 0.
 *
 * Run directly (`node bench/validity.ts`) or through bench/run.ts (`--only validity`).
 */
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { performance } from "node:perf_hooks";
import { type ProcessCaptureDeps, processCapture } from "../shared/domain/capture/index.ts";
import { extractArticle } from "../shared/domain/extract/index.ts";
import { urlIdFor } from "../shared/domain/ids.ts";
import type { Validity } from "../shared/domain/model.ts";
import { classifyCapture } from "../shared/domain/validity/index.ts";
import { CaptureError } from "../shared/errors.ts";
import type { PageCapture, PageCapturer } from "../shared/ports.ts";
import { testCaptureOptions } from "../test/support/capture-options.ts";
import { captureDeps, queuedCapture, startEmbeddedStorage } from "../test/support/embedded-storage.ts";
import { type BenchReport, listCorpusIds, readCorpusPage } from "./extraction.ts";
import { median, quantile } from "./stats.ts";

const FIXTURES = new URL("../test/fixtures/validity/", import.meta.url);
/** Corpus articles put through the false-edit sequences; override with VALIDITY_BENCH_ARTICLES. */
const SEQUENCE_ARTICLES = Number(process.env.VALIDITY_BENCH_ARTICLES ?? 6);
/** Statuses the Chromium capturer takes all the same and reports as `http_error` with the page. */
const TAKEN_AS_EVIDENCE = new Set([403, 404, 410, 429, 503]);
/** Held-out wall sets, each a folder of FIXTURES with a held-out.json: the first was seen and tuned on after its blind run; the second is blind. */
const HELD_OUT_SETS = [
  {
    dir: "held-out",
    title: "first held-out set (now seen and tuned on)",
    about: "written after the audit's rules were settled; its misses were fixed afterwards",
  },
  {
    dir: "held-out-2",
    title: "held out, blind set 2",
    about: "written blind, without reading the classifier",
  },
] as const;

interface LabelledPage {
  name: string;
  /** The held-out set (its folder) the page belongs to: never used to tune the rules. */
  heldOut?: string;
  html: string;
  label: Validity;
  status: number;
  headers: Record<string, string>;
}

function wallPages(manifest: URL, heldOut?: string): LabelledPage[] {
  const { pages } = JSON.parse(readFileSync(manifest, "utf8")) as {
    pages: Array<{ file: string; validity: Validity; status: number; headers: Record<string, string> }>;
  };
  return pages.map((p) => ({
    name: heldOut ? `${heldOut}/${p.file}` : p.file,
    ...(heldOut ? { heldOut } : {}),
    html: readFileSync(new URL(p.file, manifest), "utf8"),
    label: p.validity,
    status: p.status,
    headers: p.headers,
  }));
}

interface Classified {
  page: LabelledPage;
  predicted: Validity;
  reason: string;
  classifyMs: number;
  extractMs: number;
}

function classifyPage(page: LabelledPage, url: string): Classified {
  const extractStarted = performance.now();
  const article = extractArticle(page.html, { url });
  const started = performance.now();
  const verdict = classifyCapture({
    httpStatus: page.status,
    headers: page.headers,
    html: page.html,
    title: article?.title ?? null,
    text: article?.text ?? "",
    rawHtml: page.html,
  });
  return {
    page,
    predicted: verdict.validity,
    reason: verdict.validityReason,
    classifyMs: performance.now() - started,
    extractMs: started - extractStarted,
  };
}

/** What the Chromium capturer would hand over for `page` at `url`. */
function asCapture(url: string, page: Omit<LabelledPage, "name" | "label">): PageCapture {
  const body = new TextEncoder().encode(page.html);
  const capture: PageCapture = {
    finalUrl: url,
    httpStatus: page.status,
    headers: { "content-type": "text/html; charset=utf-8", ...page.headers },
    raw: { body, contentType: "text/html; charset=utf-8" },
    renderedHtml: page.html,
    snapshotHtml: page.html,
    screenshot: {
      body: new TextEncoder().encode(`screenshot ${page.html.length}`),
      contentType: "image/jpeg",
    },
    timings: {},
  };
  if (page.status >= 400) {
    throw new CaptureError("http_error", `The server answered HTTP ${page.status}.`, {
      httpStatus: page.status,
      ...(TAKEN_AS_EVIDENCE.has(page.status) ? { evidence: capture } : {}),
    });
  }
  return capture;
}

/**
 * The article cut to its first paragraphs, about a sixth of its words, as a plain page: a teaser
 * that says nothing of a paywall. Null for an article too short to cut.
 */
function cutShort(html: string, url: string, after = ""): string | null {
  const article = extractArticle(html, { url });
  if (!article) return null;
  const paragraphs = article.text.split(/\n\s*\n/);
  const total = article.text.split(/\s+/).length;
  if (total < 200 || paragraphs.length < 3) return null;
  const kept: string[] = [];
  let words = 0;
  for (const paragraph of paragraphs) {
    if (kept.length > 0 && words >= total / 6) break;
    kept.push(paragraph);
    words += paragraph.split(/\s+/).length;
  }
  const escapeText = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;");
  return `<!doctype html><html><head><title>${escapeText(article.title ?? "")}</title></head><body><article><h1>${escapeText(article.title ?? "")}</h1>
${kept.map((p) => `<p>${escapeText(p)}</p>`).join("\n")}${after}</article></body></html>`;
}

interface SequenceFigures {
  articles: number;
  walls: number;
  captures: number;
  falseEdits: number;
  falseVersions: number;
  /** False edits and versions that held-out walls made, by held-out set. */
  heldOutFalseEdits: Record<string, number>;
  /** Walls whose capture failed (a plain `http_error`, as a dead link would) rather than got a class. */
  failedWalls: string[];
  details: string[];
}

/** A WSJ-style wall line after a teaser's paragraphs, outside the extracted text. */
const MEMBERSHIP_LINE =
  '<div class="snippet-promotion"><p>Continue reading your article with a Courier membership</p><a href="/subscribe">View membership options</a></div>';

async function runSequences(
  corpusIds: readonly string[],
  walls: readonly LabelledPage[],
): Promise<SequenceFigures> {
  const storage = await startEmbeddedStorage();
  const figures: SequenceFigures = {
    articles: 0,
    walls: 0,
    captures: 0,
    falseEdits: 0,
    falseVersions: 0,
    heldOutFalseEdits: Object.fromEntries(HELD_OUT_SETS.map((set) => [set.dir, 0])),
    failedWalls: [],
    details: [],
  };
  try {
    const step = Math.max(1, Math.floor(corpusIds.length / SEQUENCE_ARTICLES));
    for (let i = 0; i < corpusIds.length && figures.articles < SEQUENCE_ARTICLES; i += step) {
      const id = corpusIds[i] as string;
      const article = readCorpusPage(id).html;
      const url = `https://news.example/validity/${id}`;
      let serving: Omit<LabelledPage, "name" | "label"> = { html: article, status: 200, headers: {} };
      const capturer: PageCapturer = { capture: async (u) => asCapture(u, serving), close: async () => {} };
      const deps: ProcessCaptureDeps = captureDeps(storage, capturer, testCaptureOptions({}));
      /** One capture; a wall that fails the capture (an unrecognised 403) makes no version: null. */
      const captureWall = async (at = url) => {
        const captureId = await queuedCapture(storage.repository, at);
        const outcome = await processCapture(deps, captureId);
        figures.captures++;
        return outcome.kind === "succeeded" ? outcome.capture : null;
      };
      const capture = async (at = url) => {
        const done = await captureWall(at);
        if (!done) throw new Error(`${id}: the article's capture failed`);
        return done;
      };
      const first = await capture();
      if (first.validity !== "ok") continue; // an article the classifier rejects is counted in part 1
      figures.articles++;
      const teaser = cutShort(article, url);
      const membership = cutShort(article, url, MEMBERSHIP_LINE);
      const asTeaser = (name: string, html: string | null): LabelledPage[] =>
        html ? [{ name, html, label: "paywall", status: 200, headers: {} }] : [];
      const sequenceWalls: LabelledPage[] = [
        ...walls,
        ...asTeaser("cut-short teaser", teaser),
        ...asTeaser("first paragraphs and a membership line", membership),
      ];
      // Each held-out set runs on a URL of its own, so that what it gets wrong leaves the tuned
      // walls' history (and figures), and the other set's, as they would be without it.
      for (const set of HELD_OUT_SETS) await capture(`${url}/${set.dir}`);
      for (const wall of sequenceWalls) {
        figures.walls++;
        const at = wall.heldOut ? `${url}/${wall.heldOut}` : url;
        const before = (await storage.repository.listVersions(urlIdFor(at))).length;
        serving = wall;
        const walled = await captureWall(at);
        if (walled === null && figures.articles === 1) figures.failedWalls.push(wall.name);
        serving = { html: article, status: 200, headers: {} };
        const back = await capture(at);
        const after = await storage.repository.listVersions(urlIdFor(at));
        // A soft 404 is the article's removal, and its return a restoration: those two are right.
        const lifecycle = walled?.validity === "soft_404";
        const expected = lifecycle ? 2 : 0;
        const made = after.length - before;
        // An edit is false unless it is the removal and return a soft 404 is; each capture counts once.
        const falseEdits = [walled, back].filter(
          (c) =>
            c?.edit !== undefined &&
            (!lifecycle || c.edit.kinds.some((k) => k !== "removed_article" && k !== "restored_article")),
        ).length;
        if (made !== expected || falseEdits > 0) {
          figures.falseVersions += Math.max(0, made - expected);
          figures.falseEdits += falseEdits;
          if (wall.heldOut)
            figures.heldOutFalseEdits[wall.heldOut] =
              (figures.heldOutFalseEdits[wall.heldOut] ?? 0) + falseEdits + Math.max(0, made - expected);
          figures.details.push(
            `${id} + ${wall.name}: ${walled?.validity ?? "failed"} → ${made} version(s), ${falseEdits} edit(s)`,
          );
        }
      }
    }
  } finally {
    await storage.close();
  }
  return figures;
}

/** Runs both parts; null (with a message) when the corpus is absent. */
export async function runValidityBench(): Promise<BenchReport | null> {
  const ids = listCorpusIds();
  const loadBefore = loadavg()[0] ?? 0;
  if (ids.length === 0) {
    console.log("validity bench: the corpus is absent (../shared/corpus); skipped.");
    return null;
  }
  const walls = [
    ...wallPages(new URL("pages.json", FIXTURES)),
    ...HELD_OUT_SETS.flatMap((set) => wallPages(new URL(`${set.dir}/held-out.json`, FIXTURES), set.dir)),
  ];
  const results: Classified[] = [];
  for (const id of ids) {
    const page = readCorpusPage(id);
    results.push(
      classifyPage(
        { name: `corpus ${id}`, html: page.html, label: "ok", status: 200, headers: {} },
        page.url || `https://news.example/${id}`,
      ),
    );
  }
  for (const wall of walls) results.push(classifyPage(wall, `https://news.example/${wall.name}`));

  const truePositive = results.filter((r) => r.page.label === "ok" && r.predicted === "ok").length;
  const falsePositive = results.filter((r) => r.page.label !== "ok" && r.predicted === "ok").length;
  const falseNegative = results.filter((r) => r.page.label === "ok" && r.predicted !== "ok");
  const precision = truePositive / Math.max(1, truePositive + falsePositive);
  const recall = truePositive / Math.max(1, truePositive + falseNegative.length);
  const wallResults = (heldOut?: string) =>
    results.filter((r) => r.page.label !== "ok" && r.page.heldOut === heldOut);
  const tuned = wallResults();
  const heldOutSets = HELD_OUT_SETS.map((set) => ({ ...set, results: wallResults(set.dir) }));
  const heldOut = heldOutSets[0]?.results ?? [];
  const blind = heldOutSets[1]?.results ?? [];
  const right = (rs: Classified[]) => rs.filter((r) => r.predicted === r.page.label).length;
  const passedAsOk = (rs: Classified[]) => rs.filter((r) => r.predicted === "ok").length;
  const wallsRight = right(tuned) + heldOutSets.reduce((n, set) => n + right(set.results), 0);
  const classifyTimes = results.map((r) => r.classifyMs);
  const extractTimes = results.map((r) => r.extractMs);
  const ratios = results.map((r) => r.classifyMs / Math.max(0.01, r.extractMs));

  const sequences = await runSequences(ids, walls);
  const heldOutFalseEdits = Object.values(sequences.heldOutFalseEdits).reduce((n, v) => n + v, 0);

  const rejected = new Map<string, number>();
  for (const r of falseNegative) rejected.set(r.predicted, (rejected.get(r.predicted) ?? 0) + 1);
  const markdown = [
    "## Capture validity",
    "",
    `Labelled set: ${ids.length} corpus article pages (label \`ok\`) and ${walls.length} wall pages from`,
    "`test/fixtures/validity/` (challenges of Cloudflare, Akamai, DataDome, HUMAN, Imperva and captchas; consent",
    "walls of seven CMPs; paywalls; soft 404s; app shells; error pages; in six languages, and a blind set in nine),",
    "each extracted and classified as the capture worker does, without history.",
    "",
    "| Measure | Value | Target |",
    "| --- | --- | --- |",
    `| Precision of \`ok\` | ${precision.toFixed(4)} (${truePositive} of ${truePositive + falsePositive}) | 1.0: no wall passes as an article |`,
    `| Recall of \`ok\` | ${recall.toFixed(4)} (${truePositive} of ${truePositive + falseNegative.length}) | as high as the extractor allows |`,
    `| Walls given their own class, tuned set | ${right(tuned)} of ${tuned.length} (${passedAsOk(tuned)} passed as \`ok\`) | all |`,
    ...heldOutSets.map(
      (set) =>
        `| Walls given their own class, ${set.title} | ${right(set.results)} of ${set.results.length} (${passedAsOk(set.results)} passed as \`ok\`) | all |`,
    ),
    `| False edits and versions (wall sequences), tuned walls | ${sequences.falseEdits + sequences.falseVersions - heldOutFalseEdits} | 0 |`,
    ...heldOutSets.map(
      (set) =>
        `| False edits and versions (wall sequences), ${set.title} walls | ${sequences.heldOutFalseEdits[set.dir] ?? 0} | 0 |`,
    ),
    `| Classifier time per page (after extraction) | median ${median(classifyTimes).toFixed(2)} ms, p95 ${quantile(classifyTimes, 0.95).toFixed(2)} ms; extraction of the same pages median ${median(extractTimes).toFixed(1)} ms | |`,
    `| Classifier time / extraction time, per page | median ${median(ratios).toFixed(2)}× | well under 1× |`,
    "",
    "The first held-out set (test/fixtures/validity/held-out/) was written after the rules of the issue-15 audit were settled and measured blind once: 5 of 12 given their class, 5 passed as `ok`, 64 false edits and versions. Its misses were then fixed with general rules (the URL's history: a much shorter page sharing almost no content words with the last version is not the article; subscription-offer, registration, consent, outage and bot-check vocabulary in more languages), so its figures here are seen, not blind. Blind set 2 was written by someone who had not read the classifier, and measured after those fixes.",
    "",
    ...heldOutSets.flatMap((set) => [
      `Walls ${set.title} (test/fixtures/validity/${set.dir}/, ${set.about}): ${
        set.results
          .map(
            (r) =>
              `${r.page.name.replace(`${set.dir}/`, "")} → \`${r.predicted}\` (labelled \`${r.page.label}\`)`,
          )
          .join(", ") || "none"
      }.`,
      "",
    ]),
    `Corpus articles not called \`ok\`: ${[...rejected].map(([k, n]) => `${n} \`${k}\``).join(", ") || "none"}${
      falseNegative.length > 0
        ? ` (${falseNegative.map((r) => r.page.name.replace("corpus ", "")).join(", ")})`
        : ""
    }.`,
    "`empty` there means the extractor found no article text in the page; a `paywall` may be a page the corpus",
    'captured as a teaser (0221 ends "To read the rest of this story subscribe to STAT+").',
    "",
    `False edits: ${sequences.articles} corpus articles, each captured, then for every one of ${sequences.walls / Math.max(1, sequences.articles)} walls`,
    "(the wall pages above, each held-out set on a URL of its own, and the article cut to its first paragraphs, bare and with",
    "a membership line where it stops) wall → article again, through",
    `\`processCapture\` on the embedded S3 and DynamoDB: ${sequences.captures} captures. A soft 404's removal and return`,
    "are lifecycle events and not counted.",
    `Walls whose capture failed as a plain \`http_error\` (no version, no edit, but not told from a dead link): ${
      sequences.failedWalls.join(", ") || "none"
    }.`,
    "",
    `Load average (1 min) ${loadBefore.toFixed(1)} at the start and ${(loadavg()[0] ?? 0).toFixed(1)} at the end of the run, on 2 cores`,
    "shared with other work: times are inflated by about that factor; the ratio and the counts are not.",
    ...(sequences.details.length > 0 ? ["", ...sequences.details.slice(0, 20).map((d) => `- ${d}`)] : []),
  ].join("\n");
  return {
    markdown,
    figures: {
      corpusPages: ids.length,
      wallPages: walls.length,
      precisionOk: Number(precision.toFixed(4)),
      recallOk: Number(recall.toFixed(4)),
      wallsRight,
      tunedWallsRight: right(tuned),
      heldOutWalls: heldOut.length,
      heldOutWallsRight: right(heldOut),
      heldOutPassedAsOk: passedAsOk(heldOut),
      heldOutFalseEdits: sequences.heldOutFalseEdits["held-out"] ?? 0,
      blindWalls: blind.length,
      blindWallsRight: right(blind),
      blindPassedAsOk: passedAsOk(blind),
      blindFalseEdits: sequences.heldOutFalseEdits["held-out-2"] ?? 0,
      falseEdits: sequences.falseEdits,
      falseVersions: sequences.falseVersions,
      sequenceCaptures: sequences.captures,
      classifyMedianMs: Number(median(classifyTimes).toFixed(3)),
      classifyToExtractRatio: Number(median(ratios).toFixed(3)),
    },
  };
}

if (import.meta.main) {
  const report = await runValidityBench();
  if (report) console.log(`${report.markdown}\n\n${JSON.stringify(report.figures)}`);
}
