/**
 * Keeps `npm run redteam` honest in CI: its `--quick` tier (every attack of issue 12 but three slow
 * ones covered elsewhere; see SLOW_ATTACKS in scripts/redteam.ts) runs against
 * a live local runner, and every attack it replays must be refused. About 45 s on 2 shared cores.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { it } from "node:test";
import { runScript } from "../support/run-cli.ts";

const REDTEAM = join(import.meta.dirname, "../../scripts/redteam.ts");

it("npm run redteam -- --quick: every attack refused", { timeout: 240_000 }, async () => {
  const { code, stdout, stderr } = await runScript(REDTEAM, {}, "--quick");
  const verdicts = stdout.split("\n").filter((line) => /^(refused|NOT REFUSED)\s/.test(line));
  assert.deepEqual(
    verdicts.filter((line) => !line.startsWith("refused")),
    [],
    `attacks not refused:\n${stdout}\n${stderr}`,
  );
  assert.equal(code, 0, `${stdout}\n${stderr}`);
  // The kinds of attack the issue lists: each area is replayed, hostile pages and the snapshot too.
  for (const area of ["s3", "queue", "runner", "http", "api", "pages"]) {
    assert.ok(
      verdicts.some((line) => new RegExp(`^refused\\s+${area}\\s`).test(line)),
      `no ${area} attack was replayed`,
    );
  }
  for (const name of [
    "trickles forever",
    "gzip bomb",
    "eats memory",
    "redirect to file://",
    "over 5 MB",
    "killed",
  ]) {
    assert.ok(
      verdicts.some((line) => line.includes(name)),
      `"${name}" was not replayed`,
    );
  }
  const summary = /^(\d+) of (\d+) attacks refused \(--quick\)/m.exec(stdout);
  assert.ok(summary && summary[1] === summary[2] && Number(summary[2]) >= 30, stdout);
});
