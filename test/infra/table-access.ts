/**
 * Derives, from a function's own code, the DynamoDB actions it can send and the indexes it can
 * query, so a test can hold each role's grant to exactly that.
 *
 * How: esbuild bundles the handler as the deploy does (tree-shaken, not minified, so each module
 * keeps its `// path` banner and property names survive). Each DynamoDB adapter in the bundle
 * (a module under shared/adapters that imports the DynamoDB SDK) is read for its methods: the
 * `…Command`s each sends, through its local helpers too, and the `IndexName`s it queries. The rest
 * of the bundle (handler, domain, other adapters) is searched for calls of those methods by name
 * (`.name(`, `.name?.(`, or `name` destructured out of an object).
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
  /** `file#method` of those that send a DeleteItem (a grant may limit it to some keys). */
  readonly deletingMethods: readonly string[];
}

interface MethodAccess {
  commands: Set<string>;
  indexes: Set<string>;
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

/** Each definition in an adapter module: a factory's method (`async name(` at four spaces) or a helper. */
interface Definition {
  /** The module it is in (set once all modules are read). */
  file?: string;
  name: string;
  helper: boolean;
  commands: Set<string>;
  indexes: Set<string>;
  body: string;
}

/**
 * The definitions of one adapter module: the methods its factory returns (four spaces in) and the
 * helpers it defines (`function name(` at the top level or two spaces in), with the commands and
 * index names each sends itself. esbuild renames an import that collides (`QueryCommand3`).
 */
function definitionsOf(source: string): Definition[] {
  const starts = [
    ...source.matchAll(/^( {4})(?:async )?(\w+)\([^)]*\)[^{\n]*\{$|^( {0,2})(?:async )?function (\w+)\(/gm),
  ].map((m) => ({ name: (m[2] ?? m[4]) as string, helper: m[4] !== undefined, at: m.index }));
  return starts.map((d, i) => {
    const body = source.slice(d.at, starts[i + 1]?.at ?? source.length);
    return {
      ...d,
      body,
      commands: new Set([...body.matchAll(/new (\w+?)Command\d*\(/g)].map((m) => m[1] as string)),
      indexes: new Set(
        [...body.matchAll(/IndexName: ("(\w+)"|[^,\n}]+)/g)].map((m) =>
          m[2] !== undefined ? m[2] : m[1] === "string" ? "" : "*",
        ),
      ),
    };
  });
}

/** What each method (`file#name`) sends, following the helpers it calls (in any adapter module) through. */
function methodsOf(definitions: Definition[]): Map<string, MethodAccess> {
  const helpers = new Map(definitions.filter((d) => d.helper).map((d) => [d.name, d]));
  const resolve = (definition: Definition, seen: Set<string>): MethodAccess => {
    const access: MethodAccess = {
      commands: new Set(definition.commands),
      indexes: new Set(definition.indexes),
    };
    for (const [name, helper] of helpers) {
      if (seen.has(name) || !new RegExp(`\\b${name}\\(`).test(definition.body)) continue;
      const inner = resolve(helper, new Set([...seen, name]));
      for (const c of inner.commands) access.commands.add(c);
      for (const i of inner.indexes) access.indexes.add(i);
    }
    access.indexes.delete("");
    return access;
  };
  const methods = new Map<string, MethodAccess>();
  for (const d of definitions)
    if (!d.helper) methods.set(`${d.file}#${d.name}`, resolve(d, new Set([d.name])));
  return methods;
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
  const deletingMethods: string[] = [];
  const definitions = adapters.flatMap(([file, code]) => definitionsOf(code).map((d) => ({ ...d, file })));
  for (const [method, access] of methodsOf(definitions)) {
    const name = method.slice(method.indexOf("#") + 1);
    // Called as a method, or taken out of the repository by destructuring and called bare
    // (`const { putNoiseRules } = deps.repository`), which a `.name(` search alone missed.
    if (!new RegExp(`\\.${name}(\\?\\.)?\\(|[{,]\\s*${name}\\s*[,}]`).test(callers)) continue;
    methods.push(method);
    if ([...access.commands].some((c) => DYNAMODB_COMMAND_ACTIONS[c] === "dynamodb:DeleteItem")) {
      deletingMethods.push(method);
    }
    for (const command of access.commands) {
      const action = DYNAMODB_COMMAND_ACTIONS[command];
      if (!action) throw new Error(`unknown DynamoDB command ${command}Command in ${name}: map it here`);
      if (action === "dynamodb:Query" && access.indexes.size > 0) continue;
      tableActions.add(action);
    }
    for (const index of access.indexes) queriedIndexes.add(index);
  }
  return { tableActions, queriedIndexes, methods: methods.sort(), deletingMethods: deletingMethods.sort() };
}
