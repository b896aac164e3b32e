/**
 * The layering rule, checked in `npm test` (npm run lint:deps): dependencies point one way,
 *   cli -> server -> service -> answer -> retrieval -> store,
 * with ingest (the indexing job), corpus (documents), embed (vectors), eval (quality) beside them,
 * and text, config, telemetry, errors at the bottom, usable by all. No cycles; nothing imports server/ or cli/.
 */
const layer = (name) => `^src/${name}/`;
const forbid = (name, from, to, comment) => ({ name, severity: "error", comment, from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "modules must not depend on each other in a cycle", from: {}, to: { circular: true } },
    forbid("nothing-imports-cli", "^src/(?!cli/)", layer("cli"), "cli/ holds entry points; nothing depends on them"),
    forbid("nothing-imports-server", "^src/(?!server/|cli/)", layer("server"), "only the entry points start the server"),
    forbid("routes-call-the-service", "^src/server/", "^src/(answer|retrieval|store|ingest|corpus|embed|eval)/", "HTTP code talks to the service facade only"),
    forbid("service-below-http", layer("service"), "^src/(server|cli|eval)/", "the service knows nothing of HTTP, entry points or evaluation"),
    forbid("answer-below-service", layer("answer"), "^src/(service|server|cli|eval|ingest|store|corpus)/", "answering reads the index through retrieval only"),
    forbid("retrieval-below-answer", layer("retrieval"), "^src/(answer|service|server|cli|eval|ingest|corpus)/", "retrieval knows nothing of answers or jobs"),
    forbid("store-at-the-bottom", layer("store"), "^src/(retrieval|answer|service|server|cli|eval|ingest|corpus|embed)/", "the store implements the port; it depends on nothing above it"),
    forbid("embed-is-a-leaf", layer("embed"), "^src/(retrieval|answer|service|server|cli|eval|ingest|corpus|store)/", "embedders turn text into vectors and nothing else"),
    forbid("ingest-writes-through-the-store", layer("ingest"), "^src/(retrieval|answer|service|server|cli|eval)/", "ingestion builds generations; it does not serve"),
    forbid("corpus-is-low", layer("corpus"), "^src/(ingest|retrieval|answer|service|server|cli|eval|store|embed)/", "the document list and fetching depend on nothing above them"),
    forbid("text-is-the-base", layer("text"), "^src/(?!text/)", "text analysis depends on nothing else in the project"),
    forbid("config-is-the-base", layer("config"), "^src/(?!config/|errors)", "configuration is read before anything else exists"),
    forbid("telemetry-is-the-base", layer("telemetry"), "^src/(?!telemetry/)", "tracing helpers every layer may use; they know nothing of the layers"),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js"] },
    reporterOptions: { dot: { collapsePattern: "^src/[^/]+/" } },
  },
};
