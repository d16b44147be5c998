import { CustomResource, Duration, Fn, RemovalPolicy, Stack, Token, Validations } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import {
  type CfnFunction,
  Code,
  type FunctionUrl,
  FunctionUrlAuthType,
  Function as LambdaFunction,
  LayerVersion,
} from "aws-cdk-lib/aws-lambda";
import { LogGroup, type RetentionDays } from "aws-cdk-lib/aws-logs";
import { Provider } from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import { acknowledgeWildcardResources } from "./acknowledge-wildcards.ts";
import type { ArchiveBucket } from "./archive-bucket.ts";
import { DEFAULTS, REPO_ROOT } from "./defaults.ts";
import { PalimpsestFunction } from "./palimpsest-function.ts";

/** The ID of the replay origin's rule among the archive bucket's CORS rules. */
export const BUCKET_CORS_RULE_ID = "palimpsest-replay-origin";

/** Props of {@link ReplayOrigin}. */
export interface ReplayOriginProps {
  /** The bucket the WACZ packages are read from, through presigned links: it gets the CORS rule. */
  readonly bucket: ArchiveBucket;
  /**
   * The web UI's origin (`https://archive.example.org`, or the API's own
   * `https://<id>.execute-api.<region>.amazonaws.com`): the one page allowed to frame the replay.
   * The service stack passes the public domain's origin when there is one, else its API's own
   * host; it is never a wildcard, which would let any page on that host pattern (any AWS
   * customer's API in the region) frame it.
   */
  readonly uiOrigin: string;
  /**
   * Concurrent executions reserved for (and capping) the replay function. Its URL is public, so a
   * flood would otherwise take the account's unreserved concurrency the capture worker and the API
   * run on; a replay costs a few milliseconds per file and browsers cache the scripts, so a
   * handful serves many readers. `false` leaves it unreserved, for an account whose concurrency
   * limit is still the 10 new accounts get (Lambda keeps 10 unreserved, so nothing can be reserved).
   * @default 5
   */
  readonly reservedConcurrency?: number | false;
  /** @default true — see {@link PalimpsestFunctionProps.bundling} */
  readonly bundling?: boolean;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * The replay origin: where readers' browsers run ReplayWeb.page (its `ui.js` and `sw.js`,
 * self-hosted from the `replaywebpage` package) to replay a version's WACZ, scripts included.
 * It must be another origin than the API's, whose cookies and API archived scripts must never
 * reach (shared/http/replay-site.ts says what it serves and its policy).
 *
 * Why a Lambda function URL: it is the cheapest separate origin, with nothing to pay while no one
 * replays (a request costs a 128 MB invocation of a few milliseconds; browsers cache the two
 * scripts for an hour), an HTTPS host of its own (`*.lambda-url.<region>.on.aws`), and nothing
 * else to run. A CloudFront distribution over an S3 site would add a distribution, a second bucket
 * and a deployment custom resource (a Lambda of its own) for three files; it is the upgrade for a
 * custom replay domain or heavy traffic, serving the same files with the same policy.
 *
 * CORS: the replay page fetches the WACZ from its presigned S3 link, so the archive bucket gets a
 * CORS rule allowing GET and HEAD with `Range` from this origin only. The rule is put by a custom
 * resource here, because the bucket lives in the storage stack and this origin is created after it
 * (a rule in the bucket's own template would make the storage stack depend on this one). S3 has
 * no call for one rule (PutBucketCors replaces the whole configuration, DeleteBucketCors wipes it),
 * so the resource's function reads the rules, replaces or removes only the one with its ID
 * ({@link BUCKET_CORS_RULE_ID}) and writes the rest back: rules an operator put on the bucket stay.
 * S3 CORS has no prefix filter: the rule lets this origin read any object whose presigned link it
 * holds, which is what the link alone already grants to a non-browser client.
 */
export class ReplayOrigin extends Construct {
  /** The function that serves the replay site. */
  public readonly fn: PalimpsestFunction;
  public readonly functionUrl: FunctionUrl;
  /** The custom resource's function that puts and removes the bucket's CORS rule (deploys only). */
  public readonly bucketCorsFunction: PalimpsestFunction;
  /** `https://<id>.lambda-url.<region>.on.aws`, no trailing slash: what PUBLIC_REPLAY_URL is set to. */
  public readonly origin: string;

  constructor(scope: Construct, id: string, props: ReplayOriginProps) {
    super(scope, id);
    const region = Stack.of(this).region;
    // The presigner's host for the bucket (shared/adapters/s3-blob-reader.ts): virtual-hosted style.
    const storageOrigin = `https://${props.bucket.bucket.bucketName}.s3.${region}.amazonaws.com`;
    if (!Token.isUnresolved(props.uiOrigin) && !/^https?:\/\/[a-z0-9.-]+(:\d{1,5})?$/.test(props.uiOrigin)) {
      throw new Error(
        `ReplayOrigin: uiOrigin must be one exact origin like https://archive.example.org, not "${props.uiOrigin}".`,
      );
    }
    const reserved = props.reservedConcurrency ?? DEFAULTS.replayReservedConcurrency;
    if (reserved !== false && !(Number.isInteger(reserved) && reserved > 0)) {
      throw new Error(
        `ReplayOrigin: reservedConcurrency must be a positive integer or false, got ${reserved}.`,
      );
    }
    this.fn = new PalimpsestFunction(this, "Function", {
      entry: "functions/replay/handler.ts",
      description: "Palimpsest replay origin: ReplayWeb.page for evidence packages",
      bundling: props.bundling,
      memorySize: 256,
      logRetention: props.logRetention,
      ...(reserved === false ? {} : { reservedConcurrentExecutions: reserved }),
      environment: {
        [ENV.replayStorageOrigin]: storageOrigin,
        [ENV.replayFrameAncestors]: props.uiOrigin,
      },
    });
    // ReplayWeb.page's two scripts (2 MB), unpacked under /opt; the function's bundle stays small.
    this.fn.addLayers(
      new LayerVersion(this, "ReplayWebPage", {
        description: "ReplayWeb.page ui.js and sw.js, from the replaywebpage npm package",
        code: Code.fromAsset(`${REPO_ROOT}node_modules/replaywebpage`, {
          exclude: ["*", "!ui.js", "!sw.js"],
        }),
      }),
    );
    // Public by design: the site is three static files, and what it replays needs a presigned link.
    this.functionUrl = this.fn.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
    this.origin = `https://${Fn.select(2, Fn.split("/", this.functionUrl.url))}`;

    // Our rule only, by its ID: the custom resource merges it into the bucket's CORS
    // configuration and removes only it (S3's own calls would replace or wipe the others).
    const rule = {
      ID: BUCKET_CORS_RULE_ID,
      AllowedOrigins: [this.origin],
      AllowedMethods: ["GET", "HEAD"],
      AllowedHeaders: ["range"],
      ExposeHeaders: ["Content-Range", "Content-Length", "Accept-Ranges", "ETag", "Content-Disposition"],
      MaxAgeSeconds: 3000,
    };
    this.bucketCorsFunction = new PalimpsestFunction(this, "BucketCorsFunction", {
      entry: "functions/replay-bucket-cors/handler.ts",
      description: "Palimpsest replay origin: puts and removes its CORS rule on the archive bucket",
      bundling: props.bundling,
      memorySize: 256,
      timeout: Duration.minutes(1),
      logRetention: props.logRetention,
    });
    // s3:PutBucketCORS also covers DeleteBucketCors; nothing else of the bucket.
    this.bucketCorsFunction.addToRolePolicy(
      new PolicyStatement({
        actions: ["s3:GetBucketCORS", "s3:PutBucketCORS"],
        resources: [props.bucket.bucket.bucketArn],
      }),
    );
    const provider = new Provider(this, "BucketCorsProvider", {
      onEventHandler: this.bucketCorsFunction,
      logGroup: new LogGroup(this, "BucketCorsProviderLogs", {
        retention: props.logRetention ?? DEFAULTS.logRetention,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
    });
    new CustomResource(this, "BucketCors", {
      serviceToken: provider.serviceToken,
      resourceType: "Custom::ReplayBucketCors",
      properties: {
        BucketName: props.bucket.bucket.bucketName,
        // JSON: CloudFormation passes every property value as a string, MaxAgeSeconds included.
        Rule: Stack.of(this).toJsonString(rule),
      },
    });
    // Like every function here, on arm64 (cheaper per millisecond); the framework is plain Node.js.
    const framework = provider.node.tryFindChild("framework-onEvent");
    if (!(framework instanceof LambdaFunction))
      throw new Error("ReplayOrigin: the provider framework's onEvent function was not found.");
    (framework.node.defaultChild as CfnFunction).addPropertyOverride("Architectures", ["arm64"]);
    Validations.of(framework).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason:
        "CDK's custom-resource provider framework logs with the basic execution role; it runs only while deploying, to invoke the CORS function.",
    });
    acknowledgeWildcardResources(
      provider,
      /BucketCorsFunction[0-9A-F]*\.Arn>:\*$/,
      "The provider framework may invoke the CORS function's versions (`<arn>:*`), that function alone.",
    );
  }

  /** Sets PUBLIC_REPLAY_URL on the API function, whose version pages frame this origin. */
  bindReplayUrl(api: PalimpsestFunction): void {
    api.addEnvironment(ENV.publicReplayUrl, this.origin);
  }
}
