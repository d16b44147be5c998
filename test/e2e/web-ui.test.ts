/**
 * The web UI as a person uses it, in the project's Chromium against the local runner: submit an
 * article from the home page with the keyboard, watch the capture, browse the URL's versions,
 * recapture after the article was edited, reach the diff from the home page in one click, see
 * the version's screenshot, set noise rules from the URL page, and land on friendly error pages. Every page is checked for requests
 * off the loopback interface, console errors (CSP violations included) and labelled controls,
 * and saved as a screenshot under test-results/e2e/.
 *
 * The tests in the flow share one archive and run in order: each starts where the last ended.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Page } from "playwright-core";
import {
  type Harness,
  hasNoHorizontalScroll,
  openPage,
  saveScreenshot,
  startHarness,
  tabTo,
  type WatchedPage,
} from "./harness.ts";

const STORY_PATH = "/e2e/harbour-story";
const FILLER = [
  "The council published the full minutes of the meeting on its website later that evening.",
  "Residents will be able to comment on the plans at a public session next month.",
  "The project is part of a wider programme of coastal works along the estuary.",
];

function story(options: { figure: string; extra?: string }): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Harbour repairs approved</title>
<meta property="article:published_time" content="2026-03-01T09:00:00Z">
<meta property="article:modified_time" content="2026-03-01T10:00:00Z"></head>
<body><header><nav><a href="/">Home</a> <a href="/news">News</a></nav></header>
<article><h1>Harbour repairs approved</h1><p class="byline">By Ana Silva</p>
<p>The harbour authority said on Monday that repairs to the quay would cost ${options.figure} and take two years to finish.</p>
${FILLER.map((f) => `<p>${f}</p>`).join("\n")}
${options.extra ? `<p>${options.extra}</p>` : ""}
</article></body></html>`;
}

let h: Harness;
let watched: WatchedPage;
let page: Page;
/** Filled in as the flow goes. */
const state = { storyUrl: "", captureUrl: "", urlPage: "" };

before(async () => {
  h = await startHarness();
  h.site.setPage(STORY_PATH, story({ figure: "4 million euros" }));
  state.storyUrl = h.site.url(STORY_PATH);
  watched = await openPage(h.browser);
  page = watched.page;
});

after(async () => {
  await h?.close();
});

/** Checks every page leaves the loopback interface alone and logs no errors. */
function assertClean(w: WatchedPage = watched): void {
  assert.deepEqual(w.external, [], "no request leaves the loopback interface");
  assert.deepEqual(w.errors, [], "no console errors (CSP violations would show here)");
}

async function waitForCaptureEnd(p: Page, timeoutMs = 60_000): Promise<string> {
  const label = p.locator(".status-line [data-status-label]");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const text = (await label.textContent().catch(() => null))?.trim();
    if (text === "Succeeded" || text === "Failed") return text;
    await p.waitForTimeout(200);
  }
  throw new Error("the capture page never showed the end of the capture");
}

describe("web UI", () => {
  it("home page: a keyboard-only user submits a URL", async () => {
    const response = await page.goto(h.runner.url);
    assert.equal(response?.status(), 200);
    const csp = response?.headers()["content-security-policy"] ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.ok(await page.getByLabel("Article URL").isVisible());
    assert.ok(await page.getByLabel("Capture again").isVisible());
    assert.equal(await page.getByRole("heading", { name: "Recent edits" }).count(), 1);
    await saveScreenshot(page, "home-empty");

    await tabTo(page, "url");
    await page.keyboard.type(state.storyUrl);
    await Promise.all([page.waitForURL(/\/ui\/captures\/cap_[a-z0-9]+$/), page.keyboard.press("Enter")]);
    state.captureUrl = page.url();
    assertClean();
  });

  it("capture page: follows the capture until it succeeds, then links to every artifact", async () => {
    assert.equal(await waitForCaptureEnd(page), "Succeeded");
    assert.ok(await page.getByText("The first version of this URL was recorded.").isVisible());
    for (const name of ["Snapshot", "Screenshot", "Raw response", "Article (JSON)", "Article text"]) {
      const href = await page.getByRole("link", { name, exact: true }).getAttribute("href");
      assert.match(
        href ?? "",
        /^http:\/\/127\.0\.0\.1:\d+\/.*X-Amz-Signature=/,
        `${name} is a presigned link`,
      );
    }
    await saveScreenshot(page, "capture-succeeded");
    assertClean();
  });

  it("URL page: shows the version timeline, the re-capture policy and the next capture", async () => {
    await page.getByRole("link", { name: "All versions of this URL" }).click();
    await page.waitForURL(/\/ui\/urls\/url_[a-z0-9]+$/);
    state.urlPage = page.url();
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Harbour repairs approved");
    assert.ok(await page.getByText("Adaptive: often while the article changes").isVisible());
    assert.equal(await page.locator("ol.timeline > li").count(), 1);
    assert.match(
      (await page.locator("dl.facts").textContent()) ?? "",
      /Next capture\s*\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/,
    );
    await saveScreenshot(page, "url-one-version");
    assertClean();
  });

  it("recapture: after the article is edited, the capture flags a major stealth edit", async () => {
    h.site.setPage(
      STORY_PATH,
      story({
        figure: "6 million euros",
        extra: "The harbour master said the work would start in the spring, weather permitting.",
      }),
    );
    await Promise.all([
      page.waitForURL(/\/ui\/captures\/cap_[a-z0-9]+$/),
      page.getByRole("button", { name: "Capture now" }).click(),
    ]);
    assert.notEqual(page.url(), state.captureUrl);
    assert.equal(await waitForCaptureEnd(page), "Succeeded");
    const outcome = (await page.locator(".notice").first().textContent()) ?? "";
    assert.match(outcome, /Major edit/);
    assert.match(outcome, /Stealth/);
    await saveScreenshot(page, "capture-edited");

    await page.goto(state.urlPage);
    assert.equal(await page.locator("ol.timeline > li").count(), 2);
    assert.match(
      (await page.locator("ol.timeline > li").first().textContent()) ?? "",
      /Major edit[\s\S]*Stealth/,
    );
    await saveScreenshot(page, "url-two-versions");
    assertClean();
  });

  it("diff page: one click from the home page's recent edits, inline and side by side", async () => {
    await page.goto(h.runner.url);
    await saveScreenshot(page, "home");
    const edits = page.locator("section", { has: page.getByRole("heading", { name: "Recent edits" }) });
    await Promise.all([
      page.waitForURL(/\/ui\/urls\/url_[a-z0-9]+\/diff\?from=ver_[a-z0-9]+&to=ver_[a-z0-9]+$/),
      edits.getByRole("link", { name: "Harbour repairs approved", exact: true }).click(),
    ]);
    const inline = page.locator(".diff-inline");
    assert.ok(
      await inline.locator("ins", { hasText: "6" }).first().isVisible(),
      "the new figure is marked <ins>",
    );
    assert.ok(
      await inline.locator("del", { hasText: "4" }).first().isVisible(),
      "the old figure is marked <del>",
    );
    assert.ok(
      await inline.locator("ins", { hasText: "harbour master" }).isVisible(),
      "the added sentence is marked",
    );
    assert.ok(await page.getByLabel("From version").isVisible());
    assert.ok(await page.getByLabel("To version").isVisible());
    assert.match((await page.locator(".summary-line").nth(1).textContent()) ?? "", /^Major stealth edit/);
    await saveScreenshot(page, "diff-inline");

    await page.getByRole("link", { name: "Side by side" }).click();
    await page.waitForURL(/view=side/);
    const table = page.locator("table.sbs");
    assert.ok(await table.isVisible());
    assert.ok(await table.locator("td del").first().isVisible());
    assert.ok(await table.locator("td ins").first().isVisible());
    assert.equal(await page.locator(".diff-inline").count(), 0);
    await saveScreenshot(page, "diff-side-by-side");

    // Any two versions: swap them with the selectors (a plain GET form).
    const versions = await page
      .getByLabel("From version")
      .locator("option")
      .evaluateAll((options) => options.map((o) => (o as HTMLOptionElement).value));
    assert.equal(versions.length, 2);
    await page.getByLabel("From version").selectOption(versions[0] as string);
    await page.getByLabel("To version").selectOption(versions[1] as string);
    await Promise.all([page.waitForURL(/view=side/), page.getByRole("button", { name: "Compare" }).click()]);
    assert.ok(
      await page.locator("table.sbs td del", { hasText: "harbour master" }).isVisible(),
      "reversed diff",
    );
    assertClean();
  });

  it("home page: finished captures stay under Recent captures", async () => {
    await page.goto(h.runner.url);
    const captures = page.locator("section", { has: page.getByRole("heading", { name: "Recent captures" }) });
    assert.equal(await captures.locator("li", { hasText: "Succeeded" }).count(), 2);
  });

  it("version page: screenshot loaded, snapshot link, article text and metadata with digests", async () => {
    await page.goto(state.urlPage);
    await page.getByRole("link", { name: "Version 2", exact: true }).click();
    await page.waitForURL(/\/versions\/ver_[a-z0-9]+$/);
    const image = page.getByRole("img", { name: /Full-page screenshot of Harbour repairs approved/ });
    await image.waitFor();
    await page.waitForFunction(() => {
      const img = document.querySelector<HTMLImageElement>(".shot img");
      return img?.complete === true;
    });
    assert.ok(
      (await image.evaluate((img) => (img as HTMLImageElement).naturalWidth)) > 0,
      "the screenshot loaded",
    );
    assert.ok(await page.getByRole("link", { name: "Open the snapshot" }).isVisible());
    const facts = (await page.locator("dl.facts").textContent()) ?? "";
    assert.match(facts, /Byline\s*By Ana Silva|Byline\s*Ana Silva/);
    assert.match(facts, /Published\s*2026-03-01 09:00:00 UTC/);
    assert.match(facts, /Language\s*en/);
    assert.ok(await page.locator(".article-text", { hasText: "6 million euros" }).isVisible());
    assert.ok((await page.locator(".artifacts .hash").count()) >= 5, "every artifact shows its SHA-256");
    // The permanent link to cite serves this version's snapshot as a memento.
    const cite = (await page.locator('a[rel="bookmark"]').getAttribute("href")) ?? "";
    assert.match(cite, new RegExp(`^${h.runner.url}/memento/\\d{14}/`));
    const memento = await fetch(cite);
    assert.equal(memento.status, 200);
    assert.ok(memento.headers.get("memento-datetime"));
    await saveScreenshot(page, "version");
    assertClean();
  });

  it("URL page: noise rules are set from its form, and a bad selector comes back with the input kept", async () => {
    await page.goto(state.urlPage);
    const section = page.locator("section#noise-rules");
    assert.match((await section.textContent()) ?? "", /None set on this URL/);
    await page.getByLabel("Parts to ignore (CSS selectors, one per line)").fill("nav\np.byline");
    await page.getByLabel("Smallest change that counts, in words").fill("2");
    await Promise.all([
      page.waitForURL(state.urlPage),
      page.getByRole("button", { name: "Save noise rules" }).click(),
    ]);
    assert.match(
      (await section.textContent()) ?? "",
      /Set on this URL:[\s\S]*nav, p\.byline[\s\S]*fewer than 2 words/,
    );
    // The diff page shows the rules in force.
    await page.goto(`${state.urlPage}/diff`);
    assert.ok(await page.locator(".noise-rules", { hasText: "p.byline" }).isVisible());

    await page.goto(state.urlPage);
    const selectors = page.getByLabel("Parts to ignore (CSS selectors, one per line)");
    await selectors.fill("nav\np.byline\ndiv[[[");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.getByRole("button", { name: "Save noise rules" }).click(),
    ]);
    assert.equal(refused.status(), 400);
    await page.waitForLoadState();
    assert.equal(await selectors.getAttribute("aria-invalid"), "true");
    assert.equal(await selectors.inputValue(), "nav\np.byline\ndiv[[[");
    assert.match(
      (await page.locator(".field-error").textContent()) ?? "",
      /"div\[\[\[" is not a CSS selector/,
    );
    await saveScreenshot(page, "url-noise-rules-refused");
    // The browser logs the 400 document it was sent to on purpose; nothing else may be there.
    assert.deepEqual(
      watched.errors.filter((e) => !/status of 400 /.test(e)),
      [],
    );
    watched.errors.length = 0;

    await Promise.all([
      page.waitForURL(state.urlPage),
      page.getByRole("button", { name: "Clear noise rules" }).click(),
    ]);
    assert.match((await section.textContent()) ?? "", /None set on this URL/);
    assertClean();
  });

  it("error pages: unknown ids and a refused URL get friendly HTML with the right status", async () => {
    const unknown = await page.goto(`${h.runner.url}/ui/captures/cap_doesnotexist`);
    assert.equal(unknown?.status(), 404);
    assert.match(unknown?.headers()["content-type"] ?? "", /^text\/html/);
    assert.equal(await page.getByRole("heading", { level: 1 }).textContent(), "Not found");
    assert.ok(await page.getByRole("link", { name: "Go to the home page" }).isVisible());
    await saveScreenshot(page, "error-not-found");

    const version = await page.goto(`${state.urlPage}/versions/ver_nope`);
    assert.equal(version?.status(), 404);
    const diff = await page.goto(`${state.urlPage}/diff?from=ver_nope`);
    assert.equal(diff?.status(), 404);
    const nowhere = await page.goto(`${h.runner.url}/ui/nowhere`);
    assert.equal(nowhere?.status(), 404);

    await page.goto(h.runner.url);
    await page.getByLabel("Article URL").fill("http://10.0.0.1/private");
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === "POST"),
      page.getByRole("button", { name: "Archive" }).click(),
    ]);
    assert.equal(refused.status(), 400);
    await page.waitForLoadState();
    assert.equal(await page.getByLabel("Article URL").getAttribute("aria-invalid"), "true");
    assert.equal(await page.getByLabel("Article URL").inputValue(), "http://10.0.0.1/private");
    assert.ok(await page.locator(".field-error").isVisible());
    await saveScreenshot(page, "error-refused-url");
    // The browser logs each 4xx document it was sent to on purpose; nothing else may be there.
    const unexpected = watched.errors.filter((e) => !/status of (400|404) /.test(e));
    assert.deepEqual(unexpected, []);
    watched.errors.length = 0;
    assertClean();
  });
});

describe("web UI on a phone", () => {
  it("home and diff pages fit a 390×844 viewport without sideways scrolling", async () => {
    const phone = await openPage(h.browser, { viewport: { width: 390, height: 844 } });
    try {
      await phone.page.goto(h.runner.url);
      assert.ok(await hasNoHorizontalScroll(phone.page), "home page scrolls sideways");
      await saveScreenshot(phone.page, "phone-home");
      const diffHref = await phone.page
        .locator("section", { has: phone.page.getByRole("heading", { name: "Recent edits" }) })
        .getByRole("link", { name: "Harbour repairs approved", exact: true })
        .getAttribute("href");
      await phone.page.goto(new URL(diffHref ?? "", h.runner.url).href);
      assert.ok(await hasNoHorizontalScroll(phone.page), "inline diff scrolls sideways");
      await saveScreenshot(phone.page, "phone-diff-inline");
      await phone.page.getByRole("link", { name: "Side by side" }).click();
      await phone.page.waitForURL(/view=side/);
      assert.ok(await hasNoHorizontalScroll(phone.page), "side-by-side diff scrolls sideways");
      await saveScreenshot(phone.page, "phone-diff-side-by-side");
      assertClean(phone);
    } finally {
      await phone.context.close();
    }
  });
});

describe("web UI without JavaScript", () => {
  it("the plain form submits and the capture page refreshes itself until the capture ends", async () => {
    const plain = await openPage(h.browser, { javaScriptEnabled: false });
    try {
      h.site.setPage("/e2e/no-script", story({ figure: "9 million euros" }));
      await plain.page.goto(h.runner.url);
      await plain.page.getByLabel("Article URL").fill(h.site.url("/e2e/no-script"));
      await Promise.all([
        plain.page.waitForURL(/\/ui\/captures\/cap_[a-z0-9]+$/),
        plain.page.getByRole("button", { name: "Archive" }).click(),
      ]);
      assert.equal(await waitForCaptureEnd(plain.page), "Succeeded");
      assertClean(plain);
    } finally {
      await plain.context.close();
    }
  });
});
