/**
 * The shapes of noise rules, apart from the code that reads and applies them (noise-rules.ts)
 * so that the ports can name them without importing that code.
 */

/** The rules as stored and as the API shows them. */
export interface NoiseRules {
  /** CSS selectors; every element matching one is removed before the article is extracted. */
  dropSelectors: string[];
  /**
   * Words inserted plus words deleted below which a difference is not an edit (0: every
   * difference counts). The smaller changes still count once they add up past it, since each
   * capture is compared with the last version made.
   */
  minChangedWords: number;
}

/** Rules in force for one URL: its own and those of the sources that found it, merged. */
export interface EffectiveNoiseRules extends NoiseRules {
  /** Where each part came from, for the diff page. */
  from: Array<{ scope: "url" | "source"; id: string }>;
}
