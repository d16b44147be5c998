/**
 * A URL whose server answers whatever a test sets, captured through the capture worker's domain
 * on the embedded S3 and DynamoDB: the page is handed over as the Chromium capturer hands it
 * (status, headers, rendered HTML; a 403, 404, 410, 429 or 503 as an `http_error` carrying the page).
 */
import assert from "node:assert/strict";
import { type ProcessCaptureDeps, processCapture } from "../../shared/domain/capture/index.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import type { CaptureRecord } from "../../shared/domain/model.ts";
import { CaptureError } from "../../shared/errors.ts";
import type { PageCapture, PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "./capture-options.ts";
import { captureDeps, type EmbeddedStorage, queuedCapture } from "./embedded-storage.ts";

/** What the server answers: a page, its status and its headers. */
export interface Answer {
  html: string;
  status?: number;
  headers?: Record<string, string>;
}

/** A news article's five paragraphs, the text the walls stand in for. */
export const PARAGRAPHS = [
  "The harbour authority said on Monday that repairs to the north quay would cost 4 million euros and take two years to finish, after divers found cracks in the foundations last winter.",
  "Engineers had warned the board in March that the quay, built in 1962, could not carry the weight of the new cranes ordered for the container terminal without being strengthened first.",
  "The works will close two of the five berths at a time, and the authority expects ferry timetables to change for several weeks next summer while the southern berths are rebuilt.",
  "Fishing crews who use the inner basin will keep their moorings, the authority said, but the fish market will move to a temporary hall on the east pier from April until the work ends.",
  "The regional government has agreed to pay half of the cost from its coastal infrastructure fund, and the rest will come from harbour dues, which rise by three percent in January.",
];

/** The article page, with `paragraphs` and `headline`. */
export function article(
  paragraphs: readonly string[] = PARAGRAPHS,
  headline = "Quay repairs to cost 4 million euros",
): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${headline}</title></head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<article><h1>${headline}</h1><p class="byline">By Ana Silva</p>
${paragraphs.map((p) => `<p>${p}</p>`).join("\n")}</article>
<footer><a href="/privacy">Privacy</a></footer></body></html>`;
}

const OPTIONS = testCaptureOptions({ navigationTimeoutMs: 5_000 });
/** Statuses the Chromium capturer takes all the same and reports as `http_error` with the page. */
const TAKEN_AS_EVIDENCE = new Set([403, 404, 410, 429, 503]);

/** What the browser would make of `answer` at `url`, as the Chromium capturer reports it. */
function pageFor(url: string, answer: Answer): PageCapture {
  const body = new TextEncoder().encode(answer.html);
  const status = answer.status ?? 200;
  const page: PageCapture = {
    finalUrl: url,
    httpStatus: status,
    headers: { "content-type": "text/html; charset=utf-8", ...answer.headers },
    raw: { body, contentType: "text/html; charset=utf-8" },
    renderedHtml: answer.html,
    snapshotHtml: answer.html,
    screenshot: {
      body: new TextEncoder().encode(`jpeg of ${answer.html.length}`),
      contentType: "image/jpeg",
    },
    timings: {},
  };
  if (status >= 400) {
    throw new CaptureError("http_error", `The server answered HTTP ${status}.`, {
      httpStatus: status,
      ...(TAKEN_AS_EVIDENCE.has(status) ? { evidence: page } : {}),
      ...(answer.headers?.["retry-after"] ? { retryAfter: answer.headers["retry-after"] } : {}),
    });
  }
  return page;
}

/** A capturer that answers whatever `serve()` returns now. */
function servingCapturer(serve: () => Answer): PageCapturer {
  return {
    async capture(url) {
      return pageFor(url, serve());
    },
    close: async () => {},
  };
}

/** A URL whose server answers what the test sets (`first` until then), and its captures. */
export function servingSite(storage: EmbeddedStorage, url: string, first: Answer) {
  let answer = first;
  const deps: ProcessCaptureDeps = captureDeps(
    storage,
    servingCapturer(() => answer),
    OPTIONS,
  );
  /** Runs one capture of the URL to its end, and returns its record. */
  async function capture(): Promise<CaptureRecord> {
    const captureId = await queuedCapture(storage.repository, url);
    const outcome = await processCapture(deps, captureId);
    assert.equal(outcome.kind, "succeeded", JSON.stringify(outcome));
    return (await storage.repository.getCapture(captureId)) ?? assert.fail("capture record missing");
  }
  return {
    deps,
    serve(next: Answer) {
      answer = next;
    },
    capture,
    versions: () => storage.repository.listVersions(urlIdFor(url)),
    record: async () => (await storage.repository.getUrl(urlIdFor(url))) ?? assert.fail("URL record missing"),
  };
}
