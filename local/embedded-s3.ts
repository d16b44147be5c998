/** An S3-compatible server (s3rver) in this process, storing objects under a directory. */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import S3rver, { type S3rverContext } from "s3rver";

export interface EmbeddedS3 {
  endpoint: string;
  close(): Promise<void>;
}

export async function startEmbeddedS3(options: {
  directory: string;
  bucketName: string;
  port?: number;
}): Promise<EmbeddedS3> {
  await mkdir(options.directory, { recursive: true });
  const server = new S3rver({
    address: "127.0.0.1",
    port: options.port ?? 0,
    directory: options.directory,
    silent: true,
    // Path-style only: the SDK is configured with forcePathStyle for this endpoint.
    vhostBuckets: false,
    configureBuckets: [{ name: options.bucketName }],
  });
  server.middleware.unshift(refuseOverwrites);
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => server.close(),
  };
}

/**
 * S3 refuses a PUT with `If-None-Match: *` when the key exists (412), which the blob store relies
 * on to store each blob once; s3rver 3.7.1 ignores the header and overwrites. Path-style only.
 */
async function refuseOverwrites(ctx: S3rverContext, next: () => Promise<void>): Promise<void> {
  const [, bucket, ...key] = ctx.path.split("/");
  if (
    ctx.method === "PUT" &&
    ctx.get("if-none-match") === "*" &&
    bucket &&
    key.length > 0 &&
    (await ctx.store.existsObject(decodeURIComponent(bucket), key.map(decodeURIComponent).join("/")))
  ) {
    ctx.status = 412;
    ctx.type = "application/xml";
    ctx.body =
      '<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>PreconditionFailed</Code><Message>At least one of the pre-conditions you specified did not hold</Message><Condition>If-None-Match</Condition></Error>';
    return;
  }
  await next();
}
