-- Feedback on answers (POST /v1/feedback) with INDEX_STORE=postgres: one row a rating, written by any
-- replica and read by `npm run eval -- --set feedback`, kept across restarts. The record (the rating
-- and the answer it rates) is kept whole as jsonb; answer_id and rating beside it for queries.
CREATE TABLE feedback (
  id          bigserial PRIMARY KEY,
  answer_id   text NOT NULL,
  rating      text NOT NULL CHECK (rating IN ('up', 'down')),
  record      jsonb NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX feedback_created ON feedback (created_at);
