/**
 * The capture worker's domain: one capture message in, one finished capture out. Every step is
 * safe to repeat, because SQS may deliver the same message twice and a worker may die anywhere.
 *
 * The flow, and where each step lives (the functions named here are in this folder unless said):
 *
 * 0. **Probe.** A scheduled recapture of a URL whose last browser capture found it server-rendered
 *    first makes one conditional GET (`probeFirst`, probe-capture.ts; decisions in
 *    probe-policy.ts): a 304 or the same article text records it unchanged with `method: "http"`,
 *    and nothing below runs; any doubt declines, and the capture goes on in the browser.
 * 1. **Load.** `processCapture` (process-capture.ts) marks the capture running (its host's
 *    politeness was kept before its message was sent: `shared/domain/host-shaping.ts`), and loads
 *    the page through the `PageCapturer` port (`shared/ports.ts`), which the Chromium adapter under
 *    `shared/adapters/` implements: navigation, settling, snapshot, screenshot, raw response.
 *    Meanwhile `readUrlState` (record-on-url.ts) reads the URL and its latest version.
 * 2. **Store.** `preparePage` (prepare-page.ts) starts every upload at once through the
 *    `BlobStore` port (`shared/adapters/s3-blob-store.ts`): snapshot, screenshot, raw response,
 *    article.json and article.txt, each stored once under its SHA-256 (artifacts.ts).
 * 3. **Extract.** In the same step, the article (title, byline, times, language, text) is
 *    extracted from the rendered page by `deps.extract`, which is `extractArticle` from
 *    `shared/domain/extract/` wherever the worker is wired.
 * 4. **Decide.** `decideVersion` (decide-version.ts) first classifies what the page showed
 *    (`shared/domain/validity/`: the article, or a challenge, consent wall, paywall teaser, soft
 *    404, empty page or error page); only the article is compared with the URL's latest version:
 *    same comparable text, or only page noise, is unchanged; anything else is a new version with
 *    its diff (`shared/domain/diff/`) and edit. Walls make no version (a teaser is compared only
 *    with teasers). `decideRemoval` covers a page that now answers 404 or 410, or says it is gone;
 *    restored and redirected pages are in `decideVersion`. A 403, 429 or 503 is taken all the same
 *    and told apart in refused-answer.ts: a challenge, or a transient failure honouring Retry-After.
 * 4b. **Evidence.** A capture that makes a version also stores its signed WACZ
 *    (evidence-package.ts, built with `shared/domain/evidence/`): every HTTP exchange the browser
 *    recorded, the snapshot, screenshot and article, and the provenance, signed through the
 *    `EvidenceSigner` port; started before the decision when the text differs from the latest.
 *    A package that cannot be signed, built or stored after a few tries leaves the version
 *    recorded without it, with `evidence: {status: "missing", code, message}` saying why.
 * 5. **Record.** `recordOnUrl` (record-on-url.ts) stores the new version and, in one conditional
 *    write on the `ArchiveRepository` port (`shared/adapters/dynamo-archive-repository.ts`), makes
 *    it the latest, counts the capture and sets the next capture time (`shared/domain/schedule.ts`),
 *    with what the capture learned for probes (`probeLearner`, probe-capture.ts);
 *    if another capture moved the URL meanwhile, it decides again. All reasoning about redelivered
 *    messages is in that file. Then the capture record is finished.
 * 6. **Publish.** `announceEdit` (announce-edit.ts) sends an `ArticleEdited` event through the
 *    `EditPublisher` port (EventBridge and webhooks, `shared/adapters/`), at least once per edit.
 *
 * A failure at any step goes to failures.ts: retried while transient and attempts are left,
 * otherwise recorded as failed; `failDeadLetteredCapture` ends captures whose message was given up.
 * The capture Lambda's handler (`functions/capture/handler.ts`) calls `processCapture` for each
 * message, and the local runner (`local/runner.ts`) wires that same handler; the dead-letter
 * Lambda and the runner call `failDeadLetteredCapture`. What the API reads back (stored articles, views) is in
 * `shared/domain/read/`, which this folder may use but the API never reaches past.
 *
 * What follows the browser is kept short, because it adds to every capture's latency: the URL and
 * its latest version are read while the page loads; extraction and uploads start on the page as
 * first taken, while the capturer checks that it stayed quiet; the uploads go out together while
 * the outcome is decided; then one write stores a new version, one conditional write records the
 * capture on its URL (latest pointer, counts and next capture time together), and one finishes
 * the capture.
 */
export { failDeadLetteredCapture } from "./failures.ts";
export { processCapture } from "./process-capture.ts";
export type { ExtractArticle, HttpProbe, ProcessCaptureDeps, ProcessOutcome } from "./types.ts";
