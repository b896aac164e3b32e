import type { Chunk, ChunkStore } from "./types.js";

/** The chunks of a generation held in memory, in index order, by id (both stores load them at open). */
export class ArrayChunkStore implements ChunkStore {
  private readonly byId: Map<string, number>;
  constructor(private readonly list: readonly Chunk[]) {
    this.byId = new Map(list.map((c, i) => [c.id, i]));
  }
  get size(): number {
    return this.list.length;
  }
  get(id: string): Chunk | undefined {
    const i = this.byId.get(id);
    return i === undefined ? undefined : this.list[i];
  }
  ordinal(id: string): number | undefined {
    return this.byId.get(id);
  }
  all(): readonly Chunk[] {
    return this.list;
  }
}
