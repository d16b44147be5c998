/**
 * The replay origin on AWS: a Lambda function URL (its own `*.lambda-url.*.on.aws` host, so a
 * separate origin from the API) that answers with the replay site's files, exactly as the local
 * replay server does (shared/http/replay-site.ts). ReplayWeb.page's `ui.js` and `sw.js` come
 * from the function's layer, never from its bundle or the API's.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { APIGatewayProxyEventV2, APIGatewayProxyResultV2 } from "aws-lambda";
import { loadReplaySiteConfig } from "../../shared/config.ts";
import { answerReplayRequest, replaySiteFiles, replaySiteHeaders } from "../../shared/http/replay-site.ts";

/** A function URL's request in, the site's answer out (bodies base64: `ui.js` is not all ASCII). */
export type ReplayHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyResultV2>;

/** The replay function from its environment; the scripts are read once, at init. */
export function replayFromEnvironment(env: Record<string, string | undefined> = process.env): ReplayHandler {
  const config = loadReplaySiteConfig(env);
  const files = replaySiteFiles({
    ui: readFileSync(join(config.assetsDir, "ui.js")),
    sw: readFileSync(join(config.assetsDir, "sw.js")),
  });
  const headers = replaySiteHeaders({
    storageOrigins: [config.storageOrigin],
    frameAncestors: config.frameAncestors,
  });
  return async (event) => {
    const answer = answerReplayRequest(
      files,
      headers,
      event.requestContext.http.method,
      event.rawPath || "/",
    );
    return {
      statusCode: answer.status,
      headers: answer.headers,
      body: Buffer.from(answer.body).toString("base64"),
      isBase64Encoded: true,
    };
  };
}
