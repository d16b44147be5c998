/**
 * Noise rules over HTTP: `GET|PUT|DELETE /v1/urls/{urlId}/noise-rules` and the same under
 * `/v1/sources/{sourceId}/noise-rules`. A PUT body is `{"dropSelectors"?: string[],
 * "minChangedWords"?: integer}`; it replaces the rules set there.
 */
import { readNoiseRules, setNoiseRules } from "../../shared/domain/extract/manage-noise-rules.ts";
import { json, parseJsonBody } from "../../shared/http/api-gateway.ts";
import type { NoiseRuleScope } from "../../shared/ports.ts";
import type { ApiDeps, Route } from "./route-types.ts";

const URL_PATH = /^\/v1\/urls\/([A-Za-z0-9_-]{1,64})\/noise-rules$/;
const SOURCE_PATH = /^\/v1\/sources\/(src_[A-Za-z0-9]{1,60})\/noise-rules$/;

/** What the rule functions need of the API's dependencies (the web UI's forms use it too). */
export function ruleDeps(deps: ApiDeps) {
  return { repository: deps.repository, ...(deps.following ? { sources: deps.following.sources } : {}) };
}

function routesFor(scope: NoiseRuleScope, pattern: RegExp): Route[] {
  return [
    {
      method: "GET",
      pattern,
      handle: async (deps, _event, { id = "" }) => json(200, await readNoiseRules(ruleDeps(deps), scope, id)),
    },
    {
      method: "PUT",
      pattern,
      handle: async (deps, event, { id = "" }) =>
        json(200, await setNoiseRules(ruleDeps(deps), scope, id, parseJsonBody(event))),
    },
    {
      method: "DELETE",
      pattern,
      handle: async (deps, _event, { id = "" }) =>
        json(200, await setNoiseRules(ruleDeps(deps), scope, id, null)),
    },
  ];
}

/** The noise-rule routes, for routes.ts to gather. */
export const NOISE_RULE_ROUTES: readonly Route[] = [
  ...routesFor("url", URL_PATH),
  ...routesFor("source", SOURCE_PATH),
];
