/**
 * Takes the capture worker's secrets out of its environment before Chromium starts, so that a page
 * which took a renderer over cannot read them from the worker's `/proc/<pid>/environ`.
 *
 * Why: on Lambda the renderer runs without Chromium's sandbox, as the same user as the Node process
 * that launched the browser (Playwright spawns it from the runtime process, which runs the handler).
 * The browser itself gets an allowlisted environment (chromium/browser-launch.ts), but
 * `/proc/<ppid>/environ` of its parent still shows the block the kernel copied at `execve`, with
 * `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN` in it: deleting from
 * `process.env` only unlinks libc's pointer to the string and leaves the bytes where that file
 * reads them (between `env_start` and `env_end`, fields 50–51 of `/proc/self/stat`).
 *
 * What it does, once, at cold start: reads the credentials into memory (the SDK clients are then
 * given them explicitly; where they come from a container credentials endpoint, the endpoint and
 * its token are what is held, in a provider the clients are given), deletes the secret variables from `process.env`, and overwrites their
 * values in the original block with NUL bytes through `/proc/self/mem` (a process may write its
 * own memory; lengths are kept, so the block's layout and every other variable are unchanged).
 *
 * What it protects against: reading `/proc/<pid>/environ` needs only PTRACE_MODE_READ, which Yama
 * does not restrict, so any same-uid process could read it; after the scrub it shows the names
 * with empty values. What it does not: the credentials still live in the heap of the Node process.
 * `/proc/<pid>/mem` and ptrace need PTRACE_MODE_ATTACH: with Yama `ptrace_scope` ≥ 1 a child
 * cannot attach to its parent, but with `ptrace_scope` 0 (or without Yama) a same-uid process can
 * read that heap, and this module cannot change that. Nor does it cover other processes that were
 * started with the same environment (Lambda extensions would be; Palimpsest ships none) or
 * capabilities that are not variables (the runtime API on loopback).
 *
 * Which processes hold the credentials on Lambda: Lambda's init (`/var/rapid/init`) starts the
 * runtime's `bootstrap` with the function's environment, and the Node.js runtimes' published
 * bootstrap scripts end in `exec node …`, so the Node process that runs the handler keeps the
 * bootstrap's pid and environment block: it is the one process whose environ this scrubs, and
 * Chromium's parent (Playwright spawns the browser from it; the browser's helpers are children of
 * the browser). The init process gets the credentials over its own control API rather than at its
 * start, so its environ should not hold them, but that is not published and was not checked here;
 * extensions would get the same environment as the runtime (Palimpsest ships none).
 *
 * Linux only; elsewhere, or when `/proc` is missing or refuses the write, the caller is told and
 * goes on (the variables are still deleted from `process.env`).
 */
import { closeSync, openSync, readFileSync, readSync, writeSync } from "node:fs";
import { fromHttp } from "@aws-sdk/credential-provider-http";
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from "@smithy/types";

/**
 * The variables whose values leave the environment: the role's credentials, the container
 * credentials endpoint and its token (where the role's credentials come over HTTP instead, as in
 * SnapStart-like set-ups: the token is as good as the keys while it lasts, and the endpoint says
 * where to use it), and the webhook's key.
 */
export const SECRET_VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "WEBHOOK_SECRET",
] as const;

/** The role's credentials as held in memory: a key pair, or a provider that fetches them. */
export type RoleCredentials = AwsCredentialIdentity | AwsCredentialIdentityProvider;

/**
 * Credentials fetched this close to their expiration are fetched again (the SDK clients refresh
 * at five minutes too).
 */
const REFRESH_BEFORE_EXPIRATION_MS = 5 * 60_000;

/** `env_start` and `env_end` in `/proc/<pid>/stat`, counted from 1 (Linux ≥ 3.5). */
const ENV_START_FIELD = 50;
const ENV_END_FIELD = 51;
/** `/proc/<pid>/stat` fields after the command name, which is in parentheses and may hold spaces. */
const FIELDS_BEFORE_STATE = 2;

/** What became of the original environment block. */
export type ScrubOutcome =
  | { status: "scrubbed"; variables: string[] }
  | { status: "skipped"; reason: string };

/**
 * The role's credentials from the environment: the key pair as the SDK's `fromEnv` reads it or,
 * without one, a provider for the container credentials endpoint (`fromHttp`, as the SDK's default
 * chain would build it) given the endpoint and its token explicitly, since both leave the
 * environment; undefined when there are neither (the clients then keep their default chain). The
 * provider is memoised: the blob reader's signer asks for credentials on every request.
 */
export function readEnvironmentCredentials(
  env: Record<string, string | undefined>,
): RoleCredentials | undefined {
  const accessKeyId = env.AWS_ACCESS_KEY_ID;
  const secretAccessKey = env.AWS_SECRET_ACCESS_KEY;
  if (accessKeyId && secretAccessKey) {
    const expiration = env.AWS_CREDENTIAL_EXPIRATION;
    return {
      accessKeyId,
      secretAccessKey,
      ...(env.AWS_SESSION_TOKEN ? { sessionToken: env.AWS_SESSION_TOKEN } : {}),
      ...(expiration ? { expiration: new Date(expiration) } : {}),
    };
  }
  const fullUri = env.AWS_CONTAINER_CREDENTIALS_FULL_URI;
  if (!fullUri) return undefined;
  const token = env.AWS_CONTAINER_AUTHORIZATION_TOKEN;
  return memoized(
    fromHttp({
      awsContainerCredentialsFullUri: fullUri,
      ...(token ? { awsContainerAuthorizationToken: token } : {}),
    }),
  );
}

/**
 * `provider`, asked again only when what it gave is near its expiration (or it failed). The SDK's
 * own memoiser (`@smithy/core`) is only a transitive dependency; this is the part of it needed.
 */
function memoized(provider: AwsCredentialIdentityProvider): AwsCredentialIdentityProvider {
  let held: Promise<AwsCredentialIdentity> | undefined;
  let identity: AwsCredentialIdentity | undefined;
  return async () => {
    const expiring =
      identity?.expiration !== undefined &&
      identity.expiration.getTime() - Date.now() < REFRESH_BEFORE_EXPIRATION_MS;
    if (!held || expiring) {
      const fetching = provider().then((fetched) => {
        identity = fetched;
        return fetched;
      });
      held = fetching;
      fetching.catch(() => {
        if (held === fetching) held = undefined;
      });
    }
    return held;
  };
}

/** Byte ranges of the values of `names` in an environment block (`NAME=value\0…`). */
export function secretValueRanges(
  block: Uint8Array,
  names: readonly string[],
): Array<{ name: string; start: number; end: number }> {
  const prefixes = names.map((name) => ({ name, bytes: Buffer.from(`${name}=`) }));
  const ranges: Array<{ name: string; start: number; end: number }> = [];
  for (let entry = 0; entry < block.length; ) {
    let end = block.indexOf(0, entry);
    if (end === -1) end = block.length;
    for (const { name, bytes } of prefixes) {
      if (
        end - entry >= bytes.length &&
        Buffer.from(block.buffer, block.byteOffset + entry, bytes.length).equals(bytes)
      ) {
        ranges.push({ name, start: entry + bytes.length, end });
      }
    }
    entry = end + 1;
  }
  return ranges;
}

/**
 * Overwrites the values of `names` in this process's original environment block with NUL bytes.
 * `procSelf` is for tests only.
 */
export function scrubEnvironBlock(names: readonly string[], procSelf = "/proc/self"): ScrubOutcome {
  if (process.platform !== "linux") return { status: "skipped", reason: `not Linux (${process.platform})` };
  let fd: number | undefined;
  try {
    const stat = readFileSync(`${procSelf}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // Numbers, not bigints: fs.writeSync ignores a bigint position and writes at the file's offset.
    const start = Number(fields[ENV_START_FIELD - 1 - FIELDS_BEFORE_STATE]);
    const end = Number(fields[ENV_END_FIELD - 1 - FIELDS_BEFORE_STATE]);
    if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start === 0 || end <= start) {
      return { status: "skipped", reason: "no usable env_start/env_end in stat" };
    }
    const block = Buffer.alloc(end - start);
    fd = openSync(`${procSelf}/mem`, "r+");
    if (readSync(fd, block, 0, block.length, start) !== block.length)
      throw new Error("short read of environ");
    const ranges = secretValueRanges(block, names);
    for (const range of ranges) {
      const blank = Buffer.alloc(range.end - range.start);
      if (writeSync(fd, blank, 0, blank.length, start + range.start) !== blank.length) {
        throw new Error(`short write over ${range.name}`);
      }
    }
    return { status: "scrubbed", variables: ranges.map((range) => range.name) };
  } catch (err) {
    return { status: "skipped", reason: err instanceof Error ? err.message : String(err) };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/**
 * Moves the secrets out of the environment: returns the credentials (to give the SDK clients),
 * deletes every one of {@link SECRET_VARIABLES} from `env` and scrubs the original block. Call it
 * after the config is parsed and before any client or browser starts.
 */
export function takeSecretsFromEnvironment(
  env: Record<string, string | undefined> = process.env,
  procSelf?: string,
): { credentials: RoleCredentials | undefined; outcome: ScrubOutcome } {
  const credentials = readEnvironmentCredentials(env);
  for (const name of SECRET_VARIABLES) delete env[name];
  return { credentials, outcome: scrubEnvironBlock(SECRET_VARIABLES, procSelf) };
}
