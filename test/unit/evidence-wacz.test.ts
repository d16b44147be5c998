/**
 * The evidence package, checked with tools nobody here wrote: every WARC record read back by
 * warcio's parser with digests recomputed here, the zip opened by zip.js (another reader than the
 * one `verify` uses), the signature checked with WebCrypto. Then `verifyWacz` against tampering:
 * a copy with any one byte changed is refused, and says where.
 */
import assert from "node:assert/strict";
import { createHash, generateKeyPairSync, sign, verify } from "node:crypto";
import { describe, it } from "node:test";
import { Uint8ArrayReader, Uint8ArrayWriter, ZipReader } from "@zip.js/zip.js";
import { WARCParser } from "warcio";
import { derToP1363 } from "../../shared/adapters/kms-signer.ts";
import { buildWacz } from "../../shared/domain/evidence/build-wacz.ts";
import { verifyWacz } from "../../shared/domain/evidence/verify-wacz.ts";
import { evidenceInput, PAGE_HTML, PAGE_URL, testSigner } from "../support/evidence-fixture.ts";

const signer = testSigner();
const built = buildWacz(evidenceInput(), signer, { version: "0.1.0" });

async function unzipAll(bytes: Uint8Array): Promise<Map<string, { data: Uint8Array; method: number }>> {
  const reader = new ZipReader(new Uint8ArrayReader(bytes));
  const out = new Map<string, { data: Uint8Array; method: number }>();
  for (const entry of await reader.getEntries()) {
    if (entry.directory) continue;
    out.set(entry.filename, {
      data: await entry.getData(new Uint8ArrayWriter(), { checkSignature: true }),
      method: entry.compressionMethod,
    });
  }
  await reader.close();
  return out;
}

const sha256 = (bytes: Uint8Array | string) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

describe("the WACZ, opened by other tools", () => {
  it("is a zip of the WACZ 1.1.1 layout, every entry stored, whose datapackage lists every file's sha256", async () => {
    const files = await unzipAll((await built).bytes);
    assert.deepEqual([...files.keys()].sort(), [
      "archive/data.warc.gz",
      "datapackage-digest.json",
      "datapackage.json",
      "indexes/index.cdx",
      "pages/pages.jsonl",
    ]);
    for (const [name, { method }] of files) assert.equal(method, 0, `${name} is stored, not deflated`);
    const datapackage = JSON.parse(text(files.get("datapackage.json")?.data ?? new Uint8Array()));
    assert.equal(datapackage.profile, "data-package");
    assert.equal(datapackage.wacz_version, "1.1.1");
    assert.equal(datapackage.mainPageUrl, PAGE_URL);
    assert.equal(datapackage.resources.length, 3);
    for (const resource of datapackage.resources) {
      const data = files.get(resource.path)?.data;
      assert.ok(data, `${resource.path} is in the zip`);
      assert.equal(resource.hash, sha256(data));
      assert.equal(resource.bytes, data.length);
    }
    const pages = text(files.get("pages/pages.jsonl")?.data ?? new Uint8Array())
      .trimEnd()
      .split("\n")
      .map((l) => JSON.parse(l));
    assert.equal(pages[0].format, "json-pages-1.0");
    assert.equal(pages[1].url, PAGE_URL);
    assert.equal(pages[1].ts, "2026-03-03T09:40:00.120Z");
    assert.match(pages[1].text, /eight months of repairs/);
  });

  it("is signed as WACZ Signing and Verification says, and WebCrypto verifies the signature", async () => {
    const files = await unzipAll((await built).bytes);
    const datapackage = files.get("datapackage.json")?.data ?? new Uint8Array();
    const digest = JSON.parse(text(files.get("datapackage-digest.json")?.data ?? new Uint8Array()));
    assert.equal(digest.path, "datapackage.json");
    assert.equal(digest.hash, sha256(datapackage));
    const signed = digest.signedData;
    assert.deepEqual(Object.keys(signed).sort(), [
      "created",
      "hash",
      "publicKey",
      "signature",
      "software",
      "version",
    ]);
    assert.equal(signed.hash, digest.hash);
    assert.deepEqual(new Uint8Array(Buffer.from(signed.publicKey, "base64")), signer.publicKeyDer);
    const key = await crypto.subtle.importKey(
      "spki",
      Buffer.from(signed.publicKey, "base64"),
      { name: "ECDSA", namedCurve: "P-256" },
      false,
      ["verify"],
    );
    const signature = Buffer.from(signed.signature, "base64");
    const message = new TextEncoder().encode(signed.hash);
    assert.equal(
      await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, message),
      true,
    );
    const other = new TextEncoder().encode(signed.hash.replace(/.$/, (c: string) => (c === "0" ? "1" : "0")));
    assert.equal(
      await crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, other),
      false,
    );
  });

  it("holds WARC/1.1 records that warcio reads back, with digests that hold and exact HTTP messages", async () => {
    const files = await unzipAll((await built).bytes);
    const warc = files.get("archive/data.warc.gz")?.data ?? new Uint8Array();
    // One gzip member per record: every member starts with the gzip magic at a record boundary.
    const records: {
      type: string;
      uri: string | undefined;
      headers: Map<string, string>;
      block: Uint8Array;
      offset: number;
    }[] = [];
    const parser = new WARCParser([warc], { parseHttp: false, keepHeadersCase: true });
    for await (const record of parser) {
      const offset = parser.offset;
      const block = await record.readFully(false);
      records.push({
        type: record.warcType ?? "",
        uri: record.warcTargetURI ?? undefined,
        headers: new Map([...record.warcHeaders.headers].map(([k, v]) => [k, v])),
        block,
        offset,
      });
      assert.deepEqual(
        [...warc.subarray(offset, offset + 2)],
        [0x1f, 0x8b],
        `record ${records.length} is its own gzip member`,
      );
    }
    assert.deepEqual(
      records.map((r) => r.type),
      [
        "warcinfo",
        ...Array(6).fill(["response", "request"]).flat(),
        "revisit",
        "resource",
        "resource",
        "resource",
        "metadata",
      ],
    );
    for (const record of records) {
      assert.equal(record.headers.get("WARC-Block-Digest") ?? sha256(record.block), sha256(record.block));
      if (record.type === "response" || record.type === "request") {
        const split = Buffer.from(record.block).indexOf("\r\n\r\n");
        assert.equal(record.headers.get("WARC-Payload-Digest"), sha256(record.block.subarray(split + 4)));
      }
    }
    const ids = new Map(records.map((r) => [r.headers.get("WARC-Record-ID"), r]));
    for (const request of records.filter((r) => r.type === "request")) {
      const response = ids.get(request.headers.get("WARC-Concurrent-To"));
      assert.equal(response?.type, "response", "every request names its response");
      assert.equal(response?.uri, request.uri);
      assert.equal(request.headers.get("WARC-IP-Address"), "192.0.2.10");
    }
    const page = records.find(
      (r) => r.type === "response" && r.uri === "https://news.example/2026/03/harbour-bridge",
    );
    assert.equal(
      text(page?.block ?? new Uint8Array()),
      [
        "HTTP/2 200 ",
        "content-type: text/html; charset=utf-8",
        "set-cookie: session=abc; Path=/; HttpOnly",
        "set-cookie: region=eu; Path=/",
        "cache-control: max-age=60",
        "last-modified: Tue, 03 Mar 2026 08:00:00 GMT",
        "",
        PAGE_HTML,
      ].join("\r\n"),
    );
    const redirect = records.find((r) => r.type === "response" && r.uri === PAGE_URL);
    assert.match(
      text(redirect?.block ?? new Uint8Array()),
      /^HTTP\/1\.1 301 Moved Permanently\r\nLocation: https:\/\/news\.example\/2026\/03\/harbour-bridge\r\n/,
    );
    const post = records.find((r) => r.type === "request" && r.uri?.endsWith("/api/figures.json"));
    assert.match(
      text(post?.block ?? new Uint8Array()),
      /^POST \/api\/figures\.json HTTP\/1\.1\r\n[\s\S]*\r\n\r\n\{"fields":\["crossings"\]\}$/,
    );
    const revisit = records.find((r) => r.type === "revisit");
    assert.equal(
      revisit?.headers.get("WARC-Profile"),
      "http://netpreserve.org/warc/1.1/revisit/identical-payload-digest",
    );
    assert.equal(revisit?.headers.get("WARC-Refers-To-Target-URI"), "https://news.example/static/site.css");
    const metadata = JSON.parse(text(records.at(-1)?.block ?? new Uint8Array()));
    assert.deepEqual(metadata.hosts[0].addresses, ["192.0.2.10"]);
    assert.equal(metadata.browserVersion, "140.0.7339.0");
    assert.deepEqual(metadata.validity, { verdict: "ok", reason: "An article of 14 words." });
  });

  it("indexes every response and resource in sorted CDXJ whose offsets point at their records", async () => {
    const files = await unzipAll((await built).bytes);
    const warc = files.get("archive/data.warc.gz")?.data ?? new Uint8Array();
    const lines = text(files.get("indexes/index.cdx")?.data ?? new Uint8Array())
      .trimEnd()
      .split("\n");
    assert.deepEqual([...lines].sort(), lines, "lines are sorted");
    const urls = lines.map((l) => JSON.parse(l.slice(l.indexOf(" {") + 1)).url);
    assert.ok(urls.includes("https://news.example/api/figures.json"));
    assert.ok(urls.includes(PAGE_URL));
    for (const line of lines) {
      const entry = JSON.parse(line.slice(line.indexOf(" {") + 1));
      assert.equal(entry.filename, "data.warc.gz");
      const slice = warc.subarray(Number(entry.offset), Number(entry.offset) + Number(entry.length));
      const record = await new WARCParser([slice]).parse();
      assert.equal(record?.warcTargetURI, entry.url);
    }
  });
});

describe("verifyWacz", () => {
  it("accepts the package, and names the key that signed it", async () => {
    const { bytes } = await built;
    const result = await verifyWacz(bytes, { expectedPublicKey: signer.publicKeyDer });
    assert.deepEqual(result.problems, []);
    assert.equal(result.valid, true);
    assert.equal(result.records, 18);
    assert.equal(result.keyFingerprint, sha256(signer.publicKeyDer));
  });

  it("refuses a copy with any one byte changed, and says where", async () => {
    const { bytes } = await built;
    // Every byte of the zip's own structure and of the signed digest file; a sample of the files
    // the hashes cover (any change there changes their sha256), to keep the test short.
    const strideOf = new Map([
      ["datapackage-digest.json", 1],
      ["datapackage.json", 5],
      ["pages/pages.jsonl", 5],
      ["indexes/index.cdx", 7],
      ["archive/data.warc.gz", 61],
    ]);
    const reader = new ZipReader(new Uint8ArrayReader(bytes));
    const regions = (await reader.getEntries()).map((e) => {
      const start = e.offset + 30 + Buffer.byteLength(e.filename);
      return { start, end: start + e.compressedSize, stride: strideOf.get(e.filename) ?? 1 };
    });
    await reader.close();
    let tried = 0;
    for (let at = 0; at < bytes.length; at++) {
      const region = regions.find((r) => at >= r.start && at < r.end);
      if (region && (at - region.start) % region.stride !== 0) continue;
      const copy = new Uint8Array(bytes);
      copy[at] = (copy[at] ?? 0) ^ 0x20;
      const result = await verifyWacz(copy);
      tried++;
      assert.equal(result.valid, false, `a change at byte ${at} of ${bytes.length} went unnoticed`);
      assert.ok(result.problems[0]?.where && result.problems[0].message, `byte ${at}: a reason is given`);
    }
    assert.ok(tried > 1000, `${tried} copies checked`);
  });

  it("names the WARC record whose bytes were changed", async () => {
    const { bytes } = await built;
    const at = Buffer.from(bytes).indexOf("archive/data.warc.gz") + 400;
    const copy = new Uint8Array(bytes);
    copy[at] = (copy[at] ?? 0) ^ 0x01;
    const { problems } = await verifyWacz(copy);
    assert.ok(
      problems.some(
        (p) =>
          p.where === "archive/data.warc.gz" &&
          /sha256 is .* not .* as datapackage\.json says/.test(p.message),
      ),
    );
    assert.ok(
      problems.some(
        (p) =>
          (/^archive\/data\.warc\.gz( record \d+ \(\w+)?/.test(p.where) &&
            p.where !== "archive/data.warc.gz") ||
          /cannot be read past record/.test(p.message),
      ),
      JSON.stringify(problems),
    );
  });

  it("refuses a package whose files were changed and re-hashed without the key, because the signature no longer holds", async () => {
    const input = evidenceInput();
    const forged = buildWacz(
      { ...input, title: "Harbour bridge stays shut" },
      {
        publicKey: signer.publicKey,
        // A forger can hash anything but cannot sign: they reuse the genuine signature.
        sign: async () =>
          Buffer.from(JSON.parse(text(await digestOf((await built).bytes))).signedData.signature, "base64"),
      },
      { version: "0.1.0" },
    );
    const result = await verifyWacz((await forged).bytes);
    assert.equal(result.valid, false);
    assert.deepEqual(result.problems, [
      {
        where: "datapackage-digest.json",
        message: "the signature does not verify with the public key it carries",
      },
    ]);
  });

  it("refuses a package signed by a key other than the expected one", async () => {
    const { bytes } = await built;
    const other = testSigner();
    const result = await verifyWacz(bytes, { expectedPublicKey: other.publicKeyDer });
    assert.equal(result.valid, false);
    assert.match(
      result.problems[0]?.message ?? "",
      /was signed by key sha256:[0-9a-f]{64}, not the expected key sha256:[0-9a-f]{64}/,
    );
  });

  it("refuses a file that is not a zip", async () => {
    const result = await verifyWacz(new TextEncoder().encode("<html>not a package</html>"));
    assert.equal(result.valid, false);
    assert.equal(result.problems[0]?.where, "zip");
  });
});

describe("an exchange kept without its body", () => {
  it("says so on its response record (WARC-Truncated) and still verifies", async () => {
    const input = evidenceInput();
    const image = input.exchanges[3];
    assert.ok(image);
    const truncated = {
      ...image,
      response: { ...image.response, body: new Uint8Array(0) },
      truncated: "length" as const,
    };
    const bytes = (
      await buildWacz(
        { ...input, exchanges: input.exchanges.map((e) => (e === image ? truncated : e)) },
        signer,
        {
          version: "0.1.0",
        },
      )
    ).bytes;
    assert.deepEqual((await verifyWacz(bytes)).problems, []);
    const warc = (await unzipAll(bytes)).get("archive/data.warc.gz")?.data ?? new Uint8Array();
    const marked = new Map<string, string | null>();
    for await (const record of new WARCParser([warc])) {
      if (record.warcType === "response")
        marked.set(record.warcTargetURI ?? "", record.warcHeader("WARC-Truncated") ?? null);
    }
    assert.equal(marked.get(image.url), "length");
    assert.equal([...marked.values()].filter((v) => v !== null).length, 1, "only that record");
  });
});

describe("KMS's DER signatures as WACZ's r‖s", () => {
  it("converts DER to a P1363 signature that verifies, including r or s with leading zero bytes", () => {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    let short = 0;
    for (let i = 0; i < 3000 && short < 2; i++) {
      const message = Buffer.from(`message ${i}`);
      const der = sign("sha256", message, { key: privateKey, dsaEncoding: "der" });
      const raw = derToP1363(der);
      assert.equal(raw.length, 64);
      assert.equal(verify("sha256", message, { key: publicKey, dsaEncoding: "ieee-p1363" }, raw), true);
      // A DER integer under 2^248 is shorter than 32 bytes: r or s must be left-padded.
      if (der.length < 70) short++;
    }
    assert.ok(short >= 1, "a short r or s was met");
  });

  it("refuses bytes that are not a DER signature", () => {
    assert.throws(() => derToP1363(Uint8Array.from([1, 2, 3])), { code: "signing_error" });
  });
});

async function digestOf(bytes: Uint8Array): Promise<Uint8Array> {
  return (await unzipAll(bytes)).get("datapackage-digest.json")?.data ?? new Uint8Array();
}
