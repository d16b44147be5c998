/** An S3-compatible server (s3rver) in this process, storing objects under a directory. */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import S3rver from "s3rver";

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
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    close: () => server.close(),
  };
}
