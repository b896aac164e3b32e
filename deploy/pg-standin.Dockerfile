# Stand-in Postgres for the compose smoke run (scripts/compose-smoke-postgres.sh), built FROM the
# project's image: PGlite (Postgres 17 in WebAssembly, with pgvector) behind the wire-protocol server
# of scripts/pg-standin.ts. For the smoke run only (one session, in memory), never production.
#
# The build context is a folder the smoke script stages (no registry access here, so nothing is
# downloaded): scripts/pg-standin.ts, scripts/pglite-server.ts and node_modules/@electric-sql/{pglite,
# pglite-socket} as `npm ci` installed them from package-lock.json (the script checks the versions).
#   podman build --format docker -f deploy/pg-standin.Dockerfile -t llmops-pg-standin:latest <staged dir>
ARG APP_IMAGE=llmops-qa:latest
FROM ${APP_IMAGE}

USER root
COPY node_modules/@electric-sql /app/node_modules/@electric-sql
COPY scripts/pg-standin.ts scripts/pglite-server.ts /app/scripts/
USER node

EXPOSE 5432
HEALTHCHECK --interval=5s --timeout=5s --start-period=10s --retries=30 \
  CMD ["node", "-e", "require('net').connect(5432,'127.0.0.1').on('connect',()=>process.exit(0)).on('error',()=>process.exit(1))"]
ENTRYPOINT ["node", "--import", "tsx", "scripts/pg-standin.ts", "--host", "0.0.0.0", "--port", "5432"]
CMD []
