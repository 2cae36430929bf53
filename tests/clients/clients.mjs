// Stock TypeScript-ecosystem clients, unmodified, against a live casehub: run as
//   node clients.mjs STEP    (STEP: query, mutation, subscription or upload)
// beside a node_modules holding them. The server's URLs, the tokens, and the documents with
// their variables come as JSON in CASEHUB_INPUT (tests/clients/test_node_clients.py); prints
// JSON: what the clients returned.
import { ApolloClient, InMemoryCache, gql } from "@apollo/client";
import UploadHttpLink from "apollo-upload-client/UploadHttpLink.mjs";
import { ClientError, GraphQLClient } from "graphql-request";
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const EVENT_MS = 20000;
const input = JSON.parse(process.env.CASEHUB_INPUT);
const bearer = (token) => ({ authorization: `Bearer ${token}` });
const police = new GraphQLClient(input.url, { headers: bearer(input.police) });

// What graphql-request throws for a response with errors: its status and the errors.
async function refusal(request) {
  try {
    await request();
  } catch (error) {
    if (error instanceof ClientError) {
      return { status: error.response.status, errors: error.response.errors };
    }
    throw error;
  }
  throw new Error("the request was not refused");
}

const steps = {
  async query() {
    const viewer = await police.request(input.viewer);
    const invalid = await refusal(() => police.request(input.invalid));
    return { viewer, invalid };
  },

  async mutation() {
    const { query, variables } = input.openCase;
    const opened = await police.request(query, variables);
    const again = await police.request(query, variables); // the same reference: refused
    const page = await police.request(input.casesPage.query, input.casesPage.variables);
    return { opened, again, page };
  },

  async subscription() {
    // node 20 has no WebSocket of its own: ws is the implementation graphql-ws documents.
    const socket = createClient({
      url: input.wsUrl,
      webSocketImpl: WebSocket,
      connectionParams: { token: input.platform },
      retryAttempts: 0,
    });
    const events = socket.iterate({ query: input.inbox });
    const timer = setTimeout(() => {
      process.stderr.write(`no event within ${EVENT_MS} ms`);
      process.exit(1);
    }, EVENT_MS);
    // next(), not `for await`: leaving that loop would complete the subscription.
    const eventOf = async (requestId) => {
      for (;;) {
        const { value, done } = await events.next();
        if (done) throw new Error(`the subscription ended before an event of ${requestId}`);
        if (value.errors) throw new Error(JSON.stringify(value.errors));
        if (value.data.cooperationRequestEvents.requestId === requestId) {
          return value.data.cooperationRequestEvents;
        }
      }
    };
    // The first request's event may come from the feed's history (`since: 0`); once it has
    // come the subscription is live, and the second one's is pushed as it commits.
    const seen = [];
    for (const variables of input.requests) {
      const created = await police.request(input.create, variables);
      const requestId = created.createCooperationRequest.request.id;
      const submitted = await police.request(input.submit, { id: requestId });
      seen.push({ requestId, submitted, event: await eventOf(requestId) });
    }
    clearTimeout(timer);
    await events.return();
    await socket.dispose();
    return seen;
  },

  async upload() {
    const content = Buffer.from(input.contentBase64, "base64");
    const attempt = async (headers) => {
      const client = new ApolloClient({
        link: new UploadHttpLink({ uri: input.url, headers }),
        cache: new InMemoryCache(),
      });
      const file = new File([content], "statement.pdf", { type: "application/pdf" });
      const { query, variables } = input.addEvidence;
      try {
        const result = await client.mutate({ mutation: gql(query), variables: { ...variables, file } });
        return { data: result.data, error: null };
      } catch (error) {
        // Apollo Client 4 raises a GraphQL error response, whatever its status, as
        // CombinedGraphQLErrors, and any other failure of the HTTP exchange as ServerError.
        return { data: null, error: { name: error.name, errors: error.errors ?? null } };
      }
    };
    const without = await attempt(bearer(input.police));
    const withHeader = await attempt({ ...bearer(input.police), "Apollo-Require-Preflight": "true" });
    return { without, with: withHeader };
  },
};

steps[process.argv[2]]()
  .then((seen) => process.stdout.write(JSON.stringify(seen)))
  .catch((error) => {
    process.stderr.write(String(error && error.stack ? error.stack : error));
    process.exit(1);
  });
