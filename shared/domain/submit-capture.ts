/** Accepting a capture request: validate, record it queued, enqueue it. */
import { InvalidRequestError, PalimpsestError } from "../errors.ts";
import type { ArchiveRepository, CaptureQueue, ResolveHost } from "../ports.ts";
import { newCaptureId, urlIdFor } from "./ids.ts";
import type { CaptureRecord, RecapturePolicy, UrlRecord } from "./model.ts";
import { parseRecapturePolicy } from "./recapture.ts";
import { checkSubmittedUrl, normaliseUrl } from "./url.ts";

export interface SubmitCaptureDeps {
  repository: ArchiveRepository;
  queue: CaptureQueue;
  resolveHost: ResolveHost;
  allowedPrivateHosts: Set<string>;
  /** Refuse new captures (429) while this many messages wait; absent means no limit. */
  maxQueueDepth?: number;
  now?: () => Date;
}

/** The queue is saturated: the caller should come back after `retryAfterSeconds`. */
export class QueueFullError extends InvalidRequestError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super("queue_full", "Too many captures are waiting; try again shortly.", { status: 429 });
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface SubmittedCapture {
  captureId: string;
  urlId: string;
  url: string;
  status: "queued";
}

const ALLOWED_FIELDS = new Set(["url", "recapture"]);

/** The queue refused the message; the capture was recorded as failed so it never hangs as queued. */
export class QueueUnavailableError extends PalimpsestError {
  constructor(options: { cause: unknown }) {
    super("queue_unavailable", "The capture queue is unavailable; try again shortly.", options);
  }
}

export async function submitCapture(deps: SubmitCaptureDeps, body: unknown): Promise<SubmittedCapture> {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidRequestError(
      "invalid_body",
      'The request body must be a JSON object like {"url": "https://…"}.',
    );
  }
  const unknownField = Object.keys(body).find((key) => !ALLOWED_FIELDS.has(key));
  if (unknownField !== undefined) {
    throw new InvalidRequestError(
      "unknown_field",
      `The field "${unknownField}" is not part of a capture request.`,
    );
  }
  const fields = body as { url?: unknown; recapture?: unknown };
  if (fields.url === undefined) {
    throw new InvalidRequestError("missing_url", 'The request needs a "url".');
  }
  const parsed = await checkSubmittedUrl(fields.url, {
    resolveHost: deps.resolveHost,
    allowedPrivateHosts: deps.allowedPrivateHosts,
  });
  const recapture = parseRecapturePolicy(fields.recapture);
  // Checked after validation, so a bad request still gets its own error under load.
  await refuseWhenQueueFull(deps);
  const url = normaliseUrl(parsed);
  const urlId = urlIdFor(url);
  const now = (deps.now ?? (() => new Date()))();
  await deps.repository.ensureUrl({
    urlId,
    url,
    captureCount: 0,
    versionCount: 0,
    recapture,
    createdAt: now.toISOString(),
  });
  const captureId = await recordAndEnqueue(deps, { urlId, url }, now, undefined);
  return { captureId, urlId, url, status: "queued" };
}

async function refuseWhenQueueFull(deps: SubmitCaptureDeps): Promise<void> {
  if (deps.maxQueueDepth !== undefined && deps.queue.depth) {
    if ((await deps.queue.depth()) >= deps.maxQueueDepth) throw new QueueFullError(30);
  }
}

/** Records a queued capture of the URL and enqueues it; a refused message fails the capture. */
async function recordAndEnqueue(
  deps: SubmitCaptureDeps,
  target: { urlId: string; url: string },
  now: Date,
  trigger: CaptureRecord["trigger"],
): Promise<string> {
  const capture: CaptureRecord = {
    captureId: newCaptureId(now),
    urlId: target.urlId,
    url: target.url,
    status: "queued",
    requestedAt: now.toISOString(),
    attempts: 0,
    ...(trigger ? { trigger } : {}),
  };
  await deps.repository.putCapture(capture);
  try {
    await deps.queue.enqueue({ captureId: capture.captureId });
  } catch (cause) {
    await deps.repository.finishCapture({
      ...capture,
      status: "failed",
      finishedAt: new Date().toISOString(),
      error: { code: "queue_unavailable", message: "The capture could not be queued." },
    });
    throw new QueueUnavailableError({ cause });
  }
  return capture.captureId;
}

/** What became of a URL a source found. */
export interface FoundUrl {
  urlId: string;
  /** Normalised, as archived. */
  url: string;
  /** The capture submitted for it; absent when the archive had the URL already. */
  captureId?: string;
}

/**
 * A URL a source found: checked by the same URL guard as `POST /v1/captures` and submitted the
 * same way, with the source's recapture policy, unless the archive already has it (from another
 * source, a person or an earlier poll): then nothing is captured again. Throws InvalidUrlError
 * for a URL the guard refuses and QueueFullError while the queue is saturated.
 */
export async function submitFoundUrl(
  deps: SubmitCaptureDeps,
  found: { url: string; recapture: RecapturePolicy },
): Promise<FoundUrl> {
  const parsed = await checkSubmittedUrl(found.url, {
    resolveHost: deps.resolveHost,
    allowedPrivateHosts: deps.allowedPrivateHosts,
  });
  const url = normaliseUrl(parsed);
  const urlId = urlIdFor(url);
  if (await deps.repository.getUrl(urlId)) return { urlId, url };
  await refuseWhenQueueFull(deps);
  const now = (deps.now ?? (() => new Date()))();
  const record: UrlRecord = {
    urlId,
    url,
    captureCount: 0,
    versionCount: 0,
    recapture: found.recapture,
    createdAt: now.toISOString(),
  };
  const stored = await deps.repository.ensureUrl(record);
  // Another submission created it between the read and the write (not this one): it has its capture.
  if (stored.createdAt !== record.createdAt || stored.lastCaptureId !== undefined) return { urlId, url };
  const captureId = await recordAndEnqueue(deps, { urlId, url }, now, "source");
  return { urlId, url, captureId };
}
