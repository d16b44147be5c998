/**
 * One poll of one source (the poll job): a conditional read of its document, then each article
 * link it lists that the source has not seen yet is normalised, linked to the source and — unless
 * the archive already has the URL — submitted as a capture with the source's recapture policy,
 * through the same domain code as `POST /v1/captures`.
 *
 * What a poll costs stays small when nothing changed: a 304 or an identical body is one fetch and
 * one write (the source's poll time); entries seen by the previous poll cost nothing. A poll that
 * fails (unreachable, garbage, a cap) records `lastError`, keeps every article found before and is
 * polled again at its interval. A deleted or paused source is not polled.
 */

import { InvalidRequestError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { HostGate, HttpFetcher, PollRecord, SourceRepository } from "../../ports.ts";
import { inheritSourceNoiseRules } from "../extract/manage-noise-rules.ts";
import type { NoiseRules } from "../extract/noise-rules.ts";
import { urlIdFor } from "../ids.ts";
import { QueueFullError, type SubmitCaptureDeps, submitFoundUrl } from "../submit-capture.ts";
import { runLimited } from "../sweep.ts";
import { normaliseUrl } from "../url.ts";
import { compileLinkPattern } from "./link-pattern.ts";
import type { SourceEntry, SourceError, SourceRecord } from "./model.ts";
import { DEFAULT_READ_LIMITS, newestFirst, type ReadLimits, readSource } from "./read-source.ts";

export interface PollLimits extends ReadLimits {
  /** Entries a poll takes from a document (the newest, for sitemaps); more are left out and noted. */
  maxEntries: number;
  /** New entries handled at once. */
  concurrency: number;
}

export const DEFAULT_POLL_LIMITS: PollLimits = { ...DEFAULT_READ_LIMITS, maxEntries: 200, concurrency: 8 };

export interface PollSourceDeps {
  sources: SourceRepository;
  /** What submitting a capture needs (the archive, the capture queue, the URL guard). */
  submit: SubmitCaptureDeps;
  fetcher: HttpFetcher;
  /** Politeness: a poll takes a slot of its host like a capture. @default - no gate */
  hostGate?: HostGate;
  logger: Logger;
  limits?: Partial<PollLimits>;
  now?: () => Date;
}

export type PollOutcome =
  | { kind: "gone" }
  | { kind: "paused" }
  /** The host was busy: the source is due again at `nextPollAt` (its schedule, not a message). */
  | { kind: "deferred"; delayMs: number; nextPollAt: string }
  | {
      kind: "polled";
      /** Nothing to read: a 304 or the same bytes as last time. */
      unchanged: boolean;
      /** Entries the document listed (after the pattern and the cap). */
      entries: number;
      /** URLs newly linked to the source. */
      linked: number;
      /** Of those, URLs new to the archive, submitted as captures. */
      submitted: number;
      error?: Omit<SourceError, "at">;
    };

interface Candidate extends SourceEntry {
  urlId: string;
  /** Its key in the source's `seen`: 60 bits of the URL's digest are plenty within one source. */
  key: string;
}

/** The document's entries as the poll takes them: normalised, once each, matched, capped. */
function candidatesOf(
  matches: (url: string) => boolean,
  source: SourceRecord,
  entries: readonly SourceEntry[],
  sitemap: boolean,
  maxEntries: number,
): { candidates: Candidate[]; listed: number } {
  const byUrl = new Map<string, Candidate>();
  for (const entry of entries) {
    if (!matches(entry.url)) continue;
    let url: string;
    try {
      url = normaliseUrl(entry.url);
    } catch {
      continue; // too long, credentials: never an article we could archive
    }
    if (url === source.url || byUrl.has(url)) continue;
    const urlId = urlIdFor(url);
    byUrl.set(url, { ...entry, url, urlId, key: urlId.slice(4, 16) });
  }
  const all = [...byUrl.values()];
  // Sitemaps are not in time order; feeds and pages list their newest first already.
  const ordered = sitemap ? newestFirst(all) : all;
  return { candidates: ordered.slice(0, maxEntries), listed: all.length };
}

/**
 * Polls the source. `lease` is the `nextPollAt` the poll's message was sent for (PollMessage): the
 * schedule this poll writes holds only while the source is still due then.
 */
export async function pollSource(
  deps: PollSourceDeps,
  sourceId: string,
  lease?: string,
): Promise<PollOutcome> {
  const limits = { ...DEFAULT_POLL_LIMITS, ...deps.limits };
  const clock = deps.now ?? (() => new Date());
  const source = await deps.sources.getSource(sourceId);
  if (!source) return { kind: "gone" };
  if (source.paused) return { kind: "paused" };

  const host = new URL(source.url).host;
  const holder = `poll:${sourceId}`;
  let slot: number | undefined;
  if (deps.hostGate) {
    const askedAt = clock();
    const gate = await deps.hostGate.acquire(host, holder, askedAt);
    if (!gate.granted) {
      // Back on the source's own schedule for when the host frees; a later sweep sends it. Never
      // re-sent to the poll queue from here: that would loop through the worker's own trigger.
      const nextPollAt = new Date(askedAt.getTime() + gate.retryAfterMs).toISOString();
      const scheduled = await deps.sources.deferPoll(sourceId, nextPollAt, lease);
      deps.logger.info("poll deferred: host busy", { sourceId, host, nextPollAt, scheduled });
      return { kind: "deferred", delayMs: gate.retryAfterMs, nextPollAt };
    }
    slot = gate.slot;
  }
  let read: Awaited<ReturnType<typeof readSource>>;
  try {
    read = await readSource(deps.fetcher, source, limits);
  } finally {
    if (deps.hostGate && slot !== undefined) await deps.hostGate.release(host, slot, holder);
  }

  const polledAt = clock();
  const record = (
    fields: Omit<PollRecord, "polledAt" | "nextPollAt" | "linkPattern" | "lease">,
  ): PollRecord => ({
    polledAt: polledAt.toISOString(),
    nextPollAt: new Date(polledAt.getTime() + source.pollEveryMinutes * 60_000).toISOString(),
    // The validators this poll learned are kept only while the source has the pattern it read.
    linkPattern: source.linkPattern ?? null,
    ...(lease === undefined ? {} : { lease }),
    ...fields,
  });
  const log = deps.logger.child({ sourceId });
  // One lookup per host per poll: a feed's fifty links to its own site cost one, not fifty.
  const lookups = new Map<string, Promise<string[]>>();
  const submit = {
    ...deps.submit,
    resolveHost: (name: string) => {
      let answer = lookups.get(name);
      if (!answer) {
        answer = deps.submit.resolveHost(name);
        answer.catch(() => {}); // observed by whoever awaits it
        lookups.set(name, answer);
      }
      return answer;
    },
  };

  if (read.kind === "unchanged") {
    const set = {
      ...(read.etag ? { etag: read.etag } : {}),
      ...(read.lastModified ? { lastModified: read.lastModified } : {}),
    };
    await deps.sources.recordPoll(sourceId, record({ error: null, linked: 0, set }));
    log.info("source unchanged", {});
    return { kind: "polled", unchanged: true, entries: 0, linked: 0, submitted: 0 };
  }
  if (read.kind === "failed") {
    await deps.sources.recordPoll(
      sourceId,
      record({ error: { ...read.error, at: polledAt.toISOString() }, linked: 0 }),
    );
    log.warn("source poll failed", { code: read.error.code });
    return { kind: "polled", unchanged: false, entries: 0, linked: 0, submitted: 0, error: read.error };
  }
  if (read.document.kind === "page" && !source.linkPattern) {
    const error = {
      code: "not_a_feed",
      message: "The document is an HTML page now, and the source has no linkPattern to pick its articles.",
    };
    await deps.sources.recordPoll(
      sourceId,
      record({ error: { ...error, at: polledAt.toISOString() }, linked: 0 }),
    );
    return { kind: "polled", unchanged: false, entries: 0, linked: 0, submitted: 0, error };
  }

  let matches: (url: string) => boolean = () => true;
  if (source.linkPattern !== undefined) {
    try {
      matches = compileLinkPattern(source.linkPattern);
    } catch (err) {
      // Checked when stored, but with JavaScript's parser: a pattern RE2 still refuses says so here.
      if (!(err instanceof InvalidRequestError)) throw err;
      const error = { code: err.code, message: err.message };
      await deps.sources.recordPoll(
        sourceId,
        record({ error: { ...error, at: polledAt.toISOString() }, linked: 0 }),
      );
      return { kind: "polled", unchanged: false, entries: 0, linked: 0, submitted: 0, error };
    }
  }
  const { candidates, listed } = candidatesOf(
    matches,
    source,
    read.entries,
    read.document.kind === "sitemap",
    limits.maxEntries,
  );
  let notice = read.notice;
  if (listed > candidates.length) {
    notice = {
      code: "too_many_entries",
      message: `The document lists ${listed} article links; each poll takes the ${candidates.length} ${read.document.kind === "sitemap" ? "newest" : "first"}.`,
    };
  }
  const seen = new Set(source.seen ?? []);
  const done = new Set<string>();
  let linked = 0;
  let submitted = 0;
  let sourceNoiseRules: Promise<NoiseRules | null> | undefined;
  let stopped: Omit<SourceError, "at"> | undefined;
  const foundAt = polledAt.toISOString();

  await runLimited(
    candidates.filter((c) => !seen.has(c.key)),
    limits.concurrency,
    async (candidate) => {
      if (stopped) return;
      let captureId: string | undefined;
      try {
        captureId = (await submitFoundUrl(submit, { url: candidate.url, recapture: source.recapture }))
          .captureId;
      } catch (err) {
        if (err instanceof QueueFullError) {
          // Not marked seen: the next poll offers it again.
          stopped = {
            code: "queue_full",
            message: "The capture queue is full; the rest waits for the next poll.",
          };
          return;
        }
        // The URL guard refused it (a private or unresolvable host): never an article to archive.
        if (err instanceof InvalidRequestError) {
          done.add(candidate.key);
          log.info("found URL refused", { urlId: candidate.urlId, code: err.code });
          return;
        }
        throw err;
      }
      if (captureId) submitted++;
      const isNew = await deps.sources.linkUrl({
        sourceId,
        urlId: candidate.urlId,
        url: candidate.url,
        foundAt,
        submitted: captureId !== undefined,
        ...(candidate.title ? { title: candidate.title.slice(0, 500) } : {}),
        ...(candidate.publishedAt ? { publishedAt: candidate.publishedAt } : {}),
      });
      if (isNew) {
        linked++;
        // The source's noise rules apply to what it finds (read once a poll, when first needed).
        sourceNoiseRules ??=
          deps.submit.repository.getNoiseRules?.("source", sourceId) ?? Promise.resolve(null);
        await inheritSourceNoiseRules(
          deps.submit.repository,
          await sourceNoiseRules,
          sourceId,
          candidate.urlId,
        );
      }
      done.add(candidate.key);
    },
  );

  const nextSeen = candidates.map((c) => c.key).filter((key) => seen.has(key) || done.has(key));
  const problem = stopped ?? notice;
  const title = read.document.title;
  await deps.sources.recordPoll(
    sourceId,
    record({
      error: problem ? { ...problem, at: polledAt.toISOString() } : null,
      linked,
      set: {
        seen: nextSeen,
        format: read.document.format,
        // A poll stopped early must read the whole document again next time: no 304, no digest match.
        ...(!stopped && read.etag ? { etag: read.etag } : {}),
        ...(!stopped && read.lastModified ? { lastModified: read.lastModified } : {}),
        ...(stopped ? {} : { bodySha256: read.bodySha256 }),
        // A title given at import (an OPML outline's) is the reader's own: only a missing one is filled.
        ...(title && !source.title ? { title } : {}),
        ...(linked > 0 ? { lastFoundAt: foundAt } : {}),
      },
    }),
  );
  log.info("source polled", {
    entries: candidates.length,
    linked,
    submitted,
    ...(problem ? { code: problem.code } : {}),
  });
  return {
    kind: "polled",
    unchanged: false,
    entries: candidates.length,
    linked,
    submitted,
    ...(problem ? { error: problem } : {}),
  };
}
