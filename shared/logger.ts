/**
 * One structured logger: JSON lines on stderr/stdout. Log ids, sizes and durations — never whole
 * events or page HTML.
 */
export type LogFields = Record<string, unknown>;

const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
type Level = keyof typeof LEVELS;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  child(fields: LogFields): Logger;
}

function serialiseError(err: unknown): unknown {
  if (!(err instanceof Error)) return err;
  const out: LogFields = { name: err.name, message: err.message };
  if ("code" in err) out.code = (err as { code: unknown }).code;
  if (err.stack) out.stack = err.stack.split("\n").slice(0, 6).join("\n");
  if (err.cause) out.cause = serialiseError(err.cause);
  return out;
}

export function createLogger(base: LogFields = {}, level: Level = readLevel()): Logger {
  const threshold = LEVELS[level];
  const write = (lvl: Exclude<Level, "silent">, msg: string, fields?: LogFields) => {
    if (LEVELS[lvl] < threshold) return;
    const entry: LogFields = { level: lvl, time: new Date().toISOString(), msg, ...base };
    for (const [k, v] of Object.entries(fields ?? {})) entry[k] = k === "err" ? serialiseError(v) : v;
    const line = `${JSON.stringify(entry)}\n`;
    if (LEVELS[lvl] >= LEVELS.warn) process.stderr.write(line);
    else process.stdout.write(line);
  };
  return {
    debug: (m, f) => write("debug", m, f),
    info: (m, f) => write("info", m, f),
    warn: (m, f) => write("warn", m, f),
    error: (m, f) => write("error", m, f),
    child: (fields) => createLogger({ ...base, ...fields }, level),
  };
}

function readLevel(): Level {
  const raw = (process.env.LOG_LEVEL ?? "info").toLowerCase();
  return raw in LEVELS ? (raw as Level) : "info";
}

export const logger = createLogger({ service: "palimpsest" });
