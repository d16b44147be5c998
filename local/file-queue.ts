/**
 * A queue with SQS semantics that survives restarts: one JSON file per message under a
 * directory, written atomically. A received message is invisible for the visibility timeout and
 * comes back unless deleted; after `maxReceiveCount` receives it moves to the dead-letter folder.
 *
 * Non-goal: several processes sharing one queue directory. The local runner is the only consumer,
 * so on open every in-flight message is made visible again (its consumer died with the process).
 */
import { randomUUID } from "node:crypto";
import { mkdir, readdir, readFile, rename, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface QueueMessage {
  messageId: string;
  body: string;
  sentAt: number;
  receiveCount: number;
  firstReceivedAt?: number;
  visibleAt: number;
}

export interface FileQueueOptions {
  directory: string;
  visibilityTimeoutMs: number;
  maxReceiveCount: number;
  /** Called after a message moved to the dead-letter folder. */
  onDeadLetter?: (message: QueueMessage) => Promise<void>;
  now?: () => number;
}

export class FileQueue {
  readonly #options: FileQueueOptions;
  readonly #messages = new Map<string, QueueMessage>();
  readonly #waiters = new Set<() => void>();
  readonly #live: string;
  readonly #dead: string;

  private constructor(options: FileQueueOptions) {
    this.#options = options;
    this.#live = join(options.directory, "messages");
    this.#dead = join(options.directory, "dead-letter");
  }

  static async open(options: FileQueueOptions): Promise<FileQueue> {
    const queue = new FileQueue(options);
    await mkdir(queue.#live, { recursive: true });
    await mkdir(queue.#dead, { recursive: true });
    const now = queue.#now();
    for (const name of await readdir(queue.#live)) {
      if (!name.endsWith(".json")) continue;
      try {
        const message = JSON.parse(await readFile(join(queue.#live, name), "utf8")) as QueueMessage;
        message.visibleAt = Math.min(message.visibleAt, now);
        queue.#messages.set(message.messageId, message);
      } catch {
        // A half-written temp file cannot exist under a .json name (writes are atomic renames).
      }
    }
    return queue;
  }

  #now(): number {
    return (this.#options.now ?? Date.now)();
  }

  async #persist(message: QueueMessage): Promise<void> {
    const file = join(this.#live, `${message.messageId}.json`);
    const temp = `${file}.${randomUUID()}.tmp`;
    await writeFile(temp, JSON.stringify(message));
    await rename(temp, file);
  }

  get size(): number {
    return this.#messages.size;
  }

  /** Like SQS SendMessage; `delayMs` is DelaySeconds. */
  async send(body: string, delayMs = 0): Promise<string> {
    const message: QueueMessage = {
      messageId: randomUUID(),
      body,
      sentAt: this.#now(),
      receiveCount: 0,
      visibleAt: this.#now() + delayMs,
    };
    await this.#persist(message);
    this.#messages.set(message.messageId, message);
    for (const wake of this.#waiters) wake();
    return message.messageId;
  }

  /** Takes the oldest visible message, or null. Messages past their receive limit go to the DLQ. */
  async receive(): Promise<QueueMessage | null> {
    const now = this.#now();
    const candidates = [...this.#messages.values()]
      .filter((m) => m.visibleAt <= now)
      .sort((a, b) => a.sentAt - b.sentAt);
    for (const message of candidates) {
      if (message.receiveCount >= this.#options.maxReceiveCount) {
        await this.#deadLetter(message);
        continue;
      }
      message.receiveCount += 1;
      message.firstReceivedAt ??= now;
      message.visibleAt = now + this.#options.visibilityTimeoutMs;
      await this.#persist(message);
      return { ...message };
    }
    return null;
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

  async #deadLetter(message: QueueMessage): Promise<void> {
    this.#messages.delete(message.messageId);
    await rename(
      join(this.#live, `${message.messageId}.json`),
      join(this.#dead, `${message.messageId}.json`),
    );
    await this.#options.onDeadLetter?.(message);
  }

  /**
   * Hands each message, as it becomes visible, to `handle` (which deletes or releases it), one at a
   * time, until `stopped()` says so; between messages it waits at most a second.
   */
  async consume(handle: (message: QueueMessage) => Promise<void>, stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      const message = await this.receive();
      if (message) await handle(message);
      else await this.waitForMessage(Math.min(1000, this.nextVisibleInMs() ?? 1000));
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
