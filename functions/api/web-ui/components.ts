/** Small pieces several pages share: times, sizes, badges, artifact lists, breadcrumbs. */
import type {
  CaptureRecord,
  CaptureStatus,
  Edit,
  EditKind,
  RecapturePolicy,
  Validity,
} from "../../../shared/domain/model.ts";
import type { ArtifactLink } from "../../../shared/domain/read/views.ts";
import { CSRF_FIELD } from "./csrf.ts";
import { html, type SafeHtml } from "./html.ts";
import type { UiContext } from "./layout.ts";

/** `2026-03-01 10:04:05 UTC` in a `<time>` element; the exact instant is in `datetime`. */
export function timeTag(iso: string | undefined | null): SafeHtml {
  if (!iso) return html`<span class="empty">—</span>`;
  return html`<time datetime="${iso}">${formatTime(iso)}</time>`;
}

export function formatTime(iso: string): string {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return iso;
  // To the second: two captures minutes apart must not read alike, and a memento URI (which a
  // reader may cite beside it) names the second.
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

const STATUS_LABELS: Record<CaptureStatus, string> = {
  queued: "Queued",
  running: "Running",
  succeeded: "Succeeded",
  failed: "Failed",
};

export function statusLabel(status: CaptureStatus): string {
  return STATUS_LABELS[status];
}

export function statusBadge(status: CaptureStatus): SafeHtml {
  return html`<span class="badge status-${status}">${statusLabel(status)}</span>`;
}

const KIND_LABELS: Record<EditKind, string> = {
  headline: "headline",
  byline: "byline",
  added: "text added",
  removed: "text removed",
  changed: "text changed",
  number: "figures",
  quote: "quotation",
  correction: "correction notice",
  moved: "moved",
  removed_article: "article removed",
  restored_article: "article restored",
  redirected: "redirected",
};

/**
 * Significance, stealth and revert as badges whose words carry the meaning (colour only repeats
 * it), then the kinds of change as quieter chips.
 */
export function editBadges(
  edit: Pick<Edit, "significance" | "stealth" | "kinds"> | { significance: "none" } | undefined,
  extra: { revertOf?: string | undefined; removed?: boolean | undefined; kinds?: boolean } = {},
): SafeHtml {
  const badges: SafeHtml[] = [];
  if (extra.removed) badges.push(html`<span class="badge badge-removed">Removed</span>`);
  if (edit?.significance === "major") badges.push(html`<span class="badge badge-major">Major edit</span>`);
  else if (edit?.significance === "minor")
    badges.push(html`<span class="badge badge-minor">Minor edit</span>`);
  else if (edit?.significance === "none") badges.push(html`<span class="badge badge-none">No change</span>`);
  if (edit && "stealth" in edit && edit.stealth) {
    badges.push(
      html`<span class="badge badge-stealth" title="The text changed but the page's declared modification time did not">Stealth</span>`,
    );
  }
  if (extra.revertOf) badges.push(html`<span class="badge badge-revert">Revert</span>`);
  if (edit && "kinds" in edit && extra.kinds !== false) {
    for (const kind of edit.kinds)
      badges.push(html`<span class="badge badge-kind">${KIND_LABELS[kind] ?? kind}</span>`);
  }
  return badges.length > 0 ? html`<span class="badges">${badges}</span>` : html``;
}

const VALIDITY_LABELS: Record<Validity, string> = {
  ok: "Article",
  challenge: "Bot challenge",
  consent_wall: "Consent wall",
  paywall: "Paywall",
  soft_404: "Page gone",
  empty: "No article",
  error_page: "Error page",
};

/** What a capture showed, as a badge, with the reason as its tooltip; nothing for an `ok` one. */
export function validityBadge(capture: Pick<CaptureRecord, "validity" | "validityReason">): SafeHtml {
  if (!capture.validity || capture.validity === "ok") return html``;
  return html`<span class="badge badge-wall" title="${capture.validityReason ?? ""}">${VALIDITY_LABELS[capture.validity]}</span>`;
}

/** The label of a validity class, for sentences. */
export function validityLabel(validity: Validity): string {
  return VALIDITY_LABELS[validity];
}

export function describeRecapture(policy: RecapturePolicy): string {
  if (policy === "adaptive") return "Adaptive: often while the article changes, less as it settles";
  if (policy === "off") return "Off: captured only on request";
  const minutes = policy.everyMinutes;
  if (minutes % 1440 === 0) return `Every ${plural(minutes / 1440, "day")}`;
  if (minutes % 60 === 0) return `Every ${plural(minutes / 60, "hour")}`;
  return `Every ${plural(minutes, "minute")}`;
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? "" : "s"}`;
}

const ARTIFACT_LABELS: Record<string, { label: string; note: string }> = {
  snapshot: { label: "Snapshot", note: "the rendered page, scripts removed, opens offline" },
  screenshot: { label: "Screenshot", note: "the full page as the browser drew it" },
  raw: { label: "Raw response", note: "the document exactly as the server sent it (download)" },
  article: { label: "Article (JSON)", note: "title, byline, times, language and text" },
  text: { label: "Article text", note: "plain text" },
  diff: { label: "Diff (JSON)", note: "changes against the previous version" },
  diffHtml: { label: "Diff (HTML)", note: "changes against the previous version" },
  wacz: { label: "Evidence (WACZ)", note: "every HTTP exchange of the capture, signed (download)" },
};

const ARTIFACT_ORDER = ["wacz", "snapshot", "screenshot", "article", "text", "raw", "diff", "diffHtml"];

/** Every stored artifact with its presigned link, type, size and SHA-256. */
export function artifactList(links: Record<string, ArtifactLink>): SafeHtml {
  const names = Object.keys(links).sort(
    (a, b) => rank(ARTIFACT_ORDER.indexOf(a)) - rank(ARTIFACT_ORDER.indexOf(b)) || a.localeCompare(b),
  );
  if (names.length === 0) return html`<p class="empty">No artifacts were stored.</p>`;
  return html`<ul class="list artifacts">${names.map((name) => {
    const link = links[name] as ArtifactLink;
    const known = ARTIFACT_LABELS[name] ?? { label: name, note: "" };
    return html`<li>
<a class="item-title" href="${link.url}">${known.label}</a>${known.note && html` <span class="meta">— ${known.note}</span>`}
<p class="meta">${link.contentType} · ${formatBytes(link.bytes)}</p>
<p class="meta">SHA-256 <span class="hash">${link.sha256}</span></p>
</li>`;
  })}</ul>`;
}

function rank(index: number): number {
  return index === -1 ? Number.MAX_SAFE_INTEGER : index;
}

export interface Crumb {
  label: string;
  href?: string;
}

export function breadcrumbs(crumbs: readonly Crumb[]): SafeHtml {
  return html`<nav aria-label="Breadcrumb"><ol class="crumbs">${crumbs.map((crumb, i) =>
    crumb.href && i < crumbs.length - 1
      ? html`<li><a href="${crumb.href}">${crumb.label}</a></li>`
      : html`<li aria-current="page">${crumb.label}</li>`,
  )}</ol></nav>`;
}

/** A short label for a page: its title, else its host and path. */
export function shortTitle(title: string | null | undefined, url: string): string {
  if (title?.trim()) return title.trim();
  try {
    const parsed = new URL(url);
    return `${parsed.host}${parsed.pathname === "/" ? "" : parsed.pathname}`;
  } catch {
    return url;
  }
}

/** Origins of presigned links that a page shows as images. */
export function originsOf(urls: ReadonlyArray<string | undefined>): string[] {
  const origins: string[] = [];
  for (const url of urls) {
    if (!url) continue;
    try {
      origins.push(new URL(url).origin);
    } catch {
      // not a URL: the page will not render it as an image either
    }
  }
  return origins;
}

/** A password field for archives that require a key; it is checked server-side and never stored. */
export function apiKeyField(id: string): SafeHtml {
  return html`<div class="field"><label for="${id}">API key</label>
<input id="${id}" name="apiKey" type="password" required autocomplete="current-password"></div>`;
}

/** The hidden field every POST form carries; the route refuses the POST without it (csrf.ts). */
export function csrfField(ui: UiContext): SafeHtml {
  return html`<input type="hidden" name="${CSRF_FIELD}" value="${ui.csrf.token}">`;
}
