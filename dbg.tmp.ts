import { extractArticle } from "./shared/domain/extract/index.ts";
import { classifyCapture } from "./shared/domain/validity/index.ts";
import { relateToPrevious } from "./shared/domain/validity/history.ts";
import { readCorpusPage } from "./bench/extraction.ts";
function cutShort(html: string): string | null {
  const paragraphs = [...html.matchAll(/<p\b[^>]*>[\s\S]*?<\/p>/gi)];
  if (paragraphs.length < 8) return null;
  const keep = Math.max(2, Math.floor(paragraphs.length / 5));
  const cut = paragraphs[keep]?.index;
  const last = paragraphs.at(-1);
  if (cut === undefined || !last) return null;
  return html.slice(0, cut) + html.slice(last.index + last[0].length);
}
for (const id of ["0144", "0299", "0434"]) {
  const html = readCorpusPage(id).html;
  const a = extractArticle(html, {})!;
  const t = cutShort(html)!;
  const b = extractArticle(t, {});
  const rel = relateToPrevious({ title: b?.title ?? null, text: b?.text ?? "" }, { title: a.title, text: a.text });
  console.log(id, rel, (b?.text ?? "").slice(0, 200).replace(/\n/g, " "), "||", a.text.slice(0, 200).replace(/\n/g, " "));
  let t0 = performance.now();
  for (let i = 0; i < 5; i++) classifyCapture({ httpStatus: 200, headers: {}, html, title: a.title, text: a.text, rawHtml: html });
  console.log("classify ms", (performance.now() - t0) / 5, html.length);
}
