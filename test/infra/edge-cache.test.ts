/**
 * The optional CloudFront distribution in front of the API (infra/constructs/edge-cache.ts): off
 * by default; when on, mementos to the second, the UI's assets and the feeds are cached by the
 * API's own Cache-Control with a key that holds no cookie and no x-api-key (which never reaches
 * the API on those paths), everything else passes through uncached, and PUBLIC_BASE_URL names the
 * distribution or the public domain.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Match, type Template } from "aws-cdk-lib/assertions";
import { CachePolicy, OriginRequestPolicy } from "aws-cdk-lib/aws-cloudfront";
import { FIREWALL_RULES } from "../../infra/constructs/api-firewall.ts";
import { PUBLIC_PATHS } from "../../infra/constructs/archive-api.ts";
import { EDGE_CACHED_PATHS, EDGE_HEADERS, VIEWER_IP_FUNCTION } from "../../infra/constructs/edge-cache.ts";
import { PalimpsestServiceStack } from "../../infra/stacks/service-stack.ts";
import { PalimpsestStorageStack } from "../../infra/stacks/storage-stack.ts";
import { ENV } from "../../shared/env-names.ts";
import { newApp, synthPalimpsest } from "./synth.ts";

const DOMAIN = {
  domainName: "archive.example.org",
  hostedZone: { hostedZoneId: "Z0123456789ABCDEFGHIJ", zoneName: "example.org" },
};
const US_EAST_1_CERT = "arn:aws:acm:us-east-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";
const EU_CERT = "arn:aws:acm:eu-west-1:123456789012:certificate/12345678-1234-1234-1234-123456789012";

interface Behaviour {
  PathPattern?: string;
  CachePolicyId: unknown;
  OriginRequestPolicyId?: unknown;
  FunctionAssociations?: Array<{ EventType: string; FunctionARN: unknown }>;
  AllowedMethods?: string[];
  CachedMethods?: string[];
  ViewerProtocolPolicy: string;
}

function distributionConfig(template: Template) {
  const distributions = Object.values(template.findResources("AWS::CloudFront::Distribution"));
  assert.equal(distributions.length, 1);
  return (distributions[0] as { Properties: { DistributionConfig: Record<string, unknown> } }).Properties
    .DistributionConfig as {
    DefaultCacheBehavior: Behaviour;
    CacheBehaviors: Behaviour[];
    Aliases?: string[];
    ViewerCertificate?: Record<string, unknown>;
    CustomErrorResponses: Array<{ ErrorCode: number; ErrorCachingMinTTL: number }>;
    Origins: Array<{
      DomainName: unknown;
      OriginPath: string;
      CustomOriginConfig: Record<string, unknown>;
      OriginCustomHeaders?: Array<{ HeaderName: string; HeaderValue: unknown }>;
    }>;
  };
}

/** The cache policies by logical id, with their config. */
function cachePolicies(template: Template) {
  return Object.fromEntries(
    Object.entries(template.findResources("AWS::CloudFront::CachePolicy")).map(([id, r]) => [
      id,
      (r as { Properties: { CachePolicyConfig: Record<string, unknown> } }).Properties.CachePolicyConfig as {
        MinTTL: number;
        DefaultTTL: number;
        MaxTTL: number;
        ParametersInCacheKeyAndForwardedToOrigin: {
          HeadersConfig: { HeaderBehavior: string; Headers?: string[] };
          CookiesConfig: { CookieBehavior: string };
          QueryStringsConfig: { QueryStringBehavior: string };
        };
      },
    ]),
  );
}

/** Matches a CloudFront path pattern (`*` any run, `?` one character) as CloudFront does. */
function matches(pattern: string, path: string): boolean {
  const re = pattern
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${re}$`).test(path);
}

describe("edge cache", () => {
  test("is off by default: no distribution, PUBLIC_BASE_URL unset", () => {
    const { service, serviceTemplate } = synthPalimpsest();
    serviceTemplate.resourceCountIs("AWS::CloudFront::Distribution", 0);
    assert.equal(service.edgeCache, undefined);
    serviceTemplate.hasResourceProperties("AWS::Lambda::Function", {
      Description: "Palimpsest HTTP API",
      Environment: { Variables: Match.objectLike({ [ENV.publicBaseUrl]: Match.absent() }) },
    });
  });

  describe("on, without a domain", () => {
    const synth = synthPalimpsest({ edgeCache: true });
    const template = synth.serviceTemplate;
    const config = distributionConfig(template);
    const policies = cachePolicies(template);
    const edge = synth.service.edgeCache ?? assert.fail("no edge cache");
    const policyId = (p: { cachePolicyId: string }) => synth.service.resolve(p.cachePolicyId);

    test("fronts the API's stage over TLS 1.2, on its own cloudfront.net name", () => {
      assert.equal(config.Aliases, undefined);
      const [origin] = config.Origins;
      assert.equal(origin?.OriginPath, "/prod");
      assert.deepEqual(origin?.CustomOriginConfig.OriginSSLProtocols, ["TLSv1.2"]);
      assert.equal(origin?.CustomOriginConfig.OriginProtocolPolicy, "https-only");
      const host = JSON.stringify(origin?.DomainName);
      assert.match(host, /execute-api/);
      assert.match(
        host,
        new RegExp(synth.service.getLogicalId(synth.service.api.api.node.defaultChild as never)),
      );
    });

    test("passes everything else through uncached, with every viewer header, cookie and query", () => {
      const d = config.DefaultCacheBehavior;
      assert.equal(d.CachePolicyId, CachePolicy.CACHING_DISABLED.cachePolicyId);
      assert.equal(
        d.OriginRequestPolicyId,
        OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER.originRequestPolicyId,
      );
      assert.ok(d.AllowedMethods?.includes("POST") && d.AllowedMethods.includes("DELETE"));
      assert.equal(d.ViewerProtocolPolicy, "redirect-to-https");
    });

    test("caches mementos to the second, assets and feeds, GET and HEAD only, honouring the API", () => {
      const byPath = new Map(config.CacheBehaviors.map((b) => [b.PathPattern, b]));
      assert.deepEqual([...byPath.keys()].sort(), Object.values(EDGE_CACHED_PATHS).sort());
      const immutable = policyId(edge.immutablePolicy);
      const feed = policyId(edge.feedPolicy);
      assert.deepEqual(byPath.get(EDGE_CACHED_PATHS.memento)?.CachePolicyId, immutable);
      assert.deepEqual(byPath.get(EDGE_CACHED_PATHS.assets)?.CachePolicyId, immutable);
      assert.deepEqual(byPath.get(EDGE_CACHED_PATHS.feeds)?.CachePolicyId, feed);
      for (const b of config.CacheBehaviors) {
        assert.deepEqual(b.CachedMethods, ["GET", "HEAD"], b.PathPattern);
        assert.ok(!b.AllowedMethods?.includes("POST"), `${b.PathPattern} takes no POST`);
        assert.deepEqual(
          b.OriginRequestPolicyId,
          { Ref: Object.keys(template.findResources("AWS::CloudFront::OriginRequestPolicy"))[0] },
          `${b.PathPattern} forwards its cache key and the reader's address (below)`,
        );
      }
      const ttl = Object.values(policies).map((p) => [p.MinTTL, p.DefaultTTL, p.MaxTTL]);
      assert.deepEqual(ttl.sort(), [
        [0, 0, 31_536_000],
        [0, 0, 60],
      ]);
    });

    test("keys cached responses on path, query and CORS headers: never a cookie or x-api-key", () => {
      for (const [id, p] of Object.entries(policies)) {
        const key = p.ParametersInCacheKeyAndForwardedToOrigin;
        assert.equal(key.CookiesConfig.CookieBehavior, "none", id);
        assert.equal(key.QueryStringsConfig.QueryStringBehavior, "all", id);
        assert.equal(key.HeadersConfig.HeaderBehavior, "whitelist", id);
        const headers = (key.HeadersConfig.Headers ?? []).map((h) => h.toLowerCase());
        assert.ok(
          !headers.includes("x-api-key") && !headers.includes("authorization") && !headers.includes("cookie"),
          id,
        );
      }
    });

    test("caches only key-less public reads: no keyed or POST path falls into a cached behaviour", () => {
      const keyed = [
        "/v1/captures",
        "/v1/urls/abc",
        "/v1/urls/abc/captures",
        "/v1/urls/abc/diff",
        "/v1/edits",
        "/v1/sources",
        "/v1/sources.opml",
        "/ui/captures",
        "/ui/urls/abc",
        "/",
        "/timegate/https://news.example/a",
        "/timemap/link/https://news.example/a",
        "/memento/2026/https://news.example/a",
      ];
      for (const path of keyed) {
        for (const pattern of Object.values(EDGE_CACHED_PATHS)) {
          assert.ok(!matches(pattern, path), `${path} must not match ${pattern}`);
        }
      }
      const cached = [
        "/memento/20260301080000/https://news.example/a?id=1",
        "/ui/assets/app.css",
        "/v1/edits.atom",
        "/v1/urls/abc/edits.atom",
        "/v1/sources/src_abc/edits.atom",
      ];
      const publicGets = PUBLIC_PATHS.filter((p) => p.methods.includes("GET")).map((p) =>
        p.path.replace(/\{[^}]+\}/g, "[^/]+").replace("[^/]+", ".+"),
      );
      for (const path of cached) {
        assert.ok(
          Object.values(EDGE_CACHED_PATHS).some((p) => matches(p, path)),
          `${path} is cached`,
        );
        assert.ok(
          publicGets.some((p) =>
            new RegExp(`^${p.replace(/\./g, "\\.").replace("\\.+", ".+")}$`).test(path.split("?")[0] ?? ""),
          ),
          `${path} is a key-less public read`,
        );
      }
    });

    test("keeps no error response: a 403 for one caller's key is never served to the next", () => {
      for (const status of [400, 403, 404, 500, 502, 503, 504]) {
        const rule = config.CustomErrorResponses.find((r) => r.ErrorCode === status);
        assert.equal(rule?.ErrorCachingMinTTL, 0, String(status));
      }
    });

    test("sets PUBLIC_BASE_URL (and the replay page's frame origin) to the distribution's name", () => {
      const fn = template.findResources("AWS::Lambda::Function", {
        Properties: { Description: "Palimpsest HTTP API" },
      });
      const env = (
        Object.values(fn)[0] as { Properties: { Environment: { Variables: Record<string, unknown> } } }
      ).Properties.Environment.Variables;
      const expected = synth.service.resolve(edge.baseUrl);
      assert.deepEqual(env[ENV.publicBaseUrl], expected);
      assert.match(JSON.stringify(expected), /DomainName/);
      template.hasResourceProperties("AWS::Lambda::Function", {
        Environment: { Variables: Match.objectLike({ [ENV.replayFrameAncestors]: expected }) },
      });
      template.hasOutput("ApiUrl", { Value: Match.objectLike({ "Fn::Join": Match.anyValue() }) });
    });
  });

  describe("the API's web ACL behind the distribution", () => {
    const synth = synthPalimpsest({ edgeCache: true });
    const template = synth.serviceTemplate;
    const config = distributionConfig(template);
    const acl = Object.values(template.findResources("AWS::WAFv2::WebACL"))[0]?.Properties as {
      CustomResponseBodies: Record<string, { Content: string }>;
      Rules: Array<{ Name: string; Priority: number; Statement: Record<string, unknown>; Action?: unknown }>;
    };
    const rule = (name: string) => acl.Rules.find((r) => r.Name === name) ?? assert.fail(`rule ${name}`);
    const secretId = Object.keys(template.findResources("AWS::SecretsManager::Secret")).find((id) =>
      id.includes("OriginVerify"),
    );

    test("names the reader's address in a header of its own on every behaviour, over any the reader sent", () => {
      const functions = template.findResources("AWS::CloudFront::Function");
      assert.equal(Object.keys(functions).length, 1);
      const [fnId, fn] = Object.entries(functions)[0] as [string, { Properties: Record<string, unknown> }];
      assert.equal(fn.Properties.FunctionCode, VIEWER_IP_FUNCTION);
      assert.equal((fn.Properties.FunctionConfig as { Runtime: string }).Runtime, "cloudfront-js-2.0");
      for (const b of [config.DefaultCacheBehavior, ...config.CacheBehaviors]) {
        assert.deepEqual(
          b.FunctionAssociations,
          [{ EventType: "viewer-request", FunctionARN: { "Fn::GetAtt": [fnId, "FunctionARN"] } }],
          b.PathPattern ?? "default",
        );
      }
      const policies = Object.values(template.findResources("AWS::CloudFront::OriginRequestPolicy"));
      assert.equal(policies.length, 1);
      const headers = policies[0]?.Properties.OriginRequestPolicyConfig.HeadersConfig;
      assert.deepEqual(headers, { HeaderBehavior: "whitelist", Headers: [EDGE_HEADERS.viewerIp] });
      // The function itself, run as CloudFront runs it: a spoofed value is replaced.
      const handler = new Function(`${VIEWER_IP_FUNCTION}; return handler;`)() as (
        e: unknown,
      ) => Promise<{ headers: Record<string, { value: string }> }>;
      return handler({
        viewer: { ip: "2001:db8::7" },
        request: { headers: { [EDGE_HEADERS.viewerIp]: { value: "203.0.113.9" }, host: { value: "x" } } },
      }).then((request) => {
        assert.deepEqual(request.headers[EDGE_HEADERS.viewerIp], { value: "2001:db8::7" });
        assert.deepEqual(request.headers.host, { value: "x" });
      });
    });

    test("counts each rate rule by that address, not by the edge that connected", () => {
      for (const name of [FIREWALL_RULES.formPerIp, FIREWALL_RULES.perIp]) {
        const rate = rule(name).Statement.RateBasedStatement as Record<string, unknown>;
        assert.equal(rate.AggregateKeyType, "FORWARDED_IP", name);
        assert.deepEqual(
          rate.ForwardedIPConfig,
          { HeaderName: EDGE_HEADERS.viewerIp, FallbackBehavior: "MATCH" },
          name,
        );
      }
    });

    test("sends a deploy-time secret to the API and refuses (403) every request without it, first", () => {
      assert.ok(secretId, "an OriginVerify secret");
      template.hasResourceProperties("AWS::SecretsManager::Secret", {
        GenerateSecretString: Match.objectLike({ PasswordLength: 48, ExcludePunctuation: true }),
      });
      const reference = {
        "Fn::Join": ["", ["{{resolve:secretsmanager:", { Ref: secretId }, ":SecretString:::}}"]],
      };
      const [origin] = config.Origins;
      assert.deepEqual(origin?.OriginCustomHeaders, [
        { HeaderName: EDGE_HEADERS.originVerify, HeaderValue: reference },
      ]);
      const first = [...acl.Rules].sort((a, b) => a.Priority - b.Priority)[0];
      assert.equal(first?.Name, FIREWALL_RULES.throughEdge);
      assert.deepEqual(first?.Statement, {
        NotStatement: {
          Statement: {
            ByteMatchStatement: {
              FieldToMatch: { SingleHeader: { Name: EDGE_HEADERS.originVerify } },
              PositionalConstraint: "EXACTLY",
              SearchString: reference,
              TextTransformations: [{ Priority: 0, Type: "NONE" }],
            },
          },
        },
      });
      assert.deepEqual(first?.Action, {
        Block: { CustomResponse: { ResponseCode: 403, CustomResponseBodyKey: "notThroughEdge" } },
      });
      const body = JSON.parse(acl.CustomResponseBodies.notThroughEdge?.Content ?? "{}");
      assert.equal(body.error?.code, "use_public_address");
      assert.equal(new Set(acl.Rules.map((r) => r.Priority)).size, acl.Rules.length, "priorities differ");
      // Nowhere in the template in the clear: only the reference names it.
      assert.doesNotMatch(JSON.stringify(template.toJSON()), /"SecretString":"/);
    });

    test("redacts the secret from the blocked-request log", () => {
      template.hasResourceProperties("AWS::WAFv2::LoggingConfiguration", {
        RedactedFields: [
          { SingleHeader: { Name: "x-api-key" } },
          { SingleHeader: { Name: EDGE_HEADERS.originVerify } },
        ],
      });
    });

    test("without the edge cache, the rate rules count the connecting address and nothing is demanded", () => {
      const plain = synthPalimpsest().serviceTemplate;
      const plainAcl = Object.values(plain.findResources("AWS::WAFv2::WebACL"))[0] ?? assert.fail("no ACL");
      const rules = (plainAcl.Properties as typeof acl).Rules;
      assert.ok(!rules.some((r) => r.Name === FIREWALL_RULES.throughEdge));
      assert.equal((plainAcl.Properties as typeof acl).CustomResponseBodies.notThroughEdge, undefined);
      for (const r of rules.filter((r) => "RateBasedStatement" in r.Statement)) {
        assert.equal((r.Statement.RateBasedStatement as { AggregateKeyType: string }).AggregateKeyType, "IP");
      }
      plain.resourceCountIs("AWS::SecretsManager::Secret", 0);
    });
  });

  describe("on the public domain", () => {
    const synth = synthPalimpsest({ edgeCache: true, publicDomain: DOMAIN });
    const config = distributionConfig(synth.serviceTemplate);

    test("answers on the domain with its certificate, points the zone at it, maps no API Gateway domain", () => {
      assert.deepEqual(config.Aliases, ["archive.example.org"]);
      assert.equal(config.ViewerCertificate?.MinimumProtocolVersion, "TLSv1.2_2021");
      assert.equal(config.ViewerCertificate?.SslSupportMethod, "sni-only");
      synth.serviceTemplate.resourceCountIs("AWS::Route53::RecordSet", 2);
      synth.serviceTemplate.resourceCountIs("AWS::ApiGateway::BasePathMapping", 0);
      synth.storageTemplate.resourceCountIs("AWS::ApiGateway::DomainName", 0);
      synth.storageTemplate.resourceCountIs("AWS::Route53::RecordSet", 0);
      // The storage stack issues the certificate, so it must be in us-east-1: a rule says so.
      const rules = Object.values(synth.storageTemplate.toJSON().Rules ?? {}).map((r) => JSON.stringify(r));
      const region = /"Fn::Equals":\[\{"Ref":"AWS::Region"\},"us-east-1"\]/;
      assert.equal(rules.filter((r) => region.test(r)).length, 1, rules.join("\n"));
      const plain = synthPalimpsest({ publicDomain: DOMAIN }).storageTemplate.toJSON().Rules ?? {};
      assert.ok(
        !Object.values(plain).some((r) => region.test(JSON.stringify(r))),
        "only with the edge cache",
      );
    });

    test("PUBLIC_BASE_URL is the domain", () => {
      synth.serviceTemplate.hasResourceProperties("AWS::Lambda::Function", {
        Description: "Palimpsest HTTP API",
        Environment: { Variables: Match.objectLike({ [ENV.publicBaseUrl]: "https://archive.example.org" }) },
      });
      synth.serviceTemplate.hasOutput("ApiUrl", { Value: "https://archive.example.org/" });
    });
  });

  test("refuses a certificate outside us-east-1, and a domain and service that disagree", () => {
    assert.throws(
      () =>
        synthPalimpsest({
          edgeCache: true,
          publicDomain: { domainName: "archive.example.org", certificateArn: EU_CERT },
        }),
      /us-east-1/,
    );
    synthPalimpsest({
      edgeCache: true,
      publicDomain: { domainName: "archive.example.org", certificateArn: US_EAST_1_CERT },
    });
    const app = newApp();
    const storage = new PalimpsestStorageStack(app, "S", { publicDomain: DOMAIN });
    assert.throws(
      () => new PalimpsestServiceStack(app, "V", { storage, bundling: false, edgeCache: true }),
      /must agree/,
    );
    const inEurope = newApp();
    assert.throws(
      () =>
        new PalimpsestStorageStack(inEurope, "S", {
          env: { region: "eu-west-1", account: "123456789012" },
          publicDomain: { ...DOMAIN, edgeCache: true },
        }),
      /us-east-1/,
    );
  });
});
