/**
 * The noise rules in force for a URL, as the diff page shows them: what is dropped before
 * extraction, the minimum change, where each rule was set, and how to change them.
 */
import type { EffectiveNoiseRules } from "../../../shared/domain/extract/noise-rule-types.ts";
import { plural } from "./components.ts";
import { html, type SafeHtml } from "./html.ts";

/** Nothing when no rules are in force (most URLs). */
export function noiseRulesPanel(urlId: string, rules: EffectiveNoiseRules | undefined): SafeHtml | "" {
  if (!rules || rules.from.length === 0) return "";
  const where = rules.from.map((f) => (f.scope === "url" ? "this URL" : `source ${f.id}`)).join(", ");
  return html`<section class="notice noise-rules" aria-labelledby="noise-rules-title">
<h2 id="noise-rules-title">Noise rules</h2>
<p>Set on ${where}. They apply to comparisons made after they were set; versions made before keep the text they had.</p>
<ul>
${rules.dropSelectors.length > 0 && html`<li>Dropped before the article is read: ${rules.dropSelectors.map((s, i) => html`${i > 0 ? ", " : ""}<code>${s}</code>`)}</li>`}
${rules.minChangedWords > 0 && html`<li>Changes of fewer than ${plural(rules.minChangedWords, "word")} make no new version.</li>`}
</ul>
<p class="meta">Change them with <code>PUT /v1/urls/${urlId}/noise-rules</code> or <code>palimpsest noise-rules ${urlId} --drop &lt;selector&gt;</code>.</p>
</section>`;
}
