/**
 * Setting and reading noise rules (see noise-rules.ts) on a URL or a source. A source's rules
 * are copied onto every URL it found, now and as it finds more (poll-source.ts), so that a
 * capture reads all the rules in force for its URL at once.
 */
import { NotFoundError } from "../../errors.ts";
import type { ArchiveRepository, NoiseRuleScope, SourceRepository } from "../../ports.ts";
import {
  type EffectiveNoiseRules,
  hasNoiseRules,
  NO_NOISE_RULES,
  type NoiseRules,
  parseNoiseRules,
} from "./noise-rules.ts";

/** What the API shows: the rules set here, and (for a URL) all the rules in force for it. */
export interface NoiseRulesView extends NoiseRules {
  scope: NoiseRuleScope;
  id: string;
  /** For a URL: its own rules merged with those of the sources that found it. */
  inEffect?: EffectiveNoiseRules;
}

/** Links of a source read per query while its rules are copied onto its URLs. */
const FAN_OUT_PAGE = 100;

type RuleRepository = Pick<
  ArchiveRepository,
  "getUrl" | "getNoiseRules" | "putNoiseRules" | "noiseRulesForUrl" | "applySourceNoiseRules"
>;

/** The rules of a URL or a source. @throws NotFoundError when there is no such URL or source. */
export async function readNoiseRules(
  deps: { repository: RuleRepository; sources?: Pick<SourceRepository, "getSource"> },
  scope: NoiseRuleScope,
  id: string,
): Promise<NoiseRulesView> {
  await mustExist(deps, scope, id);
  const own = (await deps.repository.getNoiseRules?.(scope, id)) ?? null;
  const inEffect = scope === "url" ? await deps.repository.noiseRulesForUrl?.(id) : undefined;
  return view(scope, id, own, inEffect);
}

/**
 * Sets (or, with null, clears) the rules of a URL or a source from a request body; a source's
 * rules are copied onto every URL it has found.
 *
 * @throws InvalidRequestError for a body that is not valid rules; NotFoundError for an unknown id.
 */
export async function setNoiseRules(
  deps: {
    repository: RuleRepository;
    sources?: Pick<SourceRepository, "getSource" | "listSourceUrls">;
  },
  scope: NoiseRuleScope,
  id: string,
  body: unknown | null,
): Promise<NoiseRulesView> {
  const rules = body === null ? null : parseNoiseRules(body);
  await mustExist(deps, scope, id);
  const { putNoiseRules, applySourceNoiseRules } = deps.repository;
  if (!putNoiseRules) throw new Error("this archive cannot store noise rules");
  await putNoiseRules(scope, id, rules);
  if (scope === "source" && deps.sources && applySourceNoiseRules) {
    let cursor: string | undefined;
    do {
      const page = await deps.sources.listSourceUrls(id, {
        limit: FAN_OUT_PAGE,
        ...(cursor ? { cursor } : {}),
      });
      await Promise.all(page.items.map((link) => applySourceNoiseRules(id, link.urlId, rules)));
      cursor = page.cursor;
    } while (cursor);
  }
  const inEffect = scope === "url" ? await deps.repository.noiseRulesForUrl?.(id) : undefined;
  return view(scope, id, rules, inEffect);
}

/** Copies a source's rules onto a URL it has just found (nothing when the source has none). */
export async function inheritSourceNoiseRules(
  repository: Pick<ArchiveRepository, "applySourceNoiseRules">,
  sourceRules: NoiseRules | null,
  sourceId: string,
  urlId: string,
): Promise<void> {
  if (hasNoiseRules(sourceRules)) await repository.applySourceNoiseRules?.(sourceId, urlId, sourceRules);
}

async function mustExist(
  deps: { repository: RuleRepository; sources?: Pick<SourceRepository, "getSource"> },
  scope: NoiseRuleScope,
  id: string,
): Promise<void> {
  if (scope === "url") {
    if (!(await deps.repository.getUrl(id)))
      throw new NotFoundError("url_not_found", `No archived URL has the id ${id}.`);
  } else if (!(await deps.sources?.getSource(id))) {
    throw new NotFoundError("source_not_found", `No source has the id ${id}.`);
  }
}

function view(
  scope: NoiseRuleScope,
  id: string,
  own: NoiseRules | null,
  inEffect: EffectiveNoiseRules | undefined,
): NoiseRulesView {
  return {
    scope,
    id,
    dropSelectors: own?.dropSelectors ?? [],
    minChangedWords: own?.minChangedWords ?? 0,
    ...(scope === "url" ? { inEffect: inEffect ?? NO_NOISE_RULES } : {}),
  };
}
