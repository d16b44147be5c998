/**
 * The `Cache-Control` values the API sends, in one place: browsers, feed readers and the optional
 * CloudFront distribution in front of the API (infra/constructs/edge-cache.ts) all honour them, so
 * what may be kept, and for how long, is decided here by the code that knows what changes.
 */

/** Seconds a short-lived public document (a feed, the newest memento) may be reused. */
export const SHORT_MAX_AGE_SECONDS = 60;

/**
 * A response that can never change: a memento that has a successor (its body, its datetime and
 * every link it carries are fixed), an asset named by its digest.
 */
export const IMMUTABLE = "public, max-age=31536000, immutable";

/** A public document that changes when the archive does: a feed, the newest memento. */
export const SHORT = `public, max-age=${SHORT_MAX_AGE_SECONDS}`;

/** Public, but check with us before each reuse (redirects that follow the newest memento). */
export const REVALIDATE = "no-cache";

/** Never kept: JSON API answers, pages with presigned links and CSRF cookies, errors. */
export const NO_STORE = "no-store";
