/**
 * The evidence package of a capture that makes a version: a signed WACZ (`shared/domain/evidence/`)
 * of every HTTP exchange the browser recorded, the snapshot, screenshot and article as `resource`
 * records, and the provenance (hosts and addresses, TLS, user agent, browser and Palimpsest
 * versions, timings, the validity verdict). Stored like every artifact, once under its SHA-256
 * (`capture.wacz`, `application/wacz`), and named `wacz` on the version and on its capture.
 *
 * Only a new version gets one: an unchanged recapture points at the version, whose package already
 * holds the same article (it stores nothing: 0 bytes); a wall, a removal or a failed capture makes
 * no version and keeps its snapshot, screenshot and raw response as before.
 *
 * A package is never worth the version: signing (KMS) and storing are tried a few times within the
 * delivery (`EVIDENCE_RETRY_DELAYS_MS`, a few seconds in all), and a package that still cannot be
 * signed, built or stored leaves the version recorded without it, with the reason on the version
 * and its capture (`evidence: {status: "missing", code, message}`), logged and counted. The
 * browser never runs again for a package: an edit reverted before a redelivery would be lost.
 */

import { setTimeout as sleep } from "node:timers/promises";
import { PalimpsestError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { EvidenceSigner, PageCapture } from "../../ports.ts";
import { buildWacz } from "../evidence/build-wacz.ts";
import type { EvidenceInput } from "../evidence/model.ts";
import type { ArtifactRef, CaptureRecord, EvidenceMissing, EvidenceMissingCode } from "../model.ts";
import type { CapturedArticle, Decision, EvidenceDeps, Put, UrlState } from "./types.ts";

const encoder = new TextEncoder();

/**
 * The waits between tries of a step that talks to a service (signing, storing): three tries within
 * about a second and a half, short enough for the capture's time limit, long enough for a blip.
 */
export const EVIDENCE_RETRY_DELAYS_MS: readonly number[] = [300, 1200];

/** What each reason for a missing package tells a reader. */
const MISSING_MESSAGE: Record<EvidenceMissingCode, string> = {
  signing_failed:
    "The evidence package could not be signed: the signing key did not answer, so the version was kept without it.",
  packaging_failed:
    "The evidence package could not be built from the recorded exchanges, so the version was kept without it.",
  storage_error: "The evidence package could not be stored, so the version was kept without it.",
};

/** A step of making the package that failed after its tries, with the reason it gives the version. */
export class EvidencePackageError extends PalimpsestError {
  /** The reason the version's `evidence` gives. */
  readonly reason: EvidenceMissingCode;
  constructor(reason: EvidenceMissingCode, message: string, options?: { cause?: unknown }) {
    super(reason, message, options);
    this.reason = reason;
  }
}

/** The package's build was given up: the capture made no version (or a verdict other than it was built with). */
class PackageAbandoned extends Error {}

/** Adds a capture's evidence package to the decisions that make its version. */
export interface CaptureEvidence {
  /**
   * Starts building the package before the capture is judged, because it will probably make a
   * version (its text differs from the latest's): everything but the verdict is written while the
   * outcome is decided and the artifacts are stored. Given up, and never stored, if it makes none.
   */
  startEarly(): void;
  /**
   * The decision with the package stored and named `wacz` on its new version (or, when it could
   * not be made, the version's `evidence` saying why); any other decision as it is. The package is
   * built once per delivery and verdict: a re-decided outcome with another verdict gets its own.
   */
  attach(decision: Decision): Promise<Decision>;
  /** Gives up a build no decision took (the capture made no version, or failed), so it settles. */
  settle(): void;
}

export interface CaptureEvidenceContext {
  evidence: EvidenceDeps | undefined;
  capture: CaptureRecord;
  page: PageCapture;
  captured: CapturedArticle;
  /** The bytes of the stored `article.json`, written into the package as they were stored. */
  articleJson: Uint8Array;
  put: Put;
  now: () => Date;
  log: Logger;
}

type Verdict = Decision["verdict"];
type Packaged = { wacz: ArtifactRef } | { missing: EvidenceMissing };

/** One build of the package, for the verdict it is judged with. */
interface PackageBuild {
  /** The verdict written into it, once judged. */
  judgedAs?: string;
  judge(verdict: Verdict): void;
  abandon(): void;
  built: Promise<Uint8Array>;
  packaged?: Promise<Packaged>;
}

export function captureEvidence(context: CaptureEvidenceContext): CaptureEvidence {
  const { evidence, page } = context;
  let current: PackageBuild | undefined;
  const start = (deps: EvidenceDeps): PackageBuild => {
    let judge: (verdict: Verdict) => void = () => {};
    let abandon: () => void = () => {};
    const verdict = new Promise<Verdict>((resolve, reject) => {
      judge = resolve;
      abandon = () => reject(new PackageAbandoned("no version takes this package"));
    });
    verdict.catch(() => {}); // observed by the build, which is itself observed below
    const built = buildPackage(context, deps, verdict);
    // Observed by `attach` when the capture makes a version; given up (settled) when it makes none.
    built.catch((err) => {
      if (err instanceof PackageAbandoned)
        context.log.debug("evidence package given up: no version takes it");
    });
    return { judge, abandon, built };
  };
  const settle = () => {
    if (current && current.judgedAs === undefined) current.abandon();
    if (current?.judgedAs === undefined) current = undefined;
  };
  return {
    startEarly() {
      if (evidence && page.traffic && !current) current = start(evidence);
    },
    async attach(decision) {
      const { commit } = decision;
      if (!commit || commit.removed || !evidence || !page.traffic) {
        settle();
        return decision;
      }
      const judgedAs = verdictKey(decision.verdict);
      // The package must carry the verdict the version is recorded with: a re-decided outcome
      // (a conflicting write) whose verdict differs gets a package of its own.
      if (current?.judgedAs !== undefined && current.judgedAs !== judgedAs) current = undefined;
      const build = current ?? start(evidence);
      current = build;
      if (build.judgedAs === undefined) {
        build.judgedAs = judgedAs;
        build.judge(decision.verdict);
      }
      build.packaged ??= storePackage(context, evidence, build.built);
      const packaged = await build.packaged;
      if ("missing" in packaged) return { ...decision, commit: { ...commit, evidence: packaged.missing } };
      return { ...decision, commit: { ...commit, artifacts: { ...commit.artifacts, wacz: packaged.wacz } } };
    },
    settle,
  };
}

function verdictKey(verdict: Verdict): string {
  return verdict ? JSON.stringify([verdict.validity, verdict.validityReason]) : "";
}

/** The `wacz` artifact of the capture's own version, however the decision came to name it. */
export function evidenceOf(
  decision: Decision,
  state: UrlState,
  ownVersionId: string,
): { wacz?: ArtifactRef } {
  const wacz =
    decision.versionId === ownVersionId
      ? ownVersion(decision, state, ownVersionId)?.artifacts?.wacz
      : undefined;
  return wacz ? { wacz } : {};
}

/** Why the capture's own version has no package, when it was kept without one. */
export function evidenceMissingOf(
  decision: Decision,
  state: UrlState,
  ownVersionId: string,
): { evidence?: EvidenceMissing } {
  const missing =
    decision.versionId === ownVersionId ? ownVersion(decision, state, ownVersionId)?.evidence : undefined;
  return missing ? { evidence: missing } : {};
}

function ownVersion(decision: Decision, state: UrlState, ownVersionId: string) {
  return [decision.commit, decision.announce, state.latest, state.superseded].find(
    (version) => version?.versionId === ownVersionId,
  );
}

/** Builds and signs the package; a signer that fails on every try fails it as `signing_failed`. */
async function buildPackage(
  context: CaptureEvidenceContext,
  deps: EvidenceDeps,
  verdict: Promise<Verdict>,
): Promise<Uint8Array> {
  const started = performance.now();
  const delays = deps.retryDelaysMs ?? EVIDENCE_RETRY_DELAYS_MS;
  const { bytes } = await buildWacz(
    evidenceInput(context, deps, verdict),
    retryingSigner(deps.signer, delays),
    {
      version: deps.palimpsestVersion,
    },
  );
  context.log.debug("evidence packaged", {
    waczBytes: bytes.length,
    exchanges: context.page.traffic?.exchanges.length,
    ms: Math.round(performance.now() - started),
  });
  return bytes;
}

function retryingSigner(signer: EvidenceSigner, delays: readonly number[]): EvidenceSigner {
  const signing = async <T>(step: () => Promise<T>): Promise<T> => {
    try {
      return await withRetries(step, delays);
    } catch (cause) {
      throw new EvidencePackageError("signing_failed", "The signer did not sign the evidence package.", {
        cause,
      });
    }
  };
  return {
    sign: (message) => signing(() => signer.sign(message)),
    publicKey: () => signing(() => signer.publicKey()),
  };
}

/** `step`, tried again after each of `delays` while it throws. */
async function withRetries<T>(step: () => Promise<T>, delays: readonly number[]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await step();
    } catch (err) {
      const delay = delays[attempt];
      if (delay === undefined) throw err;
      await sleep(delay);
    }
  }
}

/** The stored package, or why there is none: signing, building and storing fail apart. */
async function storePackage(
  context: CaptureEvidenceContext,
  deps: EvidenceDeps,
  built: Promise<Uint8Array>,
): Promise<Packaged> {
  let bytes: Uint8Array;
  try {
    bytes = await built;
  } catch (cause) {
    return missing(context, cause instanceof EvidencePackageError ? cause.reason : "packaging_failed", cause);
  }
  try {
    const wacz = await withRetries(
      () => context.put(bytes, "application/wacz", "capture.wacz"),
      deps.retryDelaysMs ?? EVIDENCE_RETRY_DELAYS_MS,
    );
    return { wacz };
  } catch (cause) {
    return missing(context, "storage_error", cause);
  }
}

function missing(context: CaptureEvidenceContext, code: EvidenceMissingCode, cause: unknown): Packaged {
  context.log.error("evidence package not made; the version is kept without it", { code, err: cause });
  return { missing: { status: "missing", code, message: MISSING_MESSAGE[code] } };
}

function evidenceInput(
  { capture, page, captured, articleJson, now }: CaptureEvidenceContext,
  evidence: EvidenceDeps,
  verdict: Promise<Decision["verdict"]>,
): EvidenceInput {
  const traffic = page.traffic;
  if (!traffic) throw new Error("no recorded traffic to package");
  const { article } = captured;
  // Replay starts where the browser did: the requested URL, whose redirects follow in the archive.
  const pageUrl = traffic.exchanges.some((e) => e.url === capture.url) ? capture.url : page.finalUrl;
  const createdAt = now().toISOString();
  return {
    pageUrl,
    capturedAt: traffic.exchanges[0]?.startedAt ?? capture.startedAt ?? createdAt,
    createdAt,
    title: article.title,
    text: article.text,
    exchanges: traffic.exchanges,
    resources: [
      { name: "snapshot", contentType: "text/html; charset=utf-8", body: encoder.encode(page.snapshotHtml) },
      { name: "screenshot", contentType: page.screenshot.contentType, body: page.screenshot.body },
      { name: "article", contentType: "application/json", body: articleJson },
    ],
    provenance: {
      hosts: traffic.hosts,
      userAgent: traffic.userAgent,
      browserVersion: traffic.browserVersion,
      palimpsestVersion: evidence.palimpsestVersion,
      timings: page.timings,
      extra: {
        captureId: capture.captureId,
        urlId: capture.urlId,
        requestedUrl: capture.url,
        finalUrl: page.finalUrl,
        httpStatus: page.httpStatus,
        recording: {
          bodyBytes: traffic.recordedBytes,
          maxBodyBytes: traffic.maxBytes,
          truncated: traffic.truncated,
        },
      },
    },
    lateProvenance: verdict.then((judged) =>
      judged ? { validity: { verdict: judged.validity, reason: judged.validityReason } } : {},
    ),
  };
}
