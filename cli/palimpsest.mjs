#!/usr/bin/env node
/**
 * The package's `palimpsest` bin: a launcher in plain JavaScript, so that it starts on any Node.
 * The CLI itself is TypeScript (cli/palimpsest.ts), which only Node 24+ runs as it is; this runs
 * it with the Node running the launcher when that is 24 or later, otherwise with the project's
 * own Node 24 (the `node` devDependency that `npm ci` installs), and otherwise says in one line
 * what it needs.
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const MIN_MAJOR = 24;
const here = dirname(fileURLToPath(import.meta.url));

function projectNode() {
  const candidates = [join(here, "..", "node_modules", "node", "bin", "node")];
  try {
    candidates.push(
      join(dirname(createRequire(import.meta.url).resolve("node/package.json")), "bin", "node"),
    );
  } catch {
    // Not installed: only the first candidate (or none) remains.
  }
  return candidates.find((path) => existsSync(path));
}

const major = Number(process.versions.node.split(".")[0]);
const node = major >= MIN_MAJOR ? process.execPath : projectNode();
if (!node) {
  process.stderr.write(
    `palimpsest: needs Node.js ${MIN_MAJOR} or later (this is ${process.version}); install it, or run \`npm ci\` in the project so its own Node ${MIN_MAJOR} is used.\n`,
  );
  process.exit(1);
}
const result = spawnSync(node, [join(here, "palimpsest.ts"), ...process.argv.slice(2)], { stdio: "inherit" });
if (result.error) {
  process.stderr.write(`palimpsest: could not run ${node}: ${result.error.message}\n`);
  process.exit(1);
}
if (result.signal) process.kill(process.pid, result.signal);
process.exit(result.status ?? 1);
