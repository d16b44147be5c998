import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { gzipSync } from "node:zlib";
import { runCli } from "../../cli/palimpsest.ts";

const fixture = join(import.meta.dirname, "../fixtures/extract/news-article/source.html");
const scratch = mkdtempSync(join(tmpdir(), "palimpsest-cli-"));
after(() => rmSync(scratch, { recursive: true, force: true }));

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out, err };
}

describe("palimpsest extract", () => {
  it("prints one JSON object per file, reading .html and .html.gz", async () => {
    const gz = join(scratch, "page.html.gz");
    writeFileSync(gz, gzipSync(readFileSync(fixture)));
    const { code, out, err } = await run("extract", fixture, gz);
    assert.equal(code, 0);
    assert.deepEqual(err, []);
    assert.equal(out.length, 2);
    const [plain, zipped] = out.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.deepEqual(Object.keys(plain ?? {}), [
      "file",
      "title",
      "byline",
      "publishedTime",
      "modifiedTime",
      "lang",
      "text",
    ]);
    assert.equal(plain?.title, "Lighthouse keepers' cottages to become museum");
    assert.equal(zipped?.file, gz);
    assert.equal(zipped?.text, plain?.text);
  });

  it("decodes the charset a page declares", async () => {
    const latin1 = join(scratch, "latin1.html");
    const first =
      "Le caf\xe9 du port a rouvert ses portes apr\xe8s des travaux, et les habitu\xe9s sont revenus.";
    const second =
      "La terrasse donne sur le quai o\xf9 les p\xeacheurs d\xe9chargent leurs prises chaque matin d\xe8s l'aube.";
    const html = `<html><head><meta charset="iso-8859-1"></head><body><article><p>${first}</p><p>${second}</p></article></body></html>`;
    writeFileSync(latin1, Buffer.from(html, "latin1"));
    const { out } = await run("extract", latin1);
    assert.match(String((JSON.parse(out[0] ?? "{}") as { text?: string }).text), /café du port/);
  });

  it("reports an unreadable file without a stack trace, processes the rest, exits 1", async () => {
    const { code, out, err } = await run("extract", join(scratch, "missing.html"), fixture);
    assert.equal(code, 1);
    assert.equal(out.length, 1);
    assert.deepEqual(err, [`palimpsest extract: cannot read ${join(scratch, "missing.html")}: no such file`]);
  });

  it("explains usage", async () => {
    assert.equal((await run("extract")).code, 2);
    assert.match((await run("--help")).out.join("\n"), /extract/);
    assert.match((await run("extract", "--help")).out.join("\n"), /usage: palimpsest extract/);
    const unknown = await run("frobnicate");
    assert.equal(unknown.code, 2);
    assert.match(unknown.err.join("\n"), /unknown command "frobnicate"/);
  });
});
