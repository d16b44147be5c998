/**
 * What a killed `npm start` leaves behind is put right at the next start (issue 12): an accepted
 * capture whose message file is damaged or missing is sent again, one whose message was
 * dead-lettered is failed with a code, and host slots leased by dead captures are freed. The
 * runners here have no capture worker (nothing is captured), so no browser starts.
 */
import assert from "node:assert/strict";
import { mkdtemp, readdir, rm, unlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient, GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import type { LocalRunner } from "../../local/runner.ts";
import { startIdleRunner, submitTo } from "../support/idle-runner.ts";

let dataDir: string;
let runner: LocalRunner | undefined;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-recovery-"));
});
after(async () => {
  await runner?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const start = (): Promise<LocalRunner> => startIdleRunner(dataDir);
const submit = (url: string): Promise<string> => submitTo(runner, url);

async function status(captureId: string): Promise<{ status: string; error?: { code: string } }> {
  const response = await fetch(`${runner?.url}/v1/captures/${captureId}`);
  return (await response.json()) as { status: string; error?: { code: string } };
}

it("re-enqueues captures whose message is damaged or gone, fails dead-lettered ones, frees host slots", async () => {
  runner = await start();
  const damaged = await submit("http://127.0.0.1:9/damaged.html");
  const vanished = await submit("http://127.0.0.1:9/vanished.html");
  const dead = await submit("http://127.0.0.1:9/dead.html");
  const messages = runner.queue.messages();
  const fileOf = (captureId: string) => {
    const message = messages.find((m) => m.body.includes(captureId));
    assert.ok(message);
    return { name: `${message.messageId}.json`, message };
  };
  const documents = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: runner.dynamodbEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    }),
  );
  const slot = { PK: "HOST#127.0.0.1:9", SK: "SLOT#0" };
  await documents.send(
    new PutCommand({
      TableName: "palimpsest-local",
      Item: { ...slot, holder: vanished, leaseUntil: new Date(Date.now() + 15 * 60_000).toISOString() },
    }),
  );
  await runner.close();
  runner = undefined;

  // What a kill -9 can leave: a truncated write, a missing file, a message already dead-lettered.
  const queueDir = join(dataDir, "queue");
  await writeFile(join(queueDir, "messages", fileOf(damaged).name), '{"messageId":"');
  await unlink(join(queueDir, "messages", fileOf(vanished).name));
  const deadFile = fileOf(dead);
  await unlink(join(queueDir, "messages", deadFile.name));
  await writeFile(join(queueDir, "dead-letter", deadFile.name), JSON.stringify(deadFile.message));

  runner = await start();
  const bodies = runner.queue.messages().map((m) => JSON.parse(m.body) as { captureId: string });
  assert.deepEqual(bodies.map((b) => b.captureId).sort(), [damaged, vanished].sort());
  assert.equal((await readdir(join(queueDir, "quarantine"))).length, 1, "the damaged file is kept aside");
  assert.equal((await status(damaged)).status, "queued");
  const failed = await status(dead);
  assert.equal(failed.status, "failed");
  assert.equal(failed.error?.code, "retries_exhausted");

  const documents2 = DynamoDBDocumentClient.from(
    new DynamoDBClient({
      endpoint: runner.dynamodbEndpoint,
      region: "us-east-1",
      credentials: { accessKeyId: "test", secretAccessKey: "test" },
    }),
  );
  const lease = await documents2.send(new GetCommand({ TableName: "palimpsest-local", Key: slot }));
  assert.equal(lease.Item?.holder, undefined, "the dead capture's host slot is free");
});
