/**
 * Noise rules in the archive's table (see table-schema.ts): a URL's own under `URL#<urlId>` /
 * `NOISE`, a source's under `SOURCE#<sourceId>` / `NOISE`, and a source's rules as they apply to
 * each URL it found under `URL#<urlId>` / `NOISE#SOURCE#<sourceId>`, so that a capture reads every
 * rule in force for its URL with one query of the URL's partition.
 */
import { type DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import {
  type EffectiveNoiseRules,
  hasNoiseRules,
  mergeNoiseRules,
  type NoiseRules,
} from "../domain/extract/noise-rules.ts";
import type { ArchiveRepository, NoiseRuleScope } from "../ports.ts";

type NoiseRuleMethods = Required<
  Pick<ArchiveRepository, "getNoiseRules" | "putNoiseRules" | "noiseRulesForUrl" | "applySourceNoiseRules">
>;

const OWN = "NOISE";
const FROM_SOURCE = "NOISE#SOURCE#";

function ownKey(scope: NoiseRuleScope, id: string): { PK: string; SK: string } {
  return { PK: `${scope === "url" ? "URL" : "SOURCE"}#${id}`, SK: OWN };
}

/** Only the rule fields, whatever else an item carries; an item of no rules (cleared) is none. */
function rulesOf(item: Record<string, unknown> | undefined): NoiseRules | null {
  if (item === undefined) return null;
  const selectors = Array.isArray(item.dropSelectors) ? (item.dropSelectors as unknown[]) : [];
  const rules = {
    dropSelectors: selectors.filter((s): s is string => typeof s === "string"),
    minChangedWords: typeof item.minChangedWords === "number" ? item.minChangedWords : 0,
  };
  return hasNoiseRules(rules) ? rules : null;
}

/** The noise-rule methods of the DynamoDB archive repository. */
export function dynamoNoiseRuleMethods(deps: {
  client: DynamoDBDocumentClient;
  tableName: string;
}): NoiseRuleMethods {
  const { client, tableName: TableName } = deps;

  // Cleared rules are written as an item of none, not deleted: the API's role may delete no item
  // under a URL's key (its versions live there), only a source's own (infra: API_TABLE_ACCESS).
  async function write(key: { PK: string; SK: string }, rules: NoiseRules | null): Promise<void> {
    const kept = hasNoiseRules(rules) ? rules : { dropSelectors: [], minChangedWords: 0 };
    await client.send(
      new PutCommand({
        TableName,
        Item: {
          ...key,
          entity: "noiseRules",
          dropSelectors: kept.dropSelectors,
          minChangedWords: kept.minChangedWords,
        },
      }),
    );
  }

  return {
    async getNoiseRules(scope, id) {
      const out = await client.send(
        new GetCommand({ TableName, Key: ownKey(scope, id), ConsistentRead: true }),
      );
      return rulesOf(out.Item);
    },

    async putNoiseRules(scope, id, rules) {
      await write(ownKey(scope, id), rules);
    },

    async applySourceNoiseRules(sourceId, urlId, rules) {
      await write({ PK: `URL#${urlId}`, SK: `${FROM_SOURCE}${sourceId}` }, rules);
    },

    async noiseRulesForUrl(urlId): Promise<EffectiveNoiseRules> {
      const parts: Array<{ scope: NoiseRuleScope; id: string; rules: NoiseRules }> = [];
      let start: Record<string, unknown> | undefined;
      do {
        const out = await client.send(
          new QueryCommand({
            TableName,
            KeyConditionExpression: "PK = :pk AND begins_with(SK, :prefix)",
            ExpressionAttributeValues: { ":pk": `URL#${urlId}`, ":prefix": OWN },
            ExclusiveStartKey: start,
          }),
        );
        for (const item of out.Items ?? []) {
          const rules = rulesOf(item);
          const sk = String(item.SK);
          if (rules === null) continue;
          if (sk === OWN) parts.unshift({ scope: "url", id: urlId, rules });
          else if (sk.startsWith(FROM_SOURCE))
            parts.push({ scope: "source", id: sk.slice(FROM_SOURCE.length), rules });
        }
        start = out.LastEvaluatedKey;
      } while (start);
      return mergeNoiseRules(parts);
    },
  };
}
