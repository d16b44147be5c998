/**
 * The import rules `npm run lint` checks with dependency-cruiser (`npm run lint:imports`).
 *
 * Why dependency-cruiser: it sees `import type` and `export type … from` edges when
 * `tsPreCompilationDeps` is on (without it, type-only cycles pass unseen), it names the rule and
 * every module of a cycle in its message, it is released often, and the same file holds the other
 * boundaries below. madge also sees type-only cycles, but has not been released since 2024.
 */

/** @type {import("dependency-cruiser").IConfiguration} */
export default {
  forbidden: [
    {
      name: "no-circular",
      severity: "error",
      comment:
        "This module takes part in an import cycle (type-only imports count too). Move what both " +
        "sides need into a module of its own that imports neither, as functions/api/route-types.ts " +
        "and shared/domain/capture/types.ts do.",
      from: {},
      to: { circular: true },
    },
    {
      name: "api-reads-no-worker",
      severity: "error",
      comment:
        "The API reads the archive through shared/domain/read/; it never imports the capture " +
        "worker's modules (shared/domain/capture/).",
      from: { path: "^functions/api/" },
      to: { path: "^shared/domain/capture/" },
    },
    {
      name: "domain-imports-no-infrastructure",
      severity: "error",
      comment:
        "Domain code talks to the world through the ports in shared/ports.ts: it imports no " +
        "adapter, AWS SDK, Playwright or aws-lambda types.",
      from: { path: "^shared/domain/" },
      to: {
        path: "^(shared/adapters/|node_modules/(@aws-sdk|@smithy|playwright-core|@sparticuz|@types/aws-lambda)/)",
      },
    },
    {
      name: "not-to-unresolvable",
      severity: "error",
      comment:
        "dependency-cruiser could not resolve this import, so it cannot see whether it closes a " +
        "cycle. Fix the path (relative imports name their .ts file).",
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    doNotFollow: { path: "^node_modules" },
    exclude: { path: "^(cdk\\.out|test/fixtures)/" },
    enhancedResolveOptions: {
      exportsFields: ["exports"],
      conditionNames: ["import", "require", "node", "types", "default"],
      mainFields: ["module", "main", "types", "typings"],
    },
  },
};
