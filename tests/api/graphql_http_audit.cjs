// graphql-http's server audit (GraphQL over HTTP conformance) against the URL given as the
// first argument, each request carrying the bearer token of CASEHUB_AUDIT_TOKEN (the audit
// itself sends none). Prints one JSON array: id, name, status, and for a failed audit its
// reason and the HTTP status it got. Run by tests/api/test_graphql_over_http.py.
'use strict';

const { auditServer } = require('graphql-http');

const [url] = process.argv.slice(2);
const authorization = `Bearer ${process.env.CASEHUB_AUDIT_TOKEN}`;

function fetchFn(input, init = {}) {
  return fetch(input, { ...init, headers: { ...(init.headers || {}), authorization } });
}

auditServer({ url, fetchFn }).then(
  (results) => {
    const rows = results.map(({ id, name, status, reason, response }) => ({
      id,
      name,
      status,
      ...(status === 'ok' ? {} : { reason, got: response.status }),
    }));
    process.stdout.write(JSON.stringify(rows));
  },
  (error) => {
    process.stderr.write(`audit failed to run: ${error && error.stack ? error.stack : error}\n`);
    process.exit(1);
  },
);
