/**
 * The API logs through the logger it was composed with, at the configured level: the JSON routes'
 * errors and the web UI's error pages alike. The web UI used to log through a process-wide logger
 * created at import (at "info", whatever LOG_LEVEL said), which also cost every cold start.
 */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from "aws-lambda";
import { createApiHandler } from "../../functions/api/create-handler.ts";
import { parseAllowedPrivateHosts } from "../../shared/domain/url.ts";
import type { LogFields, Logger } from "../../shared/logger.ts";
import type { ArchiveRepository, BlobReader } from "../../shared/ports.ts";
import { apiEvent } from "../support/api-event.ts";

interface Line {
  level: string;
  msg: string;
  fields: LogFields;
}

/** A logger that keeps its lines, children's included, with the keys they inherit. */
function recordingLogger(lines: Line[], base: LogFields = {}): Logger {
  const write =
    (level: string) =>
    (msg: string, fields: LogFields = {}) => {
      lines.push({ level, msg, fields: { ...base, ...fields } });
    };
  return {
    level: "debug",
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
    child: (fields) => recordingLogger(lines, { ...base, ...fields }),
  };
}

/** A repository whose every read fails, as a table that has gone away would. */
const brokenRepository = new Proxy({} as ArchiveRepository, {
  get: () => async () => {
    throw new Error("table unavailable");
  },
});

const noBlobs = new Proxy({} as BlobReader, {
  get: () => async () => {
    throw new Error("no blobs in this test");
  },
});

function get(path: string): APIGatewayProxyEvent {
  return apiEvent({ path, requestContext: { requestId: "req-logging" } });
}

const context = { awsRequestId: "test", getRemainingTimeInMillis: () => 30_000 } as unknown as Context;

describe("API logging", () => {
  it("logs a failed web UI page through the composed logger", async () => {
    // Arrange
    const lines: Line[] = [];
    const api = createApiHandler({
      repository: brokenRepository,
      blobs: noBlobs,
      queue: { enqueue: async () => undefined },
      presignedUrlTtlSeconds: 900,
      // No request here reaches the URL guard: nothing to resolve, nothing private allowed.
      resolveHost: async () => [],
      allowedPrivateHosts: parseAllowedPrivateHosts(""),
      logger: recordingLogger(lines),
    });
    // Act
    const res = (await api(get("/"), context)) as APIGatewayProxyResult;
    // Assert
    assert.equal(res.statusCode, 500);
    assert.doesNotMatch(res.body, /table unavailable/, "a 500 page never shows the internal message");
    const logged = lines.find((line) => line.msg === "web UI page failed");
    assert.ok(logged, `the composed logger got: ${JSON.stringify(lines.map((l) => l.msg))}`);
    assert.equal(logged.level, "error");
    assert.equal(logged.fields.part, "web-ui");
    assert.match(String((logged.fields.err as Error).message), /table unavailable/);
  });

  it("logs a failed JSON route through the composed logger", async () => {
    // Arrange
    const lines: Line[] = [];
    const api = createApiHandler({
      repository: brokenRepository,
      blobs: noBlobs,
      queue: { enqueue: async () => undefined },
      presignedUrlTtlSeconds: 900,
      // No request here reaches the URL guard: nothing to resolve, nothing private allowed.
      resolveHost: async () => [],
      allowedPrivateHosts: parseAllowedPrivateHosts(""),
      logger: recordingLogger(lines),
    });
    // Act
    const res = (await api(get("/v1/captures/cap_missing"), context)) as APIGatewayProxyResult;
    // Assert
    assert.equal(res.statusCode, 500);
    assert.ok(
      lines.some((line) => line.level === "error" && line.fields.fn === "api"),
      `the composed logger got: ${JSON.stringify(lines)}`,
    );
  });
});
