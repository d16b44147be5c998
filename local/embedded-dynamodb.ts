/**
 * A DynamoDB-compatible server (dynalite) in this process, persisted in LevelDB under a directory,
 * with the archive table created from the same schema the CDK construct uses.
 */
import { mkdir } from "node:fs/promises";
import type { AddressInfo } from "node:net";
import { CreateTableCommand, DescribeTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
import dynalite from "dynalite";
import { TABLE_INDEXES, TABLE_KEY } from "../shared/adapters/table-schema.ts";

export interface EmbeddedDynamo {
  endpoint: string;
  close(): Promise<void>;
}

export async function startEmbeddedDynamo(options: {
  directory: string;
  port?: number;
}): Promise<EmbeddedDynamo> {
  await mkdir(options.directory, { recursive: true });
  // dynalite simulates table creation delays by default; locally there is nothing to wait for.
  const server = dynalite({ path: options.directory, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err?: Error) => (err ? reject(err) : resolve()));
      }),
  };
}

/** Most time a table (and its indexes) may take to become active once created. */
const TABLE_ACTIVE_TIMEOUT_MS = 10_000;

/**
 * Creates the archive table unless it exists (data survives restarts), and returns once it and its
 * indexes are active: dynalite answers "not found" to reads and writes of a table it is still
 * creating, which it does on a timer of its own, so a busy machine could otherwise see the first
 * write fail.
 */
export async function ensureArchiveTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
  } catch (err) {
    if ((err as { name?: string }).name !== "ResourceNotFoundException") throw err;
    await createArchiveTable(client, tableName);
  }
  const deadline = Date.now() + TABLE_ACTIVE_TIMEOUT_MS;
  for (;;) {
    const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const active =
      table?.TableStatus === "ACTIVE" &&
      (table.GlobalSecondaryIndexes ?? []).every((index) => index.IndexStatus === "ACTIVE");
    if (active) return;
    if (Date.now() > deadline) {
      throw new Error(`The table ${tableName} is still ${table?.TableStatus ?? "unknown"} after creation.`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function createArchiveTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const attributes = new Set<string>([TABLE_KEY.partitionKey, TABLE_KEY.sortKey]);
  for (const index of TABLE_INDEXES) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: "S" })),
      KeySchema: [
        { AttributeName: TABLE_KEY.partitionKey, KeyType: "HASH" },
        { AttributeName: TABLE_KEY.sortKey, KeyType: "RANGE" },
      ],
      GlobalSecondaryIndexes: TABLE_INDEXES.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: "HASH" },
          { AttributeName: index.sortKey, KeyType: "RANGE" },
        ],
        Projection:
          "include" in index
            ? { ProjectionType: "INCLUDE", NonKeyAttributes: [...index.include] }
            : { ProjectionType: "ALL" },
      })),
    }),
  );
}
