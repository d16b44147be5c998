/**
 * Consent dialogs of the common platforms, answered by a real Chromium capture: in the page and
 * in the platform's iframe, served from a second loopback origin (another port of 127.0.0.1, so
 * the page's own scripts cannot reach into it). Refusal where offered, else acceptance; what was
 * done is on the capture. The markup follows what each platform ships (`test/fixtures/consent/`).
 */
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { createChromiumPageCapturer } from "../../shared/adapters/chromium/page-capturer.ts";
import type { ConsentAttempt } from "../../shared/domain/model.ts";
import type { PageCapturer } from "../../shared/ports.ts";
import { testCaptureOptions } from "../support/capture-options.ts";
import { type FixtureSite, startFixtureSite } from "../support/fixture-site.ts";
import { loopbackEgress, NO_DNS } from "../support/loopback-browser.ts";

const OPTIONS = testCaptureOptions({ idleTimeoutMs: 4_000 });

let site: FixtureSite;
/** The consent platforms' origin: a different port, so a different origin from the page's. */
let platform: FixtureSite;
let capturer: PageCapturer;

function fixture(name: string): string {
  return readFileSync(new URL(`../fixtures/consent/${name}`, import.meta.url), "utf8").replaceAll(
    "{{FRAME_ORIGIN}}",
    platform.origin,
  );
}

before(async () => {
  site = await startFixtureSite();
  platform = await startFixtureSite();
  for (const name of [
    "onetrust",
    "didomi",
    "sourcepoint",
    "quantcast",
    "trustarc",
    "usercentrics",
    "funding-choices",
    "captcha-frame",
  ]) {
    site.setPage(`/consent/${name}.html`, fixture(`${name}.html`));
  }
  platform.setPage("/consent/sourcepoint-message.html", fixture("sourcepoint-message.html"));
  platform.setPage("/consent/trustarc-frame.html", fixture("trustarc-frame.html"));
  platform.setPage("/captcha/consent-check.html", fixture("captcha-check.html"));
  platform.setPage("/consent/choice", "ok", { contentType: "text/plain" });
  capturer = createChromiumPageCapturer({ extraArgs: [NO_DNS], egress: loopbackEgress() });
});

after(async () => {
  await capturer?.close();
  await site?.close();
  await platform?.close();
});

/** The consent recorded on the capture, and what the page says was chosen. */
async function captureConsent(
  path: string,
): Promise<{ consent: ConsentAttempt | undefined; chosen: string | undefined; snapshot: string }> {
  const capture = await capturer.capture(site.url(path), OPTIONS);
  assert.match(capture.renderedHtml, /CONSENT-ARTICLE-MARKER/);
  const chosen = /<body[^>]*data-consent="([^"]+)"/.exec(capture.renderedHtml)?.[1];
  return { consent: capture.consent, chosen, snapshot: capture.snapshotHtml };
}

describe("consent dialogs: refused where the dialog offers it", () => {
  it("OneTrust: Reject All, in the page", async () => {
    const { consent, chosen, snapshot } = await captureConsent("/consent/onetrust.html");
    assert.deepEqual(consent, {
      cmp: "onetrust",
      action: "reject",
      frame: "main",
      label: "Reject All",
      dismissed: true,
    });
    assert.equal(chosen, "rejected");
    assert.doesNotMatch(snapshot, /id="onetrust-banner-sdk"/);
  });

  it("Didomi: Continue without agreeing, in the page", async () => {
    const { consent, chosen } = await captureConsent("/consent/didomi.html");
    assert.deepEqual(consent, {
      cmp: "didomi",
      action: "continue_without_accepting",
      frame: "main",
      label: "Continuer sans accepter →",
      dismissed: true,
    });
    assert.equal(chosen, "rejected");
  });

  it("Sourcepoint: Reject All, inside its message iframe from another origin", async () => {
    const { consent, chosen, snapshot } = await captureConsent("/consent/sourcepoint.html");
    assert.deepEqual(consent, {
      cmp: "sourcepoint",
      action: "reject",
      frame: platform.origin,
      label: "Reject All",
      dismissed: true,
    });
    assert.equal(chosen, "rejected");
    assert.doesNotMatch(snapshot, /id="sp_message_iframe/);
  });

  it("TrustArc: Required cookies only, inside its iframe from another origin", async () => {
    const { consent, chosen } = await captureConsent("/consent/trustarc.html");
    assert.deepEqual(consent, {
      cmp: "trustarc",
      action: "reject",
      frame: platform.origin,
      label: "Required cookies only",
      dismissed: true,
    });
    assert.equal(chosen, "rejected");
  });

  it("Usercentrics: Ablehnen, inside its shadow root", async () => {
    const { consent, chosen } = await captureConsent("/consent/usercentrics.html");
    assert.deepEqual(consent, {
      cmp: "usercentrics",
      action: "reject",
      frame: "main",
      label: "Ablehnen",
      dismissed: true,
    });
    assert.equal(chosen, "rejected");
  });

  it("Google Funding Choices: Do not consent", async () => {
    const { consent, chosen } = await captureConsent("/consent/funding-choices.html");
    assert.deepEqual(consent, {
      cmp: "funding-choices",
      action: "reject",
      frame: "main",
      label: "Do not consent",
      dismissed: true,
    });
    assert.equal(chosen, "rejected");
  });
});

describe("consent dialogs: accepted where refusing is not offered", () => {
  it("Quantcast: AGREE, not the secondary button that only opens more options", async () => {
    const { consent, chosen } = await captureConsent("/consent/quantcast.html");
    assert.deepEqual(consent, {
      cmp: "quantcast",
      action: "accept",
      frame: "main",
      label: "AGREE",
      dismissed: true,
    });
    assert.equal(chosen, "accepted");
  });
});

describe("consent dialogs: what is left alone", () => {
  it("never clicks inside a bot check's frame, even one that asks about cookies", async () => {
    // Choices made by the other tests' frames may or may not have reached the platform before
    // their contexts closed: count only what this capture sends.
    const choicesBefore = platform.requestCount("/consent/choice");
    const { consent } = await captureConsent("/consent/captcha-frame.html");
    assert.equal(consent, undefined);
    assert.equal(platform.requestCount("/captcha/consent-check.html"), 1, "the frame did load");
    assert.equal(
      platform.requestCount("/consent/choice"),
      choicesBefore,
      "no choice sent from the bot check",
    );
  });

  it("still answers the dialog of an article whose own address says 'challenge'", async () => {
    site.setPage("/news/climate-challenge-for-the-harbour.html", fixture("onetrust.html"));
    const { consent, chosen } = await captureConsent("/news/climate-challenge-for-the-harbour.html");
    assert.equal(consent?.action, "reject");
    assert.equal(chosen, "rejected");
  });

  it("records nothing on a page without a consent dialog", async () => {
    site.setPage(
      "/consent/none.html",
      "<!doctype html><html lang=en><head><title>Quay</title></head><body><article><h1>Quay</h1><p>CONSENT-ARTICLE-MARKER: nothing to answer here, only the article about the quay.</p><p><a href='/privacy-policy.html'>Privacy policy</a></p></article></body></html>",
    );
    const { consent } = await captureConsent("/consent/none.html");
    assert.equal(consent, undefined);
  });
});
