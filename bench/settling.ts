/**
 * Settling: whether the capturer's default settling, which takes a page as soon as it looks done,
 * keeps what a patient load keeps, on real news pages.
 *
 * A sample of the WCXB article pages (spread evenly over the corpus) is served from a loopback
 * HTTP server and captured by two capturers, each with its own browser: `fast` (the defaults) and
 * `patient` (`patientQuietMs: 1000`: every page must be quiet for a second before it is taken).
 * Each page is captured by both, in alternating order, then once more by the patient one: a page
 * whose two patient captures differ changes on its own (a clock, a random pick) and is counted
 * apart, not scored. On the others: the extracted article text (fast = patient after whitespace
 * normalisation), the page's visible text as a bag of tokens (recall of the patient tokens in the
 * fast capture), and the time each `capture()` took.
 *
 * The pages' own subresources point at public hosts; the capture browsers reach none of them: they
 * resolve no names (`--host-resolver-rules`), and their egress proxies let 127.0.0.1 through only
 * and connect to nothing else.
 *
 *   node bench/settling.ts [--pages 100]
 */

import { createServer, type Server } from "node:http";
import { performance } from "node:perf_hooks";
import { parseArgs } from "node:util";
import { parseHTML } from "linkedom";
import { createChromiumPageCapturer } from "../shared/adapters/chromium/page-capturer.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import { extractArticle } from "../shared/domain/extract/index.ts";
import { tokenOverlap, wordTokens } from "../shared/domain/extract/tokens.ts";
import { CaptureError } from "../shared/errors.ts";
import type { PageCaptureOptions, PageCapturer } from "../shared/ports.ts";
import { loopbackEgress, NO_DNS } from "../test/support/loopback-browser.ts";
import { type BenchReport, corpusDir, listCorpusIds, readCorpusPage } from "./extraction.ts";
import { median, ms, quantile, ratio } from "./stats.ts";

/** The patient load's quiet window. */
export const PATIENT_QUIET_MS = 1_000;
/** Pages whose visible-text recall is below this are listed as differing. */
const RECALL_BAR = 0.99;
/** Differing pages listed in the section. */
const LISTED_MAX = 10;
/** Characters of missing text shown per differing page. */
const EXCERPT_CHARS = 100;

type Run = "fast" | "patient" | "patient2";
const RUNS: readonly Run[] = ["fast", "patient", "patient2"];

/** What one capture of a page kept, reduced to what is compared. */
interface Taken {
  ms: number;
  /** The extracted article's paragraphs, whitespace-normalised; empty when there is no article. */
  paragraphs: string[];
  hasArticle: boolean;
  /** The page's text nodes (script, style, noscript, template left out), whitespace-normalised. */
  lines: string[];
  tokens: string[];
  retaken: boolean;
}

interface PageResult {
  id: string;
  /** Tokens of the visible text of the page as served, before any script ran. */
  servedTokens: string[];
  taken: Partial<Record<Run, Taken>>;
  failures: Partial<Record<Run, string>>;
}

export interface DifferingPage {
  id: string;
  articleSame: boolean;
  recall: number;
  /** What the fast capture lacked (or, when it lacked nothing, had on top). */
  lacked: string;
}

export interface UnstablePage {
  id: string;
  article: boolean;
  visible: boolean;
  /** What the second patient capture lacked (or had on top) against the first. */
  change: string;
}

export interface SettlingFigures {
  corpus: string;
  corpusPages: number;
  sampled: number;
  /** Pages all three captures succeeded on. */
  captured: number;
  /** Pages one capture or more failed on; `failureCodes` says which and why. */
  failed: number;
  failureCodes: Record<string, number>;
  unstable: UnstablePage[];
  /** Captured pages whose two patient captures agree: the ones scored. */
  stable: number;
  articleIdentical: number;
  /**
   * Scored pages whose visible text (as a bag of tokens) the page's own scripts changed: the
   * patient capture's differs from the served HTML's. Only on these can settling make a difference.
   */
  scriptChanged: number;
  /** Stable pages where neither capture had an article. */
  bothNoArticle: number;
  recallMean: number;
  recallMin: number;
  belowBar: number;
  differing: DifferingPage[];
  /** Over the captured pages. */
  fastMedianMs: number;
  patientMedianMs: number;
  fastP95Ms: number;
  patientP95Ms: number;
  /** Median of the per-page ratios patient / fast. */
  pairedRatioMedian: number;
  /** Fast captures the capturer took a second time because the page changed while it was taken. */
  fastRetaken: number;
  /** Connections the egress proxies tried to open to anything but 127.0.0.1 (refused). */
  refusedConnections: number;
  totalSeconds: number;
}

/** Capture limits as in production (`loadCaptureConfig({})`), with the waits a benchmark can afford. */
export function settlingCaptureOptions(): PageCaptureOptions {
  const config = loadCaptureConfig({});
  return {
    navigationTimeoutMs: 15_000,
    idleTimeoutMs: 10_000,
    screenshotMaxHeight: config.screenshotMaxHeight,
    inlineResourceMaxBytes: config.inlineResourceMaxBytes,
    inlineTotalMaxBytes: config.inlineTotalMaxBytes,
    totalTimeoutMs: config.totalTimeoutMs,
    maxRedirects: config.maxRedirects,
    maxDomElements: config.maxDomElements,
  };
}

/** `count` ids spread evenly over `ids`, in corpus order. */
export function spreadSample(ids: readonly string[], count: number): string[] {
  if (count >= ids.length) return [...ids];
  const out: string[] = [];
  for (let i = 0; i < count; i++) {
    const id = ids[Math.floor(((i + 0.5) * ids.length) / count)];
    if (id !== undefined) out.push(id);
  }
  return out;
}

/** Serves `/page/<id>.html` for the sampled ids, and 404 for anything else. */
export async function startCorpusServer(
  ids: readonly string[],
  dir: string,
): Promise<{ origin: string; close(): Promise<void> }> {
  const wanted = new Set(ids);
  const server: Server = createServer((req, res) => {
    const match = /^\/page\/(\d+)\.html$/.exec(new URL(req.url ?? "/", "http://x").pathname);
    const id = match?.[1];
    if (req.method !== "GET" || id === undefined || !wanted.has(id)) {
      res.writeHead(404, { "content-type": "text/plain; charset=utf-8" }).end("not found");
      return;
    }
    const body = Buffer.from(readCorpusPage(id, dir).html, "utf8");
    res
      .writeHead(200, {
        "content-type": "text/html; charset=utf-8",
        "content-length": body.length,
        "cache-control": "no-store",
      })
      .end(body);
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no server address");
  return {
    origin: `http://127.0.0.1:${address.port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const normalise = (text: string): string => text.replace(/\s+/g, " ").trim();

/** The text nodes of the page's body (or document), in order, without script, style and the like. */
export function visibleLines(html: string): string[] {
  const { document } = parseHTML(html);
  for (const element of [...document.querySelectorAll("script, style, noscript, template")]) {
    element.remove();
  }
  const root = document.body ?? document.documentElement;
  const lines: string[] = [];
  if (!root) return lines;
  // Iterative: news pages can be deeper than the stack allows.
  const stack: Node[] = [root];
  while (stack.length > 0) {
    const node = stack.pop() as Node;
    if (node.nodeType === 3) {
      const text = normalise(node.textContent ?? "");
      if (text !== "") lines.push(text);
      continue;
    }
    const children = node.childNodes;
    for (let i = children.length - 1; i >= 0; i--) {
      const child = children[i];
      if (child) stack.push(child);
    }
  }
  return lines;
}

const tokensOf = (lines: readonly string[]): string[] => wordTokens(lines.join("\n"));
export const visibleTokens = (html: string): string[] => tokensOf(visibleLines(html));

function reduce(renderedHtml: string, url: string, ms: number, retaken: boolean): Taken {
  const article = extractArticle(renderedHtml, { url });
  const paragraphs = (article?.text ?? "")
    .split(/\n\s*\n/)
    .map(normalise)
    .filter((p) => p !== "");
  const lines = visibleLines(renderedHtml);
  return {
    ms,
    paragraphs,
    hasArticle: article !== null,
    lines,
    tokens: tokensOf(lines),
    retaken,
  };
}

const articleText = (t: Taken): string => t.paragraphs.join(" ");

/** Recall of `reference`'s tokens in `candidate` (1 when the reference has none). */
/** The share of `reference`'s tokens (as a multiset) that `candidate` has too. */
export function tokenRecall(candidate: readonly string[], reference: readonly string[]): number {
  return reference.length === 0 ? 1 : tokenOverlap(candidate, reference) / reference.length;
}

/**
 * The first pieces (paragraphs or text nodes) of `reference` that `candidate` lacks, up to
 * EXCERPT_CHARS; when it lacks none, the first it has on top, marked so.
 */
function describeMissing(candidate: readonly string[], reference: readonly string[]): string {
  const missing = multisetMinus(reference, candidate);
  if (missing.length > 0) return `${missing.length} missing: ${excerpt(missing)}`;
  const extra = multisetMinus(candidate, reference);
  if (extra.length > 0) return `nothing missing; ${extra.length} extra: ${excerpt(extra)}`;
  return "same pieces, other order";
}

/** Items of `a` (in order) left over after taking away those of `b`. */
function multisetMinus(a: readonly string[], b: readonly string[]): string[] {
  const remaining = new Map<string, number>();
  for (const item of b) remaining.set(item, (remaining.get(item) ?? 0) + 1);
  const out: string[] = [];
  for (const item of a) {
    const n = remaining.get(item) ?? 0;
    if (n > 0) remaining.set(item, n - 1);
    else out.push(item);
  }
  return out;
}

function excerpt(pieces: readonly string[]): string {
  const text = `“${pieces.join(" / ")}”`;
  return text.length <= EXCERPT_CHARS + 2 ? text : `“${text.slice(1, EXCERPT_CHARS + 1)}…”`;
}

const sameSequence = (a: readonly string[], b: readonly string[]): boolean =>
  a.length === b.length && a.every((item, i) => item === b[i]);

function failureCode(err: unknown): string {
  if (err instanceof CaptureError) return err.code;
  return `error (${(err as Error).message?.split("\n")[0]?.slice(0, 80) ?? String(err)})`;
}

export async function measureSettling(
  options: { pages?: number; log?: (line: string) => void } = {},
): Promise<SettlingFigures | null> {
  const log = options.log ?? ((line: string) => console.log(line));
  const dir = corpusDir();
  const all = listCorpusIds(dir);
  if (all.length === 0) {
    log(`settling: corpus not found at ${dir} (set CORPUS_DIR); skipping.`);
    return null;
  }
  const ids = spreadSample(all, options.pages ?? 100);
  const captureOptions = settlingCaptureOptions();
  const executablePath = loadCaptureConfig({}).chromiumPath;
  const refused: string[] = [];
  const started = performance.now();
  const server = await startCorpusServer(ids, dir);
  const capturers: Record<"fast" | "patient", PageCapturer> = {
    fast: createChromiumPageCapturer({
      executablePath,
      extraArgs: [NO_DNS],
      egress: loopbackEgress(refused),
    }),
    patient: createChromiumPageCapturer({
      executablePath,
      extraArgs: [NO_DNS],
      egress: loopbackEgress(refused),
      patientQuietMs: PATIENT_QUIET_MS,
    }),
  };
  const results: PageResult[] = [];
  try {
    // Launch both browsers and warm every code path once; not counted.
    const warmUp = `${server.origin}/page/${ids[0]}.html`;
    for (const capturer of Object.values(capturers)) {
      await capturer.capture(warmUp, captureOptions).catch(() => undefined);
    }
    for (const [index, id] of ids.entries()) {
      const url = `${server.origin}/page/${id}.html`;
      const served = readCorpusPage(id, dir).html;
      const result: PageResult = { id, servedTokens: visibleTokens(served), taken: {}, failures: {} };
      // Alternate which browser goes first; the second patient capture always comes last.
      const order: Run[] =
        index % 2 === 0 ? ["fast", "patient", "patient2"] : ["patient", "fast", "patient2"];
      for (const run of order) {
        const capturer = run === "fast" ? capturers.fast : capturers.patient;
        const begun = performance.now();
        try {
          const capture = await capturer.capture(url, captureOptions);
          const elapsed = performance.now() - begun;
          result.taken[run] = reduce(capture.renderedHtml, url, elapsed, capture.timings.retaken === 1);
        } catch (err) {
          result.failures[run] = failureCode(err);
        }
      }
      results.push(result);
      if ((index + 1) % 10 === 0 || index + 1 === ids.length) {
        const seconds = ((performance.now() - started) / 1000).toFixed(0);
        log(`settling: ${index + 1}/${ids.length} pages (${seconds} s)`);
      }
    }
  } finally {
    await Promise.all(Object.values(capturers).map((c) => c.close())); // closes the egress proxies too
    await server.close();
  }
  return summarise(results, {
    corpus: dir,
    corpusPages: all.length,
    refused: refused.length,
    totalSeconds: (performance.now() - started) / 1000,
  });
}

function summarise(
  results: readonly PageResult[],
  context: { corpus: string; corpusPages: number; refused: number; totalSeconds: number },
): SettlingFigures {
  const failureCodes: Record<string, number> = {};
  const unstable: UnstablePage[] = [];
  const differing: DifferingPage[] = [];
  const recalls: number[] = [];
  const fastTimes: number[] = [];
  const patientTimes: number[] = [];
  const pairedRatios: number[] = [];
  let captured = 0;
  let failed = 0;
  let articleIdentical = 0;
  let bothNoArticle = 0;
  let scriptChanged = 0;
  let fastRetaken = 0;
  for (const result of results) {
    const { fast, patient, patient2 } = result.taken;
    if (fast === undefined || patient === undefined || patient2 === undefined) {
      failed++;
      for (const run of RUNS) {
        const code = result.failures[run];
        if (code !== undefined) failureCodes[`${run}: ${code}`] = (failureCodes[`${run}: ${code}`] ?? 0) + 1;
      }
      continue;
    }
    captured++;
    fastTimes.push(fast.ms);
    patientTimes.push(patient.ms);
    pairedRatios.push(patient.ms / fast.ms);
    if (fast.retaken) fastRetaken++;

    const articleStable =
      articleText(patient) === articleText(patient2) && patient.hasArticle === patient2.hasArticle;
    const visibleStable = sameSequence(patient.tokens, patient2.tokens);
    if (!articleStable || !visibleStable) {
      unstable.push({
        id: result.id,
        article: !articleStable,
        visible: !visibleStable,
        change: articleStable
          ? `visible: ${describeMissing(patient2.lines, patient.lines)}`
          : `article: ${describeMissing(patient2.paragraphs, patient.paragraphs)}`,
      });
      continue;
    }

    const overlap = tokenOverlap(result.servedTokens, patient.tokens);
    if (overlap !== patient.tokens.length || overlap !== result.servedTokens.length) scriptChanged++;
    const articleSame = articleText(fast) === articleText(patient) && fast.hasArticle === patient.hasArticle;
    if (articleSame) articleIdentical++;
    if (articleSame && !patient.hasArticle) bothNoArticle++;
    const recall = tokenRecall(fast.tokens, patient.tokens);
    recalls.push(recall);
    if (!articleSame || recall < RECALL_BAR) {
      let lacked: string;
      if (!articleSame && !fast.hasArticle) lacked = "article: no article at all";
      else if (!articleSame) lacked = `article: ${describeMissing(fast.paragraphs, patient.paragraphs)}`;
      else lacked = `visible: ${describeMissing(fast.lines, patient.lines)}`;
      differing.push({ id: result.id, articleSame, recall, lacked });
    }
  }
  const stable = recalls.length;
  return {
    corpus: context.corpus,
    corpusPages: context.corpusPages,
    sampled: results.length,
    captured,
    failed,
    failureCodes,
    unstable,
    stable,
    articleIdentical,
    scriptChanged,
    bothNoArticle,
    recallMean: stable === 0 ? 0 : recalls.reduce((a, b) => a + b, 0) / stable,
    recallMin: stable === 0 ? 0 : Math.min(...recalls),
    belowBar: recalls.filter((r) => r < RECALL_BAR).length,
    differing,
    fastMedianMs: median(fastTimes),
    patientMedianMs: median(patientTimes),
    fastP95Ms: quantile(fastTimes, 0.95),
    patientP95Ms: quantile(patientTimes, 0.95),
    pairedRatioMedian: median(pairedRatios),
    fastRetaken,
    refusedConnections: context.refused,
    totalSeconds: context.totalSeconds,
  };
}

/** A table cell: no pipes or line breaks. */
const cell = (text: string): string => text.replace(/\|/g, "\\|").replace(/\s+/g, " ");

/** The settling section of BENCHMARKS.md; null when the corpus is absent. */
export async function runSettlingBench(options: { pages?: number } = {}): Promise<BenchReport | null> {
  const f = await measureSettling(options);
  if (f === null) return null;
  const failures = Object.entries(f.failureCodes)
    .sort((a, b) => b[1] - a[1])
    .map(([code, n]) => `${code} ×${n}`)
    .join(", ");
  const timeRatio = f.fastMedianMs === 0 ? 0 : f.patientMedianMs / f.fastMedianMs;
  const pct = (n: number, total: number): string =>
    total === 0 ? "–" : `${((100 * n) / total).toFixed(1)} %`;
  const listed = f.differing.slice(0, LISTED_MAX);
  const unstableKinds = {
    article: f.unstable.filter((u) => u.article).length,
    visibleOnly: f.unstable.filter((u) => !u.article && u.visible).length,
  };
  const markdown = [
    "## Settling",
    "",
    "Whether the capturer's default settling, which takes a page as soon as it looks done, keeps what",
    `a patient load keeps. ${f.sampled} WCXB article pages (spread evenly over the ${f.corpusPages}), served from 127.0.0.1, are`,
    `captured by two browsers — *fast* (the defaults) and *patient* (\`patientQuietMs: ${PATIENT_QUIET_MS}\`: every page quiet`,
    "for a full second before it is taken) — in alternating order, then once more by the patient one; a page whose",
    "two patient captures differ changes on its own (clocks, random picks) and is counted apart, not scored.",
    "Compared: the extracted article text (whitespace aside), the visible text as a bag of tokens (script, style",
    "and noscript left out; recall of the patient capture's tokens in the fast one) and the time each `capture()`",
    "took. The pages' subresources point at public hosts, which the browsers never reach (no name resolves, the",
    "egress proxy connects to 127.0.0.1 only), so only their inline scripts run: settling can only matter on the",
    "pages whose visible text those scripts change. Capture limits as in production except navigation 15 s and idle 10 s.",
    "",
    "| | figure |",
    "| --- | ---: |",
    `| pages captured (all three captures) | ${f.captured}/${f.sampled} |`,
    `| pages failed | ${f.failed}${failures ? ` (${cell(failures)})` : ""} |`,
    `| pages unstable (patient ≠ patient again), not scored | ${f.unstable.length} (article text ${unstableKinds.article}, visible text only ${unstableKinds.visibleOnly}) |`,
    `| pages scored | ${f.stable} |`,
    `| … whose scripts changed the visible text (patient ≠ served HTML) | ${f.scriptChanged}/${f.stable} |`,
    `| article text identical, fast vs patient | **${f.articleIdentical}/${f.stable}** (${pct(f.articleIdentical, f.stable)}; ${f.bothNoArticle} with no article in either) |`,
    `| visible-text token recall, mean | **${f.recallMean.toFixed(4)}** |`,
    `| visible-text token recall, minimum | ${f.recallMin.toFixed(4)} |`,
    `| pages with recall < ${RECALL_BAR} | ${f.belowBar}/${f.stable} |`,
    `| capture time median, fast / patient | ${ms(f.fastMedianMs)} / ${ms(f.patientMedianMs)} (patient ${ratio(timeRatio)}; median paired ratio ${ratio(f.pairedRatioMedian)}) |`,
    `| capture time p95, fast / patient | ${ms(f.fastP95Ms)} / ${ms(f.patientP95Ms)} |`,
    `| fast captures retaken (page changed while taken) | ${f.fastRetaken}/${f.captured} |`,
    `| connections refused outside 127.0.0.1 | ${f.refusedConnections} |`,
    "",
    ...(listed.length === 0
      ? [
          "No scored page differed: the fast capture kept the same article text and visible text on every one.",
        ]
      : [
          `Pages that differed (${f.differing.length}${f.differing.length > listed.length ? `, first ${listed.length}` : ""}), with what the fast capture lacked:`,
          "",
          "| page | article text | visible recall | fast lacked |",
          "| --- | --- | ---: | --- |",
          ...listed.map(
            (d) =>
              `| ${d.id} | ${d.articleSame ? "same" : "**differs**"} | ${d.recall.toFixed(4)} | ${cell(d.lacked)} |`,
          ),
        ]),
    ...(f.unstable.length === 0
      ? []
      : [
          "",
          `Unstable pages: ${f.unstable
            .slice(0, LISTED_MAX)
            .map((u) => `${u.id} (${cell(u.change)})`)
            .join("; ")}${f.unstable.length > LISTED_MAX ? "; …" : ""}.`,
        ]),
  ].join("\n");
  const figures: Record<string, number> = {
    sampled: f.sampled,
    captured: f.captured,
    failed: f.failed,
    unstable: f.unstable.length,
    scored: f.stable,
    scriptChanged: f.scriptChanged,
    articleIdentical: f.articleIdentical,
    recallMean: round4(f.recallMean),
    recallMin: round4(f.recallMin),
    belowBar: f.belowBar,
    differing: f.differing.length,
    fastMedianMs: Math.round(f.fastMedianMs),
    patientMedianMs: Math.round(f.patientMedianMs),
    timeRatio: Math.round(timeRatio * 100) / 100,
    pairedRatioMedian: Math.round(f.pairedRatioMedian * 100) / 100,
    fastRetaken: f.fastRetaken,
    refusedConnections: f.refusedConnections,
    totalSeconds: Math.round(f.totalSeconds),
  };
  return { markdown, figures };
}

const round4 = (value: number): number => Math.round(value * 10_000) / 10_000;

if (import.meta.main) {
  const { values } = parseArgs({ options: { pages: { type: "string" } } });
  const pages = values.pages === undefined ? undefined : Number(values.pages);
  if (pages !== undefined && !(Number.isInteger(pages) && pages > 0)) {
    console.error("usage: node bench/settling.ts [--pages N]");
    process.exitCode = 2;
  } else {
    const report = await runSettlingBench({ pages });
    if (report !== null) {
      console.log(report.markdown);
      console.log(JSON.stringify(report.figures));
    }
  }
}
