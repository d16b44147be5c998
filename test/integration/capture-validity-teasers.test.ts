/**
 * Teasers the outlet's markup does not declare, through the capture worker's domain on the
 * embedded S3 and DynamoDB: a teaser that is the article's first paragraphs and a line asking the
 * reader to subscribe or sign in is no edit, before or after the full text, while an editor's cut
 * of the article's end, or a developing story that grows, is still flagged. Also the generic
 * "agree to cookies or subscribe" wall, and a URL's first teasers (the audit of issue 15).
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
  return servingSite(storage, `https://news.example/teasers/${name}`, first);
}

/** The article's first `count` paragraphs, then `after` (markup) inside the article. */
function teaser(count: number, after: string): Answer {
  return { html: article([...PARAGRAPHS.slice(0, count)]).replace("</article>", `${after}</article>`) };
}

/** WSJ-style: the wall's line is in a promotion box the extractor leaves out of the text. */
const MEMBERSHIP_TEASER = teaser(
  2,
  `<div class="snippet-promotion"><p>Continue reading your article with a WSJ membership</p><a href="/subscribe">View membership options</a></div>`,
);
/** NYT-style: the wall's line is extracted with the text. */
const ACCOUNT_TEASER = teaser(
  1,
  `<div class="gateway-box"><p>Create your free account or log in to continue reading.</p><button>Continue</button></div>`,
);
/**
 * A wall line in no vocabulary of strong paywall words, only weak ones ("membership"), extracted
 * with the text: weak words count only there, not in a box below the article (a site's own
 * subscription box under a whole article says the same words).
 */
const WEAK_WORDS_TEASER = teaser(2, `<p>Read the full story with a Harbour Times membership.</p>`);
/** An outlet's ordinary page furniture after an article: a newsletter box. */
const NEWSLETTER = `<aside class="newsletter"><h3>The morning briefing</h3><p>Sign up for our newsletter and get the day's news in your inbox.</p></aside>`;
/** A generic "accept or subscribe" wall with no consent platform's markup. */
const GENERIC_CONSENT = teaser(
  1,
  `<div class="privacy-gate"><h2>Read with ads or subscribe</h2><p>To read this article, agree to the use of cookies and tracking for personalised advertising by us and 214 third parties, or subscribe to read without ads.</p><button>Agree</button><button>Subscribe</button></div>`,
);

describe("teasers cut from the article's first paragraphs", () => {
  for (const [name, page, words] of [
    ["membership line outside the text", MEMBERSHIP_TEASER, /membership/],
    ["account line in the text", ACCOUNT_TEASER, /create your free account/],
    ["weak words only", WEAK_WORDS_TEASER, /first 2 paragraphs.*read the full story/],
  ] as const) {
    it(`makes full → teaser → full one version (${name})`, async () => {
      const s = site(name.replaceAll(" ", "-"));
      const first = await s.capture();
      s.serve(page);
      const walled = await s.capture();
      assert.equal(walled.validity, "paywall", walled.validityReason);
      assert.match(walled.validityReason ?? "", words);
      assert.equal(walled.versionId, undefined);
      s.serve({ html: article() });
      const back = await s.capture();
      assert.equal(back.changed, false);
      assert.deepEqual(
        (await s.versions()).map((v) => v.versionId),
        [first.versionId],
      );
    });
  }

  it("still flags an edit that cuts the article's end with no wall's words where it stops", async () => {
    const s = site("cut-end", { html: article().replace("<footer>", `${NEWSLETTER}<footer>`) });
    await s.capture();
    s.serve({ html: article(PARAGRAPHS.slice(0, 2)).replace("<footer>", `${NEWSLETTER}<footer>`) });
    const cut = await s.capture();
    assert.equal(cut.validity, "ok", cut.validityReason);
    assert.equal(cut.changed, true);
    assert.equal(cut.edit?.significance, "major");
    assert.ok(cut.edit?.kinds.includes("removed"), JSON.stringify(cut.edit));
    assert.equal((await s.versions()).length, 2);
  });
});

describe("a URL's first captures behind a teaser", () => {
  it("makes no version of a recognised first teaser, and the full text version 1 with no edit", async () => {
    const s = site("first-account-teaser", ACCOUNT_TEASER);
    const walled = await s.capture();
    assert.equal(walled.validity, "paywall", walled.validityReason);
    assert.equal(walled.versionId, undefined);
    s.serve({ html: article() });
    const full = await s.capture();
    assert.equal(full.validity, "ok");
    assert.equal(full.changed, false);
    assert.equal((await s.versions()).length, 1);
  });

  it("recognises a first WSJ-style teaser by the words where its text stops", async () => {
    const s = site("first-membership-teaser", MEMBERSHIP_TEASER);
    const walled = await s.capture();
    assert.equal(walled.validity, "paywall", walled.validityReason);
    assert.deepEqual(await s.versions(), []);
  });

  it("takes a first version that the full text completes after its wall's line for a teaser: a version, no edit", async () => {
    const unrecognised = teaser(2, "<p>Read the full story with a free Harbour Times account.</p>");
    const s = site("unrecognised-first-teaser", unrecognised);
    const first = await s.capture();
    assert.equal(first.validity, "ok", "weak words alone do not make a first capture a teaser");
    assert.ok(first.versionId);
    s.serve({ html: article() });
    const full = await s.capture();
    assert.equal(full.validity, "ok");
    assert.equal(full.changed, false, JSON.stringify(full.edit));
    assert.equal(full.edit, undefined);
    const versions = await s.versions();
    assert.equal(versions.length, 2);
    assert.match(versions[1]?.summary ?? "", /before it was its teaser/);
    assert.equal(versions[1]?.edit, undefined);
    // The teaser once more: now cut from the full text's first paragraphs, a wall.
    s.serve(unrecognised);
    const again = await s.capture();
    assert.equal(again.validity, "paywall", again.validityReason);
    assert.equal((await s.versions()).length, 2);
  });

  it("still flags a developing story that grows by whole paragraphs", async () => {
    const s = site("developing", teaser(2, "<p>This is a developing story and will be updated.</p>"));
    await s.capture();
    s.serve({ html: article() });
    const grown = await s.capture();
    assert.equal(grown.validity, "ok");
    assert.equal(grown.changed, true);
    assert.ok(grown.edit?.kinds.includes("added"), JSON.stringify(grown.edit));
  });

  it("makes the first teaser version once a second capture in a row is a teaser too", async () => {
    const s = site("always-teaser", ACCOUNT_TEASER);
    assert.equal((await s.capture()).versionId, undefined);
    const second = await s.capture();
    assert.equal(second.validity, "paywall");
    assert.ok(second.versionId);
    const versions = await s.versions();
    assert.deepEqual(
      versions.map((v) => [v.teaser, v.edit]),
      [[true, undefined]],
    );
  });
});

describe("a generic accept-or-subscribe wall", () => {
  it("is a consent wall, not a paywall, after the article and as a first capture", async () => {
    const s = site("generic-consent");
    const first = await s.capture();
    s.serve(GENERIC_CONSENT);
    const walled = await s.capture();
    assert.equal(walled.validity, "consent_wall", walled.validityReason);
    assert.equal(walled.versionId, undefined);
    s.serve({ html: article() });
    assert.equal((await s.capture()).versionId, first.versionId);

    const fresh = site("generic-consent-first", GENERIC_CONSENT);
    const gated = await fresh.capture();
    assert.equal(gated.validity, "consent_wall", gated.validityReason);
    assert.deepEqual(await fresh.versions(), []);
  });
});
