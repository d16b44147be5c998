/**
 * Checking a caller's `linkPattern` where it is stored (the API): JavaScript's parser for the
 * syntax, and a refusal of what RE2 (which runs it, in the poll: link-pattern.ts) does not have —
 * look-around and back-references. Kept apart from the RE2 engine itself, whose 150 KB would not
 * fit the API function's bundle budget. A pattern RE2 still refuses makes its poll record
 * `invalid_link_pattern`.
 */
import { InvalidRequestError } from "../../errors.ts";

export const MAX_LINK_PATTERN_LENGTH = 500;

/** Look-ahead, look-behind, numbered and named back-references. */
const NOT_IN_RE2 = /\(\?<?[=!]|\\[1-9]|\\k</;

/** Throws InvalidRequestError `invalid_link_pattern` for a pattern the poll could not run. */
export function checkLinkPattern(input: unknown): string {
  if (typeof input !== "string" || input.trim() === "") {
    throw new InvalidRequestError(
      "invalid_link_pattern",
      "linkPattern must be a non-empty regular expression.",
    );
  }
  if (input.length > MAX_LINK_PATTERN_LENGTH) {
    throw new InvalidRequestError(
      "invalid_link_pattern",
      `linkPattern is longer than ${MAX_LINK_PATTERN_LENGTH} characters.`,
    );
  }
  try {
    new RegExp(input);
  } catch (cause) {
    throw new InvalidRequestError(
      "invalid_link_pattern",
      `linkPattern is not a regular expression: ${(cause as Error).message}`,
      { cause },
    );
  }
  if (NOT_IN_RE2.test(input)) {
    throw new InvalidRequestError(
      "invalid_link_pattern",
      "linkPattern runs on RE2, which has no look-around and no back-references; match the links without them.",
    );
  }
  return input;
}
