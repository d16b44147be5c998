/**
 * A queue with SQS semantics that survives restarts: one JSON file per message under a
 * directory, written atomically (temp file, then rename). A received message is invisible for the
 * visibility timeout and comes back unless deleted; after `maxReceiveCount` receives it moves to
 * the dead-letter folder.
 *
 * Safe under concurrency within the process: the in-memory index is the source of truth and a
 * message is claimed synchronously (no `await` between the check and the claim), so two workers
 * never receive one message and never dead-letter one twice. A second process on the same
 * directory is kept out by the runner's DATA_DIR lock (`data-dir-lock.ts`); on open every
 * in-flight message is made visible again (its consumer died with the previous process).
 *
 * Messages carry a priority: `receive` hands out the highest priority that is visible, oldest
 * first within it. The capture queue holds both lanes this way (queue-ports.ts): a person's capture
 * is received before a sweep's whole backlog, as the interactive SQS queue's own mapping does on
 * AWS, and a message keeps its priority in its file, so a restart, a release or a redelivery never
 * demotes it.
 *
 * Nothing in it takes the process down: a file it cannot read (empty, truncated, garbage, no
 * body) is logged and moved to `quarantine/` (the runner's reconcile then re-enqueues its
 * capture), a file that vanished is skipped, and an error in a consumer callback is logged.
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { createLogger, type Logger } from "../shared/logger.ts";

/** One message, as stored in its file. */
export interface QueueMessage {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
  /** Received before every visible message of a lower one; absent is 0 (files from before it). */
  priority?: number;
}

/** Options of {@link FileQueue.send}. */
export interface SendOptions {
  /** Like SQS DelaySeconds, in milliseconds. @default 0 */
  delayMs?: number;
  /** @default 0 */
  priority?: number;
}

export interface FileQueueOptions {
  directory: string;
  visibilityTimeoutMs: number;
  maxReceiveCount: number;
  /** Called after a message moved to the dead-letter folder; its errors are logged, not thrown. */
  onDeadLetter?: (message: QueueMessage) => Promise<void>;
  logger?: Logger;
  now?: () => number;
}

/** The sub-folders of a queue directory. */
export const QUEUE_FOLDERS = { live: "messages", dead: "dead-letter", quarantine: "quarantine" } as const;

function isMessage(value: unknown): value is QueueMessage {
  const m = value as Partial<QueueMessage> | null;
  return (
    typeof m === "object" &&
    m !== null &&
    typeof m.messageId === "string" &&
    /^[\w-]+$/.test(m.messageId) &&
    typeof m.body === "string" &&
    Number.isFinite(m.sentAt) &&
    Number.isInteger(m.receiveCount) &&
    Number.isFinite(m.visibleAt) &&
    (m.priority === undefined || Number.isInteger(m.priority))
  );
}

/** Higher priority first, then the one sent first. */
function goesBefore(a: QueueMessage, b: QueueMessage): boolean {
  const pa = a.priority ?? 0;
  const pb = b.priority ?? 0;
  return pa !== pb ? pa > pb : a.sentAt < b.sentAt;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException)?.code === "ENOENT";
}

/** The queue (see the module comment); open it with `FileQueue.open`. */
export class FileQueue {
  readonly #options: FileQueueOptions;
  readonly #messages = new Map<string, QueueMessage>();
  readonly #waiters = new Set<() => void>();
  readonly #live: string;
  readonly #dead: string;
  readonly #quarantine: string;
  readonly #log: Logger;

  private constructor(options: FileQueueOptions) {
    this.#options = options;
    this.#live = join(options.directory, QUEUE_FOLDERS.live);
    this.#dead = join(options.directory, QUEUE_FOLDERS.dead);
    this.#quarantine = join(options.directory, QUEUE_FOLDERS.quarantine);
    this.#log = options.logger ?? createLogger({ service: "palimpsest-local", component: "file-queue" });
  }

  static async open(options: FileQueueOptions): Promise<FileQueue> {
    const queue = new FileQueue(options);
    await mkdir(queue.#live, { recursive: true });
    await mkdir(queue.#dead, { recursive: true });
    await mkdir(queue.#quarantine, { recursive: true });
    const now = queue.#now();
    for (const name of await readdir(queue.#live)) {
      const file = join(queue.#live, name);
      if (name.endsWith(".tmp")) {
        // A write cut short by a kill: the message it was updating still has its previous file.
        await unlink(file).catch(() => undefined);
        continue;
      }
      if (!name.endsWith(".json")) continue;
      let message: unknown;
      try {
        message = JSON.parse(await readFile(file, "utf8"));
      } catch (err) {
        if (isMissing(err)) continue;
        message = undefined;
      }
      if (!isMessage(message) || `${message.messageId}.json` !== name) {
        await queue.#quarantineFile(name, "unreadable message file");
        continue;
      }
      message.visibleAt = Math.min(message.visibleAt, now);
      queue.#messages.set(message.messageId, message);
    }
    return queue;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  async #quarantineFile(name: string, reason: string): Promise<void> {
    const target = join(this.#quarantine, `${Date.now()}-${name}`);
    try {
      await rename(join(this.#live, name), target);
      this.#log.error("queue file quarantined", { file: name, reason, movedTo: target });
    } catch (err) {
      if (!isMissing(err)) this.#log.error("queue file could not be quarantined", { file: name, err });
    }
  }

  async #persist(message: QueueMessage): Promise<void> {
    const file = join(this.#live, `${message.messageId}.json`);
    const temp = `${file}.${randomUUID()}.tmp`;
    await writeFile(temp, JSON.stringify(message));
    await rename(temp, file);
    // Deleted or dead-lettered while this write was in flight: the rename must not revive it.
    if (!this.#messages.has(message.messageId)) await unlink(file).catch(() => undefined);
  }

  get size(): number {
    return this.#messages.size;
  }

  /** Live messages (waiting or in flight) of one priority: one lane's depth. */
  sizeOf(priority: number): number {
    let count = 0;
    for (const m of this.#messages.values()) if ((m.priority ?? 0) === priority) count++;
    return count;
  }

  /** A copy of every live message (waiting or in flight). */
  messages(): QueueMessage[] {
    return [...this.#messages.values()].map((m) => ({ ...m }));
  }

  /** The messages in the dead-letter folder that can still be read. */
  async deadLetters(): Promise<QueueMessage[]> {
    const out: QueueMessage[] = [];
    for (const name of await readdir(this.#dead)) {
      if (!name.endsWith(".json")) continue;
      try {
        const message: unknown = JSON.parse(await readFile(join(this.#dead, name), "utf8"));
        if (isMessage(message)) out.push(message);
      } catch {
        // Unreadable dead letters are evidence for a human, not for the runner.
      }
    }
    return out;
  }

  /** Like SQS SendMessage; a number is `delayMs` (DelaySeconds). */
  async send(body: string, options: number | SendOptions = {}): Promise<string> {
    const { delayMs = 0, priority = 0 } = typeof options === "number" ? { delayMs: options } : options;
    const message: QueueMessage = {
      messageId: randomUUID(),
      body,
      sentAt: this.#now(),
      receiveCount: 0,
      visibleAt: this.#now() + delayMs,
      ...(priority === 0 ? {} : { priority }),
    };
    this.#messages.set(message.messageId, message);
    try {
      await this.#persist(message);
    } catch (err) {
      this.#messages.delete(message.messageId);
      throw err;
    }
    for (const wake of this.#waiters) wake();
    return message.messageId;
  }

  /**
   * Takes the oldest visible message of the highest priority, or null. Messages past their receive
   * limit go to the DLQ.
   */
  async receive(): Promise<QueueMessage | null> {
    for (;;) {
      const now = this.#now();
      // Chosen and claimed with no await in between: another worker sees it claimed.
      let oldest: QueueMessage | undefined;
      for (const m of this.#messages.values())
        if (m.visibleAt <= now && (!oldest || goesBefore(m, oldest))) oldest = m;
      if (!oldest) return null;
      if (oldest.receiveCount >= this.#options.maxReceiveCount) {
        this.#messages.delete(oldest.messageId);
        await this.#deadLetter(oldest);
        continue;
      }
      oldest.receiveCount += 1;
      oldest.firstReceivedAt ??= now;
      oldest.visibleAt = now + this.#options.visibilityTimeoutMs;
      const claimed = { ...oldest };
      try {
        await this.#persist(oldest);
      } catch (err) {
        // The claim holds in memory; only its survival across a restart is lost.
        this.#log.error("queue receive not persisted", { messageId: oldest.messageId, err });
      }
      return claimed;
    }
  }

  async delete(messageId: string): Promise<void> {
    if (!this.#messages.delete(messageId)) return;
    await unlink(join(this.#live, `${messageId}.json`)).catch(() => undefined);
  }

  /** Like SQS ChangeMessageVisibility: the message becomes visible again after `delayMs`. */
  async release(messageId: string, delayMs: number): Promise<void> {
    const message = this.#messages.get(messageId);
    if (!message) return;
    message.visibleAt = this.#now() + delayMs;
    await this.#persist(message);
  }

  /** Moves a message (already out of the index) to the dead-letter folder; never throws. */
  async #deadLetter(message: QueueMessage): Promise<void> {
    const name = `${message.messageId}.json`;
    try {
      await rename(join(this.#live, name), join(this.#dead, name));
    } catch (err) {
      if (!isMissing(err)) {
        this.#log.error("dead-letter move failed", { messageId: message.messageId, err });
      }
      // Gone already (moved by someone else or removed): it is still out of the queue, and the
      // callback below still records its fate, which is idempotent.
      await writeFile(join(this.#dead, name), JSON.stringify(message)).catch(() => undefined);
    }
    try {
      await this.#options.onDeadLetter?.(message);
    } catch (err) {
      this.#log.error("dead-letter callback failed", { messageId: message.messageId, err });
    }
  }

  /**
   * Hands each message, as it becomes visible, to `handle` (which deletes or releases it), one at a
   * time, until `stopped()` says so; between messages it waits at most a second. Never rejects:
   * an error from `handle` or the queue is logged and the message comes back after its timeout.
   */
  async consume(handle: (message: QueueMessage) => Promise<void>, stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      try {
        const message = await this.receive();
        if (message) await handle(message);
        else await this.waitForMessage(Math.min(1000, this.nextVisibleInMs() ?? 1000));
      } catch (err) {
        this.#log.error("queue consumer failed; continuing", { err });
        await this.waitForMessage(1000);
      }
    }
  }

  /** Resolves when a message is sent or after `timeoutMs`, whichever comes first. */
  waitForMessage(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.#waiters.add(done);
    });
  }

  /**
   * Milliseconds since the oldest message was sent, as SQS's ApproximateAgeOfOldestMessage counts
   * it, over the messages that have come due (a delayed one still held back is not waiting yet);
   * null when none has. With `priority`, over that priority's messages only (one lane's queue).
   */
  oldestAgeMs(priority?: number): number | null {
    const now = this.#now();
    let oldest: number | null = null;
    for (const m of this.#messages.values()) {
      if (priority !== undefined && (m.priority ?? 0) !== priority) continue;
      if (m.receiveCount === 0 && m.visibleAt > now) continue;
      if (oldest === null || m.sentAt < oldest) oldest = m.sentAt;
    }
    return oldest === null ? null : now - oldest;
  }

  /** Milliseconds until the next invisible message becomes visible, if any. */
  nextVisibleInMs(): number | null {
    const now = this.#now();
    let next: number | null = null;
    for (const m of this.#messages.values()) {
      const wait = Math.max(0, m.visibleAt - now);
      if (next === null || wait < next) next = wait;
    }
    return next;
  }
}
