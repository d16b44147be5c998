/**
 * The snapshot's own Content-Security-Policy, carried in a `<meta http-equiv>` as the first element
 * of its `<head>`, so that it holds wherever the snapshot is opened: from its presigned link, from
 * disk, or from any server that sends no policy of its own. It allows what the snapshot is made
 * of (`data:` images, styles and fonts, and inline styles) and nothing else: no scripts, no
 * connections, no frames, no media, no form submissions, no `<base>`. The sanitiser already removes
 * all of these; the policy is what still holds if a page ever gets something past it.
 *
 * A `<meta>` policy cannot carry `sandbox` or `frame-ancestors`; the Memento endpoint sends those in
 * its header. Both policies apply together, so the stricter always wins.
 */
export const SNAPSHOT_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "img-src data:",
  "style-src data: 'unsafe-inline'",
  "font-src data:",
  // Neither falls back to default-src.
  "base-uri 'none'",
  "form-action 'none'",
].join("; ");
