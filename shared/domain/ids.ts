/** Opaque identifiers. Capture ids sort by request time (ULID layout) so lists come out in order. */
import { createHash, randomBytes } from "node:crypto";

const CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz";

function encodeBase32(bytes: Uint8Array): string {
  let bits = 0;
  let value = 0;
  let out = "";
  for (const byte of bytes) {
    value = (value << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += CROCKFORD[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += CROCKFORD[(value << (5 - bits)) & 31];
  return out;
}

/** 48-bit millisecond time then 80 random bits: 26 characters that sort by creation time. */
export function newUlid(now: Date = new Date()): string {
  const time = now.getTime();
  let timePart = "";
  let t = time;
  for (let i = 0; i < 10; i++) {
    timePart = CROCKFORD[t % 32] + timePart;
    t = Math.floor(t / 32);
  }
  return timePart + encodeBase32(randomBytes(10)).slice(0, 16);
}

export function newCaptureId(now?: Date): string {
  return `cap_${newUlid(now)}`;
}

/** A capture makes at most one version, so its version id derives from the capture id: retries of the same capture can never make two. */
export function versionIdForCapture(captureId: string): string {
  return `ver_${captureId.replace(/^cap_/, "")}`;
}

/** The URL's id is a digest of its normalised form: the same page always maps to the same record. */
export function urlIdFor(normalisedUrl: string): string {
  return `url_${encodeBase32(createHash("sha256").update(normalisedUrl).digest().subarray(0, 15))}`;
}

export function sha256Hex(data: Uint8Array | string): string {
  return createHash("sha256").update(data).digest("hex");
}
