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
 * A package that cannot be signed (KMS unreachable) fails the attempt as `storage_error`, before
 * anything is recorded, so the queue delivers the capture again; on its last attempt the version is
 * recorded without a package rather than lost, and the log says so.
 */

import { CaptureError } from "../../errors.ts";
import type { Logger } from "../../logger.ts";
import type { PageCapture } from "../../ports.ts";
import { buildWacz } from "../evidence/build-wacz.ts";
import type { EvidenceInput } from "../evidence/model.ts";
import type { ArtifactRef, CaptureRecord } from "../model.ts";
import type { CapturedArticle, Decision, EvidenceDeps, Put, UrlState } from "./types.ts";

const encoder = new TextEncoder();

/** Adds a capture's evidence package to the decisions that make its version. */
export interface CaptureEvidence {
  /**
   * Starts building the package before the capture is judged, because it will probably make a
   * version (its text differs from the latest's): everything but the verdict is written while the
   * outcome is decided and the artifacts are stored. Wasted, and never stored, if it makes none.
   */
  startEarly(): void;
  /**
   * The decision with the package stored and named `wacz` on its new version; any other decision
   * as it is. The package is built once per delivery, however often the outcome is decided.
   */
  attach(decision: Decision): Promise<Decision>;
}

export interface CaptureEvidenceContext {
  evidence: EvidenceDeps | undefined;
  capture: CaptureRecord;
  page: PageCapture;
  captured: CapturedArticle;
  /** The bytes of the stored `article.json`, written into the package as they were stored. */
  articleJson: Uint8Array;
  put: Put;
  maxAttempts: number;
  now: () => Date;
  log: Logger;
}

export function captureEvidence(context: CaptureEvidenceContext): CaptureEvidence {
  const { evidence, page } = context;
  let judged: (verdict: Decision["verdict"]) => void = () => {};
  const verdict = new Promise<Decision["verdict"]>((resolve) => {
    judged = resolve;
  });
  let built: Promise<Uint8Array> | undefined;
  let stored: Promise<ArtifactRef | undefined> | undefined;
  const build = (deps: EvidenceDeps) => {
    if (!built) {
      const started = performance.now();
      built = buildWacz(evidenceInput(context, deps, verdict), deps.signer, {
        version: deps.palimpsestVersion,
      }).then(({ bytes }) => {
        context.log.debug("evidence packaged", {
          waczBytes: bytes.length,
          exchanges: page.traffic?.exchanges.length,
          ms: Math.round(performance.now() - started),
        });
        return bytes;
      });
      built.catch(() => {}); // observed by `attach`, if the capture makes a version
    }
    return built;
  };
  return {
    startEarly() {
      if (evidence && page.traffic) build(evidence);
    },
    async attach(decision) {
      const { commit } = decision;
      if (!commit || commit.removed || !evidence || !page.traffic) return decision;
      judged(decision.verdict);
      stored ??= storePackage(context, build(evidence));
      const wacz = await stored;
      if (!wacz) return decision;
      return { ...decision, commit: { ...commit, artifacts: { ...commit.artifacts, wacz } } };
    },
  };
}

/** The `wacz` artifact of the capture's own version, however the decision came to name it. */
export function evidenceOf(
  decision: Decision,
  state: UrlState,
  ownVersionId: string,
): { wacz?: ArtifactRef } {
  const own = [decision.commit, decision.announce, state.latest, state.superseded].find(
    (version) => version?.versionId === ownVersionId,
  );
  const wacz = decision.versionId === ownVersionId ? own?.artifacts?.wacz : undefined;
  return wacz ? { wacz } : {};
}

async function storePackage(
  context: CaptureEvidenceContext,
  built: Promise<Uint8Array>,
): Promise<ArtifactRef | undefined> {
  let bytes: Uint8Array;
  try {
    bytes = await built;
  } catch (cause) {
    if (context.capture.attempts < context.maxAttempts) {
      throw new CaptureError("storage_error", "The capture's evidence package could not be signed.", {
        cause,
      });
    }
    context.log.error("evidence package not signed on the last attempt; the version is kept without it", {
      err: cause,
    });
    return undefined;
  }
  return context.put(bytes, "application/wacz", "capture.wacz");
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
