/**
 * Noise rules a person sets on a URL or on a source (diffengine #28, #33): CSS selectors whose
 * elements are dropped before extraction (a live ticker, a "last updated" widget the extractor
 * keeps), and a minimum change below which a difference makes no new version. They apply to
 * comparisons from the moment they are set; versions already made stay as they are.
 */
// css-what is the parser linkedom's own selector engine uses: what it refuses, queries refuse.
// A small library rather than linkedom itself, which would more than double the API's bundle.
import { parse as parseSelector } from "css-what";
import { InvalidRequestError } from "../../errors.ts";
import type { EffectiveNoiseRules, NoiseRules } from "./noise-rule-types.ts";

export type { EffectiveNoiseRules, NoiseRules } from "./noise-rule-types.ts";

export const NO_NOISE_RULES: EffectiveNoiseRules = { dropSelectors: [], minChangedWords: 0, from: [] };

const MAX_SELECTORS = 50;
const MAX_SELECTOR_LENGTH = 300;
const MAX_MIN_CHANGED_WORDS = 10_000;

/**
 * Reads rules from a request body: `{"dropSelectors"?: string[], "minChangedWords"?: integer}`,
 * nothing else. Each selector must be valid CSS and must not select the whole page.
 *
 * @throws InvalidRequestError with a code a person can act on.
 */
export function parseNoiseRules(body: unknown): NoiseRules {
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    throw new InvalidRequestError(
      "invalid_body",
      'The body must be a JSON object like {"dropSelectors": [".live-ticker"], "minChangedWords": 3}.',
    );
  }
  const unknownField = Object.keys(body).find((key) => key !== "dropSelectors" && key !== "minChangedWords");
  if (unknownField !== undefined) {
    throw new InvalidRequestError("unknown_field", `Noise rules have no field "${unknownField}".`);
  }
  const { dropSelectors = [], minChangedWords = 0 } = body as Record<string, unknown>;
  if (!Array.isArray(dropSelectors) || dropSelectors.some((s) => typeof s !== "string")) {
    throw new InvalidRequestError("invalid_selectors", '"dropSelectors" must be a list of CSS selectors.');
  }
  if (dropSelectors.length > MAX_SELECTORS) {
    throw new InvalidRequestError("invalid_selectors", `Give at most ${MAX_SELECTORS} selectors.`);
  }
  const selectors = [...new Set((dropSelectors as string[]).map((s) => s.trim()).filter((s) => s !== ""))];
  for (const selector of selectors) checkSelector(selector);
  if (
    typeof minChangedWords !== "number" ||
    !Number.isInteger(minChangedWords) ||
    minChangedWords < 0 ||
    minChangedWords > MAX_MIN_CHANGED_WORDS
  ) {
    throw new InvalidRequestError(
      "invalid_min_changed_words",
      `"minChangedWords" must be a whole number from 0 to ${MAX_MIN_CHANGED_WORDS}.`,
    );
  }
  return { dropSelectors: selectors, minChangedWords };
}

function checkSelector(selector: string): void {
  if (selector.length > MAX_SELECTOR_LENGTH) {
    throw new InvalidRequestError(
      "invalid_selectors",
      `A selector may have at most ${MAX_SELECTOR_LENGTH} characters.`,
    );
  }
  try {
    parseSelector(selector);
  } catch {
    throw new InvalidRequestError("invalid_selectors", `"${selector}" is not a CSS selector.`);
  }
  // Dropping these would drop the whole article: a typo, never a noise rule.
  if (/^\s*(?:\*|html|body|:root)\s*$/i.test(selector)) {
    throw new InvalidRequestError("invalid_selectors", `"${selector}" would drop the whole page.`);
  }
}

/** Whether rules change anything at all (empty rules are stored as none). */
export function hasNoiseRules(rules: NoiseRules | null | undefined): rules is NoiseRules {
  return rules != null && (rules.dropSelectors.length > 0 || rules.minChangedWords > 0);
}

/**
 * The rules in force for a URL: every selector of its own and of its sources' rules, and the
 * largest threshold among them (a source's rule is a floor a URL cannot lower by accident).
 */
export function mergeNoiseRules(
  parts: ReadonlyArray<{ scope: "url" | "source"; id: string; rules: NoiseRules }>,
): EffectiveNoiseRules {
  const selectors = new Set<string>();
  let minChangedWords = 0;
  const from: EffectiveNoiseRules["from"] = [];
  for (const { scope, id, rules } of parts) {
    if (!hasNoiseRules(rules)) continue;
    for (const selector of rules.dropSelectors) selectors.add(selector);
    minChangedWords = Math.max(minChangedWords, rules.minChangedWords);
    from.push({ scope, id });
  }
  return { dropSelectors: [...selectors], minChangedWords, from };
}

/** Words a change touched: inserted plus deleted, as the diff counts them. */
export function changedWords(stats: { wordsInserted: number; wordsDeleted: number }): number {
  return stats.wordsInserted + stats.wordsDeleted;
}

/** Whether a difference of `stats` is below the rules' threshold, so makes no version. */
export function isBelowThreshold(
  stats: { wordsInserted: number; wordsDeleted: number },
  rules: Pick<NoiseRules, "minChangedWords">,
): boolean {
  return rules.minChangedWords > 0 && changedWords(stats) < rules.minChangedWords;
}

/**
 * Removes every element matching one of `selectors` under `root`, in place. A selector that
 * fails here (stored before a parser change) is skipped, never fatal to a capture.
 */
export function dropMatching(root: Element, selectors: readonly string[]): number {
  let dropped = 0;
  for (const selector of selectors) {
    let matches: Element[];
    try {
      matches = Array.from(root.querySelectorAll(selector));
    } catch {
      continue;
    }
    for (const el of matches) {
      // An element inside one dropped already has gone with it.
      if (el.parentNode !== null && root.contains(el)) {
        el.remove();
        dropped++;
      }
    }
  }
  return dropped;
}

/** A short, stable fingerprint of the selectors, recorded with a version made under them. */
export function selectorsKey(selectors: readonly string[]): string {
  return [...selectors].sort().join("\n");
}
