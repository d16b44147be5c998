/**
 * The attacks of `npm run redteam` that need captures (issue 12, "Hostile pages cost too much",
 * the snapshot's own policy, the queue under two workers, host slots of a killed runner): each
 * is replayed through the running runner against pages the script's loopback site serves
 * (test/support/hostile-pages.ts), with the short limits the script gives the runner (main()).
 */
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, ScanCommand } from "@aws-sdk/lib-dynamodb";
import { parseHTML } from "linkedom";
import { startLocalRunner, TABLE_NAME } from "../local/runner.ts";
import { SNAPSHOT_CONTENT_SECURITY_POLICY } from "../shared/adapters/snapshot/content-security-policy.ts";
import { createLogger } from "../shared/logger.ts";
import { HOSTILE, leaveTo } from "../test/support/hostile-pages.ts";
import { launchViewer } from "../test/support/loopback-browser.ts";
import { killHard, startNpmStart } from "../test/support/npm-start.ts";
import type { Attack, RedteamContext } from "./redteam-types.ts";

/**
 * How long a refused hostile page may take from its submission to its failure: the runner's
 * limits are 3 s (document), 1 s (stall) and 256 MiB (renderer); three attempts at the default
 * 20 s limits, or one held until the navigation's timeout, take far longer.
 */
export const HOSTILE_BOUND_MS = 20_000;

/** The page whose snapshot is over 5 MB and names a resource too large to inline. */
export const HEAVY_PAGE = "/heavy.html";
/** Over the 5 MiB a snapshot inlines of one resource: left blank, its URL kept as provenance. */
const HUGE_IMAGE = "/huge-photo.png";

/** Serves HEAVY_PAGE: a 5.1 MB stylesheet (inlined: the snapshot is over 5 MB) and a 6 MB image. */
export function serveHeavyPage(ctx: Pick<RedteamContext, "site">): void {
  ctx.site.setPage(
    HEAVY_PAGE,
    `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>Heavy</title><link rel="stylesheet" href="/heavy.css"></head><body><article><h1>A heavy page</h1>${"<p>A paragraph of a local article, long enough for the extractor to keep it as the story's text.</p>".repeat(6)}<img id="photo" src="${HUGE_IMAGE}" alt="" width="20" height="20"></article></body></html>`,
  );
  ctx.site.setPage("/heavy.css", `/* ${"x".repeat(5_100_000)} */\nh1 { color: rgb(10, 20, 30); }`, {
    contentType: "text/css; charset=utf-8",
  });
  ctx.site.setPage(HUGE_IMAGE, Buffer.alloc(6_000_000, 7), { contentType: "image/png" });
}

/** A hostile page submitted as a capture: refused when it fails with `code`, once, within the bound. */
function hostile(name: string, path: string, code: string): Attack {
  return {
    area: "pages",
    name,
    async run(ctx) {
      const started = Date.now();
      const captureId = await ctx.submit(ctx.site.url(path));
      const capture = await ctx.waitFor(captureId, HOSTILE_BOUND_MS + 30_000);
      const ms = Date.now() - started;
      const attempts = (await ctx.repository.getCapture(captureId))?.attempts;
      const requests = ctx.site.requests.filter((request) => request.path === path).length;
      return {
        refused:
          capture.status === "failed" &&
          capture.error?.code === code &&
          attempts === 1 &&
          ms < HOSTILE_BOUND_MS,
        detail: `${capture.status} ${capture.error?.code ?? ""} after ${attempts} attempt(s), ${ms} ms, ${requests} request(s) for the page`,
      };
    },
  };
}

/** The pages that cost the most, and the redirects out of http(s). */
export const HOSTILE_ATTACKS: Attack[] = [
  hostile("a body that trickles forever", HOSTILE.trickle, "slow_response"),
  hostile("a Content-Length that promises more than is sent", HOSTILE.liarOpen, "slow_response"),
  hostile("a gzip bomb (128 MiB in 125 kB)", HOSTILE.bomb, "too_large"),
  hostile("a page that eats memory in ArrayBuffers", HOSTILE.eatBuffers, "too_large"),
  hostile("a page that eats memory in JavaScript objects", HOSTILE.eatHeap, "too_large"),
  hostile("a redirect to file://", leaveTo("file:///etc/passwd"), "blocked"),
  hostile("a redirect to chrome://", leaveTo("chrome://version/"), "blocked"),
];

/** The snapshot of HEAVY_PAGE (captured by main() before the attacks run). */
function heavySnapshot(ctx: RedteamContext) {
  const snapshot = ctx.heavy?.snapshot;
  if (!snapshot) throw new Error("the heavy page's capture has no snapshot");
  return snapshot;
}

/** Whether the snapshot's first element in `<head>` is its own policy, as build-snapshot.ts puts it. */
function policyFirstInHead(html: string): boolean {
  const first = parseHTML(html).document.head?.firstElementChild;
  return (
    first?.getAttribute("http-equiv") === "Content-Security-Policy" &&
    first.getAttribute("content") === SNAPSHOT_CONTENT_SECURITY_POLICY
  );
}

export const SNAPSHOT_ATTACKS: Attack[] = [
  {
    area: "pages",
    name: "a snapshot opened from its link, with a resource too large to inline",
    async run(ctx) {
      const snapshot = heavySnapshot(ctx);
      const viewer = await launchViewer();
      try {
        const context = await viewer.newContext({ locale: "en-US" });
        const before = ctx.site.requests.length;
        const page = await context.newPage();
        await page.goto(snapshot.url, { waitUntil: "load" });
        await page.waitForTimeout(500);
        const firstInHead = await page.evaluate(() => {
          const first = document.head.firstElementChild;
          return `${first?.localName} ${first?.getAttribute("http-equiv")}`;
        });
        const provenance = await page.evaluate(() =>
          document.getElementById("photo")?.getAttribute("data-palimpsest-src"),
        );
        await context.close();
        const live = ctx.site.requests.slice(before).map((r) => r.path);
        return {
          refused:
            live.length === 0 &&
            firstInHead === "meta Content-Security-Policy" &&
            provenance === ctx.site.url(HUGE_IMAGE),
          detail: `${live.length} request(s) to the site${live.length ? ` (${live.join(", ")})` : ""}; first in <head>: ${firstInHead}; the big image kept as provenance: ${provenance === ctx.site.url(HUGE_IMAGE)}`,
        };
      } finally {
        await viewer.close();
      }
    },
  },
  {
    area: "pages",
    name: "a memento of a snapshot over 5 MB",
    async run(ctx) {
      const snapshot = heavySnapshot(ctx);
      const memento = await fetch(`${ctx.runner.url}/timegate/${ctx.site.url(HEAVY_PAGE)}`, {
        headers: { "x-api-key": ctx.apiKey },
      });
      const inHead = policyFirstInHead(await memento.text());
      const header = memento.headers.get("content-security-policy") ?? "";
      return {
        refused: snapshot.bytes > 5_000_000 && memento.status === 200 && inHead && header !== "",
        detail: `${snapshot.bytes} bytes, served ${memento.status} from ${new URL(memento.url).host === new URL(ctx.runner.url).host ? "the API" : "its storage link"} with CSP header "${header}" and the policy first in <head>: ${inHead}`,
      };
    },
  },
];

async function dynamoDocuments(endpoint: string): Promise<DynamoDBDocumentClient> {
  return DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "redteam", secretAccessKey: "redteam" },
    }),
  );
}

/** Every host slot in the table, and how many are leased. */
async function hostSlots(endpoint: string): Promise<{ slots: number; leased: number }> {
  const documents = await dynamoDocuments(endpoint);
  try {
    const page = await documents.send(
      new ScanCommand({
        TableName: TABLE_NAME,
        FilterExpression: "begins_with(PK, :host) AND begins_with(SK, :slot)",
        ExpressionAttributeValues: { ":host": "HOST#", ":slot": "SLOT#" },
      }),
    );
    const items = page.Items ?? [];
    return { slots: items.length, leased: items.filter((item) => item.holder !== undefined).length };
  } finally {
    documents.destroy();
  }
}

export const QUEUE_ATTACKS: Attack[] = [
  {
    area: "queue",
    name: "two workers (WORKER_CONCURRENCY=2) racing for six messages",
    async run(ctx) {
      const paths = Array.from({ length: 6 }, (_, i) => `/race-${i}.html`);
      for (const path of paths) {
        ctx.site.setRoute(path, (_req, res) => {
          setTimeout(() => {
            res
              .writeHead(200, { "content-type": "text/html; charset=utf-8" })
              .end(
                `<!DOCTYPE html><html lang="en"><title>${path}</title><article><h1>${path}</h1>${"<p>Two workers, one message each, never the same one.</p>".repeat(6)}</article></html>`,
              );
          }, 300);
        });
      }
      const ids = await Promise.all(paths.map((path) => ctx.submit(ctx.site.url(path))));
      const captures = await Promise.all(ids.map((id) => ctx.waitFor(id, 90_000)));
      const attempts = await Promise.all(
        ids.map(async (id) => (await ctx.repository.getCapture(id))?.attempts),
      );
      const requests = paths.map((path) => ctx.site.requestCount(path));
      return {
        refused:
          captures.every((c) => c.status === "succeeded") &&
          attempts.every((a) => a === 1) &&
          requests.every((n) => n === 1),
        detail: `statuses ${captures.map((c) => c.status).join(",")}; attempts ${attempts.join(",")}; page requests ${requests.join(",")}`,
      };
    },
  },
  {
    area: "queue",
    name: "two workers dead-lettering messages at the receive limit at once",
    async run(ctx) {
      const { atLimit } = ctx.restart;
      const captures = await Promise.all(atLimit.map((id) => ctx.waitFor(id, 30_000)));
      const deadLetters = await readdir(join(ctx.dataDir, "queue", "dead-letter")).catch(() => []);
      const codes = captures.map((c) => c.error?.code ?? c.status);
      return {
        refused:
          atLimit.length === 3 &&
          codes.every((code) => code === "retries_exhausted") &&
          deadLetters.length === atLimit.length,
        detail: `${atLimit.length} messages at the limit: ${codes.join(",")}; ${deadLetters.length} dead-letter file(s); the runner stayed up`,
      };
    },
  },
  {
    area: "runner",
    name: "host slots of a runner killed (kill -9) while it polls a source",
    async run(ctx) {
      // The feed answers the follow request, then hangs: the poll holds the host's slot when the kill lands.
      const feedPath = "/redteam-feed.xml";
      ctx.site.setRoute(feedPath, (_req, res) => {
        if (ctx.site.requestCount(feedPath) > 1) return; // never answered
        res
          .writeHead(200, { "content-type": "application/rss+xml" })
          .end(
            `<?xml version="1.0"?><rss version="2.0"><channel><title>Redteam</title><link>${ctx.site.origin}/</link><item><title>Story</title><link>${ctx.site.url("/story.html")}</link></item></channel></rss>`,
          );
      });
      const dataDir = `${ctx.dataDir}-killed`;
      const child = await startNpmStart({ ...ctx.runnerEnv, DATA_DIR: dataDir, WORKER_CONCURRENCY: "0" });
      try {
        const followed = await fetch(`${child.url}/v1/sources`, {
          method: "POST",
          headers: { "content-type": "application/json", "x-api-key": ctx.apiKey },
          body: JSON.stringify({ url: ctx.site.url(feedPath) }),
        });
        if (followed.status !== 201 && followed.status !== 202)
          return {
            refused: false,
            detail: `the source was not followed: ${followed.status} ${await followed.text()}`,
          };
        const deadline = Date.now() + 20_000;
        while (ctx.site.requestCount(feedPath) < 2) {
          if (Date.now() > deadline) return { refused: false, detail: "the source was never polled" };
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        await new Promise((resolve) => setTimeout(resolve, 200));
      } finally {
        await killHard(child.process);
      }
      const restarted = await startLocalRunner({
        dataDir,
        port: 0,
        workerConcurrency: 0,
        sweepIntervalMs: 0,
        logger: createLogger({}, "silent"),
        env: ctx.runnerEnv,
      });
      try {
        const { slots, leased } = await hostSlots(restarted.dynamodbEndpoint);
        return {
          refused: slots > 0 && leased === 0,
          detail: `${slots} host slot(s) left by the killed runner, ${leased} still leased after the restart`,
        };
      } finally {
        await restarted.close();
      }
    },
  },
];
