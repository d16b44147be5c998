/**
 * Changing and showing a source: `PATCH /v1/sources/{id}` (interval, recapture policy, pattern,
 * paused) and the JSON shape the API and the CLI read.
 */
import { InvalidRequestError, NotFoundError } from "../../errors.ts";
import type { SourceRepository, SourceSettings } from "../../ports.ts";
import { parseRecapturePolicy } from "../recapture.ts";
import { checkLinkPattern } from "./check-link-pattern.ts";
import { parsePollEveryMinutes } from "./follow-source.ts";
import type { SourceRecord } from "./model.ts";

const FIELDS = new Set(["pollEveryMinutes", "recapture", "linkPattern", "paused"]);

/** The changes a PATCH body asks for. Throws InvalidRequestError. */
export function parseSourceSettings(body: unknown): SourceSettings {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidRequestError("invalid_body", 'The body must be a JSON object like {"paused": true}.');
  }
  const unknownField = Object.keys(body).find((key) => !FIELDS.has(key));
  if (unknownField !== undefined) {
    throw new InvalidRequestError("unknown_field", `The field "${unknownField}" cannot be changed.`);
  }
  const fields = body as Record<string, unknown>;
  if (Object.keys(fields).length === 0) {
    throw new InvalidRequestError(
      "nothing_to_change",
      "Give pollEveryMinutes, recapture, linkPattern or paused.",
    );
  }
  const settings: SourceSettings = {};
  if (fields.pollEveryMinutes !== undefined)
    settings.pollEveryMinutes = parsePollEveryMinutes(fields.pollEveryMinutes);
  if (fields.recapture !== undefined) settings.recapture = parseRecapturePolicy(fields.recapture);
  if (fields.linkPattern !== undefined) {
    checkLinkPattern(fields.linkPattern);
    settings.linkPattern = fields.linkPattern as string;
  }
  if (fields.paused !== undefined) {
    if (typeof fields.paused !== "boolean")
      throw new InvalidRequestError("invalid_paused", "paused must be true or false.");
    settings.paused = fields.paused;
  }
  return settings;
}

/**
 * When a source is next due after `settings`: never while paused; else its interval after its last
 * poll, and no later than that from now (a resumed or sped-up source is due at once if overdue).
 */
export function nextPollAfter(source: SourceRecord, settings: SourceSettings, now: Date): string | null {
  const paused = settings.paused ?? source.paused;
  if (paused) return null;
  const every = (settings.pollEveryMinutes ?? source.pollEveryMinutes) * 60_000;
  const last = source.lastPolledAt ? Date.parse(source.lastPolledAt) : now.getTime();
  return new Date(Math.max(now.getTime(), last + every)).toISOString();
}

/** Applies a PATCH body; resolves with the source as stored now. */
export async function changeSource(
  sources: SourceRepository,
  sourceId: string,
  body: unknown,
  now: Date,
): Promise<SourceRecord> {
  const source = await sources.getSource(sourceId);
  if (!source) throw new NotFoundError("source_not_found", `No source has the id ${sourceId}.`);
  const settings = parseSourceSettings(body);
  const updated = await sources.updateSource(sourceId, settings, nextPollAfter(source, settings, now));
  if (!updated) throw new NotFoundError("source_not_found", `No source has the id ${sourceId}.`);
  return updated;
}

/** A source as the API shows it; validators, digests and the seen keys stay inside. */
export function sourceView(source: SourceRecord): Record<string, unknown> {
  return {
    sourceId: source.sourceId,
    url: source.url,
    kind: source.kind,
    ...(source.format ? { format: source.format } : {}),
    title: source.title,
    status: source.paused ? "paused" : "active",
    paused: source.paused,
    pollEveryMinutes: source.pollEveryMinutes,
    recapture: source.recapture,
    ...(source.linkPattern !== undefined ? { linkPattern: source.linkPattern } : {}),
    ...(source.discoveredFrom ? { discoveredFrom: source.discoveredFrom } : {}),
    createdAt: source.createdAt,
    lastPolledAt: source.lastPolledAt ?? null,
    nextPollAt: source.paused ? null : (source.nextPollAt ?? null),
    ...(source.lastError ? { lastError: source.lastError } : {}),
    articleCount: source.articleCount,
    lastFoundAt: source.lastFoundAt ?? null,
  };
}
