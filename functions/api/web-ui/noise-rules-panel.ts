/**
 * Noise rules on the pages: the rules in force for a URL as the diff page shows them, and the
 * section of the URL and source pages that shows a URL's or a source's rules with a form to set
 * them (selectors one per line, and the minimum change) and one to clear them. The forms post to
 * the page's own address (`action=set-noise-rules` or `clear-noise-rules`), under the same rules
 * as the sources forms (routes.ts): offered only where the archive has no key, CSRF-checked, and
 * refused from another site. Rules that are not rules come back on the page with why, the
 * reader's input kept.
 */
import {
  type NoiseRulesView,
  readNoiseRules,
  setNoiseRules,
} from "../../../shared/domain/extract/manage-noise-rules.ts";
import type { EffectiveNoiseRules, NoiseRules } from "../../../shared/domain/extract/noise-rule-types.ts";
import { InvalidRequestError } from "../../../shared/errors.ts";
import type { NoiseRuleScope } from "../../../shared/ports.ts";
import { ruleDeps } from "../noise-rules.ts";
import type { ApiDeps } from "../route-types.ts";
import { csrfField, plural } from "./components.ts";
import { html, type SafeHtml } from "./html.ts";
import { link, type UiContext } from "./layout.ts";

/** The `action` values of the noise-rule forms. */
export const NOISE_RULE_ACTIONS = ["set-noise-rules", "clear-noise-rules"] as const;

/** What the form shows when it comes back refused: the reader's input as sent, and why. */
export interface NoiseRulesFormState {
  dropSelectors: string;
  minChangedWords: string;
  error: { field: "dropSelectors" | "minChangedWords"; message: string };
}

/** The rules set on a URL or a source (and, for a URL, those in force), for its page. */
export function loadNoiseRules(deps: ApiDeps, scope: NoiseRuleScope, id: string): Promise<NoiseRulesView> {
  return readNoiseRules(ruleDeps(deps), scope, id);
}

/**
 * Applies a noise-rule form POST to a URL or a source. Null when the rules were saved or cleared;
 * the form state to show again when the reader's rules were refused (anything else throws).
 */
export async function noiseRulesFromForm(
  deps: ApiDeps,
  scope: NoiseRuleScope,
  id: string,
  form: URLSearchParams,
): Promise<NoiseRulesFormState | null> {
  if (form.get("action") === "clear-noise-rules") {
    await setNoiseRules(ruleDeps(deps), scope, id, null);
    return null;
  }
  const dropSelectors = form.get("dropSelectors") ?? "";
  const minChangedWords = (form.get("minChangedWords") ?? "").trim();
  // Anything but a whole number goes to the domain as it is, to be refused with the API's reason.
  const threshold =
    minChangedWords === ""
      ? 0
      : /^\d{1,6}$/.test(minChangedWords)
        ? Number(minChangedWords)
        : minChangedWords;
  try {
    await setNoiseRules(ruleDeps(deps), scope, id, {
      dropSelectors: dropSelectors.split(/\r?\n/),
      minChangedWords: threshold,
    });
    return null;
  } catch (err) {
    if (!(err instanceof InvalidRequestError) || err.status !== 400) throw err;
    const field = err.code === "invalid_min_changed_words" ? "minChangedWords" : "dropSelectors";
    return { dropSelectors, minChangedWords, error: { field, message: err.message } };
  }
}

/** The list of what rules do; nothing for empty rules. */
function ruleItems(rules: NoiseRules): SafeHtml {
  return html`<ul>
${rules.dropSelectors.length > 0 && html`<li>Dropped before the article is read: ${rules.dropSelectors.map((s, i) => html`${i > 0 ? ", " : ""}<code>${s}</code>`)}</li>`}
${rules.minChangedWords > 0 && html`<li>Changes of fewer than ${plural(rules.minChangedWords, "word")} make no new version.</li>`}
</ul>`;
}

const hasRules = (rules: NoiseRules) => rules.dropSelectors.length > 0 || rules.minChangedWords > 0;

/** The diff page's notice of the rules in force; nothing when there are none (most URLs). */
export function noiseRulesPanel(urlId: string, rules: EffectiveNoiseRules | undefined): SafeHtml | "" {
  if (!rules || rules.from.length === 0) return "";
  const where = rules.from.map((f) => (f.scope === "url" ? "this URL" : `source ${f.id}`)).join(", ");
  return html`<section class="notice noise-rules" aria-labelledby="noise-rules-title">
<h2 id="noise-rules-title">Noise rules</h2>
<p>Set on ${where}. They apply to comparisons made after they were set; versions made before keep the text they had.</p>
${ruleItems(rules)}
<p class="meta">Change them with <code>PUT /v1/urls/${urlId}/noise-rules</code> or <code>palimpsest noise-rules ${urlId} --drop &lt;selector&gt;</code>.</p>
</section>`;
}

/**
 * The noise-rules section of a URL's or a source's page: what is set there (and, for a URL, the
 * rules its sources add), and the forms when `forms` (else how to change them with the API).
 */
export function noiseRulesSection(
  ui: UiContext,
  options: { rules: NoiseRulesView; forms: boolean; form?: NoiseRulesFormState | undefined },
): SafeHtml {
  const { rules } = options;
  const own = { dropSelectors: rules.dropSelectors, minChangedWords: rules.minChangedWords };
  const page = rules.scope === "url" ? `/ui/urls/${rules.id}` : `/ui/sources/${rules.id}`;
  const api = `/v1/${rules.scope === "url" ? "urls" : "sources"}/${rules.id}/noise-rules`;
  const inherited = (rules.inEffect?.from ?? []).filter((f) => f.scope === "source");
  const here = rules.scope === "url" ? "URL" : "source";
  return html`<section class="noise-rules" id="noise-rules" aria-labelledby="noise-rules-title">
<h2 id="noise-rules-title">Noise rules</h2>
<p class="meta">Parts of the page to ignore, and the smallest change that counts, for comparisons from now on${rules.scope === "source" ? " of every URL this source found and finds" : ""}; versions made before keep the text they had.</p>
${hasRules(own) ? html`<p>Set on this ${here}:</p>${ruleItems(own)}` : html`<p class="empty">None set on this ${here}.</p>`}
${
  rules.inEffect &&
  inherited.length > 0 &&
  html`<p>In force with those of ${inherited.map((f, i) => html`${i > 0 ? ", " : ""}<a href="${link(ui, `/ui/sources/${f.id}`)}">source ${f.id}</a>`)} (changed on the source's page):</p>${ruleItems(rules.inEffect)}`
}
${options.forms ? ruleForms(ui, page, own, options.form) : html`<p class="meta">Change them with <code>PUT ${api}</code> or <code>palimpsest noise-rules ${rules.id} --drop &lt;selector&gt;</code>.</p>`}
</section>`;
}

function ruleForms(
  ui: UiContext,
  page: string,
  own: NoiseRules,
  state: NoiseRulesFormState | undefined,
): SafeHtml {
  const selectors = state?.dropSelectors ?? own.dropSelectors.join("\n");
  const threshold = state?.minChangedWords ?? (own.minChangedWords > 0 ? String(own.minChangedWords) : "");
  const badSelectors = state?.error.field === "dropSelectors";
  const badThreshold = state?.error.field === "minChangedWords";
  return html`<form class="submit" method="post" action="${link(ui, page)}">
${csrfField(ui)}
<input type="hidden" name="action" value="set-noise-rules">
<div class="field">
<label for="drop-selectors">Parts to ignore (CSS selectors, one per line)</label>
<textarea id="drop-selectors" name="dropSelectors" rows="3" spellcheck="false" placeholder=".live-ticker"
 aria-describedby="${badSelectors ? "drop-selectors-error drop-selectors-help" : "drop-selectors-help"}"${badSelectors ? html` aria-invalid="true" autofocus` : ""}>${selectors}</textarea>
${badSelectors && html`<p id="drop-selectors-error" class="field-error">${state?.error.message}</p>`}
<p id="drop-selectors-help" class="help">Elements they match are removed before the article is read: a live ticker, a clock.</p>
</div>
<div class="field">
<label for="min-changed-words">Smallest change that counts, in words</label>
<input id="min-changed-words" name="minChangedWords" type="text" class="narrow" inputmode="numeric" maxlength="6" value="${threshold}" placeholder="0"
 aria-describedby="${badThreshold ? "min-changed-words-error min-changed-words-help" : "min-changed-words-help"}"${badThreshold ? html` aria-invalid="true" autofocus` : ""}>
${badThreshold && html`<p id="min-changed-words-error" class="field-error">${state?.error.message}</p>`}
<p id="min-changed-words-help" class="help">Words inserted plus deleted; a smaller difference makes no new version. Empty or 0: every difference counts.</p>
</div>
<button type="submit">Save noise rules</button>
</form>
${
  hasRules(own) &&
  html`<form class="inline" method="post" action="${link(ui, page)}">
${csrfField(ui)}
<input type="hidden" name="action" value="clear-noise-rules">
<button type="submit" class="secondary">Clear noise rules</button>
</form>`
}`;
}
