/** `/`: the submit form, recent edits (each linking straight to its diff) and recent captures. */
import { type CaptureRecord, captureMethod, type EditEntry } from "../../../shared/domain/model.ts";
import type { ApiDeps } from "../route-types.ts";
import {
  apiKeyField,
  csrfField,
  editBadges,
  hostOf,
  shortTitle,
  statusBadge,
  timeTag,
  validityBadge,
} from "./components.ts";
import { html, type SafeHtml } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";

const LIST_LIMIT = 15;

/** The choices the form offers; the API takes any `everyMinutes` from 5 to 43,200. */
export const RECAPTURE_CHOICES: ReadonlyArray<{ value: string; label: string }> = [
  { value: "adaptive", label: "Adaptive (recommended)" },
  { value: "60", label: "Every hour" },
  { value: "1440", label: "Every day" },
  { value: "off", label: "Never: only when asked" },
];

/** What the form shows when it comes back with an error. */
export interface SubmitFormState {
  url: string;
  recapture: string;
  error?: string;
}

export interface HomeOptions {
  editsCursor?: string | undefined;
  capturesCursor?: string | undefined;
  form?: SubmitFormState;
  status?: number;
  /** The archive requires an API key (`API_KEY` on the local runner): the form asks for it. */
  askForKey?: boolean;
}

export async function renderHomePage(
  deps: ApiDeps,
  ui: UiContext,
  options: HomeOptions,
): Promise<PageContent> {
  const [edits, captures] = await Promise.all([
    deps.repository.listEdits({ limit: LIST_LIMIT, cursor: options.editsCursor }),
    deps.repository.listRecentCaptures({ limit: LIST_LIMIT, cursor: options.capturesCursor }),
  ]);
  const body = html`
<h1>Archive an article</h1>
<p class="lede">Palimpsest keeps a faithful copy of the page, captures it again over time and flags every edit to its text — including the ones the page does not admit.</p>
${submitForm(ui, options.form, options.askForKey === true)}
<div class="columns">
<section aria-labelledby="edits-heading">
<h2 id="edits-heading">Recent edits</h2>
${
  edits.items.length === 0
    ? html`<p class="empty">No edits flagged yet. They appear here when a later capture finds the text changed.</p>`
    : html`<ul class="list">${edits.items.map((entry) => editItem(ui, entry))}</ul>`
}
${edits.cursor && html`<p class="more"><a href="${link(ui, "/", { edits: edits.cursor, captures: options.capturesCursor })}">Older edits</a></p>`}
</section>
<section aria-labelledby="captures-heading">
<h2 id="captures-heading">Recent captures</h2>
${
  captures.items.length === 0
    ? html`<p class="empty">Nothing captured yet. Submit a URL above.</p>`
    : html`<ul class="list">${captures.items.map((capture) => captureItem(ui, capture))}</ul>`
}
${captures.cursor && html`<p class="more"><a href="${link(ui, "/", { captures: captures.cursor, edits: options.editsCursor })}">Older captures</a></p>`}
</section>
</div>`;
  return { title: "Archive", body, ...(options.status ? { status: options.status } : {}) };
}

function submitForm(ui: UiContext, state: SubmitFormState | undefined, askForKey: boolean): SafeHtml {
  const invalid = state?.error !== undefined;
  const recapture = state?.recapture ?? "adaptive";
  return html`<form class="submit" method="post" action="${link(ui, "/ui/captures")}">
${csrfField(ui)}
<div class="field">
<label for="url">Article URL</label>
<input id="url" name="url" type="url" required maxlength="2048" inputmode="url" autocomplete="url" spellcheck="false"
 placeholder="https://example.com/news/story" value="${state?.url ?? ""}"
 aria-describedby="${invalid ? "url-error url-help" : "url-help"}"${invalid ? html` aria-invalid="true" autofocus` : ""}>
${invalid && html`<p id="url-error" class="field-error">${state?.error}</p>`}
<p id="url-help" class="help">An http(s) link to a public news article.</p>
</div>
<div class="row">
<div class="field">
<label for="recapture">Capture again</label>
<select id="recapture" name="recapture" aria-describedby="recapture-help">
${RECAPTURE_CHOICES.map((choice) => html`<option value="${choice.value}"${choice.value === recapture ? " selected" : ""}>${choice.label}</option>`)}
</select>
</div>
${askForKey && apiKeyField("home-api-key")}
<div class="field"><button type="submit">Archive</button></div>
</div>
<p id="recapture-help" class="help">How often Palimpsest looks at the page again; it applies when the URL is new to the archive.</p>
</form>`;
}

function editItem(ui: UiContext, entry: EditEntry): SafeHtml {
  const diff = entry.previousVersionId
    ? link(ui, `/ui/urls/${entry.urlId}/diff`, { from: entry.previousVersionId, to: entry.versionId })
    : link(ui, `/ui/urls/${entry.urlId}/versions/${entry.versionId}`);
  return html`<li>
<a class="item-title" href="${diff}">${shortTitle(entry.title, entry.url)}</a>
<div>${editBadges(entry.edit, { revertOf: entry.revertOf, kinds: false })}</div>
${entry.summary && html`<p class="meta break">${entry.summary}</p>`}
<p class="meta">${hostOf(entry.url)} · ${timeTag(entry.capturedAt)} · <a href="${link(ui, `/ui/urls/${entry.urlId}`)}">All versions<span class="visually-hidden"> of ${shortTitle(entry.title, entry.url)}</span></a></p>
</li>`;
}

function captureItem(ui: UiContext, capture: CaptureRecord): SafeHtml {
  return html`<li>
<a class="item-title url" href="${link(ui, `/ui/captures/${capture.captureId}`)}">${shortTitle(null, capture.url)}</a>
<div>${statusBadge(capture.status)} ${validityBadge(capture)} ${editBadges(capture.edit, { removed: capture.removed, kinds: false })}</div>
<p class="meta">${capture.trigger === "schedule" ? "Scheduled" : "Requested"} ${timeTag(capture.requestedAt)}${capture.status === "succeeded" && captureMethod(capture) === "http" ? " · over HTTP, no browser" : ""}</p>
</li>`;
}
