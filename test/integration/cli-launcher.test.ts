/**
 * The package's bin starts on the machine's Node whatever its version (issue 12: `./cli/palimpsest.ts`
 * on Node 20 died with ERR_UNKNOWN_FILE_EXTENSION), and bad arguments exit 2 as the README says.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
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

    if (Number(/^v(\d+)/.exec(version)?.[1]) < 24) {
      it(`says in one line what it needs when ${version} finds no Node 24`, () => {
        // The launcher alone, away from the project's node_modules.
        const dir = mkdtempSync(join(tmpdir(), "palimpsest-launcher-"));
        try {
          mkdirSync(join(dir, "cli"));
          copyFileSync(LAUNCHER, join(dir, "cli", "palimpsest.mjs"));
          const result = spawnSync(node, [join(dir, "cli", "palimpsest.mjs"), "--help"], {
            encoding: "utf8",
          });
          assert.equal(result.status, 1);
          assert.match(result.stderr, /^palimpsest: needs Node\.js 24 or later \(this is v\d+[^\n]*\n$/);
        } finally {
          rmSync(dir, { recursive: true, force: true });
        }
      });
    }

    // Once is enough: the project's own Node runs the same CLI through the launcher above.
    if (node === realpathSync(process.execPath) && nodes().length > 1) continue;
    it(`exits 2 on list --limit 0 with ${version}, before asking the API`, () => {
      const bad = run(node, "list", "--limit", "0");
      assert.equal(bad.code, 2);
      assert.equal(bad.err, 'palimpsest list: --limit must be a whole number from 1 to 100, not "0"');
    });
  }
});
