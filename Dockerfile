# llmops-qa: RAG question answering service (TypeScript run by tsx, no compile step).
#
#   docker build -t llmops-qa:latest .
#   docker run -p 3000:3000 -v llmops-index:/app/index -v llmops-corpus:/app/corpus llmops-qa:latest
#
# Behind a TLS-intercepting proxy, mount the host CA bundle into the build; the build picks it up
# when present and ignores it otherwise:
#   podman build --format docker --volume /etc/ssl/certs:/etc/ssl/certs:ro -t llmops-qa:latest .
# (--format docker: the OCI image format has no HEALTHCHECK field.)

# ---------------------------------------------------------------------------------------------
# build: production node_modules, including hnswlib-node's native addon (node-gyp)
# ---------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS build

RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./

# - CA bundle only if one is mounted/present (proxy builds); a normal host has none in slim images.
# - Node headers ship in the image under /usr/local/include/node: build the addon against them
#   instead of downloading them from nodejs.org.
# - --omit=dev: the app runs through tsx, a production dependency; nothing needs dev tools here.
RUN set -eu; \
    if [ -s /etc/ssl/certs/ca-certificates.crt ]; then \
      export NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt; \
    fi; \
    if [ -f /usr/local/include/node/node.h ]; then \
      export npm_config_nodedir=/usr/local; \
    fi; \
    npm ci --omit=dev --no-audit --no-fund --cache /tmp/npm-cache; \
    test -f node_modules/hnswlib-node/build/Release/addon.node; \
    node -e "require('hnswlib-node')"; \
    rm -rf /tmp/npm-cache

# ---------------------------------------------------------------------------------------------
# runtime
# ---------------------------------------------------------------------------------------------
FROM node:20-bookworm-slim AS runtime

# The official image has user `node` (uid/gid 1000); create it where a base image lacks it.
RUN set -eu; \
    getent group node >/dev/null || groupadd --gid 1000 node; \
    id -u node >/dev/null 2>&1 || useradd --uid 1000 --gid node --shell /bin/sh --create-home node

ENV NODE_ENV=production \
    HOST=0.0.0.0 \
    PORT=3000 \
    CORPUS_DIR=/app/corpus \
    INDEX_DIR=/app/index \
    PROMPTS_DIR=/app/prompts

WORKDIR /app

# Code and dependencies stay root-owned (read-only for the app); only data dirs are writable.
COPY --from=build /app/node_modules ./node_modules
COPY package.json ./
COPY src ./src
COPY prompts ./prompts
COPY pricing ./pricing
COPY public ./public
COPY --chown=node:node corpus/manifest.json ./corpus/manifest.json
RUN mkdir -p /app/index /app/data \
 && chown node:node /app/corpus /app/index /app/data

USER node
EXPOSE 3000

# First start may download the corpus and build the index: long start period.
HEALTHCHECK --interval=30s --timeout=5s --start-period=600s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||3000)+'/readyz').then(r=>process.exit(r.ok?0:1)).catch(()=>process.exit(1))"]

# start = fetch missing corpus documents, build the index if none exists, serve.
CMD ["node", "--import", "tsx", "src/cli/start.ts"]
