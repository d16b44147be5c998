/**
 * `/ui/captures/{id}`: one capture, watched until it ends (the script polls
 * `/ui/captures/{id}/status`; without scripts the page refreshes itself), then its outcome and
 * links to every artifact, the version and the URL.
 */
import { type CaptureRecord, captureMethod, type VersionRecord } from "../../../shared/domain/model.ts";
import { artifactLinks } from "../../../shared/domain/read/views.ts";
import { NotFoundError } from "../../../shared/errors.ts";
import type { ApiDeps } from "../route-types.ts";
import {
  apiKeyField,
  artifactList,
  breadcrumbs,
  csrfField,
  editBadges,
  shortTitle,
  statusLabel,
  timeTag,
  validityBadge,
} from "./components.ts";
import { externalHref, html, type SafeHtml } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";

/** How often a page without scripts reloads while its capture runs. */
const REFRESH_SECONDS = 3;

export async function loadCapture(deps: ApiDeps, captureId: string): Promise<CaptureRecord> {
  const capture = await deps.repository.getCapture(captureId);
  if (!capture) throw new NotFoundError("capture_not_found", `There is no capture with the id ${captureId}.`);
  return capture;
}

export function isFinished(capture: CaptureRecord): boolean {
  return capture.status === "succeeded" || capture.status === "failed";
}

/** The small JSON document the page's script polls. Public, like the page itself. */
export function captureStatus(capture: CaptureRecord) {
  return { status: capture.status, label: statusLabel(capture.status), finished: isFinished(capture) };
}

export async function renderCapturePage(
  deps: ApiDeps,
  ui: UiContext,
  captureId: string,
  options: { askForKey?: boolean } = {},
): Promise<PageContent> {
  const capture = await loadCapture(deps, captureId);
  const finished = isFinished(capture);
  const [links, version] = await Promise.all([
    capture.artifacts ? artifactLinks(deps.blobs, capture.artifacts, deps.presignedUrlTtlSeconds) : {},
    capture.versionId ? deps.repository.getVersion(capture.urlId, capture.versionId) : null,
  ]);
  const urlPage = link(ui, `/ui/urls/${capture.urlId}`);
  const body = html`
${breadcrumbs([{ label: "Home", href: link(ui, "/") }, { label: shortTitle(null, capture.url), href: urlPage }, { label: "Capture" }])}
<h1>Capture of <span class="url">${shortTitle(null, capture.url)}</span></h1>
<p class="status-line" role="status" aria-live="polite"${
    finished
      ? ""
      : html` data-poll="${link(ui, `/ui/captures/${capture.captureId}/status`)}" data-status="${capture.status}"`
  }>Status: <span class="badge status-${capture.status}" data-status-label>${statusLabel(capture.status)}</span></p>
${!finished && html`<p class="meta">This page follows the capture and shows the result when it ends.</p>`}
${capture.status === "failed" && html`${failure(capture)}${retryForm(ui, capture.url, options.askForKey === true)}`}
${capture.status === "succeeded" && outcome(ui, capture, version)}
<dl class="facts">
<dt>Page</dt><dd><a class="url" href="${externalHref(capture.url)}" rel="noreferrer noopener">${capture.url}</a></dd>
${capture.finalUrl && capture.finalUrl !== capture.url && html`<dt>Redirected to</dt><dd class="url">${capture.finalUrl}</dd>`}
<dt>Requested</dt><dd>${timeTag(capture.requestedAt)} ${capture.trigger === "schedule" ? "by the schedule" : ""}</dd>
${capture.startedAt && html`<dt>Started</dt><dd>${timeTag(capture.startedAt)}</dd>`}
${capture.finishedAt && html`<dt>Finished</dt><dd>${timeTag(capture.finishedAt)}</dd>`}
${capture.httpStatus !== undefined && html`<dt>HTTP status</dt><dd>${capture.httpStatus}</dd>`}
${finished && html`<dt>Method</dt><dd>${captureMethod(capture) === "http" ? "One HTTP request (no browser): the text was the same" : "The browser"}${capture.probe ? ` — probe ${capture.probe.outcome.replace("_", " ")}: ${capture.probe.reason}` : ""}</dd>`}
${capture.extraction === "fallback" && html`<dt>Text</dt><dd>The page's main text: no article was found on it, so its text without navigation, header and footer is what is compared</dd>`}
${capture.attempts > 1 && html`<dt>Attempts</dt><dd>${capture.attempts}</dd>`}
<dt>Capture id</dt><dd class="hash">${capture.captureId}</dd>
</dl>
<div class="actions">
<a href="${urlPage}">All versions of this URL</a>
${version && html`<a href="${link(ui, `/ui/urls/${capture.urlId}/versions/${version.versionId}`)}">View the version</a>`}
</div>
${finished && capture.artifacts && html`<h2>Artifacts</h2>${artifactList(links)}`}`;
  return {
    title: `Capture ${statusLabel(capture.status).toLowerCase()}: ${shortTitle(null, capture.url)}`,
    body,
    ...(finished ? {} : { refreshSeconds: REFRESH_SECONDS }),
  };
}

function retryForm(ui: UiContext, url: string, askForKey: boolean): SafeHtml {
  return html`<form class="actions" method="post" action="${link(ui, "/ui/captures")}">
${csrfField(ui)}
<input type="hidden" name="url" value="${url}">
${askForKey && apiKeyField("retry-api-key")}
<button type="submit">Try again</button>
</form>`;
}

function failure(capture: CaptureRecord): SafeHtml {
  return html`<div class="notice error"><p><strong>The capture failed.</strong> ${capture.error?.message ?? "No reason was recorded."}</p>
${capture.error && html`<p class="meta">Reason code: <code>${capture.error.code}</code></p>`}</div>`;
}

/** On a capture that retried a challenged page: that it did, and how. */
function retried(ui: UiContext, capture: CaptureRecord): SafeHtml | "" {
  const r = capture.challengeRetried;
  if (!r) return "";
  return html`<p class="meta">The one retry after a bot challenge met by <a href="${link(ui, `/ui/captures/${r.afterCaptureId}`)}">capture ${r.afterCaptureId}</a>${r.freshContext ? ", in a fresh browser context (no cookie or storage from the challenged one)" : ", in a browser context that was not fresh"}; challenges are never solved.${r.stillChallenged ? " It was challenged again: no further challenge retry is planned, and the URL is retried with growing gaps." : ""}</p>`;
}

function outcome(ui: UiContext, capture: CaptureRecord, version: VersionRecord | null): SafeHtml {
  return html`${retried(ui, capture)}${wallOrVersion(ui, capture, version)}`;
}

function wallOrVersion(ui: UiContext, capture: CaptureRecord, version: VersionRecord | null): SafeHtml {
  // What the capture showed, when it was not the article: the class and why.
  const wall =
    capture.validity && capture.validity !== "ok"
      ? html`<div class="notice"><p>${validityBadge(capture)} ${capture.validityReason ?? ""}</p>
<p class="meta">Class <code>${capture.validity}</code>. What the outlet served is kept in the artifacts below; it makes no version${capture.validity === "paywall" && version?.captureId === capture.captureId ? " against a full text (this URL has only shown its teaser, which is tracked on its own)" : ""}.</p></div>`
      : html``;
  // A wall that stands for no version says only what it was.
  if (capture.validity && capture.validity !== "ok" && capture.versionId === undefined) return wall;
  return html`${wall}${outcomeOfVersion(ui, capture, version)}`;
}

function outcomeOfVersion(ui: UiContext, capture: CaptureRecord, version: VersionRecord | null): SafeHtml {
  if (capture.removed) {
    return html`<div class="notice"><p>${editBadges(undefined, { removed: true })} The page answered HTTP ${capture.httpStatus ?? ""}: the article is recorded as removed.${capture.artifacts ? " What the address showed instead is kept in the artifacts below." : ""}</p></div>`;
  }
  if (!version) return html`<div class="notice"><p>The capture ended without a version.</p></div>`;
  if (capture.changed && version.previousVersionId) {
    const diff = link(ui, `/ui/urls/${capture.urlId}/diff`, {
      from: version.previousVersionId,
      to: version.versionId,
    });
    return html`<div class="notice"><p>${editBadges(capture.edit, { revertOf: version.revertOf })}</p>
<p>${version.summary ?? "The text changed since the previous version."}</p>
<p><a href="${diff}">See what changed</a></p></div>`;
  }
  if (version.captureId === capture.captureId) {
    return html`<div class="notice"><p>${version.previousVersionId ? "A new version was recorded." : "The first version of this URL was recorded."}</p></div>`;
  }
  return html`<div class="notice"><p>Unchanged: the text is the same as the version captured ${timeTag(version.capturedAt)}.</p></div>`;
}
