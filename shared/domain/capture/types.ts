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
  EvidenceSigner,
  HttpFetcher,
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
import type { CaptureSignals, ValidityVerdict } from "../validity/index.ts";

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
  /** Tells subscribers of flagged edits; absent when nobody listens. */
  publisher?: EditPublisher;
  /**
   * HTTP probes of scheduled recaptures (probe-capture.ts); absent: every capture uses the browser
   * and nothing is learned for probes.
   */
  probe?: HttpProbe;
  logger: Logger;
  now?: () => Date;
  /**
   * Signs each new version's evidence package (WACZ, evidence-package.ts); absent, versions are
   * stored without one.
   */
  evidence?: EvidenceDeps;
}

/** What packaging evidence needs: the signer, and the version written as the software that made it. */
export interface EvidenceDeps {
  signer: EvidenceSigner;
  palimpsestVersion: string;
  /** The waits between tries of signing and storing the package; `EVIDENCE_RETRY_DELAYS_MS` when absent. */
  retryDelaysMs?: readonly number[];
}

/** What HTTP probes run on: a guarded GET, and when the browser is used all the same. */
export interface HttpProbe {
  /** The same guard and egress rules as the browser, with a browser-like User-Agent, en-US. */
  fetcher: HttpFetcher;
  /** Every this many recaptures of a URL, one uses the browser. */
  browserEvery: number;
  /** A recapture whose URL's last browser capture is at least this old uses the browser. */
  browserMaxAgeMs: number;
}

/** How one delivery of a capture message ended, which tells the caller what to do with the message. */
export type ProcessOutcome =
  | { kind: "skipped"; reason: "not_found" | "already_finished" }
  | { kind: "succeeded"; capture: CaptureRecord }
  | { kind: "failed"; capture: CaptureRecord }
  /**
   * A transient failure with attempts left: the message should be redelivered, no sooner than
   * `delayMs` when the server said when to come back (Retry-After, at most 900 s: the capture
   * queue's visibility timeout is longer, so its redelivery already waits that long).
   */
  | { kind: "retry"; error: CaptureError; delayMs?: number };

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
  /**
   * The version the capture is recorded under: its own new one, or the latest it matched; absent
   * for a capture that showed no article (a wall), which no version stands for.
   */
  versionId?: string;
  /** What the capture showed; absent only for a decision an earlier delivery committed. */
  verdict?: ValidityVerdict;
  /** How the capture's version differs from the one before; absent for an unchanged page. */
  edit?: Edit;
  /** The new version to store and make the latest; absent when the capture matched the latest. */
  commit?: VersionRecord;
  /** This capture's own version, committed by an earlier delivery, whose edit is announced again. */
  announce?: VersionRecord;
  /** The capture's text, to confirm by the next capture (`UrlRecord.unconfirmedTextSha256`). */
  unconfirmedTextSha256?: string;
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
  /** What the validity classifier reads of the page. */
  signals: CaptureSignals;
  /** The noise rules the article was extracted under; the comparison keeps them too. */
  noiseRules?: EffectiveNoiseRules;
}
