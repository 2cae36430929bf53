// PostGraphile 4 as a peer in casehub's benchmark (benchmarks/peer.py starts it).
//
//   node server.js FD
//
// Serves /graphql on the listening socket inherited as file descriptor FD, built from the
// tables of the `public` schema of DATABASE_URL, and the harness's counters at /_bench/stats
// (GET reads them, POST also resets them): requests served and SQL statements sent, as
// benchmarks/instrument.py counts them for casehub and the floor. The counters answer 503
// until the schema is built, so the harness sees the server ready only when it can serve.
"use strict";

const http = require("http");
const pg = require("pg");
const { postgraphile } = require("postgraphile");

const STATS_PATH = "/_bench/stats";
const fd = Number(process.argv[2]);
const counters = { requests: 0, statements: 0 };

// Every statement goes through Client#query (pooled clients included).
const query = pg.Client.prototype.query;
pg.Client.prototype.query = function countedQuery(...args) {
  counters.statements += 1;
  return query.apply(this, args);
};

const pool = new pg.Pool({
  connectionString: process.env.DATABASE_URL,
  max: Number(process.env.PEER_POOL_SIZE || 20),
});
const middleware = postgraphile(pool, "public", {
  graphqlRoute: "/graphql",
  graphiql: false,
  disableQueryLog: true,
  disableDefaultMutations: true,
  ignoreRBAC: true,
  legacyRelations: "omit",
  retryOnInitFail: false,
  watchPg: false,
});

let ready = false;
middleware.getGraphQLSchema().then(
  () => {
    ready = true;
  },
  (error) => {
    console.error(error);
    process.exit(1);
  },
);

function stats(request, response) {
  if (!ready) {
    response.writeHead(503).end();
    return;
  }
  const body = JSON.stringify(counters);
  if (request.method === "POST") {
    counters.requests = 0;
    counters.statements = 0;
  }
  response.writeHead(200, { "content-type": "application/json" }).end(body);
}

const server = http.createServer((request, response) => {
  if (request.url === STATS_PATH) {
    stats(request, response);
    return;
  }
  counters.requests += 1;
  middleware(request, response);
});
server.keepAliveTimeout = 120000;
server.listen({ fd });

process.on("SIGTERM", () => {
  server.close();
  server.closeAllConnections();
  pool.end().finally(() => process.exit(0));
});
