import { Duration, Stack, Validations } from "aws-cdk-lib";
import type { RestApi } from "aws-cdk-lib/aws-apigateway";
import type { ICertificate } from "aws-cdk-lib/aws-certificatemanager";
import {
  AllowedMethods,
  type BehaviorOptions,
  CachedMethods,
  CacheHeaderBehavior,
  CachePolicy,
  CacheQueryStringBehavior,
  Distribution,
  Function as EdgeFunction,
  FunctionCode,
  FunctionEventType,
  FunctionRuntime,
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestHeaderBehavior,
  OriginRequestPolicy,
  OriginRequestQueryStringBehavior,
  OriginSslPolicy,
  PriceClass,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { HttpOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { AaaaRecord, ARecord, type IHostedZone, RecordTarget } from "aws-cdk-lib/aws-route53";
import { CloudFrontTarget } from "aws-cdk-lib/aws-route53-targets";
import { Secret } from "aws-cdk-lib/aws-secretsmanager";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import { SHORT_MAX_AGE_SECONDS } from "../../shared/http/cache-control.ts";
import type { PalimpsestFunction } from "./palimpsest-function.ts";

/**
 * The cached paths, each a CloudFront path pattern (`?` is one character, `*` any run). Every
 * one is a key-less public read in `PUBLIC_PATHS` (archive-api.ts), so nothing is lost by never
 * forwarding `x-api-key` on them: a keyed response cannot be made there, let alone cached.
 */
export const EDGE_CACHED_PATHS = {
  /** A memento named to the second; the API marks it immutable once it has a successor. */
  memento: "/memento/??????????????/*",
  /** The UI's stylesheet and script; immutable when asked for with their digest (`?v=`). */
  assets: "/ui/assets/*",
  /** The Atom feeds: the archive's, a URL's, a source's. */
  feeds: "/v1/*edits.atom",
} as const;

/**
 * The headers the distribution adds to every request it forwards, for the API's web ACL
 * ({@link ApiFirewall}'s `edge`): lower case, as CloudFront Functions name headers.
 */
export const EDGE_HEADERS = {
  /**
   * The reader's bare IP address (CloudFront's `event.viewer.ip`), set by a viewer-request
   * function over any value the reader sent: the WAF rate rules count by it. Not
   * `CloudFront-Viewer-Address`, which is `ip:port` (a new port per connection, and an unbracketed
   * IPv6 address cannot be told from its port), and WAF can neither strip the port from a header
   * key nor read an IP address out of it.
   */
  viewerIp: "x-palimpsest-viewer-ip",
  /** A secret only the distribution sends: the web ACL refuses a request without it (403). */
  originVerify: "x-palimpsest-origin-verify",
} as const;

/**
 * The viewer-request function (cloudfront-js-2.0) that names the reader's address to the origin.
 * Exported so a test can run it.
 */
export const VIEWER_IP_FUNCTION = `async function handler(event) {
  var request = event.request;
  request.headers["${EDGE_HEADERS.viewerIp}"] = { value: event.viewer.ip };
  return request;
}`;

/** What the API's web ACL needs to know of the distribution in front of it. */
export interface EdgeFirewallBinding {
  /** The header holding the reader's address: rate rules count by it instead of the edge's. */
  readonly viewerIpHeader: string;
  /** The header only the distribution sends, and its value (a deploy-time secret reference). */
  readonly originVerifyHeader: string;
  readonly originVerifyValue: string;
}

/** The archive's name on the distribution, kept by the storage stack ({@link PublicDomain}). */
export interface EdgeCacheDomain {
  readonly domainName: string;
  /** In us-east-1, where CloudFront reads certificates. */
  readonly certificate: ICertificate;
  /** @default - none: point the name at `distributionDomainName` with your DNS provider */
  readonly zone?: IHostedZone;
}

/** Options of {@link EdgeCache} a deployer sets (the service stack's `edgeCache` prop). */
export interface EdgeCacheOptions {
  /**
   * Longest a feed is served from the cache (the API asks for 60 s; a longer value here is capped
   * by what the API sends).
   * @default Duration.seconds(60)
   */
  readonly feedTtl?: Duration;
  /** @default PriceClass.PRICE_CLASS_100 (North America and Europe edges: the cheapest) */
  readonly priceClass?: PriceClass;
}

/** Props of {@link EdgeCache}. */
export interface EdgeCacheProps extends EdgeCacheOptions {
  /** The REST API it fronts: only its id is named, so the API's methods may name this distribution. */
  readonly api: RestApi;
  /** The API's stage, the origin path (not read from the stage resource, which depends on the methods). */
  readonly stageName: string;
  /** @default - none: the distribution's own `*.cloudfront.net` name */
  readonly domain?: EdgeCacheDomain;
}

/**
 * A CloudFront distribution in front of the API that serves the archive's immutable and
 * short-lived public reads from the edge, honouring the API's `Cache-Control`
 * (shared/http/cache-control.ts): mementos with a successor for a year, feeds for a minute, the
 * UI's assets by digest. Everything else (the JSON API with its keys, pages with CSRF cookies,
 * POSTs, TimeGates, TimeMaps) passes through uncached with every viewer header, cookie and query.
 *
 * It belongs to the service stack, beside the API it fronts: the storage stack cannot name that
 * API (the reference would run against the stacks' dependency, a cycle), and the name that must
 * outlive the service stack (the domain, its certificate and zone) stays in the storage stack.
 * The distribution holds nothing to keep; a replaced service stack brings a new one that takes
 * the same name, as its API already takes the API Gateway custom domain. DECISIONS.md has
 * the decision.
 */
export class EdgeCache extends Construct {
  public readonly distribution: Distribution;
  /** `https://<domain or *.cloudfront.net>`: what PUBLIC_BASE_URL is set to. */
  public readonly baseUrl: string;
  /** Honours the origin's `Cache-Control` up to a year; nothing kept without one. */
  public readonly immutablePolicy: CachePolicy;
  /** Honours the origin's `Cache-Control` up to `feedTtl`. */
  public readonly feedPolicy: CachePolicy;
  /**
   * The value of {@link EDGE_HEADERS.originVerify}, generated by Secrets Manager at deploy. It
   * reaches CloudFront's origin config and the web ACL as a CloudFormation dynamic reference, so
   * it is in no template, no `cdk.out` and no repository, and differs between deployments.
   */
  public readonly originVerifySecret: Secret;

  constructor(scope: Construct, id: string, props: EdgeCacheProps) {
    super(scope, id);
    const feedTtl = props.feedTtl ?? Duration.seconds(SHORT_MAX_AGE_SECONDS);
    if (feedTtl.toSeconds() < 1 || feedTtl.toSeconds() > 3600) {
      throw new Error(`EdgeCache: feedTtl must be 1 s to 1 h, got ${feedTtl.toHumanString()}.`);
    }
    if (!/^[A-Za-z0-9_-]+$/.test(props.stageName)) {
      throw new Error(
        `EdgeCache: stageName must be a plain stage name, got ${JSON.stringify(props.stageName)}.`,
      );
    }
    const stack = Stack.of(this);
    // A secret the web ACL demands of every request, so the execute-api URL cannot be used to go
    // round the distribution (and its per-reader rate key). Secrets Manager rather than a
    // synth-time token in SSM: the value is generated at deploy and never written into the
    // template. It is not rotated: a dynamic reference is read again only when the resources
    // naming it are updated (README: the edge cache).
    this.originVerifySecret = new Secret(this, "OriginVerify", {
      description:
        "Palimpsest: the header value CloudFront sends to the API, which the API's web ACL requires",
      generateSecretString: { passwordLength: 48, excludePunctuation: true },
    });
    Validations.of(this.originVerifySecret).acknowledge({
      id: "AwsSolutions-SMG4",
      reason:
        "A shared value between CloudFront and the web ACL, both of which read it only when deployed: rotating it alone would lock the distribution out. Rotate by replacing the secret and redeploying.",
    });
    const origin = new HttpOrigin(`${props.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
      originPath: `/${props.stageName}`,
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
      customHeaders: { [EDGE_HEADERS.originVerify]: this.originVerifySecret.secretValue.unsafeUnwrap() },
    });
    const viewerIp = new EdgeFunction(this, "ViewerIp", {
      comment: "Palimpsest: names the reader's address to the API's web ACL",
      runtime: FunctionRuntime.JS_2_0,
      code: FunctionCode.fromInline(VIEWER_IP_FUNCTION),
    });
    const functionAssociations = [{ function: viewerIp, eventType: FunctionEventType.VIEWER_REQUEST }];
    // On cached paths, a cache miss carries the reader's address too (the cache key does not).
    const viewerIpToOrigin = new OriginRequestPolicy(this, "ViewerIpToOrigin", {
      comment: "Palimpsest: the reader's address, for the API's per-reader rate limits",
      headerBehavior: OriginRequestHeaderBehavior.allowList(EDGE_HEADERS.viewerIp),
      queryStringBehavior: OriginRequestQueryStringBehavior.none(),
    });
    // The cache key, and all that reaches the API on a cached path: the path, every query
    // parameter (on Memento paths they are the archived URL's own) and the CORS request headers
    // the API answers differently to. Never a cookie, never x-api-key.
    const keyOf = (name: string, comment: string, defaultTtl: Duration, maxTtl: Duration) =>
      new CachePolicy(this, name, {
        comment,
        minTtl: Duration.seconds(0),
        defaultTtl,
        maxTtl,
        headerBehavior: CacheHeaderBehavior.allowList(
          "Origin",
          "Access-Control-Request-Method",
          "Access-Control-Request-Headers",
        ),
        queryStringBehavior: CacheQueryStringBehavior.all(),
        enableAcceptEncodingGzip: true,
        enableAcceptEncodingBrotli: true,
      });
    // Without a Cache-Control from the API (none is expected), nothing is kept: default TTL 0.
    this.immutablePolicy = keyOf(
      "ImmutablePolicy",
      "Palimpsest: as long as the API's Cache-Control says (immutable mementos, assets)",
      Duration.seconds(0),
      Duration.days(365),
    );
    this.feedPolicy = keyOf("FeedPolicy", "Palimpsest: Atom feeds, briefly", Duration.seconds(0), feedTtl);
    const cached = (cachePolicy: CachePolicy): BehaviorOptions => ({
      origin,
      cachePolicy,
      originRequestPolicy: viewerIpToOrigin,
      functionAssociations,
      viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
      allowedMethods: AllowedMethods.ALLOW_GET_HEAD_OPTIONS,
      cachedMethods: CachedMethods.CACHE_GET_HEAD,
      compress: true,
    });
    this.distribution = new Distribution(this, "Distribution", {
      comment: "Palimpsest: the archive's public address, caching immutable mementos and feeds",
      defaultBehavior: {
        origin,
        cachePolicy: CachePolicy.CACHING_DISABLED,
        originRequestPolicy: OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER,
        functionAssociations,
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_ALL,
        compress: true,
      },
      additionalBehaviors: {
        [EDGE_CACHED_PATHS.memento]: cached(this.immutablePolicy),
        [EDGE_CACHED_PATHS.assets]: cached(this.immutablePolicy),
        [EDGE_CACHED_PATHS.feeds]: cached(this.feedPolicy),
      },
      // CloudFront otherwise keeps 4xx/5xx answers for 10 s whatever the cache policy: a 403 for a
      // wrong key, a throttle or a failure would then be served to the next reader.
      errorResponses: [400, 403, 404, 405, 414, 416, 500, 501, 502, 503, 504].map((httpStatus) => ({
        httpStatus,
        ttl: Duration.seconds(0),
      })),
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? PriceClass.PRICE_CLASS_100,
      ...(props.domain
        ? {
            domainNames: [props.domain.domainName],
            certificate: props.domain.certificate,
            minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021,
          }
        : {}),
    });
    const zone = props.domain?.zone;
    if (props.domain && zone) {
      const target = RecordTarget.fromAlias(new CloudFrontTarget(this.distribution));
      new ARecord(this, "Alias", { zone, recordName: props.domain.domainName, target });
      new AaaaRecord(this, "AliasIpv6", { zone, recordName: props.domain.domainName, target });
    }
    this.baseUrl = `https://${props.domain?.domainName ?? this.distribution.distributionDomainName}`;

    Validations.of(this.distribution).acknowledge(
      {
        id: "AwsSolutions-CFR1",
        reason: "An archive of public news pages is read worldwide; there is no country to keep out.",
      },
      {
        id: "AwsSolutions-CFR2",
        reason:
          "The API's stage keeps its regional WAF web ACL (ApiFirewall), which rate-limits each reader by the address this distribution names and refuses requests that did not come through it; a CloudFront-scope ACL must be created in us-east-1, outside these stacks (README: the edge cache).",
      },
      {
        id: "AwsSolutions-CFR3",
        reason:
          "API Gateway's access log records every request that reaches the API; what the edge serves from its cache is public and unkeyed.",
      },
      ...(props.domain
        ? []
        : [
            {
              id: "AwsSolutions-CFR4",
              reason:
                "Without a custom domain the distribution answers on *.cloudfront.net with CloudFront's default certificate, whose TLS policy cannot be chosen.",
            },
          ]),
    );
  }

  /** What the API's web ACL needs to count readers and to refuse requests that went round the distribution. */
  get firewallBinding(): EdgeFirewallBinding {
    return {
      viewerIpHeader: EDGE_HEADERS.viewerIp,
      originVerifyHeader: EDGE_HEADERS.originVerify,
      originVerifyValue: this.originVerifySecret.secretValue.unsafeUnwrap(),
    };
  }

  /** Sets PUBLIC_BASE_URL on the API function: every absolute link it writes starts with {@link baseUrl}. */
  bindPublicBaseUrl(api: PalimpsestFunction): void {
    api.addEnvironment(ENV.publicBaseUrl, this.baseUrl);
  }
}
