/** The API's own public address, for the absolute links that Memento and Atom need. */
import type { APIGatewayProxyEvent } from "aws-lambda";
import type { ApiDeps } from "./route-types.ts";

const DOMAIN = /^[A-Za-z0-9.-]+$/;

/**
 * `scheme://host[/base]` of the API, without a trailing slash: the configured `publicBaseUrl`
 * (PUBLIC_BASE_URL) when there is one.
 *
 * Never the `Host` or `X-Forwarded-*` headers: any client sets those, and a link built from them
 * points wherever the client likes (into a cached feed, or a Memento `Link` a crawler follows).
 * Without configuration, behind API Gateway the domain it was reached at (`requestContext`, set
 * by API Gateway, not by the client) and the stage or base path the Lambda does not see in
 * `event.path`; anywhere else "", so links become root-relative rather than pointing somewhere
 * injected.
 */
export function publicBaseUrl(deps: Pick<ApiDeps, "publicBaseUrl">, event: APIGatewayProxyEvent): string {
  if (deps.publicBaseUrl !== undefined) return deps.publicBaseUrl;
  const domain = event.requestContext?.domainName;
  if (domain === undefined || !DOMAIN.test(domain)) return "";
  const fullPath = event.requestContext?.path;
  const prefix =
    fullPath !== undefined && fullPath !== event.path && fullPath.endsWith(event.path)
      ? fullPath.slice(0, fullPath.length - event.path.length)
      : "";
  return `https://${domain}${prefix.replace(/\/+$/, "")}`;
}
