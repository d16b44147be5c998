/**
 * HTML from template strings. Every interpolated value is escaped unless it is already
 * `SafeHtml`, so a page can only contain markup that was written as markup here (or that the
 * diff renderer, which escapes all text itself, produced). Attribute values must be quoted.
 */
import { escapeHtml } from "../../../shared/domain/diff/index.ts";

export class SafeHtml {
  readonly value: string;
  constructor(value: string) {
    this.value = value;
  }
  toString(): string {
    return this.value;
  }
}

/** What a template accepts: `false`, null and undefined render nothing, so `cond && html\`…\`` works. */
export type HtmlValue = SafeHtml | string | number | false | null | undefined | readonly HtmlValue[];

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): SafeHtml {
  let out = strings[0] ?? "";
  for (let i = 0; i < values.length; i++) out += render(values[i]) + (strings[i + 1] ?? "");
  return new SafeHtml(out);
}

function render(value: HtmlValue): string {
  if (value === null || value === undefined || value === false) return "";
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join("");
  return escapeHtml(String(value));
}

/** Markup produced by a renderer that escapes its own text (`diffArticles().html`). */
export function trustedHtml(markup: string): SafeHtml {
  return new SafeHtml(markup);
}

/** Only http(s) links are ever rendered; anything else becomes an inert fragment link. */
export function externalHref(url: string): string {
  return /^https?:\/\//i.test(url) ? url : "#";
}
