/**
 * `/ui/urls/{urlId}/diff?from=&to=&view=`: the changes between any two versions, picked with two
 * selectors (a plain GET form), shown inline (the diff renderer's `<ins>`/`<del>` fragment) or
 * side by side (the changed sentences, before and after in two aligned columns).
 */
import { type Change, diffArticles, summariseEdit, type WordOp } from "../../../shared/domain/diff/index.ts";
import type { Article, VersionRecord } from "../../../shared/domain/model.ts";
import { loadArticle } from "../../../shared/domain/read/stored-article.ts";
import { NotFoundError } from "../../../shared/errors.ts";
import type { ApiDeps } from "../route-types.ts";
import { breadcrumbs, editBadges, formatTime, plural, shortTitle, timeTag } from "./components.ts";
import { html, type SafeHtml, trustedHtml } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";
import { noiseRulesPanel } from "./noise-rules-panel.ts";
import { loadUrl } from "./url-page.ts";

export type DiffView = "inline" | "side";

export interface DiffQuery {
  from?: string | undefined;
  to?: string | undefined;
  view?: string | undefined;
}

const NO_TEXT: Article = {
  title: null,
  byline: null,
  publishedTime: null,
  modifiedTime: null,
  lang: null,
  text: "",
};

export async function renderDiffPage(
  deps: ApiDeps,
  ui: UiContext,
  urlId: string,
  query: DiffQuery,
): Promise<PageContent> {
  const [url, versions] = await Promise.all([loadUrl(deps, urlId), deps.repository.listVersions(urlId)]);
  const view: DiffView = query.view === "side" ? "side" : "inline";
  const find = (id: string) => {
    const version = versions.find((v) => v.versionId === id);
    if (!version) throw new NotFoundError("version_not_found", `This URL has no version ${id}.`);
    return version;
  };
  const to = query.to ? find(query.to) : versions.at(-1);
  const fromId = query.from ?? to?.previousVersionId;
  const from = fromId ? find(fromId) : undefined;
  const title = shortTitle(url.title, url.url);
  const numbers = new Map(versions.map((v, i) => [v.versionId, i + 1]));
  const crumbs = breadcrumbs([
    { label: "Home", href: link(ui, "/") },
    { label: title, href: link(ui, `/ui/urls/${urlId}`) },
    { label: "Changes" },
  ]);
  const head = html`${crumbs}<h1>Changes to ${title}</h1>`;
  if (!to || !from) {
    return {
      title: `Changes to ${title}`,
      body: html`${head}
${versions.length >= 2 && selectors(ui, urlId, versions, numbers, { from: from?.versionId, to: to?.versionId, view })}
<div class="notice"><p>${
        versions.length < 2
          ? "There is only one version so far, so there is nothing to compare yet. A later capture that finds the text changed makes a second one."
          : "That is the first version: pick an earlier one to compare it with."
      }</p></div>`,
    };
  }

  const [before, after, noiseRules] = await Promise.all([
    articleOf(deps, from),
    articleOf(deps, to),
    deps.repository.noiseRulesForUrl?.(urlId),
  ]);
  const diff = diffArticles(before, after);
  const summary = summariseEdit(diff.edit, diff.changes);
  const viewLink = (target: DiffView) =>
    link(ui, `/ui/urls/${urlId}/diff`, {
      from: from.versionId,
      to: to.versionId,
      view: target === "side" ? "side" : undefined,
    });
  const label = (v: VersionRecord) => `version ${numbers.get(v.versionId) ?? "?"}`;
  const body = html`${head}
${selectors(ui, urlId, versions, numbers, { from: from.versionId, to: to.versionId, view })}
<p class="summary-line">${editBadges(diff.edit ?? { significance: "none" })}</p>
<p class="summary-line break">${summary}</p>
<p class="meta">From <a href="${link(ui, `/ui/urls/${urlId}/versions/${from.versionId}`)}">${label(from)}</a>, ${timeTag(from.capturedAt)},
to <a href="${link(ui, `/ui/urls/${urlId}/versions/${to.versionId}`)}">${label(to)}</a>, ${timeTag(to.capturedAt)}${
    diff.edit
      ? ` · ${plural(diff.edit.stats.wordsInserted, "word")} added, ${plural(diff.edit.stats.wordsDeleted, "word")} removed`
      : ""
  }</p>
${(from.removed || to.removed) && html`<div class="notice"><p>${from.removed ? label(from) : label(to)} records the article as removed, so it has no text.</p></div>`}
<nav aria-label="Diff view"><ul class="tabs">
<li><a href="${viewLink("inline")}"${view === "inline" ? html` aria-current="page"` : ""}>Inline</a></li>
<li><a href="${viewLink("side")}"${view === "side" ? html` aria-current="page"` : ""}>Side by side</a></li>
</ul></nav>
${noiseRulesPanel(urlId, noiseRules)}
<p class="legend">Marked: <ins>added text</ins> and <del>removed text</del>.</p>
${view === "inline" ? inlineView(diff.html) : sideBySide(diff.changes, label(from), label(to))}`;
  return { title: `Changes to ${title}`, body };
}

async function articleOf(deps: ApiDeps, version: VersionRecord): Promise<Article> {
  return version.artifacts.article ? loadArticle(deps.blobs, version) : NO_TEXT;
}

function selectors(
  ui: UiContext,
  urlId: string,
  versions: readonly VersionRecord[],
  numbers: Map<string, number>,
  current: { from: string | undefined; to: string | undefined; view: DiffView },
): SafeHtml {
  const options = (selected: string | undefined) =>
    [...versions].reverse().map((v) => {
      const what = v.removed
        ? " · removed"
        : v.edit
          ? ` · ${v.edit.significance} edit`
          : v.previousVersionId
            ? ""
            : " · first";
      return html`<option value="${v.versionId}"${v.versionId === selected ? " selected" : ""}>Version ${numbers.get(v.versionId) ?? "?"} — ${formatTime(v.capturedAt)}${what}</option>`;
    });
  return html`<form class="submit" method="get" action="${link(ui, `/ui/urls/${urlId}/diff`)}">
<div class="row">
<div class="field grow"><label for="from">From version</label><select id="from" name="from">${options(current.from)}</select></div>
<div class="field grow"><label for="to">To version</label><select id="to" name="to">${options(current.to)}</select></div>
${current.view === "side" && html`<input type="hidden" name="view" value="side">`}
<div class="field"><button type="submit">Compare</button></div>
</div>
</form>`;
}

/** The renderer's fragment, with its title demoted below the page's own heading. */
function inlineView(fragment: string): SafeHtml {
  const demoted = fragment
    .replace('<h1 class="pd-title">', '<h2 class="pd-title">')
    .replace("</h1>", "</h2>");
  return html`<section class="diff-inline" aria-label="Inline diff">${trustedHtml(demoted)}</section>`;
}

function sideBySide(changes: readonly Change[], fromLabel: string, toLabel: string): SafeHtml {
  if (changes.length === 0) return html`<p class="empty">No meaningful change between these versions.</p>`;
  return html`<table class="sbs">
<caption class="visually-hidden">Changed text, before and after</caption>
<thead><tr><th scope="col">Before (${fromLabel})</th><th scope="col">After (${toLabel})</th></tr></thead>
<tbody>${changes.map((change) => {
    const name =
      change.field === "title"
        ? "Headline"
        : change.field === "byline"
          ? "Byline"
          : change.moved
            ? "Moved"
            : "";
    const tag = name && html`<span class="field-name">${name}</span>`;
    return html`<tr>${cell("Before", tag, beforeSide(change))}${cell("After", tag, afterSide(change))}</tr>`;
  })}</tbody>
</table>`;
}

function cell(label: string, tag: SafeHtml | "", content: SafeHtml | null): SafeHtml {
  if (content === null) return html`<td class="blank"><span class="visually-hidden">(nothing)</span></td>`;
  return html`<td data-label="${label}">${tag}${content}</td>`;
}

function beforeSide(change: Change): SafeHtml | null {
  if (change.op === "insert") return null;
  if (change.op === "replace" && change.words) return words(change.words, "delete");
  return html`<del>${change.before ?? ""}</del>`;
}

function afterSide(change: Change): SafeHtml | null {
  if (change.op === "delete") return null;
  if (change.op === "replace" && change.words) return words(change.words, "insert");
  return html`<ins>${change.after ?? ""}</ins>`;
}

/** One side of a word diff: the shared words plus that side's own, marked. */
function words(ops: readonly WordOp[], side: "insert" | "delete"): SafeHtml {
  const tag = side === "insert" ? "ins" : "del";
  return html`${ops
    .filter((op) => op.op === "equal" || op.op === side)
    .map((op) => {
      if (op.op === "equal") return op.text;
      const text = op.text.trimStart();
      const lead = text.length < op.text.length ? " " : "";
      return html`${lead}${trustedHtml(`<${tag}>`)}${text}${trustedHtml(`</${tag}>`)}`;
    })}`;
}
