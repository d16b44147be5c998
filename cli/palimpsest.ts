#!/usr/bin/env node
/**
 * The `palimpsest` command line: a small dispatcher over subcommands. A subcommand is a
 * `Command` (cli/commands.ts) registered in COMMANDS.
 */
import { captureCommand } from "./capture-command.ts";
import { type Command, type CommandIo, UsageError } from "./commands.ts";
import { diffCommand } from "./diff-command.ts";
import { extractCommand } from "./extract-command.ts";
import { listCommand } from "./list-command.ts";
import { noiseRulesCommand } from "./noise-rules-command.ts";
import { followCommand, sourcesCommand } from "./sources-commands.ts";
import { statusCommand } from "./status-command.ts";
import { verifyCommand } from "./verify-command.ts";

export const COMMANDS: readonly Command[] = [
  captureCommand,
  statusCommand,
  listCommand,
  diffCommand,
  extractCommand,
  verifyCommand,
  followCommand,
  sourcesCommand,
  noiseRulesCommand,
];

function helpText(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return [
    "usage: palimpsest <command> [arguments]",
    "",
    "commands:",
    ...COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`),
    "",
    "Run `palimpsest <command> --help` for a command's usage.",
  ].join("\n");
}

/** Runs the command line `argv` (without node and the script); resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CommandIo): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined) {
    io.err(helpText());
    return 2;
  }
  if (name === "--help" || name === "-h" || name === "help") {
    const topic = name === "help" ? COMMANDS.find((c) => c.name === args[0]) : undefined;
    io.out(topic?.usage ?? helpText());
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`palimpsest: unknown command "${name}"\n\n${helpText()}`);
    return 2;
  }
  if (args.includes("--help") || args.includes("-h")) {
    io.out(command.usage);
    return 0;
  }
  try {
    return await command.run(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`palimpsest ${command.name}: ${error.message}`);
      return 2;
    }
    throw error;
  }
}

if (import.meta.main) {
  // A closed pipe (`palimpsest extract *.html | head`) is not an error.
  process.stdout.on("error", (error: NodeJS.ErrnoException) => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    throw error;
  });
  const io: CommandIo = {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
