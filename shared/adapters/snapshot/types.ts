/**
 * The shapes the snapshot's two halves share: what the DOM serialiser brings out of the page
 * (`chromium/in-page/serialize-dom.ts`) and what `buildSnapshot` takes and gives in Node.
 */

/** Side data for one marked element; the element carries `markAttribute="<index>"`. */
export type ElementSideData =
  | { kind: "img"; currentSrc: string }
  | { kind: "style"; cssText: string }
  | { kind: "canvas"; dataUrl: string };

/** What the DOM serialiser returns: plain JSON, cheap to move out of the page. */
export interface SerializedDocument {
  /** `document.documentElement.outerHTML`, with `markAttribute` on elements that have side data. */
  html: string;
  doctype: { name: string; publicId: string; systemId: string } | null;
  /** `document.baseURI`: what relative URLs in the document resolve against (honours `<base>`). */
  baseUrl: string;
  markAttribute: string;
  marks: ElementSideData[];
  /** Rules of `document.adoptedStyleSheets`, which have no element in the DOM. */
  adoptedCss: string;
  pageWidth: number;
  pageHeight: number;
}

/** A response body the browser received for a subresource. */
export interface CollectedResource {
  /** The URL the body came from (after redirects); relative URLs inside CSS resolve against it. */
  url: string;
  contentType: string;
  body: Uint8Array;
}

export interface SnapshotInput {
  dom: SerializedDocument;
  /** Looks a resource up by absolute URL without fragment. */
  resources: ReadonlyMap<string, CollectedResource>;
  /** The page's URL, recorded in the snapshot. */
  pageUrl: string;
  /**
   * ISO 8601 capture time. Not written into the snapshot: an unchanged page then gives the same
   * bytes, so every recapture of it shares one stored snapshot (artifacts are content-addressed);
   * the capture record, the version and Memento's `Memento-Datetime` carry the time instead.
   * @deprecated unused; kept so that existing callers compile.
   */
  capturedAt?: string;
  /** Largest single resource inlined, in bytes of the resource body. */
  resourceMaxBytes: number;
  /** Total bytes inlined into one snapshot, counted per occurrence. */
  totalMaxBytes: number;
}

export interface SnapshotResult {
  html: string;
  stats: {
    /** Occurrences replaced by a `data:` URI. */
    inlined: number;
    /** Bytes of resource bodies inlined. */
    inlinedBytes: number;
    /** Occurrences left blank (their URL kept as provenance only) because a cap was reached. */
    overBudget: number;
    /** Occurrences left blank (their URL kept as provenance only): the browser never loaded them. */
    missing: number;
  };
}
