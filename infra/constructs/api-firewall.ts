import { ArnFormat, Names, RemovalPolicy, Stack } from "aws-cdk-lib";
import type { Stage } from "aws-cdk-lib/aws-apigateway";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { CfnLoggingConfiguration, CfnWebACL, CfnWebACLAssociation } from "aws-cdk-lib/aws-wafv2";
import { Construct } from "constructs";
import { DEFAULTS } from "./defaults.ts";
import type { EdgeFirewallBinding } from "./edge-cache.ts";

/**
 * What every key-less POST path contains: the web UI's capture form (`POST /ui/captures`) is the
 * only key-less way to submit, under `/ui/{proxy+}` (a test holds `PUBLIC_PATHS` to this). The
 * stage name (`/prod/ui/…`) or a custom domain's base path may come before it.
 */
export const KEYLESS_POST_PATH_PART = "/ui/";

/** WAF's bounds on a rate-based rule's limit. */
const MIN_RATE_LIMIT = 10;
const MAX_RATE_LIMIT = 2_000_000_000;

/** Rule names, also the names of their CloudWatch metrics. */
export const FIREWALL_RULES = {
  throughEdge: "ThroughEdgeOnly",
  formPerIp: "CaptureFormPerIp",
  perIp: "PerIp",
  knownBadInputs: "AWSManagedRulesKnownBadInputsRuleSet",
  common: "AWSManagedRulesCommonRuleSet",
} as const;

/**
 * Rules of the AWS common rule set that only count here (they still show in the metrics and
 * sampled requests), each because it would block what the API legitimately takes.
 */
export const COMMON_RULES_COUNTED: ReadonlyArray<{ name: string; reason: string }> = [
  {
    name: "SizeRestrictions_BODY",
    reason:
      "Blocks bodies over 8 KB with a bare 403. The API takes bodies up to 16 KB (MAX_BODY_BYTES in shared/http/api-gateway.ts) and answers larger ones itself: 413 body_too_large in its error shape.",
  },
  {
    name: "SizeRestrictions_QUERYSTRING",
    reason:
      "Blocks query strings over 2 KB. GET /v1/urls?url= and /v1/available?url= carry a whole URL, up to 2,048 characters before percent-encoding makes it longer.",
  },
  {
    name: "SizeRestrictions_URIPATH",
    reason:
      "Blocks paths over 1 KB. Memento paths (/timegate/{url}, /timemap/link/{url}, /memento/{datetime}/{url}) carry a whole URL of up to 2,048 characters.",
  },
  ...["GenericRFI_QUERYARGUMENTS", "GenericRFI_BODY", "GenericRFI_URIPATH"].map((name) => ({
    name,
    reason:
      "Remote-file-inclusion rules block URLs with an IPv4 host in a parameter, body or path. URLs are what the archive takes, in all three places, and a public IPv4 host is a legitimate one; the API's URL guard and the capture egress proxy refuse private, loopback and reserved addresses themselves.",
  })),
];

/** Answers of the rate-based rules: 429, in the API's error shape or as a page for the form. */
const RESPONSE_BODIES = {
  rateLimitedJson: {
    contentType: "APPLICATION_JSON",
    content: JSON.stringify({
      error: {
        code: "rate_limited",
        message: "Too many requests from your address; wait a few minutes and try again.",
      },
    }),
  },
  rateLimitedHtml: {
    contentType: "TEXT_HTML",
    content:
      '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Too many submissions · Palimpsest</title></head>' +
      "<body><h1>Too many submissions</h1><p>Your address has submitted too many URLs in the last few minutes. " +
      "Wait a few minutes and try again. To archive many URLs, use the HTTP API with a key.</p></body></html>",
  },
  notThroughEdge: {
    contentType: "APPLICATION_JSON",
    content: JSON.stringify({
      error: {
        code: "use_public_address",
        message: "This archive answers at its public address, not at this one.",
      },
    }),
  },
} as const satisfies Record<string, CfnWebACL.CustomResponseBodyProperty>;

/** Props of {@link ApiFirewall}. */
export interface ApiFirewallProps {
  /** The REST API stage to protect. */
  readonly stage: Stage;
  /**
   * Key-less POSTs (the web UI's capture form) one client IP may send in 5 minutes; past it, 429
   * until its rate drops. At least 10, and at most `rateLimit`.
   * @default 30
   */
  readonly formRateLimit?: number;
  /**
   * Requests of any kind one client IP may send in 5 minutes; past it, 429 until its rate drops.
   * At least 10. Keep it at or above the usage plan's per-key rate × 300 s, or key holders
   * running at their plan's speed from one address are cut off.
   * @default 3000
   */
  readonly rateLimit?: number;
  /**
   * Log the requests the web ACL blocks (never those it allows) to a CloudWatch log group, with
   * the `x-api-key` header redacted.
   * @default true
   */
  readonly logBlockedRequests?: boolean;
  /**
   * Retention of the blocked-request log; only with `logBlockedRequests`.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * The CloudFront distribution in front of the stage ({@link EdgeCache}'s `firewallBinding`).
   * Every request then reaches the stage from an edge address, so the rate rules count by the
   * reader's address the distribution names instead, and a first rule refuses (403) every request
   * without the distribution's secret header: the execute-api URL no longer goes round it.
   * @default - none: rate rules count by the address that connected
   */
  readonly edge?: EdgeFirewallBinding;
}

/**
 * An AWS WAF (v2) regional web ACL in front of the REST API stage. In order:
 * 0. behind the edge cache only, a refusal of every request that did not come through it;
 * 1. a per-IP rate limit on key-less POSTs, the web UI's capture form: each submission runs a
 *    browser, and no usage-plan key stands between it and anonymous visitors;
 * 2. a looser per-IP rate limit on everything, so one address cannot take the stage's throttle;
 * 3. AWS's known-bad-inputs rule set (Log4Shell, Java deserialisation, exploit paths…);
 * 4. AWS's common rule set (OWASP-style inspections), less {@link COMMON_RULES_COUNTED}.
 * Other requests are allowed. Rate-limited clients get a 429 (JSON, or an HTML page from the
 * form); the managed rules answer a bare 403.
 *
 * Blocked requests are logged by default: when someone reports a 403, the log names the rule.
 * Only blocks are kept, so the log stays small, and API keys (and the edge's secret header) are
 * redacted from it.
 */
export class ApiFirewall extends Construct {
  /** The web ACL. */
  public readonly webAcl: CfnWebACL;
  /** Associates the web ACL with the stage. */
  public readonly association: CfnWebACLAssociation;
  /** Log group of blocked requests (named `aws-waf-logs-…`, as WAF requires), when logging is on. */
  public readonly logs?: LogGroup;

  constructor(scope: Construct, id: string, props: ApiFirewallProps) {
    super(scope, id);
    const formRateLimit = props.formRateLimit ?? DEFAULTS.firewallFormRateLimit;
    const rateLimit = props.rateLimit ?? DEFAULTS.firewallRateLimit;
    for (const [name, limit] of Object.entries({ formRateLimit, rateLimit })) {
      if (!Number.isInteger(limit) || limit < MIN_RATE_LIMIT || limit > MAX_RATE_LIMIT) {
        throw new Error(
          `ApiFirewall: ${name} must be an integer from ${MIN_RATE_LIMIT} to ${MAX_RATE_LIMIT}, got ${limit}.`,
        );
      }
    }
    if (formRateLimit > rateLimit) {
      throw new Error(
        `ApiFirewall: formRateLimit (${formRateLimit}) exceeds rateLimit (${rateLimit}) and could never be reached.`,
      );
    }
    const logBlockedRequests = props.logBlockedRequests ?? true;
    if (!logBlockedRequests && props.logRetention !== undefined) {
      throw new Error("ApiFirewall: logRetention is set but logBlockedRequests is off.");
    }

    const window = DEFAULTS.firewallRateWindow.toSeconds();
    const visibility = (metricName: string): CfnWebACL.VisibilityConfigProperty => ({
      cloudWatchMetricsEnabled: true,
      sampledRequestsEnabled: true,
      metricName,
    });
    const rateLimited = (body: keyof typeof RESPONSE_BODIES): CfnWebACL.RuleActionProperty => ({
      block: { customResponse: { responseCode: 429, customResponseBodyKey: body } },
    });
    // API Gateway decodes and normalises the path before it routes; so does the match, so that
    // `/prod/%75i/captures` or `/prod//ui/captures` cannot slip past it.
    // Behind CloudFront the connecting address is an edge's, shared by every reader near it: count
    // by the reader's own, which the distribution sets over anything the reader sent. A request
    // without a valid one cannot get past the first rule.
    const perReader: Pick<CfnWebACL.RateBasedStatementProperty, "aggregateKeyType" | "forwardedIpConfig"> =
      props.edge === undefined
        ? { aggregateKeyType: "IP" }
        : {
            aggregateKeyType: "FORWARDED_IP",
            forwardedIpConfig: { headerName: props.edge.viewerIpHeader, fallbackBehavior: "MATCH" },
          };
    const throughEdge: CfnWebACL.RuleProperty[] =
      props.edge === undefined
        ? []
        : [
            {
              name: FIREWALL_RULES.throughEdge,
              priority: 0,
              statement: {
                notStatement: {
                  statement: {
                    byteMatchStatement: {
                      fieldToMatch: { singleHeader: { Name: props.edge.originVerifyHeader } },
                      positionalConstraint: "EXACTLY",
                      searchString: props.edge.originVerifyValue,
                      textTransformations: [{ priority: 0, type: "NONE" }],
                    },
                  },
                },
              },
              action: {
                block: { customResponse: { responseCode: 403, customResponseBodyKey: "notThroughEdge" } },
              },
              visibilityConfig: visibility(FIREWALL_RULES.throughEdge),
            },
          ];
    const first = throughEdge.length;
    const keylessPost: CfnWebACL.StatementProperty = {
      andStatement: {
        statements: [
          {
            byteMatchStatement: {
              fieldToMatch: { method: {} },
              positionalConstraint: "EXACTLY",
              searchString: "POST",
              textTransformations: [{ priority: 0, type: "NONE" }],
            },
          },
          {
            byteMatchStatement: {
              fieldToMatch: { uriPath: {} },
              positionalConstraint: "CONTAINS",
              searchString: KEYLESS_POST_PATH_PART,
              textTransformations: [
                { priority: 0, type: "URL_DECODE" },
                { priority: 1, type: "NORMALIZE_PATH" },
                { priority: 2, type: "LOWERCASE" },
              ],
            },
          },
        ],
      },
    };
    const managed = (name: string, overrides: CfnWebACL.RuleActionOverrideProperty[] = []) => ({
      managedRuleGroupStatement: {
        vendorName: "AWS",
        name,
        ...(overrides.length ? { ruleActionOverrides: overrides } : {}),
      },
    });

    this.webAcl = new CfnWebACL(this, "WebAcl", {
      description: "Palimpsest API: per-IP rate limits and AWS managed rules",
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(Names.uniqueResourceName(this, { maxLength: 128 })),
      // Only the bodies a rule answers with.
      customResponseBodies:
        props.edge === undefined
          ? {
              rateLimitedJson: RESPONSE_BODIES.rateLimitedJson,
              rateLimitedHtml: RESPONSE_BODIES.rateLimitedHtml,
            }
          : RESPONSE_BODIES,
      // Rate rules first (after the edge check): they then count every request, including those a
      // managed rule blocks.
      rules: [
        ...throughEdge,
        {
          name: FIREWALL_RULES.formPerIp,
          priority: first,
          statement: {
            rateBasedStatement: {
              limit: formRateLimit,
              evaluationWindowSec: window,
              ...perReader,
              scopeDownStatement: keylessPost,
            },
          },
          action: rateLimited("rateLimitedHtml"),
          visibilityConfig: visibility(FIREWALL_RULES.formPerIp),
        },
        {
          name: FIREWALL_RULES.perIp,
          priority: first + 1,
          statement: {
            rateBasedStatement: { limit: rateLimit, evaluationWindowSec: window, ...perReader },
          },
          action: rateLimited("rateLimitedJson"),
          visibilityConfig: visibility(FIREWALL_RULES.perIp),
        },
        {
          name: FIREWALL_RULES.knownBadInputs,
          priority: first + 2,
          statement: managed(FIREWALL_RULES.knownBadInputs),
          overrideAction: { none: {} },
          visibilityConfig: visibility(FIREWALL_RULES.knownBadInputs),
        },
        {
          name: FIREWALL_RULES.common,
          priority: first + 3,
          statement: managed(
            FIREWALL_RULES.common,
            COMMON_RULES_COUNTED.map(({ name }) => ({ name, actionToUse: { count: {} } })),
          ),
          overrideAction: { none: {} },
          visibilityConfig: visibility(FIREWALL_RULES.common),
        },
      ],
    });

    // The stage's ARN refers to the stage (its name is the stage's Ref), so the association waits
    // for the stage to exist.
    this.association = new CfnWebACLAssociation(this, "Association", {
      resourceArn: props.stage.stageArn,
      webAclArn: this.webAcl.attrArn,
    });

    if (logBlockedRequests) {
      const logs = new LogGroup(this, "BlockedRequests", {
        logGroupName: `aws-waf-logs-${Names.uniqueResourceName(this, { maxLength: 200 })}`,
        retention: props.logRetention ?? DEFAULTS.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      });
      this.logs = logs;
      new CfnLoggingConfiguration(this, "Logging", {
        resourceArn: this.webAcl.attrArn,
        // WAF wants the log group's ARN without the `:*` that its Arn attribute ends with.
        logDestinationConfigs: [
          Stack.of(this).formatArn({
            service: "logs",
            resource: "log-group",
            resourceName: logs.logGroupName,
            arnFormat: ArnFormat.COLON_RESOURCE_NAME,
          }),
        ],
        // The edge's secret too: whoever reads the log could otherwise go round the distribution.
        redactedFields: [
          { singleHeader: { Name: "x-api-key" } },
          ...(props.edge ? [{ singleHeader: { Name: props.edge.originVerifyHeader } }] : []),
        ],
        loggingFilter: {
          DefaultBehavior: "DROP",
          Filters: [
            {
              Behavior: "KEEP",
              Requirement: "MEETS_ANY",
              Conditions: [{ ActionCondition: { Action: "BLOCK" } }],
            },
          ],
        },
      });
    }
  }
}
