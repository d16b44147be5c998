/** An API Gateway (REST, proxy) event for the API handler, as the gateway builds one. */
import type { APIGatewayProxyEvent } from "aws-lambda";

export interface ApiEventInit {
  /** @default "GET" */
  method?: string;
  path: string;
  body?: string | null;
  headers?: Record<string, string>;
  query?: Record<string, string> | null;
  /** Merged over `{ requestId: "r" }`: the stage path, the stage, the domain name… */
  requestContext?: Partial<APIGatewayProxyEvent["requestContext"]>;
}

export function apiEvent(init: ApiEventInit): APIGatewayProxyEvent {
  return {
    httpMethod: init.method ?? "GET",
    path: init.path,
    body: init.body ?? null,
    headers: init.headers ?? {},
    multiValueHeaders: {},
    queryStringParameters: init.query ?? null,
    multiValueQueryStringParameters: null,
    isBase64Encoded: false,
    pathParameters: null,
    stageVariables: null,
    resource: "/{proxy+}",
    requestContext: { requestId: "r", ...init.requestContext } as APIGatewayProxyEvent["requestContext"],
  };
}
