/**
 * One runner per DATA_DIR: the embedded DynamoDB (LevelDB) and the file queues assume a single
 * owner, and a second `npm start` on the same folder used to die deep inside dynalite with a stack
 * trace. The lock is a file holding the owner's pid, created exclusively; a lock left by a process
 * that no longer exists (a kill -9, a power cut) is taken over.
 */
import { open, readFile, unlink } from "node:fs/promises";
import { join } from "node:path";
import { PalimpsestError } from "../shared/errors.ts";

/** The lock file under DATA_DIR. */
export const LOCK_FILE = "palimpsest.lock";

/** Another live process holds DATA_DIR. */
export class DataDirLockedError extends PalimpsestError {
  constructor(message: string, options?: { cause?: unknown }) {
    super("data_dir_locked", message, options);
  }
}

/** A held DATA_DIR lock; `release` removes the lock file if it is still ours. */
export interface DataDirLock {
  release(): Promise<void>;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else, which still means the folder is taken.
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Takes the lock on `dataDir` (which must exist) or throws DataDirLockedError. */
export async function lockDataDir(dataDir: string): Promise<DataDirLock> {
  const path = join(dataDir, LOCK_FILE);
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      const file = await open(path, "wx", 0o644);
      try {
        await file.writeFile(`${process.pid}\n`);
      } finally {
        await file.close();
      }
      return {
        async release() {
          // Only our own lock: a process that took over a lock we were thought dead for keeps it.
          const holder = await readFile(path, "utf8").catch(() => "");
          if (Number.parseInt(holder, 10) === process.pid) await unlink(path).catch(() => undefined);
        },
      };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    }
    const holder = Number.parseInt(await readFile(path, "utf8").catch(() => ""), 10);
    if (Number.isInteger(holder) && holder > 0 && isAlive(holder)) {
      throw new DataDirLockedError(
        `DATA_DIR ${dataDir} is in use by another Palimpsest (pid ${holder}): stop it first, or set DATA_DIR to another folder.`,
      );
    }
    // Stale (its process is gone) or unreadable: take it over. Two starters racing here both
    // remove it, and only one wins the exclusive create above.
    await unlink(path).catch(() => undefined);
  }
  throw new DataDirLockedError(`DATA_DIR ${dataDir} could not be locked; another process keeps taking it.`);
}
