/**
 * A person's capture does not wait behind a sweep's burst under `npm start` (issue 18): the API
 * sends on the capture queue's interactive lane, which the workers' receive takes first, and a
 * restart sends a lost capture again on its own lane. The runners here have no capture worker
 * (nothing is captured, no browser starts): the test receives as a worker would.
 */
import assert from "node:assert/strict";
import { mkdtemp, rm, unlink } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, it } from "node:test";
import { openArchive } from "../../functions/compose/archive.ts";
import { fileCaptureQueue, LANE_PRIORITY } from "../../local/queue-ports.ts";
import { LOCAL_REGION, type LocalRunner, TABLE_NAME } from "../../local/runner.ts";
import { parseCaptureMessage } from "../../shared/domain/capture-message.ts";
import { urlIdFor } from "../../shared/domain/ids.ts";
import { startIdleRunner, submitTo } from "../support/idle-runner.ts";

let dataDir: string;
let runner: LocalRunner | undefined;

before(async () => {
  dataDir = await mkdtemp(join(tmpdir(), "palimpsest-lanes-"));
});
after(async () => {
  await runner?.close();
  await rm(dataDir, { recursive: true, force: true });
});

const start = (): Promise<LocalRunner> => startIdleRunner(dataDir);
const submit = (url: string): Promise<string> => submitTo(runner, url);

const captureIdOf = (body: string | undefined) => parseCaptureMessage(body ?? "")?.captureId;

it("a person's capture is received before a scheduled backlog of 50, and a restart keeps each capture on its lane", async () => {
  runner = await start();
  // A sweep's burst, on the lane the sweeper and polls send on, already waiting.
  const scheduled = fileCaptureQueue(runner.queue, "scheduled");
  for (let i = 0; i < 50; i++) await scheduled.enqueue({ captureId: `cap_backlog${i}` });
  const person = await submit("http://127.0.0.1:9/breaking.html");

  const first = await runner.queue.receive();
  assert.equal(captureIdOf(first?.body), person, "the person's capture comes first");
  assert.equal(
    (await runner.queue.receive())?.body.includes("cap_backlog0"),
    true,
    "then the backlog, oldest first",
  );
  // Each lane's depth is its own, as each SQS queue's is: the backlog is no reason for a 429.
  assert.equal(await fileCaptureQueue(runner.queue, "interactive").depth?.(), 1);
  assert.equal(await scheduled.depth?.(), 50);

  // A recapture the sweep recorded (trigger "schedule") and a second person's capture, both of
  // whose messages a kill loses: the next start sends each again on its own lane.
  const archive = openArchive(
    { tableName: TABLE_NAME, dynamodbEndpoint: runner.dynamodbEndpoint },
    { region: LOCAL_REGION, credentials: { accessKeyId: "test", secretAccessKey: "test" } },
  );
  const recaptureUrl = "http://127.0.0.1:9/recapture.html";
  await archive.repository.putCapture({
    captureId: "cap_recapture",
    urlId: urlIdFor(recaptureUrl),
    url: recaptureUrl,
    status: "queued",
    requestedAt: new Date().toISOString(),
    attempts: 0,
    trigger: "schedule",
  });
  const lostPerson = await submit("http://127.0.0.1:9/lost.html");
  const lostFile = runner.queue.messages().find((m) => captureIdOf(m.body) === lostPerson);
  assert.ok(lostFile);
  await runner.close();
  runner = undefined;
  await unlink(join(dataDir, "queue", "messages", `${lostFile.messageId}.json`));

  runner = await start();
  const priorityOf = (captureId: string) =>
    runner?.queue.messages().find((m) => captureIdOf(m.body) === captureId)?.priority ?? 0;
  assert.equal(priorityOf(lostPerson), LANE_PRIORITY.interactive, "the person's capture, interactive again");
  assert.equal(priorityOf("cap_recapture"), LANE_PRIORITY.scheduled, "the recapture, scheduled again");
  assert.ok(runner.queue.messages().some((m) => captureIdOf(m.body) === "cap_recapture"));
  // Once its host slot comes (a second after the first person's, HOST_MIN_GAP_MS), the re-sent
  // person's capture is again received before the backlog.
  const slot = runner.queue.messages().find((m) => captureIdOf(m.body) === lostPerson)?.visibleAt ?? 0;
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, slot - Date.now()) + 50));
  const next = [];
  for (let i = 0; i < 2; i++) next.push(captureIdOf((await runner.queue.receive())?.body));
  assert.deepEqual(next.sort(), [lostPerson, person].sort());
});
