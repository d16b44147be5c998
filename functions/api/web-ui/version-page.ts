/**
 * `/ui/urls/{urlId}/versions/{versionId}`: one version — its screenshot, a link to the snapshot,
 * its evidence package (download, and replay on the replay origin), the extracted article with
 * its metadata, and every stored artifact with its SHA-256.
 */
import { formatMementoTimestamp } from "../../../shared/domain/memento.ts";
import type { Article } from "../../../shared/domain/model.ts";
import { loadArticle } from "../../../shared/domain/read/stored-article.ts";
import { artifactLinks } from "../../../shared/domain/read/views.ts";
import type { ApiDeps } from "../route-types.ts";
import {
  artifactList,
  breadcrumbs,
  editBadges,
  formatBytes,
  formatTime,
  originsOf,
  shortTitle,
  timeTag,
} from "./components.ts";
import { html, type SafeHtml } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";
import { evidenceArtifacts, loadVersion } from "./replay-page.ts";
import { urlFeed } from "./url-page.ts";

export async function renderVersionPage(
  deps: ApiDeps,
  ui: UiContext,
  urlId: string,
  versionId: string,
): Promise<PageContent> {
  const { url, versions, version, index } = await loadVersion(deps, urlId, versionId);
  const [article, links] = await Promise.all([
    version.artifacts.article ? loadArticle(deps.blobs, version) : null,
    artifactLinks(deps.blobs, evidenceArtifacts(urlId, version), deps.presignedUrlTtlSeconds),
  ]);
  const n = index + 1;
  const urlTitle = shortTitle(url.title, url.url);
  const title = shortTitle(article?.title ?? version.title, url.url);
  const previous = versions[index - 1];
  const next = versions[index + 1];
  const versionLink = (id: string) => link(ui, `/ui/urls/${urlId}/versions/${id}`);
  const screenshot = links.screenshot;
  const evidence = links.wacz;
  const replayHref = link(ui, `/ui/urls/${urlId}/versions/${versionId}/replay`);
  // Presigned links expire within minutes; the memento URI serves the same snapshot for good.
  const memento =
    version.artifacts.snapshot && !version.removed
      ? mementoUri(deps, ui, version.capturedAt, url.url)
      : undefined;
  const body = html`
${breadcrumbs([
  { label: "Home", href: link(ui, "/") },
  { label: urlTitle, href: link(ui, `/ui/urls/${urlId}`) },
  { label: `Version ${n}` },
])}
<h1>${title}</h1>
<p class="lede">Version ${n} of ${versions.length}, captured ${timeTag(version.capturedAt)}</p>
${
  version.previousVersionId &&
  html`<p>${editBadges(version.edit, { revertOf: version.revertOf, removed: version.removed })}</p>
${version.summary && html`<p class="break">${version.summary}</p>`}`
}
${memento && html`<p class="cite">Permanent link to cite this version as archived: <a href="${memento}" rel="bookmark"><code class="url">${memento}</code></a></p>`}
<div class="actions">
${links.snapshot && html`<a class="button" href="${links.snapshot.url}">Open the snapshot</a>`}
${evidence && deps.publicReplayUrl && html`<a class="button" href="${replayHref}">Replay</a>`}
${evidence && html`<a href="${evidence.url}" download>Download evidence (WACZ)</a>`}
${previous && html`<a href="${link(ui, `/ui/urls/${urlId}/diff`, { from: previous.versionId, to: version.versionId })}">What changed since version ${n - 1}</a>`}
</div>
<nav aria-label="Other versions" class="actions">
${previous ? html`<a href="${versionLink(previous.versionId)}" rel="prev">← Version ${n - 1}</a>` : ""}
${next ? html`<a href="${versionLink(next.versionId)}" rel="next">Version ${n + 1} →</a>` : ""}
<a href="${link(ui, `/ui/urls/${urlId}`)}">All versions</a>
</nav>
${version.removed && html`<div class="notice"><p>The page answered HTTP ${version.httpStatus ?? ""}: the article was removed, so this version has no text.</p></div>`}
${evidenceSection(evidence, deps.publicReplayUrl !== undefined, replayHref, version.evidence?.message)}
<h2>Metadata</h2>
${metadata(version.capturedAt, version.textSha256, version.finalUrl, article)}
${
  screenshot &&
  html`<h2 id="screenshot-heading">Screenshot</h2>
<div class="shot" tabindex="0" role="region" aria-labelledby="screenshot-heading">
<a href="${screenshot.url}"><img src="${screenshot.url}" alt="Full-page screenshot of ${title}, captured ${formatTime(version.capturedAt)}"></a>
</div>`
}
${article && html`<h2>Article text</h2>${articleText(article)}`}
<h2>Stored artifacts</h2>
${artifactList(links)}`;
  return {
    title: `${title} — version ${n}`,
    body,
    imageOrigins: originsOf([screenshot?.url]),
    alternates: [urlFeed(ui, url)],
  };
}

/** What the evidence package is, or that this version has none. */
function evidenceSection(
  evidence: { url: string; bytes: number; sha256: string } | undefined,
  replayable: boolean,
  replayHref: string,
  missing: string | undefined,
): SafeHtml {
  if (!evidence && missing) {
    return html`<h2 id="evidence">Evidence package</h2>
<p class="empty">This version has no evidence package (WACZ). ${missing}</p>`;
  }
  if (!evidence) {
    return html`<h2 id="evidence">Evidence package</h2>
<p class="empty">This version has no evidence package (WACZ): it was captured before Palimpsest recorded every HTTP exchange of a capture.</p>`;
  }
  return html`<h2 id="evidence">Evidence package</h2>
<p>A signed WACZ of every HTTP exchange the browser made for this capture, which web-archive tools open and <code>palimpsest verify</code> checks without trusting this site.${replayable && html` <a href="${replayHref}">Replay it</a> to browse the page as captured, scripts and iframes included.`}</p>
<p class="meta">${formatBytes(evidence.bytes)} · SHA-256 <span class="hash">${evidence.sha256}</span></p>`;
}

/** The version's memento URI: absolute where the public base URL is configured, else this site's path. */
function mementoUri(deps: ApiDeps, ui: UiContext, capturedAt: string, original: string): string {
  const path = `/memento/${formatMementoTimestamp(new Date(capturedAt))}/${original}`;
  return deps.publicBaseUrl === undefined ? link(ui, path) : `${deps.publicBaseUrl}${path}`;
}

function metadata(
  capturedAt: string,
  textSha256: string,
  finalUrl: string | undefined,
  article: Article | null,
): SafeHtml {
  const missing = html`<span class="empty">not found on the page</span>`;
  return html`<dl class="facts">
${
  article &&
  html`<dt>Title</dt><dd>${article.title ?? missing}</dd>
<dt>Byline</dt><dd>${article.byline ?? missing}</dd>
<dt>Published</dt><dd>${article.publishedTime ? timeTag(article.publishedTime) : missing}</dd>
<dt>Modified</dt><dd>${article.modifiedTime ? timeTag(article.modifiedTime) : missing}</dd>
<dt>Language</dt><dd>${article.lang ?? missing}</dd>`
}
<dt>Captured</dt><dd>${timeTag(capturedAt)}</dd>
${finalUrl && html`<dt>Redirected to</dt><dd class="url">${finalUrl}</dd>`}
<dt>Text SHA-256</dt><dd class="hash">${textSha256}</dd>
</dl>`;
}

function articleText(article: Article): SafeHtml {
  const paragraphs = article.text
    .split(/\n{2,}/)
    .map((p) => p.trim())
    .filter((p) => p !== "");
  if (paragraphs.length === 0) return html`<p class="empty">The extracted article has no text.</p>`;
  // `lang` comes from the page; only a well-formed tag is passed on.
  const lang =
    article.lang && /^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$/.test(article.lang) ? article.lang : undefined;
  return html`<div class="article-text"${lang ? html` lang="${lang}"` : ""}>${paragraphs.map((p) => html`<p>${p}</p>`)}</div>`;
}
