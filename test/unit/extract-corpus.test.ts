import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { corpusDir, listCorpusIds, readCorpusPage } from "../../bench/extraction.ts";
import { extractArticle } from "../../shared/domain/extract/index.ts";
import { scoreWords } from "../../shared/domain/extract/tokens.ts";

/**
 * A quick quality floor on real pages, when the WCXB corpus is next to the repo (CORPUS_DIR
 * overrides). The full measurement is `npm run bench`; this only catches a collapse.
 */
const SAMPLE_SIZE = 40;
/** Conservative: the full corpus averages ~0.94; Readability.js ~0.92. */
const MEAN_F1_FLOOR = 0.85;

const ids = listCorpusIds();
const skip = ids.length === 0 ? `WCXB corpus not found at ${corpusDir()} (set CORPUS_DIR); skipping` : false;

describe("extractArticle on a corpus sample", () => {
  it(`averages word F1 >= ${MEAN_F1_FLOOR} over ${SAMPLE_SIZE} pages`, { skip }, () => {
    const step = Math.max(1, Math.floor(ids.length / SAMPLE_SIZE));
    const sample = ids.filter((_, i) => i % step === 0).slice(0, SAMPLE_SIZE);
    let total = 0;
    let scored = 0;
    for (const id of sample) {
      const page = readCorpusPage(id);
      if (scoreWords("", page.mainContent).referenceTokens === 0) continue;
      total += scoreWords(extractArticle(page.html)?.text ?? "", page.mainContent).f1;
      scored++;
    }
    assert.ok(scored >= SAMPLE_SIZE / 2, `only ${scored} pages could be scored`);
    const mean = total / scored;
    assert.ok(
      mean >= MEAN_F1_FLOOR,
      `mean F1 ${mean.toFixed(3)} over ${scored} pages is below ${MEAN_F1_FLOOR}`,
    );
  });
});
