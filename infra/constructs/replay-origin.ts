import { Fn, Stack, Token, Validations } from "aws-cdk-lib";
import { PolicyStatement } from "aws-cdk-lib/aws-iam";
import {
  type CfnFunction,
  Code,
  type FunctionUrl,
  FunctionUrlAuthType,
  LayerVersion,
} from "aws-cdk-lib/aws-lambda";
import type { RetentionDays } from "aws-cdk-lib/aws-logs";
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from "aws-cdk-lib/custom-resources";
import { Construct } from "constructs";
import { ENV } from "../../shared/env-names.ts";
import type { ArchiveBucket } from "./archive-bucket.ts";
import { DEFAULTS, REPO_ROOT } from "./defaults.ts";
import { PalimpsestFunction } from "./palimpsest-function.ts";

/** The construct id of AwsCustomResource's singleton provider function in a stack. */
const PROVIDER_ID = `AWS${AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, "")}`;

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
 * (a rule in the bucket's own template would make the storage stack depend on this one). It is
 * the bucket's only CORS rule, and it is removed with this stack.
 */
export class ReplayOrigin extends Construct {
  /** The function that serves the replay site. */
  public readonly fn: PalimpsestFunction;
  public readonly functionUrl: FunctionUrl;
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

    const cors = {
      Bucket: props.bucket.bucket.bucketName,
      CORSConfiguration: {
        CORSRules: [
          {
            ID: "replay-origin",
            AllowedOrigins: [this.origin],
            AllowedMethods: ["GET", "HEAD"],
            AllowedHeaders: ["range"],
            ExposeHeaders: [
              "Content-Range",
              "Content-Length",
              "Accept-Ranges",
              "ETag",
              "Content-Disposition",
            ],
            MaxAgeSeconds: 3000,
          },
        ],
      },
    };
    new AwsCustomResource(this, "BucketCors", {
      onCreate: {
        service: "S3",
        action: "putBucketCors",
        parameters: cors,
        physicalResourceId: PhysicalResourceId.of(`${id}-bucket-cors`),
      },
      onUpdate: {
        service: "S3",
        action: "putBucketCors",
        parameters: cors,
        physicalResourceId: PhysicalResourceId.of(`${id}-bucket-cors`),
      },
      onDelete: {
        service: "S3",
        action: "deleteBucketCors",
        parameters: { Bucket: props.bucket.bucket.bucketName },
      },
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({
          actions: ["s3:PutBucketCORS"],
          resources: [props.bucket.bucket.bucketArn],
        }),
      ]),
      installLatestAwsSdk: false,
      logRetention: props.logRetention,
    });
    // The provider is one function per stack, a child of the stack rather than of this construct.
    const provider = Stack.of(this).node.tryFindChild(PROVIDER_ID);
    if (!provider)
      throw new Error(`ReplayOrigin: AwsCustomResource's provider ${PROVIDER_ID} was not found.`);
    // Like every function here, on arm64 (cheaper per millisecond); the provider is plain Node.js.
    (provider.node.defaultChild as CfnFunction).addPropertyOverride("Architectures", ["arm64"]);
    Validations.of(provider).acknowledge({
      id: "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]",
      reason:
        "CDK's AwsCustomResource provider logs with the basic execution role; it runs only while deploying, to put the bucket's CORS rule.",
    });
  }

  /** Sets PUBLIC_REPLAY_URL on the API function, whose version pages frame this origin. */
  bindReplayUrl(api: PalimpsestFunction): void {
    api.addEnvironment(ENV.publicReplayUrl, this.origin);
  }
}
