/**
 * The shapes the capture steps hand one another. They live apart from the steps so that every
 * step can name them without importing another step (and no two steps import each other).
 */
import type { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type {
  ArchiveRepository,
  BlobStore,
  EditPublisher,
  HostGate,
  PageCaptureOptions,
  PageCapturer,
} from "../../ports.ts";
import type { EffectiveNoiseRules } from "../extract/noise-rules.ts";
import type {
  Article,
  ArtifactName,
  ArtifactRef,
  CaptureRecord,
  Edit,
  UrlRecord,
  VersionRecord,
} from "../model.ts";
import type { CadenceStep } from "../schedule.ts";

/** Extracts the article from a rendered page; null when the page has none. */
export type ExtractArticle = (
  html: string,
  options: { url: string; dropSelectors?: readonly string[] },
) => Article | null;

/** What `processCapture` works with: the ports it calls and the limits it keeps. */
export interface ProcessCaptureDeps {
  repository: ArchiveRepository;
  blobs: BlobStore;
  capturer: PageCapturer;
  extract: ExtractArticle;
  captureOptions: PageCaptureOptions;
  maxAttempts: number;
  /** The adaptive re-capture curve. @default DEFAULT_CADENCE */
  cadence?: readonly CadenceStep[];
  /** Per-host politeness; absent means no limit (tests of single captures). */
  hostGate?: HostGate;
  /** Tells subscribers of flagged edits; absent when nobody listens. */
  publisher?: EditPublisher;
  logger: Logger;
  now?: () => Date;
}

/** How one delivery of a capture message ended, which tells the caller what to do with the message. */
export type ProcessOutcome =
  | { kind: "skipped"; reason: "not_found" | "already_finished" }
  | { kind: "succeeded"; capture: CaptureRecord }
  | { kind: "failed"; capture: CaptureRecord }
  /** A transient failure with attempts left: the message should be redelivered. */
  | { kind: "retry"; error: CaptureError }
  /** The host is busy (politeness): send the message again after `delayMs`; no attempt was used. */
  | { kind: "deferred"; delayMs: number };

/** A URL as read, with its latest version (null before the first). */
export interface UrlState {
  url: UrlRecord;
  latest: VersionRecord | null;
  /**
   * This capture's own version, made the latest by an earlier attempt that died before finishing,
   * and since followed by other versions: it stands as it is, and the latest stays where it is.
   */
  superseded?: VersionRecord;
  /** An earlier attempt stored this capture's version but never made it the latest: replace it. */
  replaceOwn?: boolean;
}

/** What a capture leaves on its URL. */
export interface Decision {
  /** The version the capture is recorded under: its own new one, or the latest it matched. */
  versionId: string;
  /** How the capture's version differs from the one before; absent for an unchanged page. */
  edit?: Edit;
  /** The new version to store and make the latest; absent when the capture matched the latest. */
  commit?: VersionRecord;
  /** This capture's own version, committed by an earlier delivery, whose edit is announced again. */
  announce?: VersionRecord;
}

/** Decides the capture's outcome against the URL as read; called again when the URL moved on. */
export type Decide = (state: UrlState) => Promise<Decision>;

/** Stores one artifact's bytes (once, under their digest) and tells where. */
export type Put = (body: Uint8Array, contentType: string, fileName: string) => Promise<ArtifactRef>;

/** The artifacts of a capture once all are stored, and when that was: the capture's time. */
export interface StoredArtifacts {
  artifacts: Partial<Record<ArtifactName, ArtifactRef>>;
  capturedAt: string;
  storeMs: number;
}

/** What the capture found, in the form the comparison with the latest version needs. */
export interface CapturedArticle {
  article: Article;
  textSha256: string;
  finalUrl: string;
  /** The noise rules the article was extracted under; the comparison keeps them too. */
  noiseRules?: EffectiveNoiseRules;
}
