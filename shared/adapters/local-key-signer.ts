/**
 * The local runner's evidence signer: an ECDSA P-256 key generated once and kept under DATA_DIR
 * as PKCS#8 PEM, readable by its owner only (mode 0600), like an SSH key.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject, sign } from "node:crypto";
import { open, readFile, stat } from "node:fs/promises";
import { ConfigError, SigningError } from "../errors.ts";
import type { EvidenceSigner } from "../ports.ts";

/** Opens the key at `path`, creating it first if there is none. */
export async function openLocalKeySigner(path: string): Promise<EvidenceSigner> {
  const key = await readOrCreateKey(path);
  if (key.asymmetricKeyType !== "ec" || key.asymmetricKeyDetails?.namedCurve !== "prime256v1") {
    throw new ConfigError(
      `${path} holds a ${key.asymmetricKeyType} key; evidence is signed with ECDSA P-256.`,
    );
  }
  const publicKey = new Uint8Array(createPublicKey(key).export({ format: "der", type: "spki" }));
  return {
    publicKey: async () => publicKey,
    sign: async (message) => {
      try {
        return new Uint8Array(sign("sha256", message, { key, dsaEncoding: "ieee-p1363" }));
      } catch (cause) {
        throw new SigningError("The local signing key could not sign.", { cause });
      }
    },
  };
}

async function readOrCreateKey(path: string): Promise<KeyObject> {
  try {
    return await readKey(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }
  const { privateKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
  const pem = privateKey.export({ format: "pem", type: "pkcs8" });
  try {
    // "wx": two processes starting at once must not each write a key; the loser reads the winner's.
    const file = await open(path, "wx", 0o600);
    try {
      await file.writeFile(pem);
      await file.sync();
    } finally {
      await file.close();
    }
    return privateKey;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") return readKey(path);
    throw new ConfigError(`The signing key could not be written to ${path}: ${(error as Error).message}`);
  }
}

async function readKey(path: string): Promise<KeyObject> {
  const info = await stat(path);
  // Permission bits mean nothing on Windows; elsewhere a key others can read is no proof of anything.
  if (process.platform !== "win32" && (info.mode & 0o077) !== 0) {
    throw new ConfigError(
      `The signing key ${path} can be read by others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600 on it.`,
    );
  }
  try {
    return createPrivateKey(await readFile(path));
  } catch (cause) {
    throw new ConfigError(`${path} is not a private key in PEM: ${(cause as Error).message}`);
  }
}
