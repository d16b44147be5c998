/**
 * `/ui/sources` and `/ui/sources/{sourceId}`: the outlets Palimpsest follows — a form to follow one
 * more, each source's status and last error, and one source's page with its articles, the edits
 * among them, pause/resume and remove, and its noise rules. Forms are plain POSTs (no script needed). They change what
 * is followed, so they are offered only where the archive has no key (a browser could not send it:
 * elsewhere the pages point to the API and the CLI), and refuse a POST that the browser says came
 * from another site (`Origin`, `Sec-Fetch-Site`).
 */
import type { EditEntry, RecapturePolicy } from "../../../shared/domain/model.ts";
import { followSource } from "../../../shared/domain/sources/follow-source.ts";
import { changeSource } from "../../../shared/domain/sources/manage-source.ts";
import type { SourceRecord } from "../../../shared/domain/sources/model.ts";
import {
  listSourceArticles,
  listSourceEdits,
  type SourceArticle,
} from "../../../shared/domain/sources/source-articles.ts";
import { InvalidRequestError, NotFoundError } from "../../../shared/errors.ts";
import type { ApiDeps } from "../route-types.ts";
import { followDeps, followingOf, loadSource } from "../sources.ts";
import {
  breadcrumbs,
  csrfField,
  describeRecapture,
  editBadges,
  plural,
  shortTitle,
  timeTag,
} from "./components.ts";
import { RECAPTURE_CHOICES } from "./home-page.ts";
import { externalHref, html, type SafeHtml } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";
import { loadNoiseRules, type NoiseRulesFormState, noiseRulesSection } from "./noise-rules-panel.ts";

const LIST_LIMIT = 20;

const POLL_CHOICES: ReadonlyArray<{ value: string; label: string }> = [
  { value: "15", label: "Every 15 minutes" },
  { value: "60", label: "Every hour" },
  { value: "360", label: "Every 6 hours" },
  { value: "1440", label: "Every day" },
];

/** What the follow form shows when it comes back with an error. */
export interface FollowFormState {
  url: string;
  linkPattern: string;
  every: string;
  recapture: string;
  error?: string;
}

function formPolicy(value: string): RecapturePolicy | string {
  return /^\d{1,6}$/.test(value) ? { everyMinutes: Number(value) } : value;
}

export async function renderSourcesPage(
  deps: ApiDeps,
  ui: UiContext,
  options: {
    cursor?: string | undefined;
    form?: FollowFormState;
    status?: number;
    /** @default true */
    forms?: boolean;
  },
): Promise<PageContent> {
  const page = await followingOf(deps).sources.listSources({
    limit: LIST_LIMIT,
    ...(options.cursor ? { cursor: options.cursor } : {}),
  });
  const body = html`
${breadcrumbs([{ label: "Home", href: link(ui, "/") }, { label: "Sources" }])}
<h1>Followed sources</h1>
<p class="lede">Palimpsest polls each source — a feed, a sitemap or a section page — and archives every new article it lists, then watches it for edits like any other URL.</p>
${options.forms === false ? formsOff() : followForm(ui, options.form)}
<h2>Sources</h2>
${
  page.items.length === 0
    ? html`<p class="empty">No source is followed yet. Give a feed, a sitemap or a section page above.</p>`
    : html`<ul class="list">${page.items.map((source) => sourceItem(ui, source))}</ul>`
}
${page.cursor && html`<p class="more"><a href="${link(ui, "/ui/sources", { cursor: page.cursor })}">More sources</a></p>`}`;
  return { title: "Sources", body, ...(options.status ? { status: options.status } : {}) };
}

/** Where a key guards the archive (on AWS, or API_KEY locally): say how sources are changed instead. */
function formsOff(): SafeHtml {
  return html`<div class="notice"><p>Sources are followed, paused and removed with the API (<code>POST /v1/sources</code>) or the command line (<code>palimpsest follow &lt;url&gt;</code>), which carry the archive's key.</p></div>`;
}

function followForm(ui: UiContext, state: FollowFormState | undefined): SafeHtml {
  const invalid = state?.error !== undefined;
  const every = state?.every ?? "15";
  const recapture = state?.recapture ?? "adaptive";
  return html`<form class="submit" method="post" action="${link(ui, "/ui/sources")}">
${csrfField(ui)}
<div class="field">
<label for="source-url">Feed, sitemap or section page</label>
<input id="source-url" name="url" type="url" required maxlength="2048" inputmode="url" spellcheck="false"
 placeholder="https://example.com/world/rss" value="${state?.url ?? ""}"
 aria-describedby="${invalid ? "source-url-error source-url-help" : "source-url-help"}"${invalid ? html` aria-invalid="true" autofocus` : ""}>
${invalid && html`<p id="source-url-error" class="field-error">${state?.error}</p>`}
<p id="source-url-help" class="help">A page that names its feed is followed through the feed.</p>
</div>
<div class="field">
<label for="link-pattern">Article links (for a page without a feed)</label>
<input id="link-pattern" name="linkPattern" type="text" maxlength="500" spellcheck="false" placeholder="/world/20\\d\\d/" value="${state?.linkPattern ?? ""}" aria-describedby="link-pattern-help">
<p id="link-pattern-help" class="help">A regular expression (RE2) that the page's article links match; leave it empty for feeds and sitemaps.</p>
</div>
<div class="row">
<div class="field">
<label for="every">Look for new articles</label>
<select id="every" name="every">
${POLL_CHOICES.map((choice) => html`<option value="${choice.value}"${choice.value === every ? " selected" : ""}>${choice.label}</option>`)}
</select>
</div>
<div class="field">
<label for="source-recapture">Capture each article again</label>
<select id="source-recapture" name="recapture">
${RECAPTURE_CHOICES.map((choice) => html`<option value="${choice.value}"${choice.value === recapture ? " selected" : ""}>${choice.label}</option>`)}
</select>
</div>
<div class="field"><button type="submit">Follow</button></div>
</div>
</form>`;
}

function statusBadgeOf(source: SourceRecord): SafeHtml {
  if (source.paused) return html`<span class="badge badge-none">Paused</span>`;
  if (source.lastError)
    return html`<span class="badge status-failed">Last poll: ${source.lastError.code}</span>`;
  return html`<span class="badge status-succeeded">Active</span>`;
}

function sourceItem(ui: UiContext, source: SourceRecord): SafeHtml {
  return html`<li>
<a class="item-title" href="${link(ui, `/ui/sources/${source.sourceId}`)}">${shortTitle(source.title, source.url)}</a>
<div><span class="badges">${statusBadgeOf(source)} <span class="badge badge-kind">${source.kind}</span></span></div>
<p class="meta url">${source.url}</p>
<p class="meta">${plural(source.articleCount, "article")} · last polled ${timeTag(source.lastPolledAt)}${source.lastError && html` · ${source.lastError.message}`}</p>
</li>`;
}

export async function renderSourcePage(
  deps: ApiDeps,
  ui: UiContext,
  sourceId: string,
  options: {
    cursor?: string | undefined;
    forms?: boolean;
    /** The noise-rule form as sent, refused. */
    noiseForm?: NoiseRulesFormState;
  },
): Promise<PageContent> {
  const source = await loadSource(deps, sourceId);
  const reads = { sources: followingOf(deps).sources, repository: deps.repository };
  const [articles, edits, rules] = await Promise.all([
    listSourceArticles(reads, sourceId, {
      limit: LIST_LIMIT,
      ...(options.cursor ? { cursor: options.cursor } : {}),
    }),
    options.cursor ? Promise.resolve([]) : listSourceEdits(reads, sourceId, 10),
    loadNoiseRules(deps, "source", sourceId),
  ]);
  const title = shortTitle(source.title, source.url);
  const feed = link(ui, `/v1/sources/${sourceId}/edits.atom`);
  const body = html`
${breadcrumbs([{ label: "Home", href: link(ui, "/") }, { label: "Sources", href: link(ui, "/ui/sources") }, { label: title }])}
<h1>${title}</h1>
<p><a class="url" href="${externalHref(source.url)}" rel="noreferrer noopener">${source.url}</a></p>
${source.lastError && html`<div class="notice error"><p><strong>The last poll did not go as planned</strong> (${timeTag(source.lastError.at)}): ${source.lastError.message}</p><p class="meta"><code>${source.lastError.code}</code> · the articles found before are kept, and the source is polled again.</p></div>`}
<dl class="facts">
<dt>Status</dt><dd>${statusBadgeOf(source)}</dd>
<dt>Kind</dt><dd>${source.kind}${source.format && ` (${source.format})`}</dd>
${source.discoveredFrom && html`<dt>Found on</dt><dd class="url">${source.discoveredFrom}</dd>`}
${source.linkPattern !== undefined && html`<dt>Article links</dt><dd><code>${source.linkPattern}</code></dd>`}
<dt>Polled</dt><dd>Every ${plural(source.pollEveryMinutes, "minute")}</dd>
<dt>Last poll</dt><dd>${timeTag(source.lastPolledAt)}</dd>
<dt>Next poll</dt><dd>${source.paused ? html`<span class="empty">paused</span>` : timeTag(source.nextPollAt)}</dd>
<dt>Articles found</dt><dd>${source.articleCount}</dd>
<dt>Re-capture</dt><dd>${describeRecapture(source.recapture)}</dd>
</dl>
<div class="actions">
${
  options.forms !== false &&
  html`<form class="inline" method="post" action="${link(ui, `/ui/sources/${sourceId}`)}">
${csrfField(ui)}
<input type="hidden" name="action" value="${source.paused ? "resume" : "pause"}">
<button type="submit" class="secondary">${source.paused ? "Resume polling" : "Pause polling"}</button>
</form>
<form class="inline" method="post" action="${link(ui, `/ui/sources/${sourceId}`)}">
${csrfField(ui)}
<input type="hidden" name="action" value="remove">
<button type="submit" class="secondary">Stop following</button>
</form>`
}
<a href="${feed}">Atom feed of edits</a>
</div>
<p class="meta">Stopping keeps every article archived so far; they stay in the archive and are still captured again on their own schedule.</p>
${noiseRulesSection(ui, { rules, forms: options.forms !== false, form: options.noiseForm })}
${
  !options.cursor &&
  html`<h2>Recent edits</h2>
${edits.length === 0 ? html`<p class="empty">No edit flagged yet among this source's recent articles.</p>` : html`<ul class="list">${edits.map((e) => editItem(ui, e))}</ul>`}`
}
<h2>Articles</h2>
${
  articles.items.length === 0
    ? html`<p class="empty">No article found yet${source.lastPolledAt ? "" : ": the first poll has not run"}.</p>`
    : html`<ul class="list">${articles.items.map((a) => articleItem(ui, a))}</ul>`
}
${articles.cursor && html`<p class="more"><a href="${link(ui, `/ui/sources/${sourceId}`, { cursor: articles.cursor })}">Older articles</a></p>`}`;
  return {
    title,
    body,
    alternates: [{ title: `Palimpsest: edits to articles from ${title}`, href: feed }],
  };
}

function editItem(ui: UiContext, entry: EditEntry): SafeHtml {
  const diff = entry.previousVersionId
    ? link(ui, `/ui/urls/${entry.urlId}/diff`, { from: entry.previousVersionId, to: entry.versionId })
    : link(ui, `/ui/urls/${entry.urlId}/versions/${entry.versionId}`);
  return html`<li>
<a class="item-title" href="${diff}">${shortTitle(entry.title, entry.url)}</a>
<div>${editBadges(entry.edit, { revertOf: entry.revertOf, kinds: false })}</div>
${entry.summary && html`<p class="meta break">${entry.summary}</p>`}
<p class="meta">${timeTag(entry.capturedAt)}</p>
</li>`;
}

function articleItem(ui: UiContext, article: SourceArticle): SafeHtml {
  const record = article.record;
  const label = shortTitle(record?.title ?? article.title, article.url);
  return html`<li>
${record ? html`<a class="item-title" href="${link(ui, `/ui/urls/${article.urlId}`)}">${label}</a>` : html`<span class="item-title">${label}</span>`}
<p class="meta url">${article.url}</p>
<p class="meta">Found ${timeTag(article.foundAt)}${article.submitted ? "" : " · archived before this source listed it"}${
    record
      ? html` · ${plural(record.versionCount, "version")}${record.versionCount > 1 ? html` · <a href="${link(ui, `/ui/urls/${article.urlId}/diff`)}">latest edit</a>` : ""}`
      : " · first capture pending"
  }</p>
</li>`;
}

/** `POST /ui/sources`: follows the URL and goes to the source's page, or shows the form again. */
export async function followFromForm(
  deps: ApiDeps,
  ui: UiContext,
  form: URLSearchParams,
): Promise<{ redirect: string } | { page: PageContent }> {
  const state: FollowFormState = {
    url: (form.get("url") ?? "").trim(),
    linkPattern: (form.get("linkPattern") ?? "").trim(),
    every: form.get("every") ?? "15",
    recapture: form.get("recapture") ?? "adaptive",
  };
  try {
    const source = await followSource(followDeps(deps), {
      url: state.url,
      ...(state.linkPattern ? { linkPattern: state.linkPattern } : {}),
      pollEveryMinutes: /^\d{1,4}$/.test(state.every) ? Number(state.every) : state.every,
      recapture: formPolicy(state.recapture),
    });
    return { redirect: `/ui/sources/${source.sourceId}` };
  } catch (err) {
    // What the reader can fix (the URL, the pattern, a feed that is not one): the form again, with why.
    if (!(err instanceof InvalidRequestError) || err.status >= 500 || err.status === 404) throw err;
    const status = err.status;
    const page = await renderSourcesPage(deps, ui, { form: { ...state, error: err.message }, status });
    return { page };
  }
}

/** `POST /ui/sources/{id}`: pause, resume or remove; then back to the page (or the list). */
export async function changeFromForm(
  deps: ApiDeps,
  sourceId: string,
  form: URLSearchParams,
): Promise<string> {
  const action = form.get("action");
  const sources = followingOf(deps).sources;
  if (action === "remove") {
    if (!(await sources.deleteSource(sourceId))) {
      throw new NotFoundError("source_not_found", `No source has the id ${sourceId}.`);
    }
    return "/ui/sources";
  }
  if (action !== "pause" && action !== "resume") {
    throw new InvalidRequestError("invalid_action", "The form asks for pause, resume or remove.");
  }
  await changeSource(sources, sourceId, { paused: action === "pause" }, new Date());
  return `/ui/sources/${sourceId}`;
}
