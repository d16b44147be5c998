/**
 * The SSRF corpus: URL forms an attacker might submit, each with the guard's expected answer.
 *
 * Names resolve only through the table below (no DNS query leaves the machine) and nothing here
 * opens a connection: the guard must decide from the URL and the resolver's answer alone.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  checkSubmittedUrl,
  parseAllowedPrivateHosts,
  type UrlGuardOptions,
  vetDestination,
} from "../../shared/domain/url.ts";
import { ConfigError, InvalidUrlError } from "../../shared/errors.ts";

const DNS: Record<string, string[]> = {
  "news.example": ["93.184.215.14"],
  "news.example.": ["93.184.215.14"],
  "v6news.example": ["2606:4700::1111"],
  "intranet.example": ["10.0.0.1"],
  "metadata.example": ["169.254.169.254"],
  "mapped-metadata.example": ["::ffff:169.254.169.254"],
  "mixed.example": ["93.184.215.14", "192.168.1.10"],
  "mixed-v6.example": ["2606:4700::1111", "::1"],
  "cgnat.example": ["100.64.0.1"],
  "ula.example": ["fd00:ec2::254"],
  "nat64.example": ["64:ff9b::a9fe:a9fe"],
  "link-local-v6.example": ["fe80::1%eth0"],
  "zoned-public.example": ["2606:4700::1111%eth0"],
  "zero.example": ["0.0.0.0"],
  "multicast.example": ["224.0.0.251"],
  "broadcast.example": ["255.255.255.255"],
  "garbage.example": ["not-an-address"],
  "empty.example": [],
  "loopback.example": ["127.0.0.1"],
};

/** Every name the guard asked about, to check that literals and local names never reach DNS. */
const asked: string[] = [];
const resolveHost = async (host: string): Promise<string[]> => {
  asked.push(host);
  const found = DNS[host];
  if (!found) throw Object.assign(new Error(`ENOTFOUND ${host}`), { code: "ENOTFOUND" });
  return found;
};

const NO_ALLOWLIST: UrlGuardOptions = { resolveHost, allowedPrivateHosts: new Set() };
const ALLOWLIST: UrlGuardOptions = {
  resolveHost,
  allowedPrivateHosts: parseAllowedPrivateHosts("127.0.0.1:8080, [::1]:8443, dev.localhost"),
};

type Expected =
  | "accepted"
  | "invalid_url"
  | "unsupported_scheme"
  | "credentials_in_url"
  | "url_too_long"
  | "port_not_allowed"
  | "private_address"
  | "unresolvable_host";

/** [what the case is, the URL, the expected outcome, the options (no allowlist unless given)]. */
const CORPUS: Array<[string, string, Expected, UrlGuardOptions?]> = [
  // Scheme, credentials, syntax, length
  ["ftp", "ftp://news.example/file", "unsupported_scheme"],
  ["file", "file:///etc/passwd", "unsupported_scheme"],
  ["gopher", "gopher://news.example:70/_", "unsupported_scheme"],
  ["ws", "ws://news.example/socket", "unsupported_scheme"],
  ["data", "data:text/html,<h1>hi</h1>", "unsupported_scheme"],
  ["javascript", "javascript:alert(1)", "unsupported_scheme"],
  ["user and password", "https://user:pw@news.example/", "credentials_in_url"],
  ["user only", "https://user@news.example/", "credentials_in_url"],
  ["password only", "http://:pw@news.example/", "credentials_in_url"],
  ["credentials that look like a host", "http://127.0.0.1:80@news.example/", "credentials_in_url"],
  ["2,049 characters", `http://news.example/${"a".repeat(2029)}`, "url_too_long"],
  ["short input, long once percent-encoded", `http://news.example/${"é".repeat(400)}`, "url_too_long"],
  ["IPv6 zone id", "http://[fe80::1%25eth0]/", "invalid_url"],
  ["NUL in the host", "http://127.0.0.1%00.news.example/", "invalid_url"],
  ["five-part dotted number", "http://1.2.3.4.5/", "invalid_url"],
  ["port out of range", "http://news.example:65536/", "invalid_url"],

  // Ports
  ["SSH port", "http://news.example:22/", "port_not_allowed"],
  ["SMTP port over https", "https://news.example:25/", "port_not_allowed"],
  ["port 0", "http://news.example:0/", "port_not_allowed"],
  ["port 1023", "http://news.example:1023/", "port_not_allowed"],
  ["X11 port (restricted in browsers)", "http://news.example:6000/", "port_not_allowed"],
  ["port 8080", "http://news.example:8080/story", "accepted"],
  ["explicit 443", "https://news.example:443/story", "accepted"],
  ["https on 80", "https://news.example:80/story", "accepted"],

  // Loopback in every spelling the WHATWG parser folds to 127.0.0.1
  ["dotted", "http://127.0.0.1/", "private_address"],
  ["decimal", "http://2130706433/", "private_address"],
  ["hex", "http://0x7f000001/", "private_address"],
  ["octal", "http://0177.0.0.1/", "private_address"],
  ["mixed-case hex octets", "http://0X7F.0x0.0X0.0x1/", "private_address"],
  ["zero-padded octets", "HTTP://127.000.000.001/", "private_address"],
  ["short form", "http://127.1/", "private_address"],
  ["trailing dot", "http://127.0.0.1./", "private_address"],
  ["fullwidth digits and dots", "http://１２７．０．０．１/", "private_address"],
  ["ideographic full stops", "http://127。0。0。1/", "private_address"],
  ["circled digits", "http://①②⑦.0.0.1/", "private_address"],
  ["percent-encoded host", "http://%31%32%37.0.0.1/", "private_address"],
  ["percent-encoded dot", "http://127.0.0.1%2e/", "private_address"],
  ["backslash after the scheme", "http:/\\127.0.0.1/", "private_address"],
  ["no slashes", "http:127.0.0.1", "private_address"],
  ["surrounding whitespace", "  http://127.0.0.1/  ", "private_address"],
  ["tab inside", "http://127.0.0.1\t/", "private_address"],
  ["IPv6 loopback", "http://[::1]/", "private_address"],
  ["IPv6 loopback, long form", "http://[0:0:0:0:0:0:0:1]/", "private_address"],
  ["IPv4-mapped loopback", "http://[::ffff:127.0.0.1]/", "private_address"],
  ["IPv4-compatible loopback", "http://[::127.0.0.1]/", "private_address"],
  ["6to4 of loopback", "http://[2002:7f00:1::]/", "private_address"],

  // Cloud metadata (169.254.169.254 and its IPv6 twin), never contacted
  ["metadata", "http://169.254.169.254/latest/meta-data/", "private_address"],
  ["metadata, decimal", "http://2852039166/", "private_address"],
  ["metadata, hex", "http://0xa9fea9fe/", "private_address"],
  ["metadata, hex octets", "http://0xa9.0xfe.0xa9.0xfe/", "private_address"],
  ["metadata, octal", "http://0251.0376.0251.0376/", "private_address"],
  ["metadata, short form", "http://169.254.43518/", "private_address"],
  ["metadata, IPv4-mapped", "http://[::ffff:169.254.169.254]/", "private_address"],
  ["metadata, IPv4-mapped hex", "http://[::ffff:a9fe:a9fe]/", "private_address"],
  ["metadata, NAT64", "http://[64:ff9b::169.254.169.254]/", "private_address"],
  ["AWS IPv6 metadata (unique-local)", "http://[fd00:ec2::254]/", "private_address"],
  ["GCP metadata name", "http://metadata.google.internal/computeMetadata/v1/", "private_address"],
  ["name resolving to metadata", "http://metadata.example/", "private_address"],
  ["name resolving to mapped metadata", "http://mapped-metadata.example/", "private_address"],
  ["name resolving to NAT64 metadata", "http://nat64.example/", "private_address"],

  // Private, shared, unspecified, multicast, reserved
  ["10/8", "http://10.0.0.1/", "private_address"],
  ["10/8 in octal", "http://012.0.0.1/", "private_address"],
  ["172.16/12", "http://172.31.255.254/", "private_address"],
  ["192.168/16", "http://192.168.1.1/", "private_address"],
  ["CGNAT 100.64/10", "http://100.64.0.1/", "private_address"],
  ["CGNAT upper end", "http://100.127.255.255/", "private_address"],
  ["0.0.0.0", "http://0.0.0.0/", "private_address"],
  ["0", "http://0/", "private_address"],
  ["IPv6 unspecified", "http://[::]/", "private_address"],
  ["IPv6 link-local", "http://[fe80::1]/", "private_address"],
  ["IPv6 unique-local", "http://[fc00::1]/", "private_address"],
  ["Teredo", "http://[2001:0:4136:e378:8000:63bf:3fff:fdd2]/", "private_address"],
  ["multicast", "http://224.0.0.1/", "private_address"],
  ["IPv6 multicast", "http://[ff02::1]/", "private_address"],
  ["broadcast", "http://255.255.255.255/", "private_address"],
  ["reserved 240/4", "http://240.0.0.1/", "private_address"],
  ["documentation 192.0.2/24", "http://192.0.2.1/", "private_address"],
  ["benchmarking 198.18/15", "http://198.18.0.1/", "private_address"],
  ["IETF 192.0.0/24", "http://192.0.0.170/", "private_address"],

  // Names
  ["localhost", "http://localhost/", "private_address"],
  ["LOCALHOST with a trailing dot", "http://LOCALHOST./", "private_address"],
  ["localhost in enclosed letters", "http://ⓛⓞⓒⓐⓛⓗⓞⓢⓣ/", "private_address"],
  ["localhost percent-encoded", "http://loc%61lhost/", "private_address"],
  ["subdomain of localhost", "http://api.localhost/", "private_address"],
  ["mDNS .local", "http://printer.local/", "private_address"],
  ["home.arpa", "http://router.home.arpa/", "private_address"],
  ["name → 10.0.0.1", "http://intranet.example/", "private_address"],
  ["name → public and private", "http://mixed.example/", "private_address"],
  ["name → public and ::1", "http://mixed-v6.example/", "private_address"],
  ["name → CGNAT", "http://cgnat.example/", "private_address"],
  ["name → unique-local", "http://ula.example/", "private_address"],
  ["name → link-local with zone", "http://link-local-v6.example/", "private_address"],
  ["name → public with a zone id", "http://zoned-public.example/", "private_address"],
  ["name → 0.0.0.0", "http://zero.example/", "private_address"],
  ["name → multicast", "http://multicast.example/", "private_address"],
  ["name → broadcast", "http://broadcast.example/", "private_address"],
  ["name → not an address", "http://garbage.example/", "private_address"],
  ["name → loopback", "http://loopback.example/", "private_address"],
  ["name with no addresses", "http://empty.example/", "unresolvable_host"],
  ["unknown name", "http://no-such-host.example/", "unresolvable_host"],

  // Public: accepted
  ["public name", "https://news.example/story", "accepted"],
  ["public name, mixed case", "HTTPS://NEWS.Example/story", "accepted"],
  ["public name, trailing dot", "http://news.example./story", "accepted"],
  ["public IPv6 name", "http://v6news.example/", "accepted"],
  ["public IPv4 literal", "http://93.184.215.14/", "accepted"],
  ["public IPv4 literal in hex", "http://0x5d.0xb8.0xd7.0x0e/", "accepted"],
  ["public IPv6 literal", "http://[2606:4700::1111]/", "accepted"],
  ["fragment that looks like a host", "http://news.example#@127.0.0.1/", "accepted"],
  ["backslash-at that looks like a host", "http://news.example\\@127.0.0.1/", "accepted"],

  // ALLOW_PRIVATE_HOSTS = "127.0.0.1:8080, [::1]:8443, dev.localhost"
  ["allowlisted host:port", "http://127.0.0.1:8080/a", "accepted", ALLOWLIST],
  ["allowlisted host:port, decimal spelling", "http://2130706433:8080/a", "accepted", ALLOWLIST],
  ["allowlisted host, other port", "http://127.0.0.1:8081/a", "private_address", ALLOWLIST],
  ["allowlisted IPv6 host:port", "http://[0:0::1]:8443/", "accepted", ALLOWLIST],
  ["allowlisted IPv6 host, other port", "http://[::1]:8444/", "private_address", ALLOWLIST],
  ["allowlisted name, any port", "http://dev.localhost:3000/", "accepted", ALLOWLIST],
  ["allowlisted name, low port", "http://dev.localhost:22/", "accepted", ALLOWLIST],
  ["name → allowlisted address:port", "http://loopback.example:8080/", "accepted", ALLOWLIST],
  ["name → allowlisted address, other port", "http://loopback.example:8081/", "private_address", ALLOWLIST],
  ["metadata despite an allowlist", "http://169.254.169.254:8080/", "private_address", ALLOWLIST],
];

async function outcomeOf(url: string, options: UrlGuardOptions): Promise<string> {
  try {
    await checkSubmittedUrl(url, options);
    return "accepted";
  } catch (err) {
    assert.ok(err instanceof InvalidUrlError, `expected InvalidUrlError, got ${String(err)}`);
    assert.ok(err.status < 500);
    return err.code;
  }
}

describe("SSRF corpus", () => {
  it(`has at least 40 URL forms (${CORPUS.length})`, () => {
    assert.ok(CORPUS.length >= 40);
  });

  for (const [name, url, expected, options] of CORPUS) {
    it(`${name}: ${JSON.stringify(url).slice(0, 80)} → ${expected}`, async () => {
      assert.equal(await outcomeOf(url, options ?? NO_ALLOWLIST), expected);
    });
  }

  it("sends only names to the resolver: never a literal, never a local-only name", () => {
    for (const host of asked) {
      assert.ok(Object.hasOwn(DNS, host) || host === "no-such-host.example", `asked about ${host}`);
    }
  });
});

describe("vetDestination", () => {
  it("returns the addresses it checked, so a caller connects to nothing else", async () => {
    const verdict = await vetDestination({ hostname: "mixed-v6.example", port: 443 }, NO_ALLOWLIST);
    assert.equal(verdict.allowed, false);
    const ok = await vetDestination({ hostname: "v6news.example", port: 443 }, NO_ALLOWLIST);
    assert.deepEqual(ok, { allowed: true, addresses: ["2606:4700::1111"] });
  });

  it("resolves once per decision", async () => {
    let calls = 0;
    const flipping = async () => (++calls === 1 ? ["93.184.215.14"] : ["169.254.169.254"]);
    const verdict = await vetDestination(
      { hostname: "rebinding.example", port: 80 },
      { resolveHost: flipping, allowedPrivateHosts: new Set() },
    );
    assert.deepEqual(verdict, { allowed: true, addresses: ["93.184.215.14"] });
    assert.equal(calls, 1);
  });
});

describe("parseAllowedPrivateHosts", () => {
  it("canonicalises entries like URLs do", () => {
    assert.deepEqual(
      [...parseAllowedPrivateHosts(" LOCALHOST , 0x7f.1:8080,[0:0::1]:3000, example.test.:80 ,")],
      ["localhost", "127.0.0.1:8080", "[::1]:3000", "example.test:80"],
    );
  });

  it("throws on malformed entries instead of guessing", () => {
    for (const raw of ["::1", "host:port", "host:0", "host:70000", "http://host", "[::1"]) {
      assert.throws(() => parseAllowedPrivateHosts(raw), ConfigError, raw);
    }
  });
});
