// Apollo Client's persisted-query link, unmodified, against a live casehub: run as
//   node apollo_apq.cjs URL  (token in CASEHUB_TOKEN, USE_GET=1 for useGETForHashedQueries)
// Prints JSON: every HTTP exchange the link made and what each query returned.
const { ApolloClient, InMemoryCache, HttpLink, ApolloLink, gql } = require("@apollo/client");
const persisted = require("@apollo/client/link/persisted-queries");
const { createHash } = require("node:crypto");

const [url] = process.argv.slice(2);
const token = process.env.CASEHUB_TOKEN;
const useGET = process.env.USE_GET === "1";
const exchanges = [];

async function recordingFetch(input, init) {
  const response = await fetch(input, init);
  const text = await response.clone().text();
  let sent = {};
  if (init.method === "GET") {
    const params = new URL(String(input)).searchParams;
    sent = { query: params.get("query"), extensions: params.get("extensions") };
  } else {
    sent = JSON.parse(init.body);
  }
  let code = null;
  try {
    code = JSON.parse(text).errors?.[0]?.extensions?.code ?? null;
  } catch {}
  exchanges.push({
    method: init.method,
    withQuery: typeof sent.query === "string" && sent.query.length > 0,
    withHash: JSON.stringify(sent.extensions ?? "").includes("sha256Hash"),
    status: response.status,
    code,
  });
  return response;
}

const sha256 = (query) => createHash("sha256").update(query).digest("hex");
const options = { sha256, useGETForHashedQueries: useGET };
const makeLink = () =>
  ApolloLink.from([
    persisted.createPersistedQueryLink
      ? persisted.createPersistedQueryLink(options)
      : new persisted.PersistedQueryLink(options),
    new HttpLink({ uri: url, headers: { authorization: `Bearer ${token}` }, fetch: recordingFetch }),
  ]);

async function run(client, query) {
  try {
    const result = await client.query({ query: gql(query), fetchPolicy: "no-cache" });
    return { data: result.data ?? null, error: result.error ? String(result.error) : null };
  } catch (error) {
    return { data: null, error: String(error) };
  }
}

(async () => {
  const query = process.env.CASEHUB_QUERY;
  const first = await run(new ApolloClient({ link: makeLink(), cache: new InMemoryCache() }), query);
  const firstExchanges = exchanges.splice(0);
  // A new client (another process of the agency tool): the server knows the hash now.
  const second = await run(new ApolloClient({ link: makeLink(), cache: new InMemoryCache() }), query);
  const secondExchanges = exchanges.splice(0);
  process.stdout.write(JSON.stringify({ first, firstExchanges, second, secondExchanges }));
})().catch((error) => {
  process.stderr.write(String(error && error.stack ? error.stack : error));
  process.exit(1);
});
