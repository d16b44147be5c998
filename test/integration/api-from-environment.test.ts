/**
 * The API as its Lambda entry composes it (`apiFromEnvironment`, what functions/api/handler.ts
 * runs), on the embedded table: what the AWS deployment offers, not what the local runner wires.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { apiFromEnvironment } from "../../functions/compose/api.ts";
import { ENV } from "../../shared/env-names.ts";
import { apiEvent } from "../support/api-event.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

function event(method: string, path: string): APIGatewayProxyEvent {
  return apiEvent({
    method,
    path,
    headers: { host: "abcdef1234.execute-api.us-east-1.amazonaws.com" },
    requestContext: { path },
  });
}

describe("the API Lambda as composed from its environment", () => {
  let storage: EmbeddedStorage;
  let api: ReturnType<typeof apiFromEnvironment>;

  before(async () => {
    storage = await startEmbeddedStorage();
    // The environment the service stack gives the API function, on the embedded table. Nothing
    // here sends to a queue, so the queue URLs name none that exists.
    api = apiFromEnvironment({
      [ENV.tableName]: storage.tableName,
      [ENV.bucketName]: storage.bucketName,
      [ENV.dynamodbEndpoint]: storage.dynamodbEndpoint,
      [ENV.interactiveQueueUrl]: "http://127.0.0.1:9/000000000000/interactive-captures",
      [ENV.pollQueueUrl]: "http://127.0.0.1:9/000000000000/polls",
      [ENV.region]: "us-east-1",
      [ENV.allowPrivateHosts]: "",
      [ENV.sourceForms]: "off",
      [ENV.logLevel]: "silent",
    });
  });
  after(async () => {
    await storage?.close();
  });

  const call = async (method: string, path: string) =>
    (await api(event(method, path), {} as Context)) as APIGatewayProxyResult;

  it("follows sources: the /v1/sources routes answer from the table instead of 501", async () => {
    const list = await call("GET", "/v1/sources");
    assert.equal(list.statusCode, 200, list.body);
    assert.deepEqual(JSON.parse(list.body).items, []);
    const missing = await call("GET", "/v1/sources/src_none");
    assert.equal(missing.statusCode, 404, missing.body);
    const unfollow = await call("DELETE", "/v1/sources/src_none");
    assert.equal(unfollow.statusCode, 404, unfollow.body);
  });
});
