/**
 * The package's bin starts on the machine's Node whatever its version (issue 12: `./cli/palimpsest.ts`
 * on Node 20 died with ERR_UNKNOWN_FILE_EXTENSION), and bad arguments exit 2 as the README says.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, realpathSync } from "node:fs";
import { delimiter, join } from "node:path";
import { describe, it } from "node:test";

const LAUNCHER = join(import.meta.dirname, "../../cli/palimpsest.mjs");

/** Every `node` on PATH outside the project (the machine's), plus the one running the tests. */
function nodes(): string[] {
  const found = (process.env.PATH ?? "")
    .split(delimiter)
    .filter((dir) => dir && !dir.includes("node_modules"))
    .map((dir) => join(dir, "node"))
    .filter((path) => existsSync(path))
    .map((path) => realpathSync(path));
  return [...new Set([...found, realpathSync(process.execPath)])];
}

function run(node: string, ...args: string[]) {
  const result = spawnSync(node, [LAUNCHER, ...args], {
    encoding: "utf8",
    env: { ...process.env, PALIMPSEST_API: "http://127.0.0.1:9" },
    timeout: 60_000,
  });
  return { code: result.status, out: result.stdout, err: result.stderr.trim() };
}

describe("palimpsest bin launcher", () => {
  for (const node of nodes()) {
    const version = spawnSync(node, ["--version"], { encoding: "utf8" }).stdout.trim();
    it(`runs the CLI with ${node} (${version})`, () => {
      const help = run(node, "--help");
      assert.equal(help.code, 0, help.err);
      assert.match(help.out, /^usage: palimpsest <command>/);
      assert.doesNotMatch(help.err, /ERR_UNKNOWN_FILE_EXTENSION/);
    });

    it(`exits 2 on list --limit 0 with ${version}, before asking the API`, () => {
      const bad = run(node, "list", "--limit", "0");
      assert.equal(bad.code, 2);
      assert.equal(bad.err, 'palimpsest list: --limit must be a whole number from 1 to 100, not "0"');
    });
  }
});
