/** The API's own public address, for the absolute links that Memento and Atom need. */
import type { APIGatewayProxyEvent } from "aws-lambda";
import { header } from "../../shared/http/api-gateway.ts";

const HOST = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::\d{1,5})?$/;

/**
 * `scheme://host[/stage]` as the caller reached the API, without a trailing slash.
 *
 * Behind API Gateway the Lambda sees the path without the stage (`/timegate/…`) while
 * `requestContext.path` keeps it (`/prod/timegate/…`), and a custom domain's base path likewise:
 * the difference is the prefix every link needs. A Host header that is not a plain host name
 * gives "" instead, so links become root-relative rather than pointing somewhere injected.
 */
export function publicBaseUrl(event: APIGatewayProxyEvent): string {
  const host = header(event, "host") ?? event.requestContext?.domainName;
  if (host === undefined || !HOST.test(host)) return "";
  const forwarded = header(event, "x-forwarded-proto")?.split(",")[0]?.trim().toLowerCase();
  const scheme =
    forwarded === "https" || forwarded === "http"
      ? forwarded
      : event.requestContext?.domainName
        ? "https"
        : "http";
  const fullPath = event.requestContext?.path;
  const prefix =
    fullPath !== undefined && fullPath !== event.path && fullPath.endsWith(event.path)
      ? fullPath.slice(0, fullPath.length - event.path.length)
      : "";
  return `${scheme}://${host}${prefix.replace(/\/+$/, "")}`;
}
