/**
 * A page source's `linkPattern`: which of the page's links are articles. Patterns come from
 * callers and run against every link of every poll, so they run on RE2 (`re2js`), whose matching
 * time is linear in the input whatever the pattern: a pattern like `(a+)+$` cannot hang a poll as
 * it would JavaScript's backtracking engine. RE2 has no look-around and no back-references; a
 * pattern using them is refused with a clear message.
 */
import { RE2JS } from "re2js";
import { InvalidRequestError } from "../../errors.ts";
import { checkLinkPattern } from "./check-link-pattern.ts";

/** A compiled pattern: true when an absolute URL contains a match (anchor with ^ and $ for more). */
export type LinkMatcher = (url: string) => boolean;

/** Compiles a caller's pattern; throws InvalidRequestError `invalid_link_pattern`. */
export function compileLinkPattern(input: unknown): LinkMatcher {
  checkLinkPattern(input);
  let pattern: RE2JS;
  try {
    pattern = RE2JS.compile(input as string);
  } catch (cause) {
    throw new InvalidRequestError(
      "invalid_link_pattern",
      `linkPattern is not a regular expression RE2 accepts (no look-around, no back-references): ${(cause as Error).message}`,
      { cause },
    );
  }
  return (url) => pattern.test(url);
}
