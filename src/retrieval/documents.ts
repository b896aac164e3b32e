/**
 * What each document talks about, for evidence checks: the set of terms each document uses, and which
 * documents a question names ("GPT-1", "the RLHF blog post", a title).
 */
import { terms } from "../text/analyze.js";
import type { LoadedIndex } from "../index/store.js";

export class DocumentTerms {
  private readonly byDoc = new Map<string, Set<string>>();
  private readonly names: Array<{ docId: string; terms: string[] }> = [];

  constructor(index: Pick<LoadedIndex, "chunks" | "manifest" | "lexical">) {
    const data = index.lexical.toJSON();
    for (const [term, list] of Object.entries(data.postings)) {
      for (let i = 0; i < list.length; i += 2) {
        const docId = index.chunks[list[i]!]!.docId;
        let set = this.byDoc.get(docId);
        if (!set) this.byDoc.set(docId, (set = new Set()));
        set.add(term);
      }
    }
    for (const d of index.manifest.documents)
      for (const name of [d.title, ...(d.aliases ?? [])]) {
        const t = [...new Set(terms(name, false))];
        if (t.length) this.names.push({ docId: d.id, terms: t });
      }
  }

  uses(docId: string, term: string): boolean {
    return this.byDoc.get(docId)?.has(term) ?? false;
  }

  /** Documents the question names: every term of a title or alias occurs in the question. */
  named(question: string): Array<{ docId: string; nameTerms: string[] }> {
    const q = new Set(terms(question, false));
    const out = new Map<string, string[]>();
    for (const n of this.names) if (n.terms.every((t) => q.has(t))) out.set(n.docId, [...(out.get(n.docId) ?? []), ...n.terms]);
    return [...out].map(([docId, nameTerms]) => ({ docId, nameTerms }));
  }
}
