/**
 * When the suites that need moto_server (the KMS signer, the shipped bundles) skip: only when it is
 * not installed. A moto that is installed but slow or broken runs them, and they fail with its output.
 */
import assert from "node:assert/strict";
import { chmod, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, it } from "node:test";
import { motoServerUnavailable } from "../support/local-account.ts";

describe("motoServerUnavailable", () => {
  let empty: string;
  let installed: string;
  before(async () => {
    empty = await mkdtemp(path.join(tmpdir(), "palimpsest-nomoto-"));
    installed = await mkdtemp(path.join(tmpdir(), "palimpsest-moto-"));
    // An installed moto_server whose `--help` fails, as a pyenv shim or a slow start can.
    const fake = path.join(installed, "moto_server");
    await writeFile(fake, "#!/bin/sh\necho 'broken' >&2\nexit 1\n");
    await chmod(fake, 0o755);
  });
  after(async () => {
    await rm(empty, { recursive: true, force: true });
    await rm(installed, { recursive: true, force: true });
  });

  it("skips, saying why, when moto_server is not on PATH", () => {
    assert.match(motoServerUnavailable({ PATH: empty }) ?? "", /moto_server is not installed \(not on PATH/);
    assert.match(motoServerUnavailable({}) ?? "", /not on PATH: empty/);
  });

  it("does not skip an installed moto_server, whatever its --help answers: the suite runs and fails loudly", () => {
    assert.equal(motoServerUnavailable({ PATH: [empty, installed].join(path.delimiter) }), undefined);
  });
});
