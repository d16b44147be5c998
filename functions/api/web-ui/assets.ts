/**
 * The UI's stylesheet and script, kept as strings so the API function's bundle carries them
 * without loaders or copied files. Both are served from the API's own origin (`/ui/assets/…`),
 * which is all the pages' Content-Security-Policy allows. The script is progressive enhancement
 * only: every page works, and every form submits, without it.
 */
import { createHash } from "node:crypto";

const APP_CSS = `
:root {
  color-scheme: light dark;
  --bg: #ffffff; --fg: #1b1b1f; --muted: #4f5360; --line: #d5d7de; --surface: #f4f5f7;
  --link: #0a4fbf; --accent: #0a4fbf; --focus: #c2410c; --field: #6b7080;
  --ins-bg: #d3f2d8; --ins-fg: #0b3d1a; --del-bg: #fbdada; --del-fg: #6e0b0b;
  --danger: #a3121b;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #15161a; --fg: #e9eaee; --muted: #b3b7c2; --line: #3a3d46; --surface: #1f2127;
    --link: #8ab4ff; --accent: #8ab4ff; --focus: #ffb86b; --field: #9aa0ad;
    --ins-bg: #1d4a2a; --ins-fg: #dcf7e2; --del-bg: #5a1d1d; --del-fg: #ffe1e1;
    --danger: #ff8a8a;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; text-size-adjust: 100%; }
body { margin: 0; background: var(--bg); color: var(--fg);
  font: 1rem/1.55 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
a { color: var(--link); text-underline-offset: 2px; }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible,
[tabindex]:focus-visible, summary:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
main:focus { outline: none; }
.wrap { max-width: 62rem; margin: 0 auto; padding: 0 1rem; }
.skip { position: absolute; left: -10000px; top: .5rem; background: var(--bg); padding: .5rem 1rem; z-index: 10; }
.skip:focus { left: .5rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
header.site { border-bottom: 1px solid var(--line); background: var(--surface); }
header.site .wrap { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1rem; padding-top: .7rem; padding-bottom: .7rem; }
.brand { font-weight: 700; font-size: 1.2rem; color: var(--fg); text-decoration: none; letter-spacing: .01em; }
.tagline { color: var(--muted); font-size: .9rem; }
header.site .nav { margin-left: auto; font-weight: 600; }
footer.site { color: var(--muted); font-size: .9rem; border-top: 1px solid var(--line); padding: .5rem 0 1.5rem; }
main { padding-bottom: 2.5rem; }
h1 { font-size: 1.6rem; line-height: 1.25; margin: 1.2rem 0 .6rem; overflow-wrap: anywhere; }
h2 { font-size: 1.2rem; margin: 1.8rem 0 .6rem; }
h3 { font-size: 1.05rem; margin: 1.2rem 0 .4rem; }
p { margin: .4rem 0 .8rem; }
.lede { color: var(--muted); margin-top: 0; }
.meta { color: var(--muted); font-size: .9rem; margin: .15rem 0; }
.url, .break { overflow-wrap: anywhere; }
.hash { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .82rem; word-break: break-all; }
.columns { display: grid; grid-template-columns: minmax(0, 1fr); gap: 0 2.5rem; }
@media (min-width: 52rem) { .columns { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); } }

/* Forms */
form.submit { background: var(--surface); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; margin: 1rem 0; }
.field { margin-bottom: .8rem; }
.field label { display: block; font-weight: 600; margin-bottom: .25rem; }
.help { color: var(--muted); font-size: .85rem; margin: .25rem 0 0; }
.row { display: flex; flex-wrap: wrap; gap: .75rem; align-items: flex-end; }
.row > .grow { flex: 1 1 16rem; min-width: 0; }
input, select, button, textarea { font: inherit; }
input[type="url"], input[type="text"], select, textarea { width: 100%; padding: .5rem .65rem; border: 1px solid var(--field); border-radius: 6px; background: var(--bg); color: var(--fg); min-height: 2.6rem; }
select { width: auto; max-width: 100%; }
textarea { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .9rem; resize: vertical; }
input.narrow { width: 8rem; }
input[aria-invalid="true"], textarea[aria-invalid="true"] { border-color: var(--danger); border-width: 2px; }
.field-error { color: var(--danger); font-weight: 600; margin: .3rem 0 0; }
button, .button { display: inline-block; padding: .5rem 1.1rem; min-height: 2.6rem; border-radius: 6px; border: 1px solid #0a4fbf;
  background: #0a4fbf; color: #fff; font-weight: 600; cursor: pointer; text-decoration: none; }
button.secondary { background: transparent; color: var(--link); border-color: var(--field); }
form.inline { display: inline; }

/* Lists and facts */
.list { list-style: none; padding: 0; margin: 0; }
.list > li { padding: .75rem 0; border-bottom: 1px solid var(--line); }
.list > li:last-child { border-bottom: 0; }
.item-title { font-weight: 600; overflow-wrap: anywhere; }
.empty { color: var(--muted); font-style: italic; }
.more { margin-top: .5rem; }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .3rem 1rem; margin: .5rem 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
@media (max-width: 30rem) { dl.facts { grid-template-columns: minmax(0, 1fr); gap: 0; } dl.facts dd { margin-bottom: .5rem; } }
.crumbs { list-style: none; padding: 0; margin: 1rem 0 0; display: flex; flex-wrap: wrap; gap: .25rem; font-size: .9rem; color: var(--muted); }
.crumbs li { overflow-wrap: anywhere; }
.crumbs li + li::before { content: "›"; margin-right: .35rem; }
.notice { border-left: 4px solid var(--accent); background: var(--surface); padding: .6rem 1rem; margin: 1rem 0; border-radius: 0 6px 6px 0; }
.notice.error { border-left-color: var(--danger); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem 1.25rem; align-items: center; margin: .75rem 0; }

/* Badges: the words carry the meaning; colour only repeats it. */
.badge { display: inline-block; padding: .05rem .55rem; border-radius: 999px; font-size: .78rem; font-weight: 700;
  line-height: 1.5; white-space: nowrap; border: 1px solid transparent; vertical-align: .08em; }
.badges { display: inline-flex; flex-wrap: wrap; gap: .3rem; vertical-align: middle; }
.badge-major { background: #a3121b; color: #fff; }
.badge-minor { background: #1f4e79; color: #fff; }
.badge-none { background: #e3e5ea; color: #1b1b1f; }
.badge-stealth { background: #ffd23f; color: #1b1b1f; border-color: #8a6d00; }
.badge-revert { background: #5b3a8c; color: #fff; }
.badge-removed { background: #3d3d3d; color: #fff; }
.badge-wall { background: #fff3c4; color: #4a3b00; border-color: #8a6d00; }
.badge-kind { background: transparent; color: var(--muted); border-color: var(--line); font-weight: 600; }
.status-queued, .status-running { background: #fff3c4; color: #4a3b00; border-color: #8a6d00; }
.status-succeeded { background: #136b2f; color: #fff; }
.status-failed { background: #a3121b; color: #fff; }

/* Timeline of versions */
ol.timeline { list-style: none; margin: .5rem 0 0 .45rem; padding: 0; border-left: 3px solid var(--line); }
ol.timeline > li { position: relative; padding: 0 0 1.3rem 1.2rem; }
ol.timeline > li::before { content: ""; position: absolute; left: -.62rem; top: .4rem; width: .9rem; height: .9rem;
  border-radius: 50%; background: var(--bg); border: 3px solid var(--muted); }
ol.timeline > li.major::before { border-color: #a3121b; background: #a3121b; }
ol.timeline > li.minor::before { border-color: #1f4e79; }
ol.timeline > li.removed::before { border-color: #3d3d3d; background: #3d3d3d; }

/* Version page */
.shot { max-height: 75vh; overflow: auto; border: 1px solid var(--line); border-radius: 8px; background: var(--surface); }
.shot img { display: block; width: 100%; height: auto; }
.replay-frame { display: block; width: 100%; height: 80vh; min-height: 24rem; border: 1px solid var(--line); border-radius: 8px; background: #fff; }
.article-text { max-width: 42rem; }
.article-text p { margin: 0 0 1em; }

/* Diffs */
ins, del { text-decoration-thickness: 2px; text-decoration-skip-ink: none; border-radius: 2px; padding: 0 .1em; }
ins { background: var(--ins-bg); color: var(--ins-fg); text-decoration-line: underline; }
del { background: var(--del-bg); color: var(--del-fg); text-decoration-line: line-through; }
ins::before, ins::after, del::before, del::after { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); white-space: nowrap; }
ins::before { content: " [added: "; } del::before { content: " [removed: "; }
ins::after, del::after { content: "] "; }
.pd-moved { outline: 1px dashed currentColor; }
.diff-inline { border: 1px solid var(--line); border-radius: 8px; padding: .5rem 1rem; background: var(--bg); }
.diff-inline .pd-title { font-size: 1.3rem; margin: .6rem 0; }
.diff-inline .pd-byline { color: var(--muted); }
.diff-inline .pd-p-ins { border-left: 4px solid #136b2f; padding-left: .6rem; }
.diff-inline .pd-p-del { border-left: 4px solid #a3121b; padding-left: .6rem; }
.summary-line { font-size: 1.05rem; }
.tabs { display: flex; gap: 1.25rem; border-bottom: 1px solid var(--line); margin: 1rem 0; padding: 0; list-style: none; }
.tabs a { display: inline-block; padding: .4rem 0; text-decoration: none; font-weight: 600; }
.tabs a[aria-current="page"] { color: var(--fg); border-bottom: 3px solid var(--accent); }
.legend { font-size: .9rem; color: var(--muted); }
table.sbs { width: 100%; border-collapse: collapse; table-layout: fixed; }
table.sbs th, table.sbs td { text-align: left; vertical-align: top; padding: .55rem .6rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
table.sbs thead th { border-bottom: 2px solid var(--line); }
table.sbs .field-name { display: block; font-size: .78rem; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
table.sbs td.blank { background: var(--surface); }
@media (max-width: 40rem) {
  table.sbs, table.sbs tbody, table.sbs tr, table.sbs td { display: block; width: 100%; }
  table.sbs thead { position: absolute; width: 1px; height: 1px; overflow: hidden; clip-path: inset(50%); }
  table.sbs tr { border-bottom: 2px solid var(--line); padding: .3rem 0; }
  table.sbs td { border-bottom: 0; padding: .3rem 0; }
  table.sbs td.blank { display: none; }
  table.sbs td::before { content: attr(data-label); display: block; font-size: .78rem; font-weight: 700; color: var(--muted); }
}
`;

/** Watches a running capture: polls its status and reloads the page when it ends. */
const APP_JS = `"use strict";
(function () {
  var el = document.querySelector("[data-poll]");
  if (!el) return;
  var url = el.getAttribute("data-poll");
  var label = el.querySelector("[data-status-label]");
  var delay = 800;
  function tick() {
    fetch(url, { headers: { accept: "application/json" }, cache: "no-store" })
      .then(function (res) { return res.ok ? res.json() : null; })
      .then(function (body) {
        if (body && body.finished) { window.location.reload(); return; }
        if (body && label && body.status !== el.getAttribute("data-status")) {
          el.setAttribute("data-status", body.status);
          label.textContent = body.label;
          label.className = "badge status-" + body.status;
        }
        schedule();
      }, schedule);
  }
  function schedule() { delay = Math.min(Math.round(delay * 1.4), 5000); setTimeout(tick, delay); }
  setTimeout(tick, delay);
})();
`;

export interface Asset {
  body: string;
  contentType: string;
  /** A digest of the body: pages link `?v=<version>`, so a long cache lifetime is safe. */
  version: string;
}

function asset(body: string, contentType: string): Asset {
  return { body, contentType, version: createHash("sha256").update(body).digest("hex").slice(0, 12) };
}

export const ASSETS: Readonly<Record<"app.css" | "app.js", Asset>> = {
  "app.css": asset(APP_CSS, "text/css; charset=utf-8"),
  "app.js": asset(APP_JS, "text/javascript; charset=utf-8"),
};
