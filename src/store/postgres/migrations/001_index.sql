-- Index generations: documents, chunks with their vectors, and the lexical index (postings and
-- statistics), each generation in its own partitions so that it is written beside the active one and
-- dropped whole when it is garbage-collected.
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE index_generations (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name           text NOT NULL UNIQUE,
  -- building -> active -> retired -> (data dropped); building -> failed
  status         text NOT NULL CHECK (status IN ('building', 'active', 'retired', 'failed')),
  -- the index manifest (embedder, chunking, documents, totals), as the file store's manifest.json
  manifest       jsonb NOT NULL,
  dimensions     int NOT NULL CHECK (dimensions > 0),
  -- a corpus-fitted embedder's model (LSA), which query embedding needs
  embedder_model bytea,
  -- BM25 statistics of the generation
  chunk_count    int NOT NULL DEFAULT 0,
  avg_length     double precision NOT NULL DEFAULT 1,
  bm25_k1        double precision NOT NULL,
  bm25_b         double precision NOT NULL,
  writer         text NOT NULL,
  created_at     timestamptz NOT NULL DEFAULT now(),
  heartbeat_at   timestamptz NOT NULL DEFAULT now(),
  activated_at   timestamptz,
  retired_at     timestamptz,
  dropped_at     timestamptz
);

-- The commit point: one row naming the active generation, switched in one transaction.
CREATE TABLE index_active (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  generation_id  bigint NOT NULL REFERENCES index_generations (id),
  switched_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE index_documents (
  generation_id  bigint NOT NULL,
  ord            int NOT NULL,
  doc_id         text NOT NULL,
  document       jsonb NOT NULL,
  PRIMARY KEY (generation_id, doc_id)
) PARTITION BY LIST (generation_id);

CREATE TABLE index_chunks (
  generation_id  bigint NOT NULL,
  -- the chunk's place in the generation: postings refer to it
  ord            int NOT NULL,
  id             text NOT NULL,
  doc_id         text NOT NULL,
  title          text NOT NULL,
  page           int,
  page_end       int,
  section        text,
  position       int NOT NULL,
  text           text NOT NULL,
  hash           text NOT NULL,
  -- BM25 document length: analysed terms of the indexed text
  term_count     int NOT NULL,
  -- vector(d) with d the generation's dimensions; each partition's HNSW index is on embedding::vector(d)
  embedding      vector,
  PRIMARY KEY (generation_id, ord),
  UNIQUE (generation_id, id)
) PARTITION BY LIST (generation_id);

-- One row per term: its document frequency and postings (chunk ordinal, term frequency, chunk length),
-- from the same analyzer (src/text/analyze.ts) the file store indexes with; BM25 is computed from them
-- in SQL. doc_ords: the documents (index_documents.ord) that use the term.
CREATE TABLE index_terms (
  generation_id  bigint NOT NULL,
  term           text NOT NULL,
  df             int NOT NULL,
  chunk_ords     int[] NOT NULL,
  tfs            int[] NOT NULL,
  lengths        int[] NOT NULL,
  doc_ords       int[] NOT NULL,
  PRIMARY KEY (generation_id, term)
) PARTITION BY LIST (generation_id);
