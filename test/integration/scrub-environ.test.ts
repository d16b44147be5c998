/**
 * The capture worker's secrets leave its /proc environ before Chromium starts
 * (shared/adapters/scrub-environ.ts). The browser gets an allowlisted environment of its own
 * (browser-environment.test.ts), but a renderer without a sandbox could still read its parent's
 * `/proc/<ppid>/environ`, which shows the block the process started with whatever `process.env`
 * says since. Here a Node process with fake credentials starts a child that reads exactly that:
 * untouched, the secrets are there; scrubbed, they are not, and the composed capture worker still
 * signs for the embedded S3 and DynamoDB with the credentials it holds in memory. Where the role's
 * credentials come from a container credentials endpoint instead (its URI and token in the
 * environment), a loopback HTTP server stands in for that endpoint: the worker's clients sign with
 * what it serves, fetched once with the token, while its environ holds neither.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { createDocumentClient, createS3Client } from "../../shared/adapters/aws-clients.ts";
import { secretValueRanges } from "../../shared/adapters/scrub-environ.ts";
import { type EmbeddedStorage, startEmbeddedStorage } from "../support/embedded-storage.ts";

const CHILD = join(import.meta.dirname, "../support/scrub-environ-child.ts");
const LINUX = process.platform === "linux";

/** Fresh fake secrets per run, long and random enough that no other variable holds them. */
const SECRETS = {
  AWS_ACCESS_KEY_ID: `AKIA${randomBytes(8).toString("hex").toUpperCase()}`,
  AWS_SECRET_ACCESS_KEY: randomBytes(30).toString("base64"),
  AWS_SESSION_TOKEN: randomBytes(60).toString("base64"),
  // Beside a key pair these are not used, but leave the environment all the same.
  AWS_CONTAINER_AUTHORIZATION_TOKEN: randomBytes(40).toString("base64"),
  AWS_CONTAINER_CREDENTIALS_FULL_URI: `http://127.0.0.1:9/unused-${randomBytes(12).toString("hex")}`,
  WEBHOOK_SECRET: randomBytes(16).toString("hex"),
};

/** The container credentials endpoint's token, as Lambda would set it: another fresh secret. */
const CONTAINER_TOKEN = randomBytes(40).toString("base64");
/** Every request the stand-in credentials endpoint received: its path and Authorization header. */
const endpointRequests: Array<{ path: string; authorization: string | undefined }> = [];
let endpoint: Server;
let endpointUri: string;

let home: string;
let storage: EmbeddedStorage;

before(async () => {
  home = await mkdtemp(join(tmpdir(), "palimpsest-scrub-"));
  // The embedded S3 verifies every signature against this key pair: only a client that signs with
  // the fake credentials gets its writes in.
  process.env.AWS_ACCESS_KEY_ID = SECRETS.AWS_ACCESS_KEY_ID;
  process.env.AWS_SECRET_ACCESS_KEY = SECRETS.AWS_SECRET_ACCESS_KEY;
  storage = await startEmbeddedStorage();
  // The container credentials endpoint: with the right token, it serves the key pair the
  // embedded servers verify; without it, 403, as the real one does.
  endpoint = createServer((req, res) => {
    endpointRequests.push({ path: req.url ?? "", authorization: req.headers.authorization });
    if (req.headers.authorization !== CONTAINER_TOKEN) {
      res.writeHead(403).end();
      return;
    }
    res.writeHead(200, { "content-type": "application/json" }).end(
      JSON.stringify({
        AccessKeyId: SECRETS.AWS_ACCESS_KEY_ID,
        SecretAccessKey: SECRETS.AWS_SECRET_ACCESS_KEY,
        Token: SECRETS.AWS_SESSION_TOKEN,
        Expiration: new Date(Date.now() + 3600_000).toISOString(),
      }),
    );
  });
  await new Promise<void>((resolve) => endpoint.listen(0, "127.0.0.1", resolve));
  endpointUri = `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}/creds/${randomBytes(12).toString("hex")}`;
});

after(async () => {
  endpoint?.close();
  await storage?.close();
  await rm(home, { recursive: true, force: true });
});

/**
 * Runs the stand-in worker with the secrets and `env`, and nothing from this process: no profile,
 * no shared config files, no instance metadata, so the SDK can find no credentials but the ones it
 * is handed.
 */
function runChild(
  mode: string,
  env: Record<string, string> = {},
  secrets: Record<string, string> = SECRETS,
): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, mode], {
      env: {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        HOME: home,
        AWS_CONFIG_FILE: join(home, "no-config"),
        AWS_SHARED_CREDENTIALS_FILE: join(home, "no-credentials"),
        AWS_EC2_METADATA_DISABLED: "true",
        AWS_REGION: "us-east-1",
        PALIMPSEST_MARKER: "still-here",
        ...secrets,
        ...env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk;
    });
    child.on("error", reject);
    child.on("close", (code) => {
      const last = stdout.trim().split("\n").at(-1) ?? "";
      if (code !== 0 || !last.startsWith("{")) {
        reject(new Error(`child ${mode} exited ${code}:\n${stdout}\n${stderr}`));
        return;
      }
      resolve({ ...(JSON.parse(last) as Record<string, unknown>), output: stdout + stderr });
    });
  });
}

/** The secrets whose values (or any part of one) appear in an environ as a child read it. */
function secretsIn(environ: readonly string[], secrets: Record<string, string> = SECRETS): string[] {
  return Object.entries(secrets)
    .filter(([, value]) => environ.some((entry) => entry.includes(value)))
    .map(([name]) => name);
}

/** The composed capture worker's environment, on the embedded servers. */
function workerEnv(): Record<string, string> {
  return {
    SCRUB_ENVIRON: "on",
    TABLE_NAME: storage.tableName,
    BUCKET_NAME: storage.bucketName,
    S3_ENDPOINT: storage.s3Endpoint,
    DYNAMODB_ENDPOINT: storage.dynamodbEndpoint,
    // Not started here (no capture runs); set so that init does not unpack the bundled one.
    CHROMIUM_PATH: "/nonexistent/chromium",
    PROBE: "off",
    LOG_LEVEL: "silent",
  };
}

describe("scrubbing the capture worker's environment", { skip: !LINUX && "reads /proc" }, () => {
  it("hides the secrets from a child reading /proc/<ppid>/environ, which sees them without it", async () => {
    const untouched = await runChild("keep");
    const scrubbed = await runChild("scrub");

    const before = untouched.environ as string[];
    assert.deepEqual(secretsIn(before).sort(), Object.keys(SECRETS).sort(), "visible without the scrub");
    const environ = scrubbed.environ as string[];
    assert.deepEqual(secretsIn(environ), [], "no secret value is left in the parent's environ");
    assert.deepEqual(scrubbed.outcome, { status: "scrubbed", variables: Object.keys(SECRETS) });
    // Only the values went: the block keeps its length and every other variable.
    assert.equal(environ.join("\0").length, before.join("\0").length);
    assert.ok(environ.includes("PALIMPSEST_MARKER=still-here"));
    assert.ok(environ.includes("AWS_REGION=us-east-1"));
    // The credentials are held in memory, and process.env no longer has any secret.
    assert.deepEqual(scrubbed.credentials, {
      accessKeyId: SECRETS.AWS_ACCESS_KEY_ID,
      secretAccessKey: SECRETS.AWS_SECRET_ACCESS_KEY,
      sessionToken: SECRETS.AWS_SESSION_TOKEN,
    });
    const names = scrubbed.processEnv as string[];
    assert.deepEqual(
      names.filter((name) => name in SECRETS),
      [],
    );
  });

  it("leaves the composed capture worker signing with the credentials it holds in memory", async () => {
    const result = await runChild("worker", workerEnv());

    assert.deepEqual(secretsIn(result.environ as string[]), [], "the worker's environ holds no secret");
    // Its writes reached the embedded servers, signed with the fake key pair.
    const captureId = result.captureId as string;
    assert.equal((await storage.repository.getCapture(captureId))?.status, "queued");
    assert.equal(result.readBack, `ferry ${captureId}`);
    const ref = result.ref as Parameters<EmbeddedStorage["blobs"]["getBlob"]>[0];
    assert.equal(new TextDecoder().decode(await storage.blobs.getBlob(ref)), `ferry ${captureId}`);
  });

  it("hides a container credentials endpoint and its token, and the worker's clients use that endpoint", async () => {
    // Arrange: no key pair in the environment, only the endpoint and its token.
    const container = {
      AWS_CONTAINER_CREDENTIALS_FULL_URI: endpointUri,
      AWS_CONTAINER_AUTHORIZATION_TOKEN: CONTAINER_TOKEN,
      WEBHOOK_SECRET: SECRETS.WEBHOOK_SECRET,
    };
    const untouched = await runChild("keep", {}, container);
    assert.deepEqual(
      secretsIn(untouched.environ as string[], container).sort(),
      Object.keys(container).sort(),
    );
    endpointRequests.length = 0;

    // Act
    const result = await runChild("worker", workerEnv(), container);

    // Assert: neither the endpoint nor its token is left in the worker's environ, and its writes
    // reached the embedded servers signed with what the endpoint served for the token.
    assert.deepEqual(secretsIn(result.environ as string[], container), [], "no secret left in the environ");
    const captureId = result.captureId as string;
    assert.equal((await storage.repository.getCapture(captureId))?.status, "queued");
    assert.equal(result.readBack, `ferry ${captureId}`);
    assert.deepEqual(
      endpointRequests,
      [{ path: new URL(endpointUri).pathname, authorization: CONTAINER_TOKEN }],
      "fetched once, with the token, for every client",
    );
  });

  it("warns at init on Lambda when the environment holds no credentials of either kind", async () => {
    const result = await runChild(
      "init",
      { ...workerEnv(), LOG_LEVEL: "warn", AWS_LAMBDA_FUNCTION_NAME: "palimpsest-capture" },
      { WEBHOOK_SECRET: SECRETS.WEBHOOK_SECRET },
    );
    assert.match(result.output as string, /no credentials in the environment/);
    const withKeys = await runChild("init", {
      ...workerEnv(),
      LOG_LEVEL: "warn",
      AWS_LAMBDA_FUNCTION_NAME: "palimpsest-capture",
    });
    assert.doesNotMatch(withKeys.output as string, /no credentials in the environment/);
  });

  it("gives the in-memory credentials to clients for AWS itself, not only to the embedded servers", async () => {
    // This process's environment holds other credentials (the fake pair above): the clients must
    // sign with the ones they are handed.
    const identity = {
      region: "eu-west-1",
      credentials: { accessKeyId: "AKIDINMEMORY", secretAccessKey: "held-in-memory", sessionToken: "token" },
    };
    const s3 = createS3Client({ s3Endpoint: undefined }, identity);
    const documents = createDocumentClient({ dynamodbEndpoint: undefined }, identity);
    assert.deepEqual(await s3.config.credentials(), identity.credentials);
    assert.deepEqual(await documents.config.credentials(), identity.credentials);
    assert.equal(await s3.config.region(), "eu-west-1");
  });

  it("finds the values of the named variables in an environment block, and only those", () => {
    const block = Buffer.from(
      "A=1\0AWS_SECRET_ACCESS_KEY=abc\0XAWS_SESSION_TOKEN=no\0AWS_SESSION_TOKEN=\0",
      "latin1",
    );
    assert.deepEqual(secretValueRanges(block, ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]), [
      { name: "AWS_SECRET_ACCESS_KEY", start: 26, end: 29 },
      { name: "AWS_SESSION_TOKEN", start: 70, end: 70 },
    ]);
  });
});
