# Shared helpers of the compose smoke runs (scripts/compose-smoke.sh, scripts/compose-smoke-postgres.sh).
# Sourced, not run. Before sourcing, a script sets ROOT; it may set SMOKE_TAG (log prefix), BASE (the
# API's URL for http), COMPOSE_PROJECT_NAME, COMPOSE_FILE / COMPOSE_PROFILES (docker-compose reads them,
# so `down -v` in the cleanup trap sees the same files), and FAIL_LOG_SERVICES (services whose logs
# `fail` prints). Provides: log, fail, http, json, ask_with_citations, reindex_and_wait, smoke_tmp,
# start_podman_service, port_free, and an EXIT trap that tears the stack down (docker-compose down -v) and stops the podman service it started.
#
# Env: SMOKE_KEEP=1 leaves the stack running (debugging); LLMOPS_CONTAINERS_CONF (containers.conf path).

SOCK="${SMOKE_SOCK:-/tmp/llmops-podman.sock}"
export CONTAINERS_CONF="${LLMOPS_CONTAINERS_CONF:-/etc/containers/containers.conf.d/50-llmops-qa.conf}"
export DOCKER_HOST="unix://$SOCK"
SMOKE_TAG="${SMOKE_TAG:-smoke}"
FAIL_LOG_SERVICES="${FAIL_LOG_SERVICES:-api}"

T0=$(date +%s)
ts() { printf '%4ss' "$(($(date +%s) - T0))"; }
log() { printf '[%s %s] %s\n' "$SMOKE_TAG" "$(ts)" "$*"; }
fail() {
  printf '[%s %s] FAIL: %s\n' "$SMOKE_TAG" "$(ts)" "$*" >&2
  if [ -n "${SERVICE_PID:-}" ] && [ -S "$SOCK" ]; then
    local s
    for s in $FAIL_LOG_SERVICES; do
      echo "----- docker-compose logs $s (last 60 lines) -----" >&2
      timeout 30 docker-compose logs --no-color --tail=60 "$s" >&2 2>&1 || true
    done
    echo "---------------------------------------------------" >&2
  fi
  exit 1
}

SERVICE_PID=""
smoke_cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  if [ "${SMOKE_KEEP:-0}" = 1 ]; then
    log "SMOKE_KEEP=1: stack left running (DOCKER_HOST=$DOCKER_HOST COMPOSE_PROJECT_NAME=${COMPOSE_PROJECT_NAME:-} COMPOSE_FILE=${COMPOSE_FILE:-}, podman service pid $SERVICE_PID)"
    exit "$rc"
  fi
  if [ -n "$SERVICE_PID" ]; then
    log "teardown: docker-compose down -v"
    timeout 120 docker-compose down -v --remove-orphans >/dev/null 2>&1 || log "warning: docker-compose down failed"
    kill "$SERVICE_PID" 2>/dev/null || true
    for _ in $(seq 1 20); do kill -0 "$SERVICE_PID" 2>/dev/null || break; sleep 0.5; done
    kill -9 "$SERVICE_PID" 2>/dev/null || true
    rm -f "$SOCK"
  fi
  [ -n "${TMP:-}" ] && [ "$rc" = 0 ] && rm -rf "$TMP"
  [ "$rc" = 0 ] && log "PASS (total $(($(date +%s) - T0)) s)" || log "exit code $rc"
  exit "$rc"
}
trap smoke_cleanup EXIT
trap 'exit 130' INT TERM

# http helpers: body to $3, status code on stdout; the URL is $BASE$path
http() { # method path outfile [curl args...]
  local method="$1" path="$2" out="$3" code; shift 3
  : >"$out"
  code="$(curl -s -o "$out" -w '%{http_code}' --max-time "${HTTP_TIMEOUT:-10}" -X "$method" "$BASE$path" "$@")" || true
  echo "${code:-000}"
}
json() { # file js-expression-on-j  (prints result; exit 1 when it throws or is undefined)
  node -e '
    const fs = require("fs"); let j;
    try { j = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch (e) { console.error("not JSON: " + fs.readFileSync(process.argv[1], "utf8").slice(0, 300)); process.exit(1); }
    const v = (new Function("j", "return (" + process.argv[2] + ")"))(j);
    if (v === undefined) process.exit(1);
    console.log(typeof v === "string" ? v : JSON.stringify(v));' "$1" "$2"
}

# POST /v1/ask with $Q; the answer to $1, its citation count on stdout; fails without one.
# Needs ASK_TIMEOUT and Q.
ask_with_citations() { # outfile
  local code n
  code="$(HTTP_TIMEOUT=$ASK_TIMEOUT http POST /v1/ask "$1" -H 'content-type: application/json' -d "$Q")"
  [ "$code" = 200 ] || fail "/v1/ask returned HTTP $code: $(head -c 500 "$1")"
  n="$(json "$1" 'Array.isArray(j.citations) ? j.citations.length : undefined')" || fail "/v1/ask answer has no citations array: $(head -c 500 "$1")"
  [ "$n" -ge 1 ] || fail "/v1/ask answer has 0 citations: $(head -c 500 "$1")"
  echo "$n"
}

# POST /v1/admin/reindex (curl args, e.g. a JSON body, in "$@"), then polls the job until it succeeded;
# fails when it failed or is still running after REINDEX_TIMEOUT s. Sets JOB and REINDEX_S; the last job
# JSON stays in $TMP/job.json. Needs ADMIN_TOKEN.
reindex_and_wait() {
  local auth=(-H "Authorization: Bearer $ADMIN_TOKEN") code st now tr0 last=0
  code="$(http POST /v1/admin/reindex "$TMP/reindex.json" "${auth[@]}" "$@")"
  [ "$code" = 202 ] || fail "POST /v1/admin/reindex returned $code (expected 202): $(head -c 300 "$TMP/reindex.json")"
  JOB="$(json "$TMP/reindex.json" 'j.jobId')" || fail "no jobId in $(head -c 300 "$TMP/reindex.json")"
  log "re-index job $JOB accepted; polling (up to $REINDEX_TIMEOUT s)"
  tr0=$(date +%s)
  while :; do
    code="$(http GET "/v1/admin/reindex/$JOB" "$TMP/job.json" "${auth[@]}")"
    [ "$code" = 200 ] || fail "GET /v1/admin/reindex/$JOB returned $code: $(head -c 300 "$TMP/job.json")"
    st="$(json "$TMP/job.json" 'j.status')" || fail "job without status: $(head -c 300 "$TMP/job.json")"
    case "$st" in
      succeeded) break;;
      failed) fail "re-index job failed: $(head -c 600 "$TMP/job.json")";;
      running|queued|pending) ;;
      *) fail "unexpected job status '$st': $(head -c 300 "$TMP/job.json")";;
    esac
    now=$(date +%s)
    [ $((now - tr0)) -lt "$REINDEX_TIMEOUT" ] || fail "re-index job still '$st' after $REINDEX_TIMEOUT s"
    if [ $((now - last)) -ge 15 ]; then last=$now; log "  job $st after $((now - tr0)) s"; fi
    sleep 2
  done
  REINDEX_S=$(($(date +%s) - tr0))
}

# podman's Docker-compatible API on $SOCK for docker-compose; the EXIT trap stops it
start_podman_service() {
  rm -f "$SOCK"
  podman system service --time=0 "unix://$SOCK" >"$TMP/podman-service.log" 2>&1 &
  SERVICE_PID=$!
  for _ in $(seq 1 50); do [ -S "$SOCK" ] && break; sleep 0.2; done
  [ -S "$SOCK" ] || fail "podman system service did not create $SOCK (log: $TMP/podman-service.log)"
  curl -s --max-time 5 --unix-socket "$SOCK" http://d/_ping | grep -q OK || fail "podman API does not answer on $SOCK"
  log "podman API up on $SOCK (pid $SERVICE_PID)"
}

# fails when something listens on 127.0.0.1:$1
port_free() { if (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then fail "port $1 is in use on 127.0.0.1 ($2)"; fi; }

TMP="$(mktemp -d "/tmp/llmops-$SMOKE_TAG.XXXXXX")"
