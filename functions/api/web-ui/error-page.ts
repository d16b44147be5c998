/** The friendly page for anything that went wrong, with the HTTP status that says so. */
import { html } from "./html.ts";
import { link, type PageContent, type UiContext } from "./layout.ts";

const HEADINGS: Record<number, string> = {
  400: "That request did not work",
  404: "Not found",
  413: "That was too much",
  415: "That request did not work",
  429: "Too many requests",
  503: "Try again shortly",
};

/** `message` must be one that may reach the reader (a < 500 error's, or a fixed sentence). */
export function errorPage(ui: UiContext, status: number, code: string, message: string): PageContent {
  const heading = HEADINGS[status] ?? (status >= 500 ? "Something went wrong" : "That request did not work");
  return {
    status,
    title: heading,
    body: html`<h1>${heading}</h1>
<div class="notice error"><p>${message}</p><p class="meta">HTTP ${status} · <code>${code}</code></p></div>
<p><a href="${link(ui, "/")}">Go to the home page</a> to submit a URL or browse recent captures and edits.</p>`,
  };
}
