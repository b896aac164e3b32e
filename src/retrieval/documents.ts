/**
 * Which documents a question names ("GPT-1", "the RLHF blog post", a title), from the index's
 * documents and their aliases; and whether a document uses a term (from the lexical store).
 */
import type { IndexSnapshot } from "../store/index.js";
import { terms } from "../text/analyze.js";

export class DocumentTerms {
  private readonly names: Array<{ docId: string; terms: string[] }> = [];

  constructor(private readonly index: Pick<IndexSnapshot, "manifest" | "lexical">) {
    for (const d of index.manifest.documents)
      for (const name of [d.title, ...(d.aliases ?? [])]) {
        const t = [...new Set(terms(name, false))];
        if (t.length) this.names.push({ docId: d.id, terms: t });
      }
  }

  uses(docId: string, term: string): boolean {
    return this.index.lexical.documentUses(docId, term);
  }

  /** Documents the question names: every term of a title or alias occurs in the question. */
  named(question: string): Array<{ docId: string; nameTerms: string[] }> {
    const q = new Set(terms(question, false));
    const out = new Map<string, string[]>();
    for (const n of this.names) if (n.terms.every((t) => q.has(t))) out.set(n.docId, [...(out.get(n.docId) ?? []), ...n.terms]);
    return [...out].map(([docId, nameTerms]) => ({ docId, nameTerms }));
  }
}
