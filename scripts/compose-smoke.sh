#!/usr/bin/env bash
# End-to-end proof of the Docker deliverables on a machine without a Docker engine:
# podman (Docker-compatible API socket) + docker-compose 1.29, as root.
#
#   scripts/compose-smoke.sh
#
#  1. scripts/container-setup.sh (podman, docker-compose, stand-in base image; idempotent)
#  2. podman build of the Dockerfile (with the host CA bundle mounted, for npm behind the proxy;
#     docker-compose 1.29 cannot pass build volumes, so compose only uses the built image)
#  3. docker-compose up -d api against podman's socket; first start fetches the corpus (from the
#     mirror when SMOKE_MIRROR is a directory) and builds the index; waits for /readyz
#  4. POST /v1/ask -> answer with >= 1 citation; admin re-index -> job succeeded; /readyz again;
#     HEALTHCHECK runs; the app runs as a non-root user; graceful stop
#  5. image size; teardown (docker-compose down -v, podman service stopped) on any exit
#
# Env (all optional): SMOKE_PORT (3917), SMOKE_MIRROR (../shared/corpus; "" = download from the
# internet), SMOKE_READY_TIMEOUT (900 s), SMOKE_REINDEX_TIMEOUT (900 s), SMOKE_ASK_TIMEOUT (120 s),
# SMOKE_SKIP_BUILD=1 (reuse llmops-qa:latest), SMOKE_KEEP=1 (leave the stack running, for debugging).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PORT="${SMOKE_PORT:-3917}"
READY_TIMEOUT="${SMOKE_READY_TIMEOUT:-900}"
REINDEX_TIMEOUT="${SMOKE_REINDEX_TIMEOUT:-900}"
ASK_TIMEOUT="${SMOKE_ASK_TIMEOUT:-120}"
IMAGE=llmops-qa:latest
export COMPOSE_PROJECT_NAME=llmops-smoke
unset COMPOSE_FILE COMPOSE_PROFILES || true
BASE="http://127.0.0.1:$PORT"
# log, fail, http, json, start_podman_service, port_free, $TMP, teardown trap
. "$ROOT/scripts/smoke-lib.sh"

# --- 1. setup -----------------------------------------------------------------------------------
log "container setup"
"$ROOT/scripts/container-setup.sh" || fail "scripts/container-setup.sh failed"

for c in curl node podman docker-compose; do command -v "$c" >/dev/null || fail "$c not installed"; done
[ -f src/cli/start.ts ] || [ "${SMOKE_SKIP_BUILD:-0}" = 1 ] || fail "src/cli/start.ts does not exist yet: the image has nothing to run"

port_free "$PORT" "set SMOKE_PORT"

# --- 2. image -----------------------------------------------------------------------------------
if [ "${SMOKE_SKIP_BUILD:-0}" = 1 ] && podman image exists "$IMAGE"; then
  log "reusing $IMAGE (SMOKE_SKIP_BUILD=1)"
else
  log "podman build -t $IMAGE ."
  tb=$(date +%s)
  vol=()
  [ -d /etc/ssl/certs ] && vol=(--volume /etc/ssl/certs:/etc/ssl/certs:ro)
  podman build --format docker "${vol[@]}" -t "$IMAGE" . >"$TMP/build.log" 2>&1 \
    || { tail -40 "$TMP/build.log" >&2; fail "podman build failed (full log: $TMP/build.log)"; }
  log "image built in $(($(date +%s) - tb)) s"
fi
SIZE="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
log "image $IMAGE: $SIZE bytes ($(awk -v s="$SIZE" 'BEGIN { printf "%.0f MB", s/1e6 }'))"

# --- 3. compose up ------------------------------------------------------------------------------
start_podman_service

docker-compose -f docker-compose.yml config -q || fail "docker-compose config -q failed"

MIRROR="${SMOKE_MIRROR-$ROOT/../shared/corpus}"
unset CORPUS_MIRROR || true   # compose default: /mirror
if [ -n "$MIRROR" ] && [ -d "$MIRROR" ]; then
  export CORPUS_MIRROR_HOST="$(cd "$MIRROR" && pwd)"
  log "corpus mirror: $CORPUS_MIRROR_HOST -> /mirror"
else
  unset CORPUS_MIRROR_HOST || true
  log "no corpus mirror: ./corpus is mounted at /mirror; missing documents are downloaded from their URLs"
fi
export PORT
export ADMIN_TOKEN="smoke-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
export LLM_PROVIDER="${LLM_PROVIDER:-extractive}"   # no LLM needed for the smoke test

timeout 120 docker-compose down -v --remove-orphans >/dev/null 2>&1 || true   # leftovers of an aborted run
log "docker-compose up -d api (PORT=$PORT, LLM_PROVIDER=$LLM_PROVIDER)"
timeout 180 docker-compose up -d --no-build api >"$TMP/up.log" 2>&1 \
  || { cat "$TMP/up.log" >&2; fail "docker-compose up failed"; }
CID="$(docker-compose ps -q api)"
[ -n "$CID" ] || fail "no api container after docker-compose up"

# --- 4a. readiness ------------------------------------------------------------------------------
log "waiting for /readyz (up to $READY_TIMEOUT s; first start fetches the corpus and builds the index)"
tw=$(date +%s); last=0
while :; do
  code="$(http GET /readyz "$TMP/readyz.json")"
  [ "$code" = 200 ] && break
  state="$(podman inspect --format '{{.State.Status}} restarts={{.RestartCount}} exit={{.State.ExitCode}}' "$CID" 2>/dev/null || echo gone)"
  case "$state" in
    running*restarts=0*) ;;
    *) fail "api container is not running cleanly ($state)";;
  esac
  now=$(date +%s)
  if [ $((now - tw)) -ge "$READY_TIMEOUT" ]; then
    fail "/readyz not 200 after $READY_TIMEOUT s (last status $code: $(head -c 300 "$TMP/readyz.json" 2>/dev/null))"
  fi
  if [ $((now - last)) -ge 15 ]; then
    last=$now
    line="$(podman logs --tail 1 "$CID" 2>&1 | tail -1 | cut -c1-160)"
    log "  /readyz=$code after $((now - tw)) s | $line"
  fi
  sleep 3
done
READY_S=$(($(date +%s) - tw))
log "ready after $READY_S s: $(head -c 300 "$TMP/readyz.json")"
[ "$(http GET /healthz "$TMP/healthz.json")" = 200 ] || fail "/healthz is not 200"

# --- 4b. container properties -------------------------------------------------------------------
uid="$(podman exec "$CID" id -u)" || fail "podman exec failed"
[ "$uid" != 0 ] || fail "the app runs as root inside the container"
log "app runs as uid $uid"
if podman healthcheck run "$CID" >/dev/null 2>&1; then
  log "image HEALTHCHECK (node fetch /readyz) passes"
else
  fail "podman healthcheck run failed: the image HEALTHCHECK does not pass while /readyz is 200"
fi

# --- 4c. ask ------------------------------------------------------------------------------------
Q='{"question":"Which optimizer was used to train the Transformer?"}'
log "POST /v1/ask $Q"
ta=$(date +%s%N)
n="$(ask_with_citations "$TMP/ask.json")"
ASK_MS=$((($(date +%s%N) - ta) / 1000000))
log "answer in $ASK_MS ms with $n citation(s):"
json "$TMP/ask.json" '{answer: String(j.answer ?? "").slice(0, 300), citation: j.citations[0]}' | cut -c1-600 | sed 's/^/    /'
# answer quality is the eval suite's business; only reported here
log "answer mentions Adam: $(json "$TMP/ask.json" '/\badam\b/i.test(String(j.answer)) ? "yes" : "no"')"

# --- 4d. admin re-index -------------------------------------------------------------------------
code="$(http POST /v1/admin/reindex "$TMP/noauth.json")"
case "$code" in 401|403) log "re-index without token rejected ($code)";;
  *) fail "POST /v1/admin/reindex without a token returned $code (expected 401/403): $(head -c 300 "$TMP/noauth.json")";; esac

reindex_and_wait
log "re-index succeeded in $REINDEX_S s: $(head -c 300 "$TMP/job.json")"

code="$(http GET /readyz "$TMP/readyz2.json")"
[ "$code" = 200 ] || fail "/readyz is $code after the re-index: $(head -c 300 "$TMP/readyz2.json")"
ask_with_citations "$TMP/ask2.json" >/dev/null
log "/readyz 200 and /v1/ask answers with citations after the re-index"

# --- 4e. graceful stop --------------------------------------------------------------------------
ts0=$(date +%s%N)
timeout 60 docker-compose stop -t 15 api >/dev/null 2>&1 || fail "docker-compose stop failed"
STOP_MS=$((($(date +%s%N) - ts0) / 1000000))
EXIT_CODE="$(podman inspect --format '{{.State.ExitCode}}' "$CID")"
if [ "$STOP_MS" -ge 14000 ]; then
  fail "stop took $STOP_MS ms (exit $EXIT_CODE): SIGTERM was not handled, the container was killed"
fi
log "stopped in $STOP_MS ms on SIGTERM (exit code $EXIT_CODE)"

log "summary: ready ${READY_S}s (first start), ask ${ASK_MS}ms, re-index ${REINDEX_S}s, image $(awk -v s="$SIZE" 'BEGIN { printf "%.0f MB", s/1e6 }')"
