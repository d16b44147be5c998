/**
 * Real edits the validity classifier must not hide (the second review of issue 15), through the
 * capture worker's domain on the embedded S3 and DynamoDB: a withdrawal note or a shorter
 * rewrite, shown by two captures in a row on a page that is still the article, is the article's
 * new text; a site's newsletter, related-reading or subscription box after an article is no
 * paywall; and an always-teaser article is tracked even with other walls between its teasers.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";
import { type Answer, article, PARAGRAPHS, servingSite } from "../support/serving-site.ts";

let storage: EmbeddedStorage;
before(async () => {
  storage = await startEmbeddedStorage();
});
after(async () => {
  await storage.close();
});

function site(name: string, first: Answer = { html: article() }) {
  return servingSite(storage, `https://news.example/edits/${name}`, first);
}

/** `html` with `box` (markup) right after its article element. */
function withAfter(html: string, box: string): Answer {
  return { html: html.replace("</article>", `</article>${box}`) };
}

const WITHDRAWAL = article(
  [
    "Editor's note: We have taken this report down. An earlier version, published on Monday, contained figures we could not verify; we apologise to our readers and will publish a corrected account.",
  ],
  "Editor's note",
);
const CORRECTED = article(
  [
    "Officials now say the estimate was wrong. Correcting Monday's figures, a spokeswoman stated that fixing the pier would require 9 million and three years, not two.",
    "She blamed an accounting mistake by consultants and promised an independent review before any contract is signed.",
  ],
  "Pier estimate corrected: nine million, three years",
);
/** An interstitial in no wall's vocabulary, marked up as the page's article. */
const APP_PROMOTION = `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Get the app</title></head>
<body><article><h1>Get the Harbour Times app</h1>
<p>Our new app brings you the news of the coast with offline reading and alerts for the topics you follow.</p>
<p>Download it from your app store today and read on the go.</p></article></body></html>`;
const NEWSLETTER_BOX = `<aside class="newsletters"><p>Already a subscriber? Sign in to manage your newsletters.</p></aside>`;
const RELATED_DE = `<aside class="related"><h2>Zum Weiterlesen</h2><ul><li><a href="/a">Hafen: Neue Kräne für das Terminal</a></li></ul></aside>`;
const SUPPORT_BOX = `<aside class="promo"><p>Local news matters. Support our newsroom with a digital subscription from 1 euro a month.</p></aside>`;
const ACCOUNT_TEASER: Answer = {
  html: article([PARAGRAPHS[0] as string]).replace(
    "</article>",
    `<div class="gateway-box"><p>Create your free account or log in to continue reading.</p></div></article>`,
  ),
};
const CHALLENGE: Answer = {
  html: `<!doctype html><html><head><title>Just a moment...</title></head><body><div id="cf-wrapper">Checking your browser before accessing news.example.</div></body></html>`,
  headers: { "cf-mitigated": "challenge" },
};

describe("a much shorter text that shares almost nothing with the last version", () => {
  for (const [name, page] of [
    ["withdrawal-note", WITHDRAWAL],
    ["corrected-rewrite", CORRECTED],
  ] as const) {
    it(`is held back once, then made a version with its edit when the next capture confirms it (${name})`, async () => {
      const s = site(name);
      const first = await s.capture();
      s.serve({ html: page });
      const once = await s.capture();
      assert.equal(once.validity, "empty", once.validityReason);
      assert.equal(once.versionId, undefined);
      const twice = await s.capture();
      assert.equal(twice.validity, "ok", twice.validityReason);
      assert.match(twice.validityReason ?? "", /two captures in a row/);
      assert.equal(twice.changed, true);
      assert.equal(twice.edit?.significance, "major");
      const versions = await s.versions();
      assert.deepEqual(
        versions.map((v) => v.previousVersionId),
        [undefined, first.versionId],
      );
      assert.match(versions[1]?.summary ?? "", /taken as the article's new text/);
      assert.equal((await s.record()).notOkSince, undefined);
    });
  }

  it("makes no version of an unknown wall that comes and goes (article → wall → article → wall)", async () => {
    const s = site("transient-wall");
    const first = await s.capture();
    for (const page of [APP_PROMOTION, article(), APP_PROMOTION]) {
      s.serve({ html: page });
      const capture = await s.capture();
      assert.notEqual(capture.changed, true, capture.validityReason);
    }
    assert.deepEqual(
      (await s.versions()).map((v) => v.versionId),
      [first.versionId],
    );
  });
});

describe("a site's own boxes after an article", () => {
  it("takes a newsletter box's sign-in line after a short article for no paywall, and flags its edit", async () => {
    const short = PARAGRAPHS.slice(0, 3) as string[];
    const s = site("newsletter-box", withAfter(article(short), NEWSLETTER_BOX));
    const first = await s.capture();
    assert.equal(first.validity, "ok", first.validityReason);
    assert.ok(first.versionId);
    s.serve(
      withAfter(
        article([short[0] as string, (short[1] as string).replace("March", "April"), short[2] as string]),
        NEWSLETTER_BOX,
      ),
    );
    const edited = await s.capture();
    assert.equal(edited.validity, "ok", edited.validityReason);
    assert.equal(edited.changed, true);
  });

  it('takes a "Zum Weiterlesen" related-reading heading for no paywall', async () => {
    const page = article(PARAGRAPHS.slice(0, 4) as string[]).replace('lang="en"', 'lang="de"');
    const s = site("zum-weiterlesen", withAfter(page, RELATED_DE));
    const first = await s.capture();
    assert.equal(first.validity, "ok", first.validityReason);
    assert.ok(first.versionId);
  });

  it("flags an editor's cut of the article's end with a subscription box below the article", async () => {
    const s = site("cut-with-support-box", withAfter(article(), SUPPORT_BOX));
    await s.capture();
    s.serve(withAfter(article(PARAGRAPHS.slice(0, 2) as string[]), SUPPORT_BOX));
    const cut = await s.capture();
    assert.equal(cut.validity, "ok", cut.validityReason);
    assert.equal(cut.changed, true);
    assert.ok(cut.edit?.kinds.includes("removed"), JSON.stringify(cut.edit));
  });
});

describe("an always-teaser article with other walls between its teasers", () => {
  for (const [name, between] of [
    ["challenge", CHALLENGE],
    ["consent", undefined],
  ] as const) {
    it(`tracks teaser, ${name}, teaser as the first (teaser) version`, async () => {
      const s = site(`teaser-${name}-teaser`, ACCOUNT_TEASER);
      assert.equal((await s.capture()).versionId, undefined);
      s.serve(
        between ?? {
          html: article([
            "To read this article, agree to the use of cookies and tracking for personalised advertising by us and 214 third parties, or subscribe to read without ads.",
          ]),
        },
      );
      const wall = await s.capture();
      assert.notEqual(wall.validity, "paywall", wall.validityReason);
      assert.equal(wall.versionId, undefined);
      s.serve(ACCOUNT_TEASER);
      const second = await s.capture();
      assert.equal(second.validity, "paywall", second.validityReason);
      assert.ok(second.versionId);
      assert.deepEqual(
        (await s.versions()).map((v) => v.teaser),
        [true],
      );
    });
  }
});
