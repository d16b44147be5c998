/**
 * Collects the bodies of the subresources the page's main frame loads (stylesheets, fonts, images)
 * while it loads, for the snapshot to inline. Bodies are held in memory until the snapshot is
 * built, within twice the snapshot's inlining budget.
 */
import type { Page, Request } from "playwright-core";
import type { PageCaptureOptions } from "../../ports.ts";
import type { CollectedResource } from "../snapshot/types.ts";
import { withoutFragment } from "../snapshot/urls.ts";
import { bodyOf } from "./response-bodies.ts";
import { delay } from "./timing.ts";

/** Resource types whose bodies can end up inlined in the snapshot. */
const COLLECTED_RESOURCE_TYPES = new Set(["stylesheet", "image", "font", "other"]);
/** How long the snapshot waits for bodies still being read when it is built. */
const BODY_COLLECTION_GRACE_MS = 2_000;

export interface ResourceCollector {
  /** Bodies collected so far, by URL without fragment, waiting briefly for ones still being read. */
  collected(): Promise<Map<string, CollectedResource>>;
}

export function collectResources(
  page: Page,
  isMainFrame: (request: Request) => boolean,
  options: PageCaptureOptions,
): ResourceCollector {
  const resources = new Map<string, CollectedResource>();
  const pendingBodies = new Set<Promise<void>>();
  // Collecting more than the snapshot may use only costs memory, but the browser loads candidates
  // the DOM no longer references.
  const collectionCap = options.inlineTotalMaxBytes * 2;
  let collectedBytes = 0;
  page.on("response", (response) => {
    const request = response.request();
    if (!isMainFrame(request) || request.isNavigationRequest()) return;
    const type = request.resourceType();
    const status = response.status();
    if (!COLLECTED_RESOURCE_TYPES.has(type) || status < 200 || status >= 300) return;
    const contentType = response.headers()["content-type"] ?? "";
    if (type === "other" && !contentType.startsWith("image/")) return;
    const declared = Number(response.headers()["content-length"] ?? "0");
    if (declared > options.inlineResourceMaxBytes || collectedBytes >= collectionCap) return;
    const pending: Promise<void> = bodyOf(response)
      .then((body) => {
        if (
          body.byteLength > options.inlineResourceMaxBytes ||
          collectedBytes + body.byteLength > collectionCap
        ) {
          return;
        }
        collectedBytes += body.byteLength;
        const entry = { url: response.url(), contentType, body: new Uint8Array(body) };
        // Register every URL of the redirect chain: the DOM refers to the first one.
        for (let hop: Request | null = request; hop; hop = hop.redirectedFrom()) {
          resources.set(withoutFragment(hop.url()), entry);
        }
      })
      .catch(() => {}) // evicted or aborted: the snapshot leaves the resource blank
      .finally(() => pendingBodies.delete(pending));
    pendingBodies.add(pending);
  });

  return {
    async collected() {
      if (pendingBodies.size > 0) {
        await Promise.race([Promise.allSettled([...pendingBodies]), delay(BODY_COLLECTION_GRACE_MS)]);
      }
      return resources;
    },
  };
}
