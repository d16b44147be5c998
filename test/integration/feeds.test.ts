/**
 * The Atom feeds of flagged edits end to end: the local runner captures a fixture page, the
 * page is edited (with a headline full of XML's special characters) and captured again, and both
 * feeds must be well-formed Atom — checked by Chromium's strict XML parser — with an entry that
 * says what changed and links to the diff.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, chromium, type Page } from "playwright-core";
import { type LocalRunner, startLocalRunner } from "../../local/runner.ts";
import { chromiumLaunchArgs, resolveBundledChromium } from "../../shared/adapters/chromium/browser-launch.ts";
import { createLogger } from "../../shared/logger.ts";
import { captureUntilDone as submitAndWait } from "../support/capture-client.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import type { Json } from "../support/json.ts";

const HEADLINE = `Ferry fares "frozen" <for now> & reviewed`;
let site: FixtureSite;
let runner: LocalRunner;
let dataDir: string;
let browser: Browser;
let page: Page;
let pageUrl: string;
let edited: Record<string, Json>;

function story(fare: string): string {
  const escaped = HEADLINE.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escaped}</title></head>
<body><article><h1>${escaped}</h1>
<p>The island ferry company said on Friday that a return ticket would cost ${fare} from June.</p>
<p>The company blamed the rising price of fuel and the cost of repairs to its oldest vessel.</p>
<p>Islanders will keep their discount, which the council renewed at its last meeting.</p>
</article></body></html>`;
}

function captureUntilDone(url: string): Promise<Record<string, Json>> {
  return submitAndWait(runner.url, url, { timeoutMs: 30_000 });
}

before(async () => {
  site = await startFixtureSite();
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-feeds-"));
  const executablePath = await resolveBundledChromium();
  [runner, browser] = await Promise.all([
    startLocalRunner({
      dataDir,
      port: 0,
      logger: createLogger({}, "silent"),
      sweepIntervalMs: 0,
      env: {
        ALLOW_PRIVATE_HOSTS: new URL(site.origin).host,
        CAPTURE_NAVIGATION_TIMEOUT_MS: "5000",
        CAPTURE_IDLE_TIMEOUT_MS: "1000",
        HOST_MIN_GAP_MS: "0",
        LOG_LEVEL: "silent",
      },
    }),
    chromium.launch({ executablePath, args: chromiumLaunchArgs() }),
  ]);
  page = await browser.newPage();
  pageUrl = site.url("/feeds/ferry");
  site.setPage("/feeds/ferry", story("24 euros"));
  await captureUntilDone(pageUrl);
  site.setPage("/feeds/ferry", story("27 euros"));
  edited = await captureUntilDone(pageUrl);
  assert.equal(edited.changed, true);
});

after(async () => {
  await browser?.close();
  await runner?.close();
  await site?.close();
  await rm(dataDir, { recursive: true, force: true });
});

interface ParsedFeed {
  error: string | null;
  namespace: string | null;
  root: string | null;
  feed: Record<string, string | null>;
  selfHref: string | null;
  entries: Array<Record<string, string | null>>;
}

/** Parses the document with the browser's XML parser, which refuses anything not well-formed. */
async function parseAtom(xml: string): Promise<ParsedFeed> {
  return page.evaluate((xmlText) => {
    const doc = new DOMParser().parseFromString(xmlText, "application/xml");
    const error = doc.getElementsByTagName("parsererror")[0]?.textContent ?? null;
    const root = doc.documentElement;
    const ns = "http://www.w3.org/2005/Atom";
    const child = (el: Element, name: string) =>
      [...el.children].find((c) => c.namespaceURI === ns && c.localName === name) ?? null;
    const text = (el: Element, name: string) => child(el, name)?.textContent ?? null;
    const links = (el: Element) =>
      [...el.children].filter((c) => c.namespaceURI === ns && c.localName === "link");
    return {
      error,
      namespace: root.namespaceURI,
      root: root.localName,
      feed: { id: text(root, "id"), title: text(root, "title"), updated: text(root, "updated") },
      selfHref:
        links(root)
          .find((l) => l.getAttribute("rel") === "self")
          ?.getAttribute("href") ?? null,
      entries: [...root.children]
        .filter((c) => c.localName === "entry")
        .map((entry) => ({
          id: text(entry, "id"),
          title: text(entry, "title"),
          updated: text(entry, "updated"),
          summary: text(entry, "summary"),
          author: child(entry, "author")?.textContent?.trim() ?? null,
          diffPage:
            links(entry)
              .find((l) => l.getAttribute("rel") === "alternate" && l.getAttribute("type") === "text/html")
              ?.getAttribute("href") ?? null,
          diff:
            links(entry)
              .find(
                (l) =>
                  l.getAttribute("rel") === "describedby" && l.getAttribute("type") === "application/json",
              )
              ?.getAttribute("href") ?? null,
          categories: [...entry.children]
            .filter((c) => c.localName === "category")
            .map((c) => c.getAttribute("term"))
            .join(" "),
        })),
    };
  }, xml);
}

async function fetchFeed(path: string): Promise<{ contentType: string | null; feed: ParsedFeed }> {
  const response = await fetch(`${runner.url}${path}`);
  assert.equal(response.status, 200);
  return { contentType: response.headers.get("content-type"), feed: await parseAtom(await response.text()) };
}

function assertEditEntry(entry: Record<string, string | null> | undefined): void {
  assert.ok(entry);
  assert.equal(entry.id, `urn:palimpsest:edit:${edited.versionId}`);
  assert.equal(entry.title, `Major stealth edit: ${HEADLINE}`, "special characters survive escaping");
  assert.equal(entry.updated, edited.finishedAt);
  assert.equal(entry.author, "Palimpsest");
  assert.match(entry.summary ?? "", /^Major stealth edit: 1 sentence changed; figures changed — .*24.*27/);
  assert.match(entry.categories ?? "", /\bmajor\b.*\bstealth\b.*\bnumber\b/);
  assert.ok(entry.diff);
  const query = new URL(entry.diff).searchParams;
  assert.equal(query.get("to"), edited.versionId);
  assert.equal(
    entry.diffPage,
    `${runner.url}/ui/urls/${edited.urlId}/diff?${query}`,
    "the web UI's diff view",
  );
}

describe("Atom feeds of edits", () => {
  it("GET /v1/edits.atom is well-formed Atom with an entry per flagged edit", async () => {
    const strict = await parseAtom('<feed xmlns="http://www.w3.org/2005/Atom"><title>a & b</title></feed>');
    assert.notEqual(strict.error, null, "the check would catch unescaped text");
    const { contentType, feed } = await fetchFeed("/v1/edits.atom");
    assert.equal(contentType, "application/atom+xml; charset=utf-8");
    assert.equal(feed.error, null);
    assert.equal(feed.namespace, "http://www.w3.org/2005/Atom");
    assert.equal(feed.root, "feed");
    assert.equal(feed.feed.id, `${runner.url}/v1/edits.atom`);
    assert.equal(feed.feed.title, "Palimpsest: flagged edits");
    assert.equal(feed.feed.updated, edited.finishedAt);
    assert.equal(feed.selfHref, `${runner.url}/v1/edits.atom`);
    assert.equal(feed.entries.length, 1);
    assertEditEntry(feed.entries[0]);

    // The entry's diff link works and shows the same edit.
    const diff = (await (await fetch(feed.entries[0]?.diff ?? "")).json()) as Json;
    assert.equal(diff.to, edited.versionId);
    assert.equal(diff.significance, "major");
  });

  it("GET /v1/urls/{urlId}/edits.atom holds that URL's edits; an unknown id is 404", async () => {
    const { feed } = await fetchFeed(`/v1/urls/${edited.urlId}/edits.atom`);
    assert.equal(feed.error, null);
    assert.equal(feed.feed.title, `Palimpsest: edits to ${HEADLINE}`);
    assert.equal(feed.selfHref, `${runner.url}/v1/urls/${edited.urlId}/edits.atom`);
    assert.equal(feed.entries.length, 1);
    assertEditEntry(feed.entries[0]);

    const missing = await fetch(`${runner.url}/v1/urls/url_nothing/edits.atom`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as Json).error.code, "url_not_found");
  });

  it("leaves the JSON lists where they were", async () => {
    const response = await fetch(`${runner.url}/v1/edits`);
    assert.equal(response.headers.get("content-type"), "application/json; charset=utf-8");
    const list = (await response.json()) as Json;
    assert.equal(list.items[0].versionId, edited.versionId);
  });
});
