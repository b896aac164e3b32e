#!/usr/bin/env bash
# Prepares this machine to build and run the Dockerfile / docker-compose.yml WITHOUT a Docker engine:
#   podman (engine, rootful) + docker-compose 1.29 (talks to podman's Docker-compatible API socket).
#
# Idempotent, run as root:
#   1. apt-get install podman docker-compose debootstrap   (apt-get update only when something is missing)
#   2. containers.conf with default ulimits: `podman run` otherwise fails here with
#      "error setting rlimit type 7: operation not permitted" (no CAP_SYS_RESOURCE in this sandbox).
#      Written as a drop-in, /etc/containers/containers.conf.d/50-llmops-qa.conf (podman 4.3 reads it on
#      every call, so a plain `podman run` works too); our scripts also export CONTAINERS_CONF=<that file>.
#   3. A stand-in for docker.io/library/node:20-bookworm-slim when podman does not have that image
#      (no registry access here): debootstrap --variant=minbase bookworm + the host's node, npm and
#      node headers laid out like the official image (/usr/local/...), a `node` user (uid/gid 1000).
#      The Dockerfile stays unchanged: on a normal Docker host FROM pulls the real image.
#
# Env: BASE_IMAGE (default docker.io/library/node:20-bookworm-slim), FORCE_BASE_IMAGE=1 to rebuild it.
set -euo pipefail

BASE_IMAGE="${BASE_IMAGE:-docker.io/library/node:20-bookworm-slim}"
CONF="${LLMOPS_CONTAINERS_CONF:-/etc/containers/containers.conf.d/50-llmops-qa.conf}"
export CONTAINERS_CONF="$CONF"

t_all=$(date +%s.%N)
elapsed() { awk -v s="$1" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f s", e - s }'; }
log() { printf '[container-setup] %s\n' "$*"; }
die() { printf '[container-setup] ERROR: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "must run as root (apt-get, rootful podman, debootstrap)"

# --- 1. packages -------------------------------------------------------------------------------
t=$(date +%s.%N)
# podman's runtime + network stack for ROOTFUL use (rootless helpers uidmap/slirp4netns/fuse-overlayfs
# are not needed: we run as root with the kernel's overlay driver). runc, not crun: this kernel mounts
# cgroups in hybrid v1/v2 mode, which crun rejects ("cgroups in hybrid mode not supported").
# iptables for netavark's NAT/port forwarding, aardvark-dns for service names inside compose networks.
pkgs=(podman docker-compose debootstrap runc netavark aardvark-dns iptables catatonit)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  log "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  # apt-get update only when the package lists do not know a package yet
  for p in "${missing[@]}"; do
    if ! apt-cache show "$p" >/dev/null 2>&1; then apt-get update -qq; break; fi
  done
  if ! apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/llmops-apt.log 2>&1; then
    # stale lists (404 on a .deb): refresh once and retry
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/tmp/llmops-apt.log 2>&1 \
      || { tail -20 /tmp/llmops-apt.log >&2; die "apt-get install failed (log: /tmp/llmops-apt.log)"; }
  fi
  log "packages installed in $(elapsed "$t")"
else
  log "packages already installed (${pkgs[*]})"
fi
command -v podman >/dev/null || die "podman not found after install"
command -v docker-compose >/dev/null || die "docker-compose not found after install"

# --- 2. containers.conf (ulimits fix) -----------------------------------------------------------
mkdir -p "$(dirname "$CONF")"
want='# Written by scripts/container-setup.sh (llmops-qa).
# Without CAP_SYS_RESOURCE, podman cannot raise rlimits to its defaults:
#   "error setting rlimit type 7: operation not permitted".
[containers]
default_ulimits = ["nofile=4096:4096", "nproc=4096:4096"]

[engine]
# hybrid cgroup v1/v2 host without systemd as PID 1: runc + cgroupfs, events to a file
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"

[network]
network_backend = "netavark"
'
if [ ! -f "$CONF" ] || [ "$(cat "$CONF")" != "$(printf '%s' "$want")" ]; then
  printf '%s' "$want" >"$CONF"
  log "wrote $CONF"
fi

# --- 3. stand-in base image ---------------------------------------------------------------------
t=$(date +%s.%N)
if podman image exists "$BASE_IMAGE" && [ "${FORCE_BASE_IMAGE:-0}" != 1 ]; then
  log "base image $BASE_IMAGE present (cached)"
else
  log "building stand-in $BASE_IMAGE (debootstrap minbase + host node $(node -v 2>/dev/null || echo '?'))"
  NODE_BIN="$(command -v node)" || die "host node not found"
  NODE_BIN="$(readlink -f "$NODE_BIN")"
  NPM_DIR="$(npm root -g 2>/dev/null)/npm"
  [ -f "$NPM_DIR/bin/npm-cli.js" ] || NPM_DIR=/usr/lib/node_modules/npm
  [ -f "$NPM_DIR/bin/npm-cli.js" ] || die "npm not found (looked in $(npm root -g 2>/dev/null)/npm)"
  HDR_DIR="$(dirname "$(dirname "$NODE_BIN")")/include/node"
  [ -f "$HDR_DIR/node.h" ] || HDR_DIR=/usr/include/node

  # Debian mirror as configured on this host (deb822 or one-line format)
  MIRROR="$(awk '/^URIs:/ { print $2; exit }' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)"
  [ -n "$MIRROR" ] || MIRROR="$(awk '$1 == "deb" && $3 ~ /^bookworm$/ { print $2; exit }' /etc/apt/sources.list 2>/dev/null || true)"
  [ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

  ROOTFS="$(mktemp -d /var/tmp/llmops-rootfs.XXXXXX)"
  trap 'rm -rf "$ROOTFS"' EXIT
  t_db=$(date +%s.%N)
  debootstrap --variant=minbase bookworm "$ROOTFS" "$MIRROR" >/tmp/llmops-debootstrap.log 2>&1 \
    || { tail -20 /tmp/llmops-debootstrap.log >&2; die "debootstrap failed (log: /tmp/llmops-debootstrap.log)"; }
  log "debootstrap ($MIRROR) in $(elapsed "$t_db")"

  # apt sources like the official image (deb822, with updates + security)
  if [ -f /etc/apt/sources.list.d/debian.sources ]; then
    rm -f "$ROOTFS/etc/apt/sources.list"
    cp /etc/apt/sources.list.d/debian.sources "$ROOTFS/etc/apt/sources.list.d/debian.sources"
  fi

  # node, npm, npx, corepack-free; headers so node-gyp builds offline (npm_config_nodedir=/usr/local)
  install -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
  mkdir -p "$ROOTFS/usr/local/lib/node_modules" "$ROOTFS/usr/local/include"
  cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
  rm -rf "$ROOTFS/usr/local/lib/node_modules/npm/docs" "$ROOTFS/usr/local/lib/node_modules/npm/man"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
  cp -a "$HDR_DIR" "$ROOTFS/usr/local/include/node"

  # `node` user/group 1000 like the official image
  chroot "$ROOTFS" /bin/sh -c 'getent group node >/dev/null || groupadd --gid 1000 node;
    id -u node >/dev/null 2>&1 || useradd --uid 1000 --gid node --shell /bin/bash --create-home node'

  # trim (the official slim image has no apt lists, docs or caches either)
  chroot "$ROOTFS" apt-get clean
  rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin "$ROOTFS"/usr/share/doc/* \
         "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log "$ROOTFS"/tmp/*
  env -u NODE_EXTRA_CA_CERTS chroot "$ROOTFS" /usr/local/bin/node -e 'process.exit(0)' || die "node does not run inside the rootfs"

  tar -C "$ROOTFS" --numeric-owner -c . | podman import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change "ENV NODE_VERSION=$("$NODE_BIN" -p 'process.versions.node')" \
    --change 'CMD ["node"]' \
    - "$BASE_IMAGE" >/dev/null
  podman image exists "$BASE_IMAGE" || die "podman import did not produce $BASE_IMAGE"
  # short name used by `FROM node:20-bookworm-slim` resolves to docker.io/library/... locally
  podman tag "$BASE_IMAGE" "$BASE_IMAGE" 2>/dev/null || true
  rm -rf "$ROOTFS"; trap - EXIT
  log "stand-in base image built in $(elapsed "$t") ($(podman image inspect --format '{{.Size}}' "$BASE_IMAGE" | awk '{ printf "%.0f MB", $1/1e6 }'))"
fi

# --- sanity: a container actually runs with the ulimits fix -------------------------------------
t=$(date +%s.%N)
out="$(podman run --rm --network none "$BASE_IMAGE" node -e 'console.log(process.version)' 2>&1)" \
  || die "podman run failed: $out"
log "podman run ok (node $out inside, $(elapsed "$t"))"
log "done in $(elapsed "$t_all"). Use: export CONTAINERS_CONF=$CONF"
