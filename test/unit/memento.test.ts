import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  closestMemento,
  formatHttpDate,
  formatMementoTimestamp,
  linkFormat,
  linkHeader,
  mementoInPeriod,
  mementoTimestampPeriod,
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

  it("pads a partial timestamp's missing digits as low as they go: 20261 is October, 2026021 the 10th", () => {
    assert.deepEqual(parseMementoTimestamp("20261", { partial: true }), new Date("2026-10-01T00:00:00Z"));
    assert.deepEqual(parseMementoTimestamp("2026021", { partial: true }), new Date("2026-02-10T00:00:00Z"));
    assert.deepEqual(parseMementoTimestamp("20260", { partial: true }), new Date("2026-01-01T00:00:00Z"));
    assert.equal(parseMementoTimestamp("202600", { partial: true }), null, "an explicit month 00");
  });

  it("reads a partial timestamp as the period it names, from its first second to its last", () => {
    const period = (ts: string) => {
      const p = mementoTimestampPeriod(ts);
      return p && [p.start.toISOString(), p.end.toISOString()];
    };
    assert.deepEqual(period("2026"), ["2026-01-01T00:00:00.000Z", "2026-12-31T23:59:59.000Z"]);
    assert.deepEqual(period("202602"), ["2026-02-01T00:00:00.000Z", "2026-02-28T23:59:59.000Z"]);
    assert.deepEqual(period("2026022"), ["2026-02-20T00:00:00.000Z", "2026-02-28T23:59:59.000Z"]);
    assert.deepEqual(period("20260"), ["2026-01-01T00:00:00.000Z", "2026-09-30T23:59:59.000Z"]);
    assert.deepEqual(period("2026030209"), ["2026-03-02T09:00:00.000Z", "2026-03-02T09:59:59.000Z"]);
    assert.deepEqual(period("20260302094005"), ["2026-03-02T09:40:05.000Z", "2026-03-02T09:40:05.000Z"]);
    for (const bad of ["202", "202613", "2026023", "20260230", "202603020940051", "2026-03"]) {
      assert.equal(mementoTimestampPeriod(bad), null, bad);
    }
  });

  it("a period leads to its latest memento, else to the nearest outside it", () => {
    const at = (iso: string) => ({ datetime: new Date(iso), id: iso });
    const mementos = [at("2026-03-02T10:00:00Z"), at("2026-03-02T11:00:01Z"), at("2026-03-02T12:30:00Z")];
    const pick = (ts: string) => mementoInPeriod(mementos, mementoTimestampPeriod(ts) ?? assert.fail(ts))?.id;
    assert.equal(
      pick("2026030210"),
      "2026-03-02T10:00:00Z",
      "inside the hour, though 11:00:01 is nearer its end",
    );
    assert.equal(pick("20260302"), "2026-03-02T12:30:00Z");
    assert.equal(pick("2026030211"), "2026-03-02T11:00:01Z");
    assert.equal(pick("2025"), "2026-03-02T10:00:00Z");
    assert.equal(pick("20260302115"), "2026-03-02T12:30:00Z", "11:50–11:59: 12:30 is nearer than 11:00:01");
    assert.equal(mementoInPeriod([], { start: new Date(0), end: new Date(0) }), null);
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
