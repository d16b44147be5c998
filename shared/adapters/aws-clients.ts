/**
 * AWS clients, created once per container and shared. Endpoints are overridden only for the
 * embedded S3/DynamoDB servers of the local runner, which also passes its own credentials and
 * region: those servers must never be signed for with whatever `AWS_*` variables or profile the
 * developer's shell holds (their real AWS keys). On AWS an identity is passed by the capture worker,
 * which holds its role's credentials in memory once it has taken them out of its environment
 * (scrub-environ.ts); the other functions pass none and the SDK's default chain reads the role's.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";
import type { StorageConfig } from "../config.ts";

/**
 * An explicit identity: the embedded servers' own locally; on AWS the role's credentials held in
 * memory (capture worker), or unset for the SDK's default chain.
 */
export interface LocalIdentity {
  /** A key pair, or (the capture worker's from a container credentials endpoint) a provider. */
  credentials: AwsCredentialIdentity | AwsCredentialIdentityProvider;
  region: string;
}

export function createS3Client(config: Pick<StorageConfig, "s3Endpoint">, local?: LocalIdentity): S3Client {
  return new S3Client(
    config.s3Endpoint
      ? {
          endpoint: config.s3Endpoint,
          forcePathStyle: true,
          maxAttempts: 5,
          // Embedded S3 servers do not speak the aws-chunked trailing-checksum encoding.
          requestChecksumCalculation: "WHEN_REQUIRED",
          responseChecksumValidation: "WHEN_REQUIRED",
          ...(local ?? {}),
        }
      : { maxAttempts: 5, ...(local ?? {}) },
  );
}

export function createDocumentClient(
  config: Pick<StorageConfig, "dynamodbEndpoint">,
  local?: LocalIdentity,
): DynamoDBDocumentClient {
  const client = new DynamoDBClient(
    config.dynamodbEndpoint
      ? { endpoint: config.dynamodbEndpoint, maxAttempts: 5, ...(local ?? {}) }
      : { maxAttempts: 5, ...(local ?? {}) },
  );
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
