/**
 * The replay origin's bucket CORS rule as a CloudFormation custom resource (the `onEvent` of CDK's
 * provider framework, infra/constructs/replay-origin.ts): it puts the rule on create and update
 * and removes it on delete, by its ID, leaving every other CORS rule of the archive bucket alone
 * (shared/adapters/s3-bucket-cors.ts).
 */
import type { S3Client } from "@aws-sdk/client-s3";
import type { CloudFormationCustomResourceEvent } from "aws-lambda";
import { createS3Client } from "../../shared/adapters/aws-clients.ts";
import {
  type IdentifiedCorsRule,
  putCorsRule,
  removeCorsRule,
} from "../../shared/adapters/s3-bucket-cors.ts";
import { PalimpsestError } from "../../shared/errors.ts";

/** The custom resource's properties, as CloudFormation passes them (every value a string). */
export interface BucketCorsProperties {
  readonly BucketName: string;
  /** The rule as JSON: CloudFormation would turn its numbers into strings, which S3 refuses. */
  readonly Rule: string;
}

/** What the provider framework expects back: the physical id, stable while the rule's ID is. */
export interface BucketCorsResult {
  PhysicalResourceId: string;
}

export type BucketCorsHandler = (event: CloudFormationCustomResourceEvent) => Promise<BucketCorsResult>;

/** The resource's properties are not what the construct sets: a deployment bug, never retried. */
export class BucketCorsPropertiesError extends PalimpsestError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("bucket_cors_properties", message, options);
  }
}

function parseProperties(raw: Record<string, unknown>): { bucket: string; rule: IdentifiedCorsRule } {
  const bucket = raw.BucketName;
  let rule: unknown;
  try {
    rule = JSON.parse(String(raw.Rule));
  } catch (err) {
    throw new BucketCorsPropertiesError("Rule is not JSON.", { cause: err });
  }
  if (typeof bucket !== "string" || bucket === "")
    throw new BucketCorsPropertiesError("BucketName is missing.");
  if (typeof rule !== "object" || rule === null || typeof (rule as { ID?: unknown }).ID !== "string")
    throw new BucketCorsPropertiesError("Rule must be a CORS rule with an ID.");
  return { bucket, rule: rule as IdentifiedCorsRule };
}

/** The handler over a given S3 client (tests pass one pointed at moto_server). */
export function composeReplayBucketCors(deps: { s3: S3Client }): BucketCorsHandler {
  return async (event) => {
    const { bucket, rule } = parseProperties(event.ResourceProperties);
    const physicalId = `${bucket}/cors/${rule.ID}`;
    if (event.RequestType === "Delete") {
      await removeCorsRule(deps.s3, bucket, rule.ID);
      return { PhysicalResourceId: event.PhysicalResourceId };
    }
    await putCorsRule(deps.s3, bucket, rule);
    // An update to another bucket or rule ID returns a new physical id, so CloudFormation then
    // sends a Delete with the old properties, which removes the old rule.
    return { PhysicalResourceId: physicalId };
  };
}

/** The handler as the Lambda runs it: one S3 client per container. */
export function replayBucketCorsFromEnvironment(): BucketCorsHandler {
  return composeReplayBucketCors({ s3: createS3Client({ s3Endpoint: undefined }) });
}
