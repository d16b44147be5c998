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
  HttpVersion,
  OriginProtocolPolicy,
  OriginRequestPolicy,
  OriginSslPolicy,
  PriceClass,
  SecurityPolicyProtocol,
  ViewerProtocolPolicy,
} from "aws-cdk-lib/aws-cloudfront";
import { HttpOrigin } from "aws-cdk-lib/aws-cloudfront-origins";
import { AaaaRecord, ARecord, type IHostedZone, RecordTarget } from "aws-cdk-lib/aws-route53";
import { CloudFrontTarget } from "aws-cdk-lib/aws-route53-targets";
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
 * the same name, as its API already takes the API Gateway custom domain. ARCHITECTURE.md has
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
    const origin = new HttpOrigin(`${props.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}`, {
      originPath: `/${props.stageName}`,
      protocolPolicy: OriginProtocolPolicy.HTTPS_ONLY,
      originSslProtocols: [OriginSslPolicy.TLS_V1_2],
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
          "The API's stage keeps its regional WAF web ACL (ApiFirewall); a CloudFront-scope ACL must be created in us-east-1, outside these stacks (README: the edge cache).",
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

  /** Sets PUBLIC_BASE_URL on the API function: every absolute link it writes starts with {@link baseUrl}. */
  bindPublicBaseUrl(api: PalimpsestFunction): void {
    api.addEnvironment(ENV.publicBaseUrl, this.baseUrl);
  }
}
