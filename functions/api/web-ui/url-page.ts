/**
 * `/ui/urls/{urlId}`: one archived URL — its version timeline, newest first, with flagged edits
 * marked by significance and stealth, reverts and removals; its re-capture policy and next
 * capture; its noise rules (with the forms that set them, where the pages may change things); and
 * its recent captures.
 */
import {
  type CaptureRecord,
  type ChallengeRetry,
  captureMethod,
  type UrlRecord,
  type VersionRecord,
} from "../../../shared/domain/model.ts";
import { NotFoundError } from "../../../shared/errors.ts";
import type { ApiDeps } from "../route-types.ts";
import {
  apiKeyField,
  breadcrumbs,
  csrfField,
  describeRecapture,
  editBadges,
  formatTime,
  shortTitle,
  statusBadge,
  timeTag,
  validityBadge,
  validityLabel,
} from "./components.ts";
import { externalHref, html, type SafeHtml } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";
import { loadNoiseRules, type NoiseRulesFormState, noiseRulesSection } from "./noise-rules-panel.ts";

const CAPTURES_LIMIT = 10;

export async function loadUrl(deps: ApiDeps, urlId: string): Promise<UrlRecord> {
  const url = await deps.repository.getUrl(urlId);
  if (!url) throw new NotFoundError("url_not_found", `No archived URL has the id ${urlId}.`);
  return url;
}

/** The URL's feed of edits, which its pages name with `<link rel="alternate">` for feed readers. */
export function urlFeed(ui: UiContext, url: UrlRecord): { title: string; href: string } {
  return {
    title: `Palimpsest: edits to ${shortTitle(url.title, url.url)}`,
    href: link(ui, `/v1/urls/${url.urlId}/edits.atom`),
  };
}

export async function renderUrlPage(
  deps: ApiDeps,
  ui: UiContext,
  urlId: string,
  options: {
    capturesCursor?: string | undefined;
    askForKey?: boolean;
    /** Whether to offer the noise-rule forms (routes.ts `changeFormsOn`). @default false */
    forms?: boolean;
    /** The noise-rule form as sent, refused. */
    noiseForm?: NoiseRulesFormState;
  },
): Promise<PageContent> {
  const url = await loadUrl(deps, urlId);
  const [versions, captures, rules] = await Promise.all([
    deps.repository.listVersions(urlId),
    deps.repository.listCaptures(urlId, { limit: CAPTURES_LIMIT, cursor: options.capturesCursor }),
    loadNoiseRules(deps, "url", urlId),
  ]);
  const title = shortTitle(url.title, url.url);
  const numbers = new Map(versions.map((v, i) => [v.versionId, i + 1]));
  const madeVersion = new Map(versions.map((v, i) => [v.captureId, i + 1]));
  const body = html`
${breadcrumbs([{ label: "Home", href: link(ui, "/") }, { label: title }])}
<h1>${title}</h1>
<p><a class="url" href="${externalHref(url.url)}" rel="noreferrer noopener">${url.url}</a></p>
<dl class="facts">
<dt>Versions</dt><dd>${url.versionCount}</dd>
<dt>Captures</dt><dd>${url.captureCount}</dd>
<dt>First captured</dt><dd>${timeTag(url.firstCapturedAt)}</dd>
<dt>Last captured</dt><dd>${timeTag(url.lastCapturedAt)}</dd>
<dt>Re-capture</dt><dd>${describeRecapture(url.recapture)}</dd>
<dt>Next capture</dt><dd>${url.recapture !== "off" && url.nextCaptureAt ? timeTag(url.nextCaptureAt) : html`<span class="empty">none scheduled</span>`}</dd>
</dl>
${
  url.notOkSince &&
  html`<div class="notice"><p>${validityBadge({ validity: url.lastValidity })} ${notOkLine(url)}</p>
${url.challengeRetry && html`<p>${challengeRetryLine(url.challengeRetry)}</p>`}</div>`
}
<div class="actions">
<form class="inline" method="post" action="${link(ui, "/ui/captures")}">
${csrfField(ui)}
<input type="hidden" name="url" value="${url.url}">
${options.askForKey && apiKeyField("url-api-key")}
<button type="submit">Capture now</button>
</form>
${versions.length >= 2 && html`<a href="${link(ui, `/ui/urls/${urlId}/diff`)}">Compare versions</a>`}
<a href="${urlFeed(ui, url).href}">Atom feed of its edits</a>
</div>
<h2>Versions</h2>
${
  versions.length === 0
    ? html`<p class="empty">No version yet: the first capture has not finished.</p>`
    : html`<ol class="timeline" aria-label="Versions, newest first">${[...versions]
        .reverse()
        .map((version) => timelineItem(ui, version, numbers))}</ol>`
}
${noiseRulesSection(ui, { rules, forms: options.forms === true, form: options.noiseForm })}
<h2>Captures</h2>
<p class="meta">Every capture, newest first. A capture that finds the same text records no new version.</p>
<ul class="list">${captures.items.map(
    (
      capture,
    ) => html`<li><a href="${link(ui, `/ui/captures/${capture.captureId}`)}">${formatTime(capture.requestedAt)}</a>
${statusBadge(capture.status)} ${validityBadge(capture)} ${editBadges(capture.edit, { removed: capture.removed, kinds: false })}
<span class="meta">${capture.trigger === "schedule" ? "scheduled" : "requested"}${capture.status === "succeeded" ? (captureMethod(capture) === "http" ? ", over HTTP" : ", in the browser") : ""}${captureOutcome(
      capture,
      madeVersion.get(capture.captureId),
    )}${retriedNote(capture)}</span></li>`,
  )}</ul>
${captures.cursor && html`<p class="more"><a href="${link(ui, `/ui/urls/${urlId}`, { captures: captures.cursor })}">Older captures</a></p>`}`;
  return { title, body, alternates: [urlFeed(ui, url)] };
}

/** The retry planned after a challenge, in a sentence. */
function challengeRetryLine(retry: ChallengeRetry): SafeHtml {
  return html`A bot challenge stopped capture ${retry.afterCaptureId}; Palimpsest never solves one, and tries the page once more at ${timeTag(retry.at)}, in a fresh browser context with no cookie or storage from the challenged one. If that retry is challenged too, no further challenge retry is planned.`;
}

/** On a capture that retried a challenged page: how, and whether it was challenged again. */
function retriedNote(capture: CaptureRecord): string {
  const retried = capture.challengeRetried;
  if (!retried) return "";
  const how = retried.freshContext ? ", in a fresh browser context" : "";
  return ` · the retry after a challenge${how}${retried.stillChallenged ? "; still challenged, no further challenge retry" : ""}`;
}

function captureOutcome(capture: CaptureRecord, versionNumber: number | undefined): string {
  if (capture.error) return ` · ${capture.error.message}`;
  if (capture.validity && capture.validity !== "ok" && versionNumber === undefined) {
    return ` · ${capture.validityReason ?? "not the article"}`;
  }
  if (versionNumber === 1) return " · made the first version";
  if (versionNumber !== undefined) return ` · made version ${versionNumber}`;
  return capture.status === "succeeded" ? " · unchanged" : "";
}

function timelineItem(ui: UiContext, version: VersionRecord, numbers: Map<string, number>): SafeHtml {
  const n = numbers.get(version.versionId) ?? 0;
  const kind = version.removed ? "removed" : (version.edit?.significance ?? "first");
  const versionPage = link(ui, `/ui/urls/${version.urlId}/versions/${version.versionId}`);
  const revertNumber = version.revertOf ? numbers.get(version.revertOf) : undefined;
  return html`<li class="${kind}">
<p class="item-title"><a href="${versionPage}">Version ${n}</a> · ${timeTag(version.capturedAt)}</p>
<div>${editBadges(version.edit, { revertOf: version.revertOf, removed: version.removed })}</div>
${version.summary && html`<p class="break">${version.summary}</p>`}
${version.revertOf && html`<p class="meta">The text is back to that of version ${revertNumber ?? "?"}.</p>`}
${version.removed && html`<p class="meta">The page answered HTTP ${version.httpStatus ?? ""}: the article was removed.</p>`}
${version.finalUrl && html`<p class="meta url">Redirected to ${version.finalUrl}</p>`}
${!version.previousVersionId && html`<p class="meta">First version${version.title ? `: “${version.title}”` : ""}.</p>`}
${
  version.previousVersionId &&
  html`<p class="meta"><a href="${link(ui, `/ui/urls/${version.urlId}/diff`, {
    from: version.previousVersionId,
    to: version.versionId,
  })}">What changed in version ${n}</a></p>`
}
</li>`;
}

/** What the URL's run of captures that did not show the article means (`notOkSince` is set). */
function notOkLine(url: UrlRecord): SafeHtml {
  const last = url.lastValidity ? ` (the last one: ${validityLabel(url.lastValidity).toLowerCase()})` : "";
  // Nothing ever showed: a first teaser waits for a second, any other wall for the article.
  if (url.latestVersionId === undefined) {
    return url.lastValidity === "paywall" || (url.paywallsSinceOk ?? 0) > 0
      ? html`The first capture showed a paywall teaser, awaiting a second: the next teaser makes it the URL's first (teaser) version, since the article evidently always shows one.`
      : html`No capture has shown the article yet${last}. The captures are retried with growing gaps.`;
  }
  return html`The captures have not shown the article since ${timeTag(url.notOkSince)}${last}. They are retried with growing gaps; no version is made until the article shows again.`;
}
