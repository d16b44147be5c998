/**
 * Derives, from a function's own code, the DynamoDB actions it can send and the indexes it can
 * query, so a test can hold each role's grant to exactly that.
 *
 * How: esbuild bundles the handler as the deploy does (tree-shaken, not minified, so each module
 * keeps its `// path` banner and property names survive). Each DynamoDB adapter in the bundle
 * (a module under shared/adapters that imports the DynamoDB SDK) is read for its methods: the
 * `…Command`s each sends, through its local helpers too, and the `IndexName`s it queries. The rest
 * of the bundle (handler, domain, other adapters) is searched for calls of those methods by name.
 * A method named in surviving code counts as used, which over-approximates (a name shared with an
 * unrelated method counts too) but never misses a call the bundle makes.
 */
import path from "node:path";
import { build } from "esbuild";
import { REPO_ROOT } from "../../infra/constructs/defaults.ts";

/** One DynamoDB command of the AWS SDK (lib-dynamodb or client-dynamodb) → the IAM action it needs. */
export const DYNAMODB_COMMAND_ACTIONS: Readonly<Record<string, string>> = {
  Get: "dynamodb:GetItem",
  GetItem: "dynamodb:GetItem",
  Put: "dynamodb:PutItem",
  PutItem: "dynamodb:PutItem",
  Update: "dynamodb:UpdateItem",
  UpdateItem: "dynamodb:UpdateItem",
  Delete: "dynamodb:DeleteItem",
  DeleteItem: "dynamodb:DeleteItem",
  Query: "dynamodb:Query",
  Scan: "dynamodb:Scan",
  BatchWrite: "dynamodb:BatchWriteItem",
  BatchWriteItem: "dynamodb:BatchWriteItem",
  BatchGet: "dynamodb:BatchGetItem",
  BatchGetItem: "dynamodb:BatchGetItem",
  TransactWrite: "dynamodb:TransactWriteItems",
  TransactWriteItems: "dynamodb:TransactWriteItems",
  TransactGet: "dynamodb:TransactGetItems",
  TransactGetItems: "dynamodb:TransactGetItems",
};

/** What one function's code may ask of the table. */
export interface TableAccess {
  /** IAM actions on the table itself (a Query without an index is a table action too). */
  readonly tableActions: ReadonlySet<string>;
  /** Indexes it may query; `"*"` when an `IndexName` is not a literal. */
  readonly queriedIndexes: ReadonlySet<string>;
  /** `file#method` of every adapter method found in use (for messages). */
  readonly methods: readonly string[];
}

interface MethodAccess {
  commands: Set<string>;
  indexes: Set<string>;
  queriesTable: boolean;
}

const DYNAMO_SDK = /@aws-sdk\/(lib-dynamodb|client-dynamodb)/;

/** Splits an unminified esbuild bundle into its modules, by the `// path` line esbuild writes. */
function modulesOf(bundle: string): Map<string, string> {
  const modules = new Map<string, string>();
  const banner = /^\/\/ ((?:shared|functions|local)\/[\w./-]+\.ts)$/gm;
  const marks = [...bundle.matchAll(banner)];
  marks.forEach((mark, i) => {
    const end = marks[i + 1]?.index ?? bundle.length;
    const file = mark[1] as string;
    modules.set(file, (modules.get(file) ?? "") + bundle.slice(mark.index, end));
  });
  return modules;
}

interface Definition {
  name: string;
  /** A function of the module (not a method of what its factory returns): reached by calls. */
  helper: boolean;
  commands: Set<string>;
  indexes: Set<string>;
  /** More `QueryCommand`s than `IndexName`s: one of its queries reads the table itself. */
  queriesTable: boolean;
  body: string;
}

/**
 * The methods an adapter's factory returns (`async name(` at four spaces) and the functions it
 * defines (`function name(` at two spaces, or at the top of the module, where another adapter may
 * call it too), each with what it sends.
 */
function definitionsOf(source: string): Definition[] {
  const found = [
    ...source.matchAll(
      /^( {4})(?:async )?(\w+)\([^)]*\)[^{\n]*\{$|^( {2})(?:async )?function (\w+)\(|^(?:async )?function (\w+)\(/gm,
    ),
  ].map((m) => ({ name: (m[2] ?? m[4] ?? m[5]) as string, helper: m[2] === undefined, at: m.index }));
  return found.map((d, i) => {
    const body = source.slice(d.at, found[i + 1]?.at ?? source.length);
    const indexes = [...body.matchAll(/IndexName: ("(\w+)"|[^,\n}]+)/g)].map((m) =>
      m[2] !== undefined ? m[2] : m[1] === "string" ? "" : "*",
    );
    return {
      name: d.name,
      helper: d.helper,
      body,
      // esbuild numbers an import whose name another module also binds (`QueryCommand3`).
      commands: new Set([...body.matchAll(/new (\w+?)Command\d*\(/g)].map((m) => m[1] as string)),
      indexes: new Set(indexes),
      queriesTable: [...body.matchAll(/new QueryCommand\d*\(/g)].length > indexes.length,
    };
  });
}

/**
 * What each of an adapter's methods sends, through the functions it calls (its own module's and
 * other adapters' top-level ones, in `shared`).
 */
function methodsOf(own: Definition[], shared: ReadonlyMap<string, Definition>): Map<string, MethodAccess> {
  const helpers = new Map(shared);
  for (const d of own) if (d.helper) helpers.set(d.name, d);
  const resolve = (d: Definition, seen: Set<string>): MethodAccess => {
    const access: MethodAccess = {
      commands: new Set(d.commands),
      indexes: new Set(d.indexes),
      queriesTable: d.queriesTable,
    };
    for (const [name, helper] of helpers) {
      if (seen.has(name) || !new RegExp(`\\b${name}\\(`).test(d.body)) continue;
      const inner = resolve(helper, new Set([...seen, name]));
      for (const c of inner.commands) access.commands.add(c);
      for (const i of inner.indexes) access.indexes.add(i);
      access.queriesTable ||= inner.queriesTable;
    }
    access.indexes.delete("");
    return access;
  };
  const resolved = new Map<string, MethodAccess>();
  for (const d of own) if (!d.helper) resolved.set(d.name, resolve(d, new Set([d.name])));
  return resolved;
}

/** What the function whose handler is `entry` (relative to the repository root) may send. */
export async function deriveTableAccess(entry: string): Promise<TableAccess> {
  const result = await build({
    entryPoints: [path.join(REPO_ROOT, entry)],
    absWorkingDir: REPO_ROOT,
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node24",
    mainFields: ["module", "main"],
    minify: false,
    treeShaking: true,
    // Only the project's own code matters here, and packages would only slow the build.
    packages: "external",
    logLevel: "silent",
  });
  const bundle = result.outputFiles?.[0]?.text ?? "";
  const modules = modulesOf(bundle);
  const adapters = [...modules].filter(
    ([file, code]) => file.startsWith("shared/adapters/") && DYNAMO_SDK.test(code),
  );
  const callers = [...modules]
    .filter(([file]) => !adapters.some(([adapter]) => adapter === file))
    .map(([, code]) => code)
    .join("\n");
  const tableActions = new Set<string>();
  const queriedIndexes = new Set<string>();
  const methods: string[] = [];
  const definitions = new Map(adapters.map(([file, code]) => [file, definitionsOf(code)]));
  const topLevel = new Map<string, Definition>();
  for (const defs of definitions.values()) for (const d of defs) if (d.helper) topLevel.set(d.name, d);
  for (const [file] of adapters) {
    for (const [name, access] of methodsOf(definitions.get(file) ?? [], topLevel)) {
      if (!new RegExp(`\\.${name}\\(`).test(callers)) continue;
      methods.push(`${file}#${name}`);
      for (const command of access.commands) {
        const action = DYNAMODB_COMMAND_ACTIONS[command];
        if (!action) throw new Error(`unknown DynamoDB command ${command}Command in ${file}: map it here`);
        if (action === "dynamodb:Query" && !access.queriesTable) continue;
        tableActions.add(action);
      }
      for (const index of access.indexes) queriedIndexes.add(index);
    }
  }
  return { tableActions, queriedIndexes, methods: methods.sort() };
}
