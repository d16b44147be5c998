import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { RetentionDays } from "aws-cdk-lib/aws-logs";
import { ROUTES } from "../../functions/api/routes.ts";
import {
  ApiFirewall,
  COMMON_RULES_COUNTED,
  FIREWALL_RULES,
  KEYLESS_POST_PATH_PART,
} from "../../infra/constructs/api-firewall.ts";
import { ApiFunction } from "../../infra/constructs/api-function.ts";
import { ArchiveApi, PUBLIC_PATHS } from "../../infra/constructs/archive-api.ts";
import { ArchiveBucket } from "../../infra/constructs/archive-bucket.ts";
import { ArchiveTable } from "../../infra/constructs/archive-table.ts";
import { CaptureQueue } from "../../infra/constructs/capture-queue.ts";
import { PollQueue } from "../../infra/constructs/poll-queue.ts";
import { PalimpsestServiceStack } from "../../infra/stacks/service-stack.ts";
import { PalimpsestStorageStack } from "../../infra/stacks/storage-stack.ts";
import { MAX_URL_LENGTH } from "../../shared/domain/url.ts";
import { MAX_BODY_BYTES } from "../../shared/http/api-gateway.ts";
import { logicalIdOf, newApp, newStack, synthPalimpsest } from "./synth.ts";

interface Rule {
  Name: string;
  Priority: number;
  Statement: Record<string, Record<string, unknown>>;
  Action?: { Block?: { CustomResponse?: { ResponseCode: number; CustomResponseBodyKey: string } } };
  OverrideAction?: unknown;
  VisibilityConfig: {
    CloudWatchMetricsEnabled: boolean;
    SampledRequestsEnabled: boolean;
    MetricName: string;
  };
}

/** The common rule set's limits (AWS documentation) that the API's own inputs can exceed. */
const COMMON_RULE_SET_LIMITS = { bodyBytes: 8 * 1024, queryStringBytes: 2048, uriPathBytes: 1024 };

describe("API firewall (WAF web ACL)", () => {
  let synth: ReturnType<typeof synthPalimpsest>;
  let service: Template;
  let webAcl: Record<string, unknown> & {
    Rules: Rule[];
    CustomResponseBodies: Record<string, { ContentType: string; Content: string }>;
  };
  const webAclId = () => {
    const acl = synth.service.firewall?.webAcl;
    assert.ok(acl, "the service stack has a firewall");
    return Stack.of(acl).getLogicalId(acl);
  };
  const rule = (name: string) => {
    const found = webAcl.Rules.find((r) => r.Name === name);
    assert.ok(found, `rule ${name}`);
    return found;
  };

  before(() => {
    synth = synthPalimpsest();
    service = synth.serviceTemplate;
    const acls = Object.values(service.findResources("AWS::WAFv2::WebACL"));
    assert.equal(acls.length, 1);
    webAcl = acls[0]?.Properties;
  });

  test("is regional, allows what no rule blocks, and publishes metrics and samples", () => {
    assert.equal(webAcl.Scope, "REGIONAL");
    assert.deepEqual(webAcl.DefaultAction, { Allow: {} });
    for (const config of [webAcl.VisibilityConfig, ...webAcl.Rules.map((r) => r.VisibilityConfig)]) {
      assert.deepEqual(config, {
        ...(config as object),
        CloudWatchMetricsEnabled: true,
        SampledRequestsEnabled: true,
      });
    }
  });

  test("is associated with the API's stage", () => {
    const associations = Object.values(service.findResources("AWS::WAFv2::WebACLAssociation"));
    assert.equal(associations.length, 1);
    const props = associations[0]?.Properties;
    assert.deepEqual(props.WebACLArn, {
      "Fn::GetAtt": [webAclId(), "Arn"],
    });
    // arn:<partition>:apigateway:<region>::/restapis/<api id>/stages/<stage>: the stage's Ref also
    // makes CloudFormation create the stage first.
    const parts = props.ResourceArn["Fn::Join"][1] as unknown[];
    const text = JSON.stringify(parts);
    assert.match(text, /:apigateway:/);
    assert.match(text, /::\/restapis\/"/);
    assert.deepEqual(
      parts.filter(
        (p) =>
          typeof p === "object" &&
          p !== null &&
          "Ref" in p &&
          p.Ref !== "AWS::Partition" &&
          p.Ref !== "AWS::Region",
      ),
      [
        { Ref: logicalIdOf(synth.service.api.api) },
        { Ref: logicalIdOf(synth.service.api.api.deploymentStage) },
      ],
    );
  });

  test("rate rules run first: key-less POSTs at 30 per IP per 5 minutes, everything at 3,000", () => {
    assert.deepEqual(
      [...webAcl.Rules].sort((a, b) => a.Priority - b.Priority).map((r) => r.Name),
      [FIREWALL_RULES.formPerIp, FIREWALL_RULES.perIp, FIREWALL_RULES.knownBadInputs, FIREWALL_RULES.common],
    );
    const form = rule(FIREWALL_RULES.formPerIp).Statement.RateBasedStatement;
    assert.equal(form?.Limit, 30);
    assert.equal(form?.EvaluationWindowSec, 300);
    assert.equal(form?.AggregateKeyType, "IP");
    const all = rule(FIREWALL_RULES.perIp).Statement.RateBasedStatement;
    assert.deepEqual(all, { Limit: 3000, EvaluationWindowSec: 300, AggregateKeyType: "IP" });
    assert.ok((form?.Limit as number) < (all?.Limit as number));
  });

  test("the form rule's scope is POST to a path containing /ui/, decoded and normalised first", () => {
    const scope = rule(FIREWALL_RULES.formPerIp).Statement.RateBasedStatement?.ScopeDownStatement as {
      AndStatement: { Statements: Array<{ ByteMatchStatement: Record<string, unknown> }> };
    };
    const [method, path] = scope.AndStatement.Statements.map((s) => s.ByteMatchStatement);
    assert.deepEqual(method?.FieldToMatch, { Method: {} });
    assert.equal(method?.PositionalConstraint, "EXACTLY");
    assert.equal(method?.SearchString, "POST");
    assert.deepEqual(path?.FieldToMatch, { UriPath: {} });
    assert.equal(path?.PositionalConstraint, "CONTAINS");
    assert.equal(path?.SearchString, KEYLESS_POST_PATH_PART);
    assert.deepEqual(
      ((path?.TextTransformations ?? []) as Array<{ Type: string }>).map((t) => t.Type),
      ["URL_DECODE", "NORMALIZE_PATH", "LOWERCASE"],
    );
  });

  test("every key-less POST, in API Gateway and in the handler, is under the form rule's path", () => {
    const gatewayPosts = PUBLIC_PATHS.filter((p) => p.methods.includes("POST"));
    assert.ok(gatewayPosts.length > 0);
    for (const { path } of gatewayPosts) assert.ok(`/prod${path}`.includes(KEYLESS_POST_PATH_PART), path);
    const handlerPosts = ROUTES.filter((r) => r.public && r.method === "POST");
    assert.ok(handlerPosts.length > 0);
    for (const route of handlerPosts) {
      assert.ok(route.pattern.source.startsWith("^\\/ui\\/"), `${route.pattern} is under /ui/`);
      assert.ok(route.pattern.test("/ui/captures"), "the capture form");
    }
  });

  test("rate-limited clients get 429: the API's JSON error, or an HTML page from the form", () => {
    const responseOf = (name: string) => {
      const custom = rule(name).Action?.Block?.CustomResponse;
      assert.equal(custom?.ResponseCode, 429, name);
      const body = webAcl.CustomResponseBodies[custom?.CustomResponseBodyKey ?? ""];
      assert.ok(body, `${name} has a body`);
      return body;
    };
    const json = responseOf(FIREWALL_RULES.perIp);
    assert.equal(json.ContentType, "APPLICATION_JSON");
    const error = JSON.parse(json.Content).error;
    assert.deepEqual(Object.keys(error), ["code", "message"]);
    assert.match(error.code, /^[a-z_]+$/);
    const html = responseOf(FIREWALL_RULES.formPerIp);
    assert.equal(html.ContentType, "TEXT_HTML");
    assert.match(html.Content, /^<!doctype html>/);
    assert.doesNotMatch(html.Content, /<script/i);
  });

  test("AWS's known-bad-inputs and common rule sets apply with their own actions", () => {
    for (const name of [FIREWALL_RULES.knownBadInputs, FIREWALL_RULES.common]) {
      const managed = rule(name).Statement.ManagedRuleGroupStatement;
      assert.equal(managed?.VendorName, "AWS");
      assert.equal(managed?.Name, name);
      assert.deepEqual(rule(name).OverrideAction, { None: {} });
    }
    assert.equal(
      rule(FIREWALL_RULES.knownBadInputs).Statement.ManagedRuleGroupStatement?.RuleActionOverrides,
      undefined,
    );
  });

  test("only the common rules that would block legitimate API use are counted, each with a reason", () => {
    const overrides = rule(FIREWALL_RULES.common).Statement.ManagedRuleGroupStatement
      ?.RuleActionOverrides as Array<{
      Name: string;
      ActionToUse: unknown;
    }>;
    assert.deepEqual(
      overrides,
      COMMON_RULES_COUNTED.map(({ name }) => ({ Name: name, ActionToUse: { Count: {} } })),
    );
    for (const { name, reason } of COMMON_RULES_COUNTED) assert.ok(reason.length > 40, name);
    const counted = new Set(COMMON_RULES_COUNTED.map((r) => r.name));
    // Each size rule is counted exactly when the API's own limits exceed it.
    assert.equal(counted.has("SizeRestrictions_BODY"), MAX_BODY_BYTES > COMMON_RULE_SET_LIMITS.bodyBytes);
    assert.equal(
      counted.has("SizeRestrictions_QUERYSTRING"),
      "url=".length + MAX_URL_LENGTH > COMMON_RULE_SET_LIMITS.queryStringBytes,
    );
    assert.equal(
      counted.has("SizeRestrictions_URIPATH"),
      "/prod/memento/20240102030405/".length + MAX_URL_LENGTH > COMMON_RULE_SET_LIMITS.uriPathBytes,
    );
    for (const kept of ["EC2MetaDataSSRF_BODY", "EC2MetaDataSSRF_QUERYARGUMENTS", "NoUserAgent_HEADER"]) {
      assert.ok(!counted.has(kept), `${kept} still blocks`);
    }
  });

  test("blocked requests, and only those, are logged to an aws-waf-logs- group with API keys redacted", () => {
    const logs = synth.service.firewall?.logs;
    assert.ok(logs);
    const group = service.findResources("AWS::Logs::LogGroup")[logicalIdOf(logs)];
    assert.match(group?.Properties.LogGroupName, /^aws-waf-logs-/);
    assert.equal(group?.Properties.RetentionInDays, 30);
    assert.equal(group?.DeletionPolicy, "Delete");
    const configs = Object.values(service.findResources("AWS::WAFv2::LoggingConfiguration"));
    assert.equal(configs.length, 1);
    const config = configs[0]?.Properties;
    assert.deepEqual(config.ResourceArn, {
      "Fn::GetAtt": [webAclId(), "Arn"],
    });
    const destination = JSON.stringify(config.LogDestinationConfigs);
    assert.match(destination, /:log-group:"/);
    assert.match(destination, new RegExp(`"Ref":"${logicalIdOf(logs)}"`));
    assert.doesNotMatch(destination, /:\*/, "WAF wants the ARN without :*");
    assert.deepEqual(config.RedactedFields, [{ SingleHeader: { Name: "x-api-key" } }]);
    assert.deepEqual(config.LoggingFilter, {
      DefaultBehavior: "DROP",
      Filters: [
        {
          Behavior: "KEEP",
          Requirement: "MEETS_ANY",
          Conditions: [{ ActionCondition: { Action: "BLOCK" } }],
        },
      ],
    });
  });

  describe("props", () => {
    const stageIn = () => {
      const stack = newStack();
      const handler = new ApiFunction(stack, "Fn", {
        table: new ArchiveTable(stack, "Table"),
        bucket: new ArchiveBucket(stack, "Bucket"),
        queue: new CaptureQueue(stack, "Queue"),
        pollQueue: new PollQueue(stack, "PollQueue"),
        bundling: false,
      });
      return { stack, stage: new ArchiveApi(stack, "Api", { handler }).api.deploymentStage };
    };

    test("limits and logging are configurable through the service stack", () => {
      const app = newApp();
      const storage = new PalimpsestStorageStack(app, "Storage");
      const service = new PalimpsestServiceStack(app, "Service", {
        storage,
        bundling: false,
        firewall: { formRateLimit: 12, rateLimit: 600, logRetention: RetentionDays.ONE_WEEK },
      });
      const template = Template.fromStack(service);
      const [acl] = Object.values(template.findResources("AWS::WAFv2::WebACL"));
      const limits = ((acl?.Properties.Rules ?? []) as Rule[]).map(
        (r) => r.Statement.RateBasedStatement?.Limit,
      );
      assert.deepEqual(limits.slice(0, 2), [12, 600]);
      const logs = service.firewall?.logs;
      assert.equal(
        logs && template.findResources("AWS::Logs::LogGroup")[logicalIdOf(logs)]?.Properties.RetentionInDays,
        7,
      );
    });

    test("logging can be turned off, and the firewall too", () => {
      const { stack, stage } = stageIn();
      const firewall = new ApiFirewall(stack, "Quiet", { stage, logBlockedRequests: false });
      assert.equal(firewall.logs, undefined);
      assert.deepEqual(Template.fromStack(stack).findResources("AWS::WAFv2::LoggingConfiguration"), {});

      const app = newApp();
      const storage = new PalimpsestStorageStack(app, "Storage");
      const service = new PalimpsestServiceStack(app, "Service", {
        storage,
        bundling: false,
        firewall: false,
      });
      assert.equal(service.firewall, undefined);
      const template = Template.fromStack(service);
      assert.deepEqual(template.findResources("AWS::WAFv2::WebACL"), {});
      assert.deepEqual(template.findResources("AWS::WAFv2::WebACLAssociation"), {});
    });

    test("impossible limits and combinations throw", () => {
      const { stack, stage } = stageIn();
      const cases = [
        [{ formRateLimit: 9 }, /formRateLimit must be an integer from 10/],
        [{ rateLimit: 100.5 }, /rateLimit must be an integer/],
        [{ formRateLimit: 500, rateLimit: 400 }, /formRateLimit \(500\) exceeds rateLimit/],
        [{ logBlockedRequests: false, logRetention: RetentionDays.ONE_DAY }, /logBlockedRequests is off/],
      ] as const;
      cases.forEach(([props, message], i) => {
        assert.throws(() => new ApiFirewall(stack, `Firewall${i}`, { stage, ...props }), message);
      });
    });
  });
});
