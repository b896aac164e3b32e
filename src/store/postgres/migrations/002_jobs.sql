-- Durable jobs (re-index, upload, removal): status and progress readable from every replica, kept
-- across restarts. A running job's worker refreshes heartbeat_at; one silent for too long is marked
-- failed by whichever replica notices first.
CREATE TABLE jobs (
  id            text PRIMARY KEY,
  kind          text NOT NULL,
  status        text NOT NULL CHECK (status IN ('running', 'succeeded', 'failed')),
  params        jsonb NOT NULL DEFAULT '{}',
  progress      jsonb NOT NULL DEFAULT '{}',
  result        jsonb,
  error         text,
  owner         text NOT NULL,
  started_at    timestamptz NOT NULL DEFAULT now(),
  heartbeat_at  timestamptz NOT NULL DEFAULT now(),
  finished_at   timestamptz
);

-- At most one running job in the whole deployment: a start on a second replica fails on this index,
-- so a re-index requested anywhere runs exactly once.
CREATE UNIQUE INDEX jobs_one_running ON jobs ((true)) WHERE status = 'running';
CREATE INDEX jobs_started ON jobs (started_at DESC);
