/**
 * Accepting a capture request: validate, record it queued, and send it to arrive at its host's next
 * start slot (host-shaping.ts). A person's capture takes a slot on the host's interactive lane, so
 * it never waits behind the host's scheduled backlog; an article a source found takes one on the
 * scheduled lane like a sweep's, and is parked on its URL when the slot is too far ahead to send.
 */
import { InvalidRequestError, PalimpsestError } from "../errors.ts";
import type { ArchiveRepository, CaptureQueue, HostLane, ResolveHost } from "../ports.ts";
import { assignStarts, type HostShaper, hostOf, SEND_HORIZON_MS } from "./host-shaping.ts";
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
  /** Per-host politeness: each capture's start slot. Absent: captures are sent at once. */
  shaper?: HostShaper;
  now?: () => Date;
}

/** How long after its start a submitted capture holds its URL before a sweep checks on it. */
export const PENDING_LEASE_MS = 3_600_000;

/**
 * The host already has a quarter of an hour of people's captures waiting: the caller should come
 * back after `retryAfterSeconds`, when a slot within reach frees up.
 */
export class HostBusyError extends InvalidRequestError {
  readonly retryAfterSeconds: number;
  constructor(host: string, retryAfterSeconds: number) {
    super(
      "host_busy",
      `Too many captures of ${host} are waiting to be polite to the site; try again in ${retryAfterSeconds} s.`,
      { status: 429 },
    );
    this.retryAfterSeconds = retryAfterSeconds;
  }
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

/**
 * The lane (and so the queue) a capture travels on: a sweep's recaptures and the articles a
 * source's poll found are scheduled work; anything a person started (`POST /v1/captures`, the
 * form, "Capture now") is interactive. Captures recorded before `trigger` existed were people's.
 */
export function captureLane(capture: Pick<CaptureRecord, "trigger">): HostLane {
  return capture.trigger === "schedule" || capture.trigger === "source" ? "scheduled" : "interactive";
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
  const stored = await deps.repository.ensureUrl({
    urlId,
    url,
    captureCount: 0,
    versionCount: 0,
    recapture,
    createdAt: now.toISOString(),
  });
  const target = { urlId, url, recapture: stored.recapture };
  const captureId = await recordAndEnqueue(deps, target, now, undefined, "interactive");
  return { captureId, urlId, url, status: "queued" };
}

async function refuseWhenQueueFull(deps: SubmitCaptureDeps): Promise<void> {
  if (deps.maxQueueDepth !== undefined && deps.queue.depth) {
    if ((await deps.queue.depth()) >= deps.maxQueueDepth) throw new QueueFullError(30);
  }
}

/**
 * Records a queued capture of the URL at its host's next slot on `lane` and sends it to arrive then
 * (or, on the scheduled lane, parks it on its URL when the slot is out of a message's reach). A
 * refused message fails the capture.
 */
async function recordAndEnqueue(
  deps: SubmitCaptureDeps,
  target: { urlId: string; url: string; recapture: RecapturePolicy },
  now: Date,
  trigger: CaptureRecord["trigger"],
  lane: HostLane,
): Promise<string> {
  const nowMs = now.getTime();
  const host = hostOf(target.url);
  const starts = await assignStarts(deps.shaper, [target], () => ({ host, earliest: nowMs }), lane, {
    // A person's capture is sent or refused, never parked: they are waiting for it.
    ...(lane === "interactive" ? { latest: nowMs + SEND_HORIZON_MS } : {}),
  });
  const startMs = starts.get(target);
  if (startMs === null || startMs === undefined) {
    // One interval from now, a slot within reach has come free.
    throw new HostBusyError(
      host,
      Math.max(1, Math.ceil((deps.shaper?.limits.intervalFor(host) ?? 0) / 1000)),
    );
  }
  const capture: CaptureRecord = {
    captureId: newCaptureId(now),
    urlId: target.urlId,
    url: target.url,
    status: "queued",
    requestedAt: now.toISOString(),
    notBefore: new Date(startMs).toISOString(),
    attempts: 0,
    ...(trigger ? { trigger } : {}),
  };
  await deps.repository.putCapture(capture);
  const wantsPark = startMs - nowMs > SEND_HORIZON_MS;
  // The URL's pending capture, unless one is pending already (this one then runs beside it).
  const held = await deps.repository.holdPending({
    urlId: target.urlId,
    captureId: capture.captureId,
    startAt: capture.notBefore as string,
    dueAt: new Date(wantsPark ? startMs : startMs + PENDING_LEASE_MS).toISOString(),
    parked: wantsPark,
  });
  if (held && wantsPark) return capture.captureId;
  try {
    await deps.queue.enqueue(
      { captureId: capture.captureId },
      { delaySeconds: Math.min(SEND_HORIZON_MS, Math.max(0, startMs - nowMs)) / 1000 },
    );
  } catch (cause) {
    const finishedAt = new Date().toISOString();
    await deps.repository.finishCapture({
      ...capture,
      status: "failed",
      finishedAt,
      error: { code: "queue_unavailable", message: "The capture could not be queued." },
    });
    // The URL is due again at once (the next sweep retries it), unless it is never re-captured.
    const next = target.recapture === "off" ? null : finishedAt;
    if (held) await deps.repository.releasePending(target.urlId, capture.captureId, next);
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
  const target = { urlId, url, recapture: stored.recapture };
  const captureId = await recordAndEnqueue(deps, target, now, "source", "scheduled");
  return { urlId, url, captureId };
}
