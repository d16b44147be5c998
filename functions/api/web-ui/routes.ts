/**
 * The web UI's routes: server-rendered pages that read the archive, a plain HTML form that
 * submits a URL, and the stylesheet and script those pages load. All of them are public reads
 * except the form POST, which calls `submitCapture` directly so no API key ever reaches a browser
 * (when the local runner has `API_KEY` set, the form asks for it and checks it here instead).
 * Unlike the JSON routes, errors render as HTML pages with the right status.
 *
 * Every form POST must come from these pages: the browser must not say it came from another site
 * (`refuseCrossSite`), and it must carry the CSRF token that matches its cookie (csrf.ts).
 *
 * The form POST has no rate limit of its own: it goes through the same guards as
 * `POST /v1/captures` (the URL guard, the queue-depth 429, the per-host politeness gate) and, on
 * AWS, the stage throttle. A deployment that opens it to anonymous visitors should add a
 * per-client limit in front (a WAF rate-based rule), since no usage-plan key applies to it.
 */
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import type { RecapturePolicy } from "../../../shared/domain/model.ts";
import { submitCapture } from "../../../shared/domain/submit-capture.ts";
import { InvalidRequestError, PalimpsestError } from "../../../shared/errors.ts";
import { HttpError, header, json, MAX_BODY_BYTES } from "../../../shared/http/api-gateway.ts";
import { IMMUTABLE } from "../../../shared/http/cache-control.ts";
import { defaultLogger } from "../../../shared/logger.ts";
import type { ApiDeps, Route } from "../route-types.ts";
import { sameSecret } from "../secrets.ts";
import { ASSETS } from "./assets.ts";
import { captureStatus, loadCapture, renderCapturePage } from "./capture-page.ts";
import { refuseCrossSite, verifyCsrf } from "./csrf.ts";
import { renderDiffPage } from "./diff-page.ts";
import { errorPage } from "./error-page.ts";
import { renderHomePage } from "./home-page.ts";
import {
  type PageContent,
  pageResponse,
  securityHeaders,
  seeOther,
  type UiContext,
  uiContextOf,
} from "./layout.ts";
import { NOISE_RULE_ACTIONS, noiseRulesFromForm } from "./noise-rules-panel.ts";
import { renderReplayPage } from "./replay-page.ts";
import { changeFromForm, followFromForm, renderSourcePage, renderSourcesPage } from "./sources-page.ts";
import { renderUrlPage } from "./url-page.ts";
import { renderVersionPage } from "./version-page.ts";

const ID = "([A-Za-z0-9_-]{1,64})";
const SOURCE_ID = "(src_[A-Za-z0-9]{1,60})";

type Render = (
  deps: ApiDeps,
  event: APIGatewayProxyEvent,
  match: RegExpExecArray,
  ui: UiContext,
) => Promise<PageContent>;

/** A public GET page; any error becomes the error page. */
function page(pattern: RegExp, render: Render): Route {
  return {
    method: "GET",
    pattern,
    public: true,
    handle: async (deps, event, { match }) => {
      const ui = uiContextOf(event, deps);
      return answer(deps, ui, async () => pageResponse(ui, await render(deps, event, match, ui)));
    },
  };
}

async function answer(
  deps: ApiDeps,
  ui: UiContext,
  work: () => Promise<APIGatewayProxyResult>,
): Promise<APIGatewayProxyResult> {
  try {
    return await work();
  } catch (err) {
    return errorResult(deps, ui, err);
  }
}

/** Only < 500 messages reach the reader, as in the JSON API. */
function errorResult(deps: ApiDeps, ui: UiContext, err: unknown): APIGatewayProxyResult {
  const log = (deps.logger ?? defaultLogger()).child({ fn: "api", part: "web-ui" });
  if (err instanceof InvalidRequestError) {
    const response = pageResponse(ui, errorPage(ui, err.status, err.code, err.message));
    const retryAfter = (err as { retryAfterSeconds?: unknown }).retryAfterSeconds;
    if (typeof retryAfter === "number")
      response.headers = { ...response.headers, "retry-after": String(retryAfter) };
    return response;
  }
  if (err instanceof PalimpsestError && err.code === "queue_unavailable") {
    log.error("queue unavailable", { err });
    const response = pageResponse(ui, errorPage(ui, 503, err.code, err.message));
    return { ...response, headers: { ...response.headers, "retry-after": "5" } };
  }
  log.error("web UI page failed", { err });
  return pageResponse(
    ui,
    errorPage(ui, 500, "internal_error", "An internal error occurred; it has been logged. Please try again."),
  );
}

const query = (event: APIGatewayProxyEvent, name: string) => event.queryStringParameters?.[name] ?? undefined;

/** Accepts a plain HTML form POST, queues the capture and sends the browser to its page. */
async function submitFromForm(deps: ApiDeps, event: APIGatewayProxyEvent): Promise<APIGatewayProxyResult> {
  const ui = uiContextOf(event, deps);
  return answer(deps, ui, async () => {
    refuseCrossSite(event, deps.publicBaseUrl);
    const form = parseForm(event);
    verifyCsrf(event, form, deps.csrfSecret);
    const url = (form.get("url") ?? "").trim();
    const recapture = form.get("recapture") ?? "adaptive";
    const state = { url, recapture };
    if (deps.apiKey !== undefined && !sameSecret(form.get("apiKey") ?? "", deps.apiKey)) {
      const home = await renderHomePage(deps, ui, {
        form: { ...state, error: "This archive needs its API key to accept URLs." },
        status: 401,
        askForKey: true,
      });
      return pageResponse(ui, home);
    }
    try {
      const submitted = await submitCapture(deps, { url, recapture: formPolicy(recapture) });
      return seeOther(ui, `/ui/captures/${submitted.captureId}`);
    } catch (err) {
      // A URL the guard refuses is the reader's to fix: show the form again, with the reason.
      if (!(err instanceof InvalidRequestError) || err.status !== 400) throw err;
      const home = await renderHomePage(deps, ui, {
        form: { ...state, error: err.message },
        status: 400,
        askForKey: deps.apiKey !== undefined,
      });
      return pageResponse(ui, home);
    }
  });
}

/**
 * Whether the pages offer the forms that change what is followed and how it is compared (the
 * sources forms and the noise-rule forms): not where a key guards the archive (see below).
 */
function changeFormsOn(deps: ApiDeps): boolean {
  return deps.sourceForms !== false && deps.apiKey === undefined;
}

/**
 * The forms that change sources and noise rules are not key-less, unlike the capture form: where
 * the archive has a key, a browser cannot send it, so the pages offer the API and CLI instead. A
 * POST must come from these pages (`refuseCrossSite`) and carry its CSRF token.
 */
function changeForm(deps: ApiDeps, event: APIGatewayProxyEvent): URLSearchParams {
  if (!changeFormsOn(deps)) {
    throw new HttpError(
      403,
      "source_forms_off",
      "Sources and noise rules are changed with the API or the CLI here.",
    );
  }
  refuseCrossSite(event, deps.publicBaseUrl);
  const form = parseForm(event);
  verifyCsrf(event, form, deps.csrfSecret);
  return form;
}

const isNoiseRuleAction = (form: URLSearchParams) =>
  (NOISE_RULE_ACTIONS as readonly (string | null)[]).includes(form.get("action"));

async function sourcesForm(
  deps: ApiDeps,
  event: APIGatewayProxyEvent,
  sourceId: string | undefined,
): Promise<APIGatewayProxyResult> {
  const ui = uiContextOf(event, deps);
  return answer(deps, ui, async () => {
    const form = changeForm(deps, event);
    if (sourceId !== undefined && isNoiseRuleAction(form)) {
      const refused = await noiseRulesFromForm(deps, "source", sourceId, form);
      if (refused === null) return seeOther(ui, `/ui/sources/${sourceId}`);
      return pageResponse(ui, {
        ...(await renderSourcePage(deps, ui, sourceId, { forms: true, noiseForm: refused })),
        status: 400,
      });
    }
    if (sourceId !== undefined) return seeOther(ui, await changeFromForm(deps, sourceId, form));
    const outcome = await followFromForm(deps, ui, form);
    return "redirect" in outcome ? seeOther(ui, outcome.redirect) : pageResponse(ui, outcome.page);
  });
}

/** `POST /ui/urls/{urlId}`: sets or clears the URL's noise rules, or shows the form again with why. */
async function urlForm(
  deps: ApiDeps,
  event: APIGatewayProxyEvent,
  urlId: string,
): Promise<APIGatewayProxyResult> {
  const ui = uiContextOf(event, deps);
  return answer(deps, ui, async () => {
    const form = changeForm(deps, event);
    if (!isNoiseRuleAction(form)) {
      throw new InvalidRequestError("invalid_action", "The form asks to set or clear noise rules.");
    }
    const refused = await noiseRulesFromForm(deps, "url", urlId, form);
    if (refused === null) return seeOther(ui, `/ui/urls/${urlId}`);
    const page = await renderUrlPage(deps, ui, urlId, {
      askForKey: deps.apiKey !== undefined,
      forms: true,
      noiseForm: refused,
    });
    return pageResponse(ui, { ...page, status: 400 });
  });
}

function parseForm(event: APIGatewayProxyEvent): URLSearchParams {
  const type = (header(event, "content-type") ?? "").split(";")[0]?.trim().toLowerCase();
  if (type !== "application/x-www-form-urlencoded") {
    throw new HttpError(415, "unsupported_media_type", "Submit the form on the home page to archive a URL.");
  }
  const raw = event.body ?? "";
  const text = event.isBase64Encoded ? Buffer.from(raw, "base64").toString("utf8") : raw;
  if (Buffer.byteLength(text) > MAX_BODY_BYTES) {
    throw new HttpError(413, "body_too_large", `The form is larger than ${MAX_BODY_BYTES} bytes.`);
  }
  return new URLSearchParams(text);
}

/** The form's choices as the API's policy; anything else goes to the domain to be refused. */
function formPolicy(value: string): RecapturePolicy | string {
  return /^\d{1,6}$/.test(value) ? { everyMinutes: Number(value) } : value;
}

function serveAsset(event: APIGatewayProxyEvent, name: keyof typeof ASSETS): APIGatewayProxyResult {
  const asset = ASSETS[name];
  // A link carrying the current digest may be cached for good; anything else only briefly.
  const immutable = query(event, "v") === asset.version;
  return {
    statusCode: 200,
    headers: {
      "content-type": asset.contentType,
      "cache-control": immutable ? IMMUTABLE : "public, max-age=300",
      ...securityHeaders(),
    },
    body: asset.body,
  };
}

/** Every web UI route; `ROUTES` in ../routes.ts includes them. */
export const WEB_UI_ROUTES: Route[] = [
  page(/^\/$/, (deps, event, _match, ui) =>
    renderHomePage(deps, ui, {
      editsCursor: query(event, "edits"),
      capturesCursor: query(event, "captures"),
      askForKey: deps.apiKey !== undefined,
    }),
  ),
  {
    method: "POST",
    pattern: /^\/ui\/captures\/?$/,
    public: true,
    handle: (deps, event) => submitFromForm(deps, event),
  },
  page(new RegExp(`^/ui/captures/${ID}$`), (deps, _event, match, ui) =>
    renderCapturePage(deps, ui, match[1] ?? "", { askForKey: deps.apiKey !== undefined }),
  ),
  {
    method: "GET",
    pattern: new RegExp(`^/ui/captures/${ID}/status$`),
    public: true,
    handle: async (deps, _event, { id = "" }) =>
      json(200, captureStatus(await loadCapture(deps, id)), { "x-content-type-options": "nosniff" }),
  },
  page(new RegExp(`^/ui/urls/${ID}$`), (deps, event, match, ui) =>
    renderUrlPage(deps, ui, match[1] ?? "", {
      capturesCursor: query(event, "captures"),
      askForKey: deps.apiKey !== undefined,
      forms: changeFormsOn(deps),
    }),
  ),
  {
    method: "POST",
    pattern: new RegExp(`^/ui/urls/${ID}$`),
    handle: (deps, event, { id = "" }) => urlForm(deps, event, id),
  },
  page(new RegExp(`^/ui/urls/${ID}/versions/${ID}$`), (deps, _event, match, ui) =>
    renderVersionPage(deps, ui, match[1] ?? "", match[2] ?? ""),
  ),
  page(new RegExp(`^/ui/urls/${ID}/versions/${ID}/replay$`), (deps, _event, match, ui) =>
    renderReplayPage(deps, ui, match[1] ?? "", match[2] ?? ""),
  ),
  page(new RegExp(`^/ui/urls/${ID}/diff$`), (deps, event, match, ui) =>
    renderDiffPage(deps, ui, match[1] ?? "", {
      from: query(event, "from"),
      to: query(event, "to"),
      view: query(event, "view"),
    }),
  ),
  page(/^\/ui\/sources\/?$/, (deps, event, _match, ui) =>
    renderSourcesPage(deps, ui, { cursor: query(event, "cursor"), forms: changeFormsOn(deps) }),
  ),
  {
    method: "POST",
    pattern: /^\/ui\/sources\/?$/,
    handle: (deps, event) => sourcesForm(deps, event, undefined),
  },
  page(new RegExp(`^/ui/sources/${SOURCE_ID}$`), (deps, event, match, ui) =>
    renderSourcePage(deps, ui, match[1] ?? "", {
      cursor: query(event, "cursor"),
      forms: changeFormsOn(deps),
    }),
  ),
  {
    method: "POST",
    pattern: new RegExp(`^/ui/sources/${SOURCE_ID}$`),
    handle: (deps, event, { id }) => sourcesForm(deps, event, id),
  },
  {
    method: "GET",
    pattern: /^\/ui\/assets\/(app\.css|app\.js)$/,
    public: true,
    handle: async (_deps, event, { match }) => serveAsset(event, match[1] as keyof typeof ASSETS),
  },
  // Anything else under /ui is a page that does not exist: say so in HTML, not JSON.
  page(/^\/ui(?:\/.*)?$/, async (_deps, event, _match, ui) =>
    errorPage(ui, 404, "not_found", `There is no page at ${event.path}.`),
  ),
];
