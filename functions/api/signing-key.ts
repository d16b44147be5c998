/**
 * `GET /v1/signing-key`: the public key that signs evidence packages, for anyone who checks a
 * WACZ without trusting the package's own copy of the key (`palimpsest verify --key`).
 */
import { NotFoundError } from "../../shared/errors.ts";
import { json } from "../../shared/http/api-gateway.ts";
import type { Route } from "./route-types.ts";

/** How the key signs: ECDSA on P-256 over SHA-256, as the WACZ signing spec's anonymous signature. */
export const SIGNING_ALGORITHM = "ECDSA_P256_SHA256";

export const SIGNING_KEY_ROUTES: Route[] = [
  {
    method: "GET",
    pattern: /^\/v1\/signing-key\/?$/,
    // A public key is public: third parties fetch it to check evidence, with no account.
    public: true,
    handle: async (deps) => {
      if (!deps.signer) throw new NotFoundError("signing_key_unavailable", "This archive signs no evidence.");
      const publicKey = Buffer.from(await deps.signer.publicKey()).toString("base64");
      return json(
        200,
        { publicKey, algorithm: SIGNING_ALGORITHM },
        { "cache-control": "public, max-age=3600" },
      );
    },
  },
];
