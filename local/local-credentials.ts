/**
 * The embedded S3 server's access key: generated once and kept under DATA_DIR (mode 0600), like
 * the evidence signing key. The embedded servers use it whatever `AWS_*` variables the shell
 * holds, and because it persists, presigned links handed out before a restart keep working until
 * they expire.
 */
import { randomBytes } from "node:crypto";
import { open, readFile } from "node:fs/promises";
import type { AwsCredentialIdentity } from "@smithy/types";
import { ConfigError } from "../shared/errors.ts";

/** Reads the key at `path`, creating it first if there is none. */
export async function openLocalCredentials(path: string): Promise<AwsCredentialIdentity> {
  try {
    return parse(path, await readFile(path, "utf8"));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const credentials = {
    accessKeyId: `LOCAL${randomBytes(8).toString("hex").toUpperCase()}`,
    secretAccessKey: randomBytes(30).toString("base64url"),
  };
  try {
    // "wx": a second process racing to create it reads the winner's key instead.
    const file = await open(path, "wx", 0o600);
    try {
      await file.writeFile(JSON.stringify(credentials));
      await file.sync();
    } finally {
      await file.close();
    }
    return credentials;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return parse(path, await readFile(path, "utf8"));
    throw new ConfigError(`The local S3 key could not be written to ${path}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function parse(path: string, text: string): AwsCredentialIdentity {
  try {
    const value = JSON.parse(text) as Partial<AwsCredentialIdentity>;
    if (typeof value.accessKeyId === "string" && typeof value.secretAccessKey === "string")
      return { accessKeyId: value.accessKeyId, secretAccessKey: value.secretAccessKey };
  } catch {
    // Reported below.
  }
  throw new ConfigError(`${path} is not a local S3 key; delete it and start again to make a new one.`);
}
