/** The shape every `palimpsest` subcommand has; the dispatcher knows nothing else about them. */
export interface Command {
  name: string;
  /** One line for `palimpsest --help`. */
  summary: string;
  /** Full usage text for `palimpsest <command> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. */
  run(args: string[], io: CommandIo): Promise<number>;
}

/** Where a command writes; injected so tests can capture output. */
export interface CommandIo {
  out(line: string): void;
  err(line: string): void;
}

/** A failure the user can fix (bad arguments, missing file): printed without a stack trace. */
export class UsageError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "UsageError";
  }
}
