import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { isPublicAddress } from "../../shared/domain/ip-address.ts";
import {
  checkSubmittedUrl,
  normaliseUrl,
  parseAllowedPrivateHosts,
  type UrlGuardOptions,
} from "../../shared/domain/url.ts";
import { InvalidUrlError } from "../../shared/errors.ts";

describe("normaliseUrl", () => {
  const cases: Array<[string, string]> = [
    ["HTTPS://Example.COM/News/Story", "https://example.com/News/Story"],
    ["http://example.com:80/a", "http://example.com/a"],
    ["https://example.com:443/a", "https://example.com/a"],
    ["https://example.com:8443/a", "https://example.com:8443/a"],
    ["https://example.com/a#comments", "https://example.com/a"],
    ["https://example.com", "https://example.com/"],
    ["https://example.com./a", "https://example.com/a"],
    ["https://example.com/a?utm_source=x&id=7&UTM_Medium=y&fbclid=abc&gclid=z", "https://example.com/a?id=7"],
    ["https://example.com/a?b=2&a=1&b=1", "https://example.com/a?a=1&b=2&b=1"],
    ["https://example.com/a?utm_campaign=only", "https://example.com/a"],
    ["https://EXAMPLE.com/%7Euser/", "https://example.com/~user/"],
    ["https://bücher.example/", "https://xn--bcher-kva.example/"],
  ];
  for (const [input, expected] of cases) {
    it(`${input} → ${expected}`, () => {
      assert.equal(normaliseUrl(input), expected);
    });
  }

  it("is idempotent", () => {
    for (const [input] of cases) assert.equal(normaliseUrl(normaliseUrl(input)), normaliseUrl(input));
  });
});

describe("checkSubmittedUrl", () => {
  const publicResolver = async () => ["93.184.215.14"];
  const options: UrlGuardOptions = { resolveHost: publicResolver, allowedPrivateHosts: new Set<string>() };

  async function codeOf(input: unknown, opts = options): Promise<string> {
    try {
      await checkSubmittedUrl(input, opts);
      return "accepted";
    } catch (err) {
      assert.ok(err instanceof InvalidUrlError, `expected InvalidUrlError, got ${String(err)}`);
      return err.code;
    }
  }

  it("says which ALLOW_PRIVATE_HOSTS entry would let a refused private host:port through", async () => {
    const cases: Array<[string, string]> = [
      ["http://127.0.0.1:8080/a.html", "127.0.0.1:8080"],
      ["http://192.168.1.20/", "192.168.1.20:80"],
      ["http://[::1]:3001/", "[::1]:3001"],
      ["http://printer.local:8080/", "printer.local:8080"],
    ];
    for (const [input, entry] of cases) {
      const refusal = await checkSubmittedUrl(input, options).then(
        () => assert.fail(`${input} was accepted`),
        (err: unknown) => err as InvalidUrlError,
      );
      assert.equal(refusal.code, "private_address");
      assert.ok(refusal.message.includes(`ALLOW_PRIVATE_HOSTS=${entry}`), refusal.message);
    }
  });

  it("accepts a public http(s) URL", async () => {
    assert.equal(await codeOf("https://news.example/story"), "accepted");
  });

  it("refuses each kind of bad URL with its own code", async () => {
    assert.equal(await codeOf(42), "invalid_url");
    assert.equal(await codeOf(""), "invalid_url");
    assert.equal(await codeOf("not a url"), "invalid_url");
    assert.equal(await codeOf("ftp://example.com/file"), "unsupported_scheme");
    assert.equal(await codeOf("javascript:alert(1)"), "unsupported_scheme");
    assert.equal(await codeOf("file:///etc/passwd"), "unsupported_scheme");
    assert.equal(await codeOf("https://user:pw@example.com/"), "credentials_in_url");
    assert.equal(await codeOf("https://user@example.com/"), "credentials_in_url");
    assert.equal(await codeOf(`https://example.com/${"a".repeat(2048)}`), "url_too_long");
  });

  it("refuses hosts that resolve to non-public addresses", async () => {
    const to = (address: string) => ({ ...options, resolveHost: async () => [address] });
    for (const address of [
      "127.0.0.1",
      "10.1.2.3",
      "169.254.169.254",
      "100.64.0.1",
      "::1",
      "fd00::1",
      "::ffff:127.0.0.1",
    ]) {
      assert.equal(await codeOf("https://sneaky.example/", to(address)), "private_address", address);
    }
    const mixed = { ...options, resolveHost: async () => ["93.184.215.14", "192.168.1.1"] };
    assert.equal(await codeOf("https://sneaky.example/", mixed), "private_address");
  });

  it("refuses IP literals in their odd spellings without needing DNS", async () => {
    const literalOnly = {
      ...options,
      resolveHost: async (host: string) => {
        assert.match(host, /^[\d.:a-f]+$/i, "only literals reach the resolver here");
        return [host];
      },
    };
    for (const url of [
      "http://127.0.0.1/",
      "http://2130706433/",
      "http://0x7f.0.0.1/",
      "http://0177.0.0.1/",
      "http://127.1/",
      "http://[::1]/",
      "http://[::ffff:7f00:1]/",
      "http://0.0.0.0/",
      "http://[::]/",
      "http://169.254.169.254/latest/meta-data/",
    ]) {
      assert.equal(await codeOf(url, literalOnly), "private_address", url);
    }
  });

  it("reports a host that does not resolve", async () => {
    const failing = {
      ...options,
      resolveHost: async () => {
        throw Object.assign(new Error("ENOTFOUND"), { code: "ENOTFOUND" });
      },
    };
    assert.equal(await codeOf("https://no-such-host.example/", failing), "unresolvable_host");
  });

  it("lets ALLOW_PRIVATE_HOSTS entries through, by host:port or by host", async () => {
    const loopback = {
      resolveHost: async () => ["127.0.0.1"],
      allowedPrivateHosts: parseAllowedPrivateHosts("127.0.0.1:8080, LOCALHOST"),
    };
    assert.equal(await codeOf("http://127.0.0.1:8080/a", loopback), "accepted");
    assert.equal(await codeOf("http://127.0.0.1:8081/a", loopback), "private_address");
    assert.equal(await codeOf("http://localhost:9999/a", loopback), "accepted");
  });
});

describe("isPublicAddress", () => {
  it("accepts global unicast and refuses everything else", () => {
    for (const address of ["8.8.8.8", "93.184.215.14", "2606:4700::1111", "2a00:1450:4001::1"]) {
      assert.equal(isPublicAddress(address), true, address);
    }
    for (const address of [
      "0.0.0.0",
      "10.0.0.1",
      "100.127.255.255",
      "127.0.0.1",
      "169.254.0.1",
      "172.31.0.1",
      "192.0.2.1",
      "192.168.0.1",
      "198.18.0.1",
      "224.0.0.1",
      "240.0.0.1",
      "255.255.255.255",
      "::",
      "::1",
      "::ffff:8.8.8.8",
      "64:ff9b::808:808",
      "fe80::1",
      "fc00::1",
      "ff02::1",
      "2001:db8::1",
      "2002:7f00:1::",
      "not-an-ip",
    ]) {
      assert.equal(isPublicAddress(address), false, address);
    }
  });
});
