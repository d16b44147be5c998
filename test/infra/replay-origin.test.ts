/**
 * The replay origin on AWS: a function URL apart from the API, serving ReplayWeb.page's two
 * scripts from a layer (never from the API's bundle), whose address the API function is given,
 * and the archive bucket's CORS rule that lets that origin, and no other, read a WACZ with ranges.
 */
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import path from "node:path";
import { before, describe, test } from "node:test";
import type { Template } from "aws-cdk-lib/assertions";
import { ENV } from "../../shared/env-names.ts";
import { logicalIdOf, synthPalimpsest } from "./synth.ts";

type Resources = Record<
  string,
  { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> }
>;

let template: Template;
let resources: Resources;
let outdir: string;

const ofType = (type: string) => Object.entries(resources).filter(([, r]) => r.Type === type);
const replayFunctionId = () => {
  const found = ofType("AWS::Lambda::Function").find(([, r]) =>
    JSON.stringify(r.Properties.Environment ?? {}).includes(ENV.replayStorageOrigin),
  );
  assert.ok(found, "a function carries the replay site's settings");
  return found[0];
};

before(() => {
  const synth = synthPalimpsest();
  template = synth.serviceTemplate;
  resources = template.toJSON().Resources as Resources;
  outdir = synth.app.outdir;
});

describe("replay origin", () => {
  test("a public function URL on the replay function, named to the API as PUBLIC_REPLAY_URL", () => {
    const fnId = replayFunctionId();
    template.hasResourceProperties("AWS::Lambda::Url", {
      AuthType: "NONE",
      TargetFunctionArn: { "Fn::GetAtt": [fnId, "Arn"] },
    });
    const [urlId] = ofType("AWS::Lambda::Url")[0] ?? [];
    const api = ofType("AWS::Lambda::Function").find(([, r]) =>
      String(r.Properties.Description ?? "").includes("HTTP API"),
    );
    assert.ok(api && urlId);
    const env = (api[1].Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const replayUrl = JSON.stringify(env[ENV.publicReplayUrl]);
    assert.match(replayUrl, new RegExp(`"Fn::GetAtt":\\["${urlId}","FunctionUrl"\\]`));
    // The origin, not the URL with its trailing slash: `https://` + the host part.
    assert.match(replayUrl, /"https:\/\/"/);
  });

  test("its CSP names the archive bucket's S3 host, and this stack's API host alone may frame it", () => {
    const fn = resources[replayFunctionId()] as Resources[string];
    const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const storage = JSON.stringify(env[ENV.replayStorageOrigin]);
    assert.match(storage, /ArchiveBucket/, "the bucket's name, imported from the storage stack");
    assert.match(storage, /\.s3\./);
    // One origin, `https://<this RestApi's id>.execute-api.<region>.<suffix>`: no wildcard, no list.
    const [restApiId] = ofType("AWS::ApiGateway::RestApi")[0] ?? [];
    assert.ok(restApiId);
    assert.deepEqual(env[ENV.replayFrameAncestors], {
      "Fn::Join": [
        "",
        [
          "https://",
          { Ref: restApiId },
          ".execute-api.",
          { Ref: "AWS::Region" },
          ".",
          { Ref: "AWS::URLSuffix" },
        ],
      ],
    });
  });

  test("with a public domain, that domain's origin alone may frame it", () => {
    const synth = synthPalimpsest({
      publicDomain: {
        domainName: "archive.example.org",
        hostedZone: { hostedZoneId: "Z0000000000000000000", zoneName: "example.org" },
      },
    });
    const fn = synth.serviceTemplate.toJSON().Resources[logicalIdOf(synth.service.replayOrigin.fn)];
    assert.equal(
      fn.Properties.Environment.Variables[ENV.replayFrameAncestors],
      "https://archive.example.org",
    );
  });

  test("refuses a wildcard or a list as the UI origin", () => {
    for (const uiOrigin of [
      "https://*.execute-api.eu-west-1.amazonaws.com",
      "https://a.org,https://b.org",
      "https://a.org/ui",
    ]) {
      assert.throws(
        () => synthPalimpsest({ service: { replayOrigin: { uiOrigin } } }),
        /uiOrigin must be one exact origin/,
        uiOrigin,
      );
    }
  });

  test("the public function reserves (and is capped at) 5 concurrent executions; configurable", () => {
    const fn = resources[replayFunctionId()] as Resources[string];
    assert.equal(fn.Properties.ReservedConcurrentExecutions, 5);
    const two = synthPalimpsest({ service: { replayOrigin: { reservedConcurrency: 2 } } });
    const off = synthPalimpsest({ service: { replayOrigin: { reservedConcurrency: false } } });
    const reservedOf = (synth: ReturnType<typeof synthPalimpsest>) =>
      synth.serviceTemplate.toJSON().Resources[logicalIdOf(synth.service.replayOrigin.fn)].Properties
        .ReservedConcurrentExecutions;
    assert.equal(reservedOf(two), 2);
    assert.equal(reservedOf(off), undefined);
    assert.throws(
      () => synthPalimpsest({ service: { replayOrigin: { reservedConcurrency: 0 } } }),
      /positive integer/,
    );
  });

  test("ReplayWeb.page's two scripts ship in a layer holding nothing else", () => {
    const fn = resources[replayFunctionId()] as Resources[string];
    const layers = fn.Properties.Layers as Array<{ Ref: string }>;
    assert.equal(layers.length, 1);
    const layer = resources[layers[0]?.Ref ?? ""];
    // Staged as cdk.out/asset.<hash>, uploaded as <hash>.zip.
    assert.ok(layer);
    const key = JSON.stringify((layer.Properties.Content as { S3Key?: unknown }).S3Key);
    const hash = /([0-9a-f]{64})\.zip/.exec(key)?.[1];
    assert.ok(hash, key);
    assert.deepEqual(readdirSync(path.join(outdir, `asset.${hash}`)).sort(), ["sw.js", "ui.js"]);
  });

  test("the archive bucket lets the replay origin alone read across origins: GET and HEAD, with Range", () => {
    const [urlId] = ofType("AWS::Lambda::Url")[0] ?? [];
    const [, cors] = ofType("Custom::ReplayBucketCors")[0] ?? [];
    assert.ok(cors, "a custom resource puts the bucket's CORS rule");
    assert.match(JSON.stringify(cors.Properties.BucketName), /ArchiveBucket/);
    // The rule travels as JSON (CloudFormation would stringify its numbers); tokens become Fn::Join.
    const rule = JSON.stringify(cors.Properties.Rule);
    assert.match(rule, new RegExp(`${urlId}.*FunctionUrl`), "the allowed origin is the function URL's");
    assert.match(rule, /\\"ID\\":\\"palimpsest-replay-origin\\"/, "found again by its ID");
    assert.match(rule, /\\"AllowedMethods\\":\[\\"GET\\",\\"HEAD\\"\]/);
    assert.match(rule, /\\"AllowedHeaders\\":\[\\"range\\"\]/);
    assert.match(rule, /\\"MaxAgeSeconds\\":3000/);
    assert.doesNotMatch(rule, /\\"\*\\"/, "no wildcard origin, method or header");
  });

  test("the CORS function may read and put the archive bucket's CORS and do nothing else there", () => {
    const corsFn = ofType("AWS::Lambda::Function").find(([, r]) =>
      String(r.Properties.Description ?? "").includes("CORS rule"),
    );
    assert.ok(corsFn);
    const policies = ofType("AWS::IAM::Policy").filter(([, r]) =>
      JSON.stringify(r.Properties.PolicyDocument).includes("s3:PutBucketCORS"),
    );
    assert.equal(policies.length, 1);
    const [, policy] = policies[0] ?? [];
    assert.ok(policy);
    const statements = (policy.Properties.PolicyDocument as { Statement: Array<Record<string, unknown>> })
      .Statement;
    const s3 = statements.filter((st) => JSON.stringify(st.Action).includes("s3:"));
    assert.equal(s3.length, 1);
    assert.deepEqual(s3[0]?.Action, ["s3:GetBucketCORS", "s3:PutBucketCORS"]);
    assert.match(JSON.stringify(s3[0]?.Resource), /ArchiveBucket/);
    assert.doesNotMatch(JSON.stringify(s3[0]?.Resource), /\/\*/, "the bucket, not its objects");
  });
});
