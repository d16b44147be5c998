import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  closestMemento,
  formatHttpDate,
  formatMementoTimestamp,
  linkFormat,
  linkHeader,
  originalUrlCandidates,
  parseHttpDate,
  parseMementoTimestamp,
} from "../../shared/domain/memento.ts";
import { InvalidUrlError } from "../../shared/errors.ts";

describe("Memento dates", () => {
  it("formats and parses RFC 1123 dates, and refuses anything else", () => {
    const date = new Date("2026-03-02T09:40:05Z");
    assert.equal(formatHttpDate(date), "Mon, 02 Mar 2026 09:40:05 GMT");
    assert.deepEqual(parseHttpDate("Mon, 02 Mar 2026 09:40:05 GMT"), date);
    assert.deepEqual(parseHttpDate("02 Mar 2026 09:40:05 GMT"), date, "the weekday is optional");
    assert.deepEqual(parseHttpDate("  Thu, 02 mar 2026 09:40:05 GMT "), date, "a wrong weekday is tolerated");
    for (const bad of [
      "2026-03-02T09:40:05Z",
      "Mon, 02 Mar 2026 09:40:05 +0100",
      "Mon, 31 Feb 2026 09:40:05 GMT",
      "Mon, 02 Foo 2026 09:40:05 GMT",
      "yesterday",
      "",
    ]) {
      assert.equal(parseHttpDate(bad), null, bad);
    }
  });

  it("formats and parses 14-digit memento timestamps, and Wayback's partial ones on request", () => {
    const date = new Date("2026-03-02T09:40:05.987Z");
    assert.equal(formatMementoTimestamp(date), "20260302094005");
    assert.deepEqual(parseMementoTimestamp("20260302094005"), new Date("2026-03-02T09:40:05Z"));
    assert.equal(parseMementoTimestamp("2026"), null, "partial only when asked");
    assert.deepEqual(parseMementoTimestamp("2026", { partial: true }), new Date("2026-01-01T00:00:00Z"));
    assert.deepEqual(parseMementoTimestamp("20260315", { partial: true }), new Date("2026-03-15T00:00:00Z"));
    assert.equal(parseMementoTimestamp("20261302094005"), null, "month 13");
    assert.equal(parseMementoTimestamp("2026030209400x"), null);
    assert.equal(parseMementoTimestamp("202603020940051"), null);
  });

  it("chooses the closest memento, the earlier one on a tie", () => {
    const at = (iso: string) => ({ datetime: new Date(iso), id: iso });
    const mementos = [at("2026-03-02T10:00:00Z"), at("2026-03-02T12:00:00Z"), at("2026-03-02T08:00:00Z")];
    assert.equal(closestMemento(mementos, new Date("2000-01-01T00:00:00Z"))?.id, "2026-03-02T08:00:00Z");
    assert.equal(closestMemento(mementos, new Date("2026-03-02T10:59:00Z"))?.id, "2026-03-02T10:00:00Z");
    assert.equal(closestMemento(mementos, new Date("2026-03-02T11:00:00Z"))?.id, "2026-03-02T10:00:00Z");
    assert.equal(closestMemento(mementos, new Date("2099-01-01T00:00:00Z"))?.id, "2026-03-02T12:00:00Z");
    assert.equal(closestMemento([], new Date()), null);
  });
});

describe("link-format", () => {
  it("serialises links with quoted parameters and merges rels of the same URI", () => {
    const first = new Date("2026-03-02T08:00:00Z");
    const links = [
      { uri: "https://news.example/a", rel: "original" },
      {
        uri: "http://archive.example/timemap/link/https://news.example/a",
        rel: "self",
        type: "application/link-format",
        from: first,
        until: first,
      },
      {
        uri: "http://archive.example/memento/20260302080000/https://news.example/a",
        rel: "memento",
        datetime: first,
      },
      {
        uri: "http://archive.example/memento/20260302080000/https://news.example/a",
        rel: "first memento",
        datetime: first,
      },
      {
        uri: "http://archive.example/memento/20260302080000/https://news.example/a",
        rel: "last memento",
        datetime: first,
      },
    ];
    assert.equal(
      linkFormat(links),
      [
        '<https://news.example/a>; rel="original",',
        '<http://archive.example/timemap/link/https://news.example/a>; rel="self"; type="application/link-format"; from="Mon, 02 Mar 2026 08:00:00 GMT"; until="Mon, 02 Mar 2026 08:00:00 GMT",',
        '<http://archive.example/memento/20260302080000/https://news.example/a>; rel="first last memento"; datetime="Mon, 02 Mar 2026 08:00:00 GMT"',
        "",
      ].join("\n"),
    );
    assert.equal(
      linkHeader([{ uri: "https://news.example/<a>", rel: "original" }]),
      '<https://news.example/%3Ca%3E>; rel="original"',
      "angle brackets cannot break out of the URI",
    );
  });
});

describe("original URL in a Memento path", () => {
  const expected = "https://news.example/story?a=1&b=2";
  it("undoes what clients and proxies do to it", () => {
    assert.deepEqual(originalUrlCandidates("https://news.example/story?b=2&a=1", []), [expected]);
    assert.deepEqual(
      originalUrlCandidates("https:/news.example/story", [
        ["b", "2"],
        ["a", "1"],
      ]),
      [expected],
    );
    assert.deepEqual(originalUrlCandidates("https%3A%2F%2Fnews.example%2Fstory%3Fa%3D1%26b%3D2", []), [
      expected,
    ]);
    assert.deepEqual(
      originalUrlCandidates("HTTPS://News.Example/story", [
        ["a", "1"],
        ["b", "2"],
        ["utm_source", "x"],
      ]),
      [expected],
    );
  });

  it("tries https then http for a URL without a scheme, including host:port", () => {
    assert.deepEqual(originalUrlCandidates("news.example/story", []), [
      "https://news.example/story",
      "http://news.example/story",
    ]);
    assert.deepEqual(originalUrlCandidates("127.0.0.1:8080/a", []), [
      "https://127.0.0.1:8080/a",
      "http://127.0.0.1:8080/a",
    ]);
  });

  it("refuses what cannot be an archived URL", () => {
    assert.throws(() => originalUrlCandidates("javascript:alert(1)", []), InvalidUrlError);
    assert.throws(() => originalUrlCandidates("https%3A%E0%A4%A", []), InvalidUrlError);
    assert.throws(() => originalUrlCandidates("https://", []), InvalidUrlError);
  });
});
