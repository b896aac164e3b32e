#!/usr/bin/env bash
# Second phase of the compose smoke run: the Postgres profile (docker-compose.postgres.yml) for real,
# with podman + docker-compose 1.29 as root, against a stand-in Postgres (no image registry here).
#
#   scripts/compose-smoke-postgres.sh        (after scripts/compose-smoke.sh, which builds llmops-qa:latest)
#
#  1. scripts/container-setup.sh; llmops-qa:latest must exist (built now when it does not)
#  2. stand-in image llmops-pg-standin:latest FROM llmops-qa:latest (deploy/pg-standin.Dockerfile): the
#     PGlite packages as npm ci installed them from package-lock.json (versions checked) + scripts/pg*.ts
#  3. docker-compose -f docker-compose.postgres.yml -f deploy/compose-smoke-postgres.yml --profile postgres:
#     the override replaces the `postgres` service (pgvector/pgvector cannot be pulled) by the stand-in.
#     The nginx proxy cannot be pulled either, so it is not started: the ONE api replica publishes
#     SMOKE_PG_PORT on 127.0.0.1 instead (several replicas on one database: the README's two-replica
#     test under "Scaling out", with processes, not here).
#  4. postgres up and healthy; `run --rm migrate`; `run --rm ingest` (corpus from the mirror, first
#     generation in Postgres); up -d api; /readyz 200 with a pg- generation (the one ingest built)
#  5. POST /v1/ask -> answer with >= 1 citation; admin re-index {"force":true} -> job succeeded, /readyz shows a NEW
#     pg- generation; ask again
#  6. teardown on any exit: docker-compose down -v, podman service stopped (scripts/smoke-lib.sh)
#
# Env (all optional): SMOKE_PG_PORT (3918), SMOKE_MIRROR (../shared/corpus), SMOKE_READY_TIMEOUT (600 s),
# SMOKE_REINDEX_TIMEOUT (600 s), SMOKE_ASK_TIMEOUT (120 s), SMOKE_KEEP=1 (leave the stack running).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${SMOKE_PG_PORT:-3918}"
READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-600}"
REINDEX_TIMEOUT="${SMOKE_REINDEX_TIMEOUT:-600}"
ASK_TIMEOUT="${SMOKE_ASK_TIMEOUT:-120}"
IMAGE=llmops-qa:latest
STANDIN=llmops-pg-standin:latest
export SMOKE_PG_PORT="$PORT"
export COMPOSE_PROJECT_NAME=llmops-smoke-pg
export COMPOSE_FILE="docker-compose.postgres.yml:deploy/compose-smoke-postgres.yml"
export COMPOSE_PROFILES=postgres
SMOKE_TAG=smoke-pg
FAIL_LOG_SERVICES="postgres api"
BASE="http://127.0.0.1:$PORT"
. "$ROOT/scripts/smoke-lib.sh"

# --- 1. setup -----------------------------------------------------------------------------------
log "container setup"
"$ROOT/scripts/container-setup.sh" >"$TMP/setup.log" 2>&1 || { cat "$TMP/setup.log" >&2; fail "scripts/container-setup.sh failed"; }
for c in curl node podman docker-compose; do command -v "$c" >/dev/null || fail "$c not installed"; done
port_free "$PORT" "set SMOKE_PG_PORT"

if ! podman image exists "$IMAGE"; then
  log "$IMAGE missing: podman build -t $IMAGE ."
  vol=(); [ -d /etc/ssl/certs ] && vol=(--volume /etc/ssl/certs:/etc/ssl/certs:ro)
  podman build --format docker "${vol[@]}" -t "$IMAGE" . >"$TMP/build.log" 2>&1 \
    || { tail -40 "$TMP/build.log" >&2; fail "podman build failed (full log: $TMP/build.log)"; }
fi

# --- 2. stand-in image --------------------------------------------------------------------------
CTX="$TMP/standin-ctx"
mkdir -p "$CTX/scripts" "$CTX/node_modules/@electric-sql"
for p in pglite pglite-socket; do
  want="$(node -e 'const l=require("./package-lock.json"); const p=l.packages["node_modules/@electric-sql/"+process.argv[1]]; if(!p) process.exit(1); console.log(p.version)' "$p")" \
    || fail "@electric-sql/$p is not in package-lock.json"
  have="$(node -e 'try { console.log(require("./node_modules/@electric-sql/"+process.argv[1]+"/package.json").version) } catch { process.exit(1) }' "$p")" \
    || fail "node_modules/@electric-sql/$p missing: run npm ci first (it is a devDependency)"
  [ "$want" = "$have" ] || fail "@electric-sql/$p is $have in node_modules, $want in package-lock.json: run npm ci"
  cp -a "node_modules/@electric-sql/$p" "$CTX/node_modules/@electric-sql/"
  log "@electric-sql/$p@$have (package-lock) -> stand-in image"
done
cp scripts/pg-standin.ts scripts/pglite-server.ts "$CTX/scripts/"
tb=$(date +%s)
podman build --format docker --build-arg "APP_IMAGE=$IMAGE" -f deploy/pg-standin.Dockerfile -t "$STANDIN" "$CTX" >"$TMP/standin-build.log" 2>&1 \
  || { tail -30 "$TMP/standin-build.log" >&2; fail "stand-in build failed"; }
log "stand-in image $STANDIN built FROM $IMAGE in $(($(date +%s) - tb)) s"

# --- 3. compose ---------------------------------------------------------------------------------
start_podman_service
docker-compose config -q || fail "docker-compose config -q failed ($COMPOSE_FILE)"
[ "$(docker-compose config | awk '/^  postgres:/{f=1} f&&/image:/{print $2; exit}')" = "$STANDIN" ] \
  || fail "the override does not replace the postgres service's image by $STANDIN"

MIRROR="${SMOKE_MIRROR-$ROOT/../shared/corpus}"
unset CORPUS_MIRROR DATABASE_URL || true   # compose defaults: /mirror, postgres://llmops:llmops@postgres:5432/llmops
if [ -n "$MIRROR" ] && [ -d "$MIRROR" ]; then
  export CORPUS_MIRROR_HOST="$(cd "$MIRROR" && pwd)"
  log "corpus mirror: $CORPUS_MIRROR_HOST -> /mirror"
else
  unset CORPUS_MIRROR_HOST || true
  log "no corpus mirror: missing documents are downloaded from their URLs"
fi
export ADMIN_TOKEN="smoke-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export LLM_PROVIDER="${LLM_PROVIDER:-extractive}"
export PG_POLL_MS=1000

timeout 120 docker-compose down -v --remove-orphans >/dev/null 2>&1 || true   # leftovers of an aborted run

# podman runs HEALTHCHECKs from systemd timers, which this machine does not have: run the check until it
# reports healthy, so that `depends_on: condition: service_healthy` of migrate/ingest/api is met.
log "docker-compose up -d postgres (stand-in)"
timeout 120 docker-compose up -d --no-build postgres >"$TMP/up-pg.log" 2>&1 || { cat "$TMP/up-pg.log" >&2; fail "up postgres failed"; }
PG_CID="$(docker-compose ps -q postgres)"; [ -n "$PG_CID" ] || fail "no postgres container"
tw=$(date +%s)
until podman healthcheck run "$PG_CID" >/dev/null 2>&1; do
  [ $(($(date +%s) - tw)) -lt 60 ] || fail "stand-in not healthy after 60 s"
  sleep 1
done
log "stand-in healthy after $(($(date +%s) - tw)) s: $(podman logs "$PG_CID" 2>&1 | grep -m1 'pg-standin:' | cut -c1-160)"

log "docker-compose run --rm migrate"
timeout 180 docker-compose run --rm --no-deps migrate >"$TMP/migrate.log" 2>&1 || { tail -40 "$TMP/migrate.log" >&2; fail "migrate failed"; }
tail -3 "$TMP/migrate.log" | cut -c1-200 | sed 's/^/    /'

log "docker-compose run --rm ingest (fetch from the mirror, first generation in Postgres)"
ti=$(date +%s)
timeout 600 docker-compose run --rm --no-deps ingest >"$TMP/ingest.log" 2>&1 || { tail -40 "$TMP/ingest.log" >&2; fail "ingest failed"; }
INGEST_S=$(($(date +%s) - ti))
log "ingest done in $INGEST_S s"
tail -3 "$TMP/ingest.log" | cut -c1-200 | sed 's/^/    /'

log "docker-compose up -d --no-deps api (1 replica, 127.0.0.1:$PORT; no proxy: nginx cannot be pulled)"
timeout 180 docker-compose up -d --no-build --no-deps api >"$TMP/up.log" 2>&1 || { cat "$TMP/up.log" >&2; fail "up api failed"; }
CID="$(docker-compose ps -q api)"; [ -n "$CID" ] || fail "no api container"

# --- 4. readiness -------------------------------------------------------------------------------
tw=$(date +%s); last=0
while :; do
  code="$(http GET /readyz "$TMP/readyz.json")"
  [ "$code" = 200 ] && break
  state="$(podman inspect --format '{{.State.Status}} restarts={{.RestartCount}}' "$CID" 2>/dev/null || echo gone)"
  case "$state" in running*restarts=0*) ;; *) fail "api container is not running cleanly ($state)";; esac
  now=$(date +%s)
  [ $((now - tw)) -lt "$READY_TIMEOUT" ] || fail "/readyz not 200 after $READY_TIMEOUT s (last $code: $(head -c 300 "$TMP/readyz.json"))"
  if [ $((now - last)) -ge 15 ]; then last=$now; log "  /readyz=$code after $((now - tw)) s"; fi
  sleep 2
done
READY_S=$(($(date +%s) - tw))
GEN1="$(json "$TMP/readyz.json" 'j.generation')" || fail "/readyz without generation: $(head -c 300 "$TMP/readyz.json")"
case "$GEN1" in pg-*) ;; *) fail "/readyz generation '$GEN1' is not a Postgres (pg-) generation";; esac
log "ready after $READY_S s on generation $GEN1"

# --- 5. ask, re-index, new generation -----------------------------------------------------------
Q='{"question":"Which optimizer was used to train the Transformer?"}'
ta=$(date +%s%N)
n="$(ask_with_citations "$TMP/ask.json")"
ASK_MS=$((($(date +%s%N) - ta) / 1000000))
log "POST /v1/ask: answer in $ASK_MS ms with $n citation(s):"
json "$TMP/ask.json" '{answer: String(j.answer ?? "").slice(0, 200), citation: j.citations[0]}' | cut -c1-400 | sed 's/^/    /'

# force: a re-index of an unchanged corpus is "upToDate" and keeps the generation; force parses every
# document again and writes a new generation, which the replica must switch to
reindex_and_wait -H 'content-type: application/json' -d '{"force":true}'
log "re-index succeeded in $REINDEX_S s: $(json "$TMP/job.json" 'j.result' | cut -c1-200)"

# the replica moves to the job's generation (its own swap, or the poll every PG_POLL_MS)
tg=$(date +%s)
while :; do
  code="$(http GET /readyz "$TMP/readyz2.json")"
  GEN2="$( [ "$code" = 200 ] && json "$TMP/readyz2.json" 'j.generation' || echo "")"
  [ -n "$GEN2" ] && [ "$GEN2" != "$GEN1" ] && break
  [ $(($(date +%s) - tg)) -lt 30 ] || fail "/readyz still on $GEN1 (HTTP $code) 30 s after the re-index succeeded"
  sleep 1
done
case "$GEN2" in pg-*) ;; *) fail "new generation '$GEN2' is not a pg- generation";; esac
log "generation changed: $GEN1 -> $GEN2"
n="$(ask_with_citations "$TMP/ask2.json")"
log "/v1/ask after the re-index: $n citation(s)"

log "summary: ingest ${INGEST_S}s, ready ${READY_S}s, ask ${ASK_MS}ms, re-index ${REINDEX_S}s, generations $GEN1 -> $GEN2"
