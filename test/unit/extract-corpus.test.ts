import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { corpusDir, listCorpusIds, readCorpusPage } from "../../bench/extraction.ts";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import { scoreWords } from "../../shared/domain/extract/tokens.ts";

/**
 * The extraction target of issue 15 on real pages, when the WCXB corpus is next to the repo
 * (CORPUS_DIR overrides): the same figure as `npm run bench`'s extraction section, mean word F1
 * over every dev article page with ground truth (709 pages, 0.9508 when it was set), with our
 * extractor only, so that a drop below the target fails here and not only in a report.
 */
const MEAN_F1_FLOOR = 0.95;

const ids = listCorpusIds();
const skip = ids.length === 0 ? `WCXB corpus not found at ${corpusDir()} (set CORPUS_DIR); skipping` : false;

describe("extractArticle on the corpus", () => {
  it(`averages word F1 >= ${MEAN_F1_FLOOR} over every article page`, { skip }, () => {
    let total = 0;
    let scored = 0;
    for (const id of ids) {
      const page = readCorpusPage(id);
      if (scoreWords("", page.mainContent).referenceTokens === 0) continue;
      total += scoreWords(extractArticle(page.html)?.text ?? "", page.mainContent).f1;
      scored++;
    }
    assert.ok(scored >= ids.length - 10, `only ${scored} of ${ids.length} pages could be scored`);
    const mean = total / scored;
    assert.ok(
      mean >= MEAN_F1_FLOOR,
      `mean F1 ${mean.toFixed(4)} over ${scored} pages is below ${MEAN_F1_FLOOR}`,
    );
  });
});
