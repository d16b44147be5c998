/**
 * The composition root (issue 13) before and after, in one run: the capture handler's latency
 * (an SQS event in, the capture `succeeded` out, through Powertools batch, logger and EMF metrics
 * after; through the hand-written loop and logger before) and the API function's bundle size and
 * cold init (after: config parsed and clients created at import; before: on the first request).
 *
 * "Before" is the revision just before the composition root, taken with `git archive` into a
 * temp directory (its imports resolve this checkout's node_modules through a symlink), so both
 * sides run on the same machine, servers, browser binary and pages, interleaved.
 *
 *   node bench/composition.ts [--rounds 6] [--before <git revision>]
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import type { Context, SQSBatchResponse, SQSEvent } from "aws-lambda";
import { build } from "esbuild";
import { createCaptureHandler } from "../functions/capture/capture-batch.ts";
import { loadCaptureConfig } from "../shared/config.ts";
import { METRICS_NAMESPACE } from "../shared/metric-names.ts";
import { createEmfMetrics } from "../shared/metrics.ts";
import type { CaptureMessage } from "../shared/ports.ts";
import { startFixtureSite } from "../test/support/fixture-site.ts";
import { BENCH_PAGES, pageUrl, registerSyntheticPages } from "./bench-pages.ts";
import { toEsbuildOptions } from "./bundles.ts";
import { type CaptureRig, connectCaptureRig, startStorageServers } from "./capture-rig.ts";
import type { BenchReport } from "./extraction.ts";
import { bytes, median, ms, quantile, ratio } from "./stats.ts";

const REPO_ROOT = resolve(import.meta.dirname, "..");
/** The last commit before the composition root. */
export const BEFORE_REVISION = "2ea5e1e";

/** What the API function's template gives it (resource names are placeholders: no request is sent). */
const FUNCTION_ENV = {
  TABLE_NAME: "palimpsest-bench",
  BUCKET_NAME: "palimpsest-bench",
  QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/palimpsest-captures",
  INTERACTIVE_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/palimpsest-interactive",
  POLL_QUEUE_URL: "https://sqs.us-east-1.amazonaws.com/000000000000/palimpsest-polls",
  AWS_REGION: "us-east-1",
  AWS_ACCESS_KEY_ID: "bench",
  AWS_SECRET_ACCESS_KEY: "bench",
  LOG_LEVEL: "silent",
};

type CaptureHandler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

interface Side {
  name: "before" | "after";
  rig: CaptureRig;
  handler: CaptureHandler;
  samples: number[];
}

/** An API bundle to build: its source tree and whether Node maps its stacks as it loads it. */
interface ApiTree {
  name: string;
  root: string;
  /** `NODE_OPTIONS=--enable-source-maps`, as that revision deployed the API (or not). */
  sourceMaps: boolean;
}

/** One API bundle's size and cold start, medians of fresh processes. */
export interface ApiInitFigures {
  name: string;
  codeBytes: number;
  /** Wall time of the import (the init phase). */
  initMs: number;
  /** CPU time (user + system) the import took: less swayed than wall time by a loaded machine. */
  initCpuMs: number;
  /** The CPU time's first and third quartiles: how far one process strays from the median. */
  initCpuQuartilesMs: [number, number];
  firstAnswerMs: number;
}

export interface CompositionFigures {
  rounds: number;
  /** The machine's 1-minute load average at the start and at the end of the run. */
  load: [number, number];
  capture: Array<{ name: string; p50: number; n: number }>;
  api: ApiInitFigures[];
}

const context = {
  functionName: "palimpsest-capture",
  awsRequestId: "bench",
  getRemainingTimeInMillis: () => 900_000,
} as unknown as Context;

function sqsEvent(captureId: string): SQSEvent {
  const now = String(Date.now());
  return {
    Records: [
      {
        messageId: `bench-${captureId}`,
        receiptHandle: "bench",
        body: JSON.stringify({ captureId }),
        attributes: {
          ApproximateReceiveCount: "1",
          SentTimestamp: now,
          SenderId: "bench",
          ApproximateFirstReceiveTimestamp: now,
        },
        messageAttributes: {},
        md5OfBody: "",
        eventSource: "aws:sqs",
        eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:palimpsest-captures",
        awsRegion: "us-east-1",
      },
    ],
  };
}

/** The revision's source tree in a temp directory, resolving this checkout's packages. */
function checkOut(revision: string): string {
  const dir = mkdtempSync(join(tmpdir(), "palimpsest-before-"));
  const tar = join(dir, "tree.tar");
  const paths = ["functions", "shared", "bench", "local", "test/support", "infra"];
  execFileSync("git", ["-C", REPO_ROOT, "archive", "-o", tar, revision, ...paths]);
  execFileSync("tar", ["-x", "-f", tar, "-C", dir]);
  symlinkSync(join(REPO_ROOT, "node_modules"), join(dir, "node_modules"));
  return dir;
}

/**
 * A fresh node process imports the bundle with the function's environment, then answers one
 * request that touches no AWS service (a 404): the import's time, and the time to that first
 * answer — what a cold start costs whether the wiring runs at import (after) or on the first
 * request (before).
 */
function coldStartMs(
  file: string,
  sourceMaps: boolean,
): { importMs: number; importCpuMs: number; firstAnswerMs: number } {
  const event = {
    httpMethod: "GET",
    path: "/v1/nothing-here",
    headers: {},
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters: null,
    stageVariables: null,
    body: null,
    isBase64Encoded: false,
    resource: "/{proxy+}",
    requestContext: { requestId: "bench" },
  };
  const context = { functionName: "palimpsest-api", awsRequestId: "bench" };
  const script = [
    "const t = performance.now();",
    "const cpu = process.cpuUsage();",
    `const m = await import(${JSON.stringify(pathToFileURL(file).href)});`,
    "const imported = performance.now() - t;",
    "const used = process.cpuUsage(cpu);",
    `const answer = await m.handler(${JSON.stringify(event)}, { ...${JSON.stringify(context)}, getRemainingTimeInMillis: () => 29000 });`,
    'if (answer.statusCode !== 404) throw new Error("expected 404, got " + answer.statusCode);',
    "process.stdout.write(JSON.stringify([imported, performance.now() - t, (used.user + used.system) / 1000]));",
  ].join("\n");
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], {
    env: {
      PATH: process.env.PATH ?? "",
      NODE_OPTIONS: sourceMaps ? "--enable-source-maps" : "",
      ...FUNCTION_ENV,
    },
    encoding: "utf8",
  });
  const [importMs, firstAnswerMs, importCpuMs] = JSON.parse(out) as [number, number, number];
  return { importMs, importCpuMs, firstAnswerMs };
}

async function measureApiBundles(trees: ApiTree[], runs: number) {
  const { bundlingOptions } = await import("../infra/constructs/palimpsest-function.ts");
  const out = mkdtempSync(join(tmpdir(), "palimpsest-compose-bundles-"));
  try {
    const built = [];
    for (const tree of trees) {
      const outdir = join(out, tree.name);
      mkdirSync(outdir, { recursive: true });
      const options = toEsbuildOptions("functions/api/handler.ts", outdir, bundlingOptions({}));
      await build({ ...options, entryPoints: [join(tree.root, "functions/api/handler.ts")] });
      built.push({
        name: tree.name,
        sourceMaps: tree.sourceMaps,
        file: options.outfile as string,
        inits: [] as number[],
        cpus: [] as number[],
        firsts: [] as number[],
      });
    }
    for (let run = 0; run < runs; run++) {
      // Interleaved, the order alternating, so that the machine's load falls on every side alike.
      for (const b of run % 2 === 0 ? built : [...built].reverse()) {
        const cold = coldStartMs(b.file, b.sourceMaps);
        b.inits.push(cold.importMs);
        b.cpus.push(cold.importCpuMs);
        b.firsts.push(cold.firstAnswerMs);
      }
    }
    return built.map((b) => ({
      name: b.name,
      codeBytes: statSync(b.file).size,
      initMs: median(b.inits),
      initCpuMs: median(b.cpus),
      initCpuQuartilesMs: [quantile(b.cpus, 0.25), quantile(b.cpus, 0.75)] as [number, number],
      firstAnswerMs: median(b.firsts),
    }));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
}

export async function measureComposition(
  options: { rounds?: number; before?: string } = {},
): Promise<CompositionFigures> {
  const rounds = options.rounds ?? 6;
  const loadAtStart = loadavg()[0] ?? 0;
  const beforeRoot = checkOut(options.before ?? BEFORE_REVISION);
  try {
    const { API_SOURCE_MAPS_AT_RUNTIME } = await import("../infra/constructs/api-function.ts");
    const api = await measureApiBundles(
      [
        { name: "before", root: beforeRoot, sourceMaps: true },
        { name: "after", root: REPO_ROOT, sourceMaps: API_SOURCE_MAPS_AT_RUNTIME },
      ],
      7,
    );
    const servers = await startStorageServers();
    const site = await startFixtureSite();
    registerSyntheticPages(site);
    const rigOptions = { allowedHost: new URL(site.origin).host, config: loadCaptureConfig({}) };
    const sides: Side[] = [];
    try {
      // Before: the old rig's worker behind the old handler (its loop and hand-written logger).
      const old = (await import(pathToFileURL(join(beforeRoot, "bench/capture-rig.ts")).href)) as {
        connectCaptureRig: typeof connectCaptureRig;
      };
      const oldHandler = (await import(
        pathToFileURL(join(beforeRoot, "functions/capture/handler.ts")).href
      )) as {
        createCaptureHandler: (deps: unknown) => CaptureHandler;
      };
      const noQueue = { enqueue: async (_message: CaptureMessage) => undefined };
      const beforeRig = await old.connectCaptureRig(servers, rigOptions);
      sides.push({
        name: "before",
        rig: beforeRig,
        handler: oldHandler.createCaptureHandler({ ...beforeRig.deps, queue: noQueue }),
        samples: [],
      });
      // After: the composed worker behind Powertools batch, with EMF metrics written as on Lambda.
      const afterRig = await connectCaptureRig(servers, rigOptions);
      sides.push({
        name: "after",
        rig: afterRig,
        handler: createCaptureHandler({
          ...afterRig.deps,
          metrics: createEmfMetrics({ namespace: METRICS_NAMESPACE }),
        }),
        samples: [],
      });
      const runOne = async (side: Side, url: string, record: boolean) => {
        const captureId = await side.rig.submit(url);
        const started = performance.now();
        const result = await side.handler(sqsEvent(captureId), context);
        const elapsed = performance.now() - started;
        const capture = await side.rig.repository.getCapture(captureId);
        if (result.batchItemFailures.length > 0 || capture?.status !== "succeeded") {
          throw new Error(`${side.name}: capture of ${url} ended ${capture?.status}`);
        }
        if (record) side.samples.push(elapsed);
      };
      for (const page of BENCH_PAGES) {
        for (const side of sides) await runOne(side, pageUrl(site, page, `warm-${side.name}`), false);
      }
      for (let round = 0; round < rounds; round++) {
        const order = round % 2 === 0 ? sides : [...sides].reverse();
        for (const page of BENCH_PAGES) {
          for (const side of order) await runOne(side, pageUrl(site, page, `r${round}-${side.name}`), true);
        }
      }
    } finally {
      for (const side of sides) await side.rig.close();
      await site.close();
      await servers.close();
    }
    return {
      rounds,
      load: [loadAtStart, loadavg()[0] ?? 0],
      capture: sides.map((s) => ({ name: s.name, p50: median(s.samples), n: s.samples.length })),
      api,
    };
  } finally {
    rmSync(beforeRoot, { recursive: true, force: true });
  }
}

export async function runCompositionBench(
  options: { rounds?: number; before?: string } = {},
): Promise<BenchReport> {
  const f = await measureComposition(options);
  const [capBefore, capAfter] = f.capture;
  const [apiBefore, apiAfter] = f.api;
  const markdown = [
    "## Composition root: before and after",
    "",
    `Issue 13 moved the wiring into \`functions/compose/\`, config to the init phase, SQS batches to`,
    "Powertools batch, logs to Powertools Logger and added EMF metrics. Both sides in one run on the",
    `same embedded servers, Chromium binary and bench pages: *before* is revision \`${BEFORE_REVISION}\``,
    `(checked out by the bench), *after* this checkout. ${cpus().length} cores, 1-minute load average`,
    `${f.load[0].toFixed(1)} at the start and ${f.load[1].toFixed(1)} at the end: other work shared the machine, so compare`,
    "the two sides with each other, not with other sections.",
    "",
    `Capture handler: an SQS event of one message in, the capture \`succeeded\` out, ${f.rounds} rounds`,
    "over the six bench pages, sides interleaved (order alternating each round), browsers warm.",
    "",
    "| | before | after | after / before |",
    "| --- | ---: | ---: | ---: |",
    `| capture handler p50 (${capAfter?.n ?? 0} captures a side) | ${ms(capBefore?.p50 ?? 0)} | ${ms(capAfter?.p50 ?? 0)} | ${ratio((capAfter?.p50 ?? 0) / (capBefore?.p50 ?? 1))} |`,
    `| API bundle (as deployed) | ${bytes(apiBefore?.codeBytes ?? 0)} | ${bytes(apiAfter?.codeBytes ?? 0)} | ${ratio((apiAfter?.codeBytes ?? 0) / (apiBefore?.codeBytes ?? 1))} |`,
    `| API cold init: the import (median of 7, \`NODE_OPTIONS\` as deployed) | ${ms(apiBefore?.initMs ?? 0)} | ${ms(apiAfter?.initMs ?? 0)} | ${ratio((apiAfter?.initMs ?? 0) / (apiBefore?.initMs ?? 1))} |`,
    `| API cold start: import and first answer (a 404, no AWS call) | ${ms(apiBefore?.firstAnswerMs ?? 0)} | ${ms(apiAfter?.firstAnswerMs ?? 0)} | ${ratio((apiAfter?.firstAnswerMs ?? 0) / (apiBefore?.firstAnswerMs ?? 1))} |`,
    "",
    "The API's import now includes what its first request used to do: parsing config and creating",
    "the DynamoDB and SQS clients (the function's environment, placeholder resource names; nothing",
    "is sent), so the like-for-like figure is the cold start to the first answer. The bundle grew by",
    "Powertools Logger (about 22 KB minified), the one logger every function now shares.",
  ].join("\n");
  return {
    markdown,
    figures: {
      captureP50BeforeMs: capBefore?.p50 ?? 0,
      captureP50AfterMs: capAfter?.p50 ?? 0,
      apiBytesBefore: apiBefore?.codeBytes ?? 0,
      apiBytesAfter: apiAfter?.codeBytes ?? 0,
      apiInitBeforeMs: apiBefore?.initMs ?? 0,
      apiInitAfterMs: apiAfter?.initMs ?? 0,
      apiFirstAnswerBeforeMs: apiBefore?.firstAnswerMs ?? 0,
      apiFirstAnswerAfterMs: apiAfter?.firstAnswerMs ?? 0,
    },
  };
}

/**
 * The API function's cold init alone, in one run: before the composition root (Node's source maps
 * on, as it was deployed), this checkout with Node's source maps on, and this checkout as deployed
 * (`NODE_OPTIONS` without them: the logger maps logged stacks on first use). Interleaved fresh
 * processes; wall and CPU time of the import, and the time to a first answer.
 */
export async function runApiInitBench(options: { runs?: number } = {}): Promise<BenchReport> {
  const runs = options.runs ?? 31;
  const loadAtStart = loadavg()[0] ?? 0;
  const { API_SOURCE_MAPS_AT_RUNTIME } = await import("../infra/constructs/api-function.ts");
  const beforeRoot = checkOut(BEFORE_REVISION);
  let api: ApiInitFigures[];
  try {
    api = await measureApiBundles(
      [
        {
          name: `before the composition root (\`${BEFORE_REVISION}\`), source maps on`,
          root: beforeRoot,
          sourceMaps: true,
        },
        { name: "this checkout, Node's source maps on", root: REPO_ROOT, sourceMaps: true },
        {
          name: `this checkout as deployed (source maps ${API_SOURCE_MAPS_AT_RUNTIME ? "on" : "on first logged error"})`,
          root: REPO_ROOT,
          sourceMaps: API_SOURCE_MAPS_AT_RUNTIME,
        },
      ],
      runs,
    );
  } finally {
    rmSync(beforeRoot, { recursive: true, force: true });
  }
  const loadAtEnd = loadavg()[0] ?? 0;
  const [root, mapped, now] = api as [ApiInitFigures, ApiInitFigures, ApiInitFigures];
  const met = now.initCpuMs <= root.initCpuMs;
  // Medians whose quartile ranges overlap differ by less than one process strays on this machine.
  const overlap =
    now.initCpuQuartilesMs[0] <= root.initCpuQuartilesMs[1] &&
    root.initCpuQuartilesMs[0] <= now.initCpuQuartilesMs[1];
  const markdown = [
    "## API cold init: before and after",
    "",
    "The API bundle as built for Lambda (minified, source map beside it), imported by a fresh `node`",
    `with the function's environment, ${runs} times a side, sides interleaved: the import's wall time, its CPU`,
    "time (user + system, which a loaded machine sways less), and the time to a first answer (a 404",
    "that calls no AWS service). Before the composition root the import did not parse config or",
    "create the clients; its first request did. The API now runs without `--enable-source-maps`:",
    "Node would read the 0.8 MB map and measure every line of the bundle at each cold start, for",
    "stacks read only when an error is logged; the logger maps those itself, reading the map on the",
    "first logged error (`shared/stack-map.ts`: about 70 ms of CPU, once per container that logs an",
    "error; Node's own mapping also spends about 45 ms on its first mapped stack).",
    "",
    "| API bundle | code | import (wall) | import (CPU) | CPU, quartiles | import and first answer |",
    "| --- | ---: | ---: | ---: | ---: | ---: |",
    ...api.map(
      (a) =>
        `| ${a.name} | ${bytes(a.codeBytes)} | ${ms(a.initMs)} | ${ms(a.initCpuMs)} | ${ms(a.initCpuQuartilesMs[0])}–${ms(a.initCpuQuartilesMs[1])} | ${ms(a.firstAnswerMs)} |`,
    ),
    "",
    `${cpus().length} cores, 1-minute load average ${loadAtStart.toFixed(1)} at the start and ${loadAtEnd.toFixed(1)} at the end: other work`,
    "shared the machine, so compare the rows with each other, not with other sections.",
    "",
    `Node's source maps cost this bundle's import ${ms(mapped.initCpuMs - now.initCpuMs)} of CPU. As deployed, the import takes`,
    `${ratio(now.initCpuMs / root.initCpuMs)} the CPU it took before the composition root: the target (no more) is ${met ? "**met**" : "**not met**"}`,
    `${overlap ? "in this run, though the two rows' quartiles overlap: the difference is within the machine's noise, and another run may tip it." : "in this run, and the two rows' quartiles do not overlap."}`,
    "",
    "The import does work it did not do then: it creates the DynamoDB and SQS clients, which the first",
    "request did before. Built without creating them at import (an experiment, not a deployable",
    "build), the import's CPU fell below the before row's in the same conditions (75 against 81 ms):",
    "the clients account for what separates the rows. They stay at init: nearly every route reads the",
    "table, so creating its client on first use would move that cost into the first request, not",
    "save it. The config is parsed at import too, so a bad config fails the cold start.",
  ].join("\n");
  return {
    markdown,
    figures: Object.fromEntries(
      api.flatMap((a, i) => [
        [`api${i}Bytes`, a.codeBytes],
        [`api${i}InitMs`, a.initMs],
        [`api${i}InitCpuMs`, a.initCpuMs],
        [`api${i}FirstAnswerMs`, a.firstAnswerMs],
      ]),
    ),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { rounds: { type: "string" }, before: { type: "string" } } });
  const report = await runCompositionBench({
    ...(values.rounds ? { rounds: Number(values.rounds) } : {}),
    ...(values.before ? { before: values.before } : {}),
  });
  process.stderr.write(`${report.markdown}\n`);
}
