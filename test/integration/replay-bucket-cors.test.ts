/**
 * The replay origin's bucket CORS custom resource against moto_server's S3: it puts its rule
 * beside the bucket's other CORS rules, replaces only its own on update, and removes only its own
 * on delete (a bare PutBucketCors/DeleteBucketCors would replace or wipe them all).
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import {
  type CORSRule,
  CreateBucketCommand,
  GetBucketCorsCommand,
  PutBucketCorsCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { composeReplayBucketCors } from "../../functions/compose/replay-bucket-cors.ts";
import { type MotoServer, motoServerUnavailable, startMotoServer } from "../support/local-account.ts";

const unavailable = motoServerUnavailable();

/** A rule an operator put on the bucket for another site. */
const THEIRS: CORSRule = {
  ID: "operator-dashboard",
  AllowedOrigins: ["https://dashboard.example.org"],
  AllowedMethods: ["GET"],
  MaxAgeSeconds: 600,
};

const ours = (origin: string): CORSRule & { ID: string } => ({
  ID: "replay-origin",
  AllowedOrigins: [origin],
  AllowedMethods: ["GET", "HEAD"],
  AllowedHeaders: ["range"],
  ExposeHeaders: ["Content-Range", "Content-Length"],
  MaxAgeSeconds: 3000,
});

function event(
  requestType: "Create" | "Update" | "Delete",
  bucket: string,
  rule: CORSRule & { ID: string },
): CloudFormationCustomResourceEvent {
  const common = {
    ServiceToken: "arn:aws:lambda:us-east-1:123456789012:function:provider",
    ResponseURL: "http://127.0.0.1:9/unused",
    StackId: "arn:aws:cloudformation:us-east-1:123456789012:stack/s/1",
    RequestId: "r1",
    LogicalResourceId: "BucketCors",
    ResourceType: "Custom::ReplayBucketCors",
    // What the construct passes: the rule as JSON, so its numbers stay numbers.
    ResourceProperties: { ServiceToken: "t", BucketName: bucket, Rule: JSON.stringify(rule) },
  };
  if (requestType === "Create") return { ...common, RequestType: "Create" };
  if (requestType === "Update")
    return {
      ...common,
      RequestType: "Update",
      PhysicalResourceId: `${bucket}/cors/${rule.ID}`,
      OldResourceProperties: common.ResourceProperties,
    };
  return { ...common, RequestType: "Delete", PhysicalResourceId: `${bucket}/cors/${rule.ID}` };
}

describe("the replay origin's bucket CORS rule", { skip: unavailable }, () => {
  let moto: MotoServer;
  let s3: S3Client;
  before(async () => {
    moto = await startMotoServer();
    s3 = new S3Client({
      endpoint: moto.endpoint,
      region: "us-east-1",
      forcePathStyle: true,
      credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
    });
  });
  after(async () => {
    s3?.destroy();
    await moto?.close();
  });

  const rulesOf = async (bucket: string) =>
    (await s3.send(new GetBucketCorsCommand({ Bucket: bucket }))).CORSRules?.map((r) => ({
      ID: r.ID,
      AllowedOrigins: r.AllowedOrigins,
      MaxAgeSeconds: r.MaxAgeSeconds,
    }));

  it("keeps the bucket's other rules through create, update and delete", async () => {
    const bucket = "archive-with-other-rules";
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new PutBucketCorsCommand({ Bucket: bucket, CORSConfiguration: { CORSRules: [THEIRS] } }));
    const handler = composeReplayBucketCors({ s3 });

    const created = await handler(event("Create", bucket, ours("https://a.lambda-url.us-east-1.on.aws")));
    assert.equal(created.PhysicalResourceId, `${bucket}/cors/replay-origin`);
    assert.deepEqual(await rulesOf(bucket), [
      { ID: "operator-dashboard", AllowedOrigins: ["https://dashboard.example.org"], MaxAgeSeconds: 600 },
      { ID: "replay-origin", AllowedOrigins: ["https://a.lambda-url.us-east-1.on.aws"], MaxAgeSeconds: 3000 },
    ]);

    // A new function URL: our rule is replaced in place, never added twice.
    await handler(event("Update", bucket, ours("https://b.lambda-url.us-east-1.on.aws")));
    assert.deepEqual(await rulesOf(bucket), [
      { ID: "operator-dashboard", AllowedOrigins: ["https://dashboard.example.org"], MaxAgeSeconds: 600 },
      { ID: "replay-origin", AllowedOrigins: ["https://b.lambda-url.us-east-1.on.aws"], MaxAgeSeconds: 3000 },
    ]);

    await handler(event("Delete", bucket, ours("https://b.lambda-url.us-east-1.on.aws")));
    assert.deepEqual(await rulesOf(bucket), [
      { ID: "operator-dashboard", AllowedOrigins: ["https://dashboard.example.org"], MaxAgeSeconds: 600 },
    ]);
  });

  it("on a bucket without CORS, creates the configuration and deletes it with the last rule", async () => {
    const bucket = "archive-without-cors";
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    const handler = composeReplayBucketCors({ s3 });
    await handler(event("Create", bucket, ours("https://a.lambda-url.us-east-1.on.aws")));
    assert.deepEqual(await rulesOf(bucket), [
      { ID: "replay-origin", AllowedOrigins: ["https://a.lambda-url.us-east-1.on.aws"], MaxAgeSeconds: 3000 },
    ]);
    await handler(event("Delete", bucket, ours("https://a.lambda-url.us-east-1.on.aws")));
    await assert.rejects(s3.send(new GetBucketCorsCommand({ Bucket: bucket })), {
      name: "NoSuchCORSConfiguration",
    });
    // A second delete (a retried stack deletion) finds nothing to remove and succeeds.
    await handler(event("Delete", bucket, ours("https://a.lambda-url.us-east-1.on.aws")));
  });

  it("refuses properties that are not a rule with an ID, before touching the bucket", async () => {
    const handler = composeReplayBucketCors({ s3 });
    const bad = event("Create", "archive-without-cors", ours("https://a.example"));
    await assert.rejects(
      handler({
        ...bad,
        ResourceProperties: { ServiceToken: "t", BucketName: "x", Rule: '{"AllowedMethods":["GET"]}' },
      }),
      { code: "bucket_cors_properties" },
    );
  });
});
