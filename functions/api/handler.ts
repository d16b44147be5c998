/** API Lambda: API Gateway REST events in, JSON out. Wires AWS adapters once per container. */
import { lookup } from "node:dns/promises";
import { SQSClient } from "@aws-sdk/client-sqs";
import middy from "@middy/core";
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from "aws-lambda";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoArchiveRepository } from "../../shared/adapters/dynamo-archive-repository.ts";
import { createDynamoHostSlots } from "../../shared/adapters/dynamo-host-slots.ts";
import { createKmsPublicKeyReader } from "../../shared/adapters/kms-public-key.ts";
import { createS3BlobReader } from "../../shared/adapters/s3-blob-reader.ts";
import { createSqsCaptureQueue } from "../../shared/adapters/sqs-capture-queue.ts";
import {
  loadApiConfig,
  loadHostShapingConfig,
  loadSigningConfig,
  loadStorageConfig,
  requireString,
} from "../../shared/config.ts";
import { hostLimitsFrom } from "../../shared/domain/host-shaping.ts";
import { parseCadence } from "../../shared/domain/schedule.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import { ENV } from "../../shared/env-names.ts";
import { corsHeaders, httpErrorMapper } from "../../shared/http/api-gateway.ts";
import { logger } from "../../shared/logger.ts";
import type { ResolveHost } from "../../shared/ports.ts";
import type { ApiDeps } from "./route-types.ts";
import { routeRequest } from "./routes.ts";

export const resolveHost: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((entry) => entry.address);

/** The handler for any set of adapters: the Lambda below and the local runner both use it. */
export function createApiHandler(deps: ApiDeps) {
  const handler = middy<APIGatewayProxyEvent, APIGatewayProxyResult>();
  // Before the error mapper, so that error responses get CORS headers too.
  if (deps.corsAllowOrigins) handler.use(corsHeaders(deps.corsAllowOrigins));
  return handler
    .use(httpErrorMapper(logger.child({ fn: "api" })))
    .handler((event) => routeRequest(deps, event));
}

let wired: ReturnType<typeof createApiHandler> | undefined;

function wireFromEnvironment() {
  const storage = loadStorageConfig();
  const api = loadApiConfig();
  const { kmsKeyArn } = loadSigningConfig();
  const documents = createDocumentClient(storage);
  return createApiHandler({
    repository: createDynamoArchiveRepository({ client: documents, tableName: storage.tableName }),
    shaper: {
      slots: createDynamoHostSlots({ client: documents, tableName: storage.tableName }),
      limits: hostLimitsFrom(loadHostShapingConfig()),
    },
    // Reads only: signed requests without the S3 client, a fifth of this bundle (s3-blob-reader.ts).
    blobs: createS3BlobReader({
      bucketName: storage.bucketName,
      region: requireString(process.env, "AWS_REGION"),
      endpoint: storage.s3Endpoint,
    }),
    queue: createSqsCaptureQueue({
      client: new SQSClient({}),
      queueUrl: requireString(process.env, ENV.queueUrl),
    }),
    resolveHost,
    allowedPrivateHosts: parseAllowedPrivateHosts(api.allowPrivateHosts),
    presignedUrlTtlSeconds: api.presignedUrlTtlSeconds,
    maxQueueDepth: api.maxQueueDepth,
    apiKey: api.apiKey,
    corsAllowOrigins: api.corsAllowOrigins,
    cadence: parseCadence(process.env[ENV.recaptureCadence]),
    ...(kmsKeyArn
      ? {
          signer: createKmsPublicKeyReader({
            keyId: kmsKeyArn,
            region: requireString(process.env, "AWS_REGION"),
          }),
        }
      : {}),
    sourceForms: api.sourceForms,
    publicBaseUrl: api.publicBaseUrl,
  });
}

export const handler = (event: APIGatewayProxyEvent, context: import("aws-lambda").Context) => {
  wired ??= wireFromEnvironment();
  return wired(event, context);
};
