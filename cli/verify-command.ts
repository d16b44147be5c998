import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { verifyWacz, type WaczVerification } from "../shared/domain/evidence/verify-wacz.ts";
import { apiClientFromEnv, parseOptions, withApi } from "./api-client.ts";
import { type Command, type CommandIo, UsageError } from "./commands.ts";

/** `palimpsest verify <file.wacz>`: checks an evidence package without trusting anything in it. */
export const verifyCommand: Command = {
  name: "verify",
  summary: "check an evidence package (WACZ): every hash, the signature and every WARC record",
  usage: [
    "usage: palimpsest verify <file.wacz> [--key <public key>] [--api] [--json]",
    "",
    "Checks the zip byte by byte, every file against the sha256 in datapackage.json,",
    "datapackage.json against datapackage-digest.json, the ECDSA signature in it, and the",
    "digests of every WARC record. Exit status 0 when all hold, 1 when any does not (each",
    "reason is printed with the file or WARC record it concerns), 2 on a usage error.",
    "",
    "The signature is checked against the public key the package carries. To know who signed,",
    "compare that key with one you trust:",
    "  --key <key>  a PEM or DER public key file, or the base64 key of GET /v1/signing-key",
    "  --api        the key the archive at PALIMPSEST_API publishes (GET /v1/signing-key)",
    "  --json       print the result as one JSON object",
  ].join("\n"),
  async run(args, io) {
    const { options, positional } = parseOptions(args, { key: "value", api: "flag", json: "flag" });
    const [file, ...extra] = positional;
    if (file === undefined || extra.length > 0) {
      throw new UsageError("verify needs exactly one .wacz file (see palimpsest verify --help)");
    }
    if (options.key !== undefined && options.api !== undefined)
      throw new UsageError("give --key or --api, not both");
    let bytes: Uint8Array;
    try {
      bytes = await readFile(file);
    } catch (cause) {
      throw new UsageError(`cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`, {
        cause,
      });
    }
    if (options.api !== undefined) {
      return withApi("verify", io, async () => {
        const answer = await apiClientFromEnv().get<{ publicKey?: unknown }>("/v1/signing-key");
        if (typeof answer.publicKey !== "string")
          throw new UsageError("the API's /v1/signing-key has no publicKey");
        return report(
          file,
          await verifyWacz(bytes, { expectedPublicKey: parseKey(answer.publicKey) }),
          "the archive's",
          options,
          io,
        );
      });
    }
    const expected = typeof options.key === "string" ? await readKey(options.key) : undefined;
    const result = await verifyWacz(bytes, expected ? { expectedPublicKey: expected } : {});
    return report(file, result, expected ? "the given" : undefined, options, io);
  },
};

function report(
  file: string,
  result: WaczVerification,
  trustedKey: string | undefined,
  options: Record<string, string | true>,
  io: CommandIo,
): number {
  if (options.json !== undefined) {
    const { publicKey, ...rest } = result;
    io.out(
      JSON.stringify({
        file,
        ...rest,
        ...(publicKey ? { publicKey: Buffer.from(publicKey).toString("base64") } : {}),
      }),
    );
    return result.valid ? 0 : 1;
  }
  if (!result.valid) {
    io.out(`invalid: ${file}`);
    for (const problem of result.problems) io.out(`  ${problem.where}: ${problem.message}`);
    return 1;
  }
  const signer = trustedKey
    ? `${result.keyFingerprint} (${trustedKey} key)`
    : `${result.keyFingerprint} (the key in the package: compare it with the archive's GET /v1/signing-key, or use --key/--api)`;
  io.out(`valid: ${file}`);
  io.out(`  page       ${result.mainPageUrl ?? "(none named)"}`);
  io.out(`  created    ${result.created ?? "(not said)"} by ${result.software ?? "(not said)"}`);
  io.out(`  signed by  ${signer}`);
  io.out(`  checked    ${result.files} files, ${result.records} WARC records`);
  return 0;
}

/** A key file (PEM or DER) or the base64 DER that `GET /v1/signing-key` answers. */
async function readKey(given: string): Promise<Uint8Array> {
  let content: Buffer;
  try {
    content = await readFile(given);
  } catch {
    return parseKey(given);
  }
  return parseKey(content);
}

function parseKey(given: string | Buffer): Uint8Array {
  try {
    const text = given.toString();
    const key = text.includes("-----BEGIN")
      ? createPublicKey(text)
      : createPublicKey({
          key:
            typeof given === "string" || /^[A-Za-z0-9+/=\s]+$/.test(text)
              ? Buffer.from(text, "base64")
              : given,
          format: "der",
          type: "spki",
        });
    return new Uint8Array(key.export({ format: "der", type: "spki" }));
  } catch (cause) {
    throw new UsageError("--key is not a public key (PEM, DER, or base64 DER) nor a file holding one", {
      cause,
    });
  }
}
