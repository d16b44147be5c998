/**
 * `/ui/urls/{urlId}/versions/{versionId}/replay`: the version's evidence package (WACZ) replayed
 * in ReplayWeb.page, so a reader browses the page as it was captured, its scripts and iframes
 * included. The replay itself runs in a frame from the replay origin (PUBLIC_REPLAY_URL,
 * shared/http/replay-site.ts), never on this one: the archived scripts it runs must not reach
 * this origin's cookies or API. This page's policy allows that one origin in a frame.
 */
import { formatMementoTimestamp } from "../../../shared/domain/memento.ts";
import type { ArtifactName, ArtifactRef, VersionRecord } from "../../../shared/domain/model.ts";
import { artifactLinks } from "../../../shared/domain/read/views.ts";
import { NotFoundError } from "../../../shared/errors.ts";
import { replayViewUrl } from "../../../shared/http/replay-site.ts";
import type { ApiDeps } from "../route-types.ts";
import { breadcrumbs, formatBytes, formatTime, shortTitle, timeTag } from "./components.ts";
import { html } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";
import { loadUrl } from "./url-page.ts";

/** A URL, its versions and one of them with its place among them; 404 when the URL has no such version. */
export async function loadVersion(deps: ApiDeps, urlId: string, versionId: string) {
  const [url, versions] = await Promise.all([loadUrl(deps, urlId), deps.repository.listVersions(urlId)]);
  const index = versions.findIndex((v) => v.versionId === versionId);
  const version = versions[index];
  if (!version) throw new NotFoundError("version_not_found", `This URL has no version ${versionId}.`);
  return { url, versions, version, index };
}

/**
 * The file name a downloaded WACZ gets: `palimpsest-<urlId>-<capturedAt>.wacz`, the capture
 * time as the 14 digits web archives write it (an ISO time's colons are not allowed in file
 * names everywhere).
 */
export function evidenceFileName(urlId: string, capturedAt: string): string {
  return `palimpsest-${urlId}-${formatMementoTimestamp(new Date(capturedAt))}.wacz`;
}

/** A version's artifacts, with its WACZ named for download (the stored name is the same for all). */
export function evidenceArtifacts(
  urlId: string,
  version: Pick<VersionRecord, "artifacts" | "capturedAt">,
): Partial<Record<ArtifactName, ArtifactRef>> {
  const { wacz } = version.artifacts;
  if (!wacz) return version.artifacts;
  return { ...version.artifacts, wacz: { ...wacz, fileName: evidenceFileName(urlId, version.capturedAt) } };
}

export async function renderReplayPage(
  deps: ApiDeps,
  ui: UiContext,
  urlId: string,
  versionId: string,
): Promise<PageContent> {
  const { url, version, index } = await loadVersion(deps, urlId, versionId);
  const replayOrigin = deps.publicReplayUrl;
  if (!version.artifacts.wacz) {
    throw new NotFoundError(
      "no_evidence_package",
      version.evidence
        ? `This version has no evidence package (WACZ) to replay. ${version.evidence.message}`
        : "This version has no evidence package (WACZ) to replay: it was captured before Palimpsest recorded them.",
    );
  }
  if (replayOrigin === undefined) {
    throw new NotFoundError(
      "replay_not_configured",
      "This archive has no replay origin (PUBLIC_REPLAY_URL); download the evidence package instead.",
    );
  }
  const { wacz } = await artifactLinks(
    deps.blobs,
    { wacz: evidenceArtifacts(urlId, version).wacz as ArtifactRef },
    deps.presignedUrlTtlSeconds,
  );
  const evidence = wacz as NonNullable<typeof wacz>;
  const n = index + 1;
  const urlTitle = shortTitle(url.title, url.url);
  const page = version.finalUrl ?? url.url;
  const replay = replayViewUrl(replayOrigin, {
    source: evidence.url,
    url: page,
    capturedAt: version.capturedAt,
  });
  const body = html`
${breadcrumbs([
  { label: "Home", href: link(ui, "/") },
  { label: urlTitle, href: link(ui, `/ui/urls/${urlId}`) },
  { label: `Version ${n}`, href: link(ui, `/ui/urls/${urlId}/versions/${versionId}`) },
  { label: "Replay" },
])}
<h1>Replay of version ${n}</h1>
<p class="lede"><span class="url">${page}</span> as captured ${timeTag(version.capturedAt)}, replayed from its evidence package.</p>
<div class="actions">
<a href="${evidence.url}" download>Download evidence (WACZ)</a>
<a href="${replay}" target="_blank" rel="noopener noreferrer">Open the replay on its own</a>
<a href="${link(ui, `/ui/urls/${urlId}/versions/${versionId}`)}">Back to version ${n}</a>
</div>
<iframe class="replay-frame" id="replay" src="${replay}" title="Replay of ${urlTitle}, captured ${formatTime(version.capturedAt)}" sandbox="allow-scripts allow-same-origin allow-forms allow-popups" referrerpolicy="no-referrer"></iframe>
<p class="meta">The page's own scripts run in the replay, on <span class="url">${replayOrigin}</span>, apart from this site. The replay reads the ${formatBytes(evidence.bytes)} package (SHA-256 <span class="hash">${evidence.sha256}</span>) through a link that expires within minutes: reload this page for a fresh one.</p>`;
  return {
    title: `Replay of ${urlTitle} — version ${n}`,
    body,
    frameOrigins: [replayOrigin],
  };
}
