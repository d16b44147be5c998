/** Per-host politeness on the embedded DynamoDB: concurrency slots, a minimum gap, leases that expire. */
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  type EmbeddedDynamo,
  ensureArchiveTable,
  startEmbeddedDynamo,
} from "../../local/embedded-dynamodb.ts";
import { createDocumentClient } from "../../shared/adapters/aws-clients.ts";
import { createDynamoHostGate } from "../../shared/adapters/dynamo-host-gate.ts";

let dynamo: EmbeddedDynamo;
let dir: string;
let client: ReturnType<typeof createDocumentClient>;

before(async () => {
  process.env.AWS_REGION ??= "us-east-1";
  process.env.AWS_ACCESS_KEY_ID ??= "local";
  process.env.AWS_SECRET_ACCESS_KEY ??= "local";
  dir = await mkdtemp(join(tmpdir(), "palimpsest-gate-"));
  dynamo = await startEmbeddedDynamo({ directory: dir });
  await ensureArchiveTable(new DynamoDBClient({ endpoint: dynamo.endpoint }), "gate");
  client = createDocumentClient({ dynamodbEndpoint: dynamo.endpoint });
});
after(async () => {
  await dynamo.close();
  await rm(dir, { recursive: true, force: true });
});

const t0 = new Date("2026-01-01T00:00:00Z");
const at = (ms: number) => new Date(t0.getTime() + ms);

describe("DynamoDB host gate", () => {
  it("lets at most N captures of a host run at once, and frees slots on release", async () => {
    const gate = createDynamoHostGate({
      client,
      tableName: "gate",
      maxConcurrent: 2,
      minGapMs: 0,
      leaseMs: 60_000,
    });
    const a = await gate.acquire("news.example", "cap_a", at(0));
    const b = await gate.acquire("news.example", "cap_b", at(1));
    const c = await gate.acquire("news.example", "cap_c", at(2));
    assert.equal(a.granted, true);
    assert.equal(b.granted, true);
    assert.equal(c.granted, false);
    assert.equal(
      (await gate.acquire("other.example", "cap_d", at(3))).granted,
      true,
      "other hosts are not held back",
    );
    if (a.granted) await gate.release("news.example", a.slot, "cap_a");
    assert.equal((await gate.acquire("news.example", "cap_c", at(4))).granted, true);
  });

  it("keeps a minimum gap between starts on one host and says how long to wait", async () => {
    const gate = createDynamoHostGate({
      client,
      tableName: "gate",
      maxConcurrent: 5,
      minGapMs: 2000,
      leaseMs: 60_000,
    });
    assert.equal((await gate.acquire("gap.example", "cap_1", at(0))).granted, true);
    const early = await gate.acquire("gap.example", "cap_2", at(500));
    assert.equal(early.granted, false);
    if (!early.granted) assert.equal(early.retryAfterMs, 1500);
    assert.equal((await gate.acquire("gap.example", "cap_2", at(2000))).granted, true);
  });

  it("frees the slot of a capture that died holding it once its lease ends", async () => {
    const gate = createDynamoHostGate({
      client,
      tableName: "gate",
      maxConcurrent: 1,
      minGapMs: 0,
      leaseMs: 10_000,
    });
    assert.equal((await gate.acquire("crash.example", "cap_dead", at(0))).granted, true);
    assert.equal((await gate.acquire("crash.example", "cap_next", at(5_000))).granted, false);
    assert.equal(
      (await gate.acquire("crash.example", "cap_dead", at(5_000))).granted,
      true,
      "a redelivery takes back its slot",
    );
    assert.equal((await gate.acquire("crash.example", "cap_next", at(20_000))).granted, true);
  });
});
