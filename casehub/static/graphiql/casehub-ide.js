/*
 * casehub's GraphiQL bootstrap (development mode only).
 *
 * It asks for a bearer token first, keeps it in this page's memory only, and renders GraphiQL
 * after that, so that GraphiQL's first request (the schema's introspection) is authenticated.
 * GraphiQL is given a storage that keeps nothing: by default it writes its tabs, headers and
 * history to the browser's persistent storage, where a token typed into a header would stay.
 * A static file rather than an inline script, so the page's policy can be script-src 'self'.
 */
(function () {
  "use strict";

  var endpoint = window.location.origin + window.location.pathname;
  var socket = endpoint.replace(/^http/, "ws");
  var DEFAULT_QUERY = "{ viewer { agency { code } } }\n";

  // The Storage interface GraphiQL calls, answering as if it were always empty.
  var keepsNothing = {
    length: 0,
    getItem: function () {
      return null;
    },
    setItem: function () {},
    removeItem: function () {},
    clear: function () {},
    key: function () {
      return null;
    },
  };

  function bearer(value) {
    // A token pasted with its scheme is accepted as well.
    return value.trim().replace(/^bearer\s+/i, "");
  }

  function start(token) {
    var authorization = "Bearer " + token;
    var fetcher = GraphiQL.createFetcher({
      url: endpoint,
      headers: { Authorization: authorization },
      // graphql-transport-ws: the token goes in connection_init (a browser cannot set the
      // upgrade request's headers).
      subscriptionUrl: socket,
      wsConnectionParams: { Authorization: authorization },
    });
    var root = document.getElementById("graphiql");
    root.hidden = false;
    ReactDOM.createRoot(root).render(
      React.createElement(GraphiQL, {
        fetcher: fetcher,
        storage: keepsNothing,
        defaultQuery: DEFAULT_QUERY,
        shouldPersistHeaders: false,
        defaultEditorToolsVisibility: true,
        inputValueDeprecation: true,
      }),
    );
  }

  var form = document.getElementById("casehub-token");
  var input = document.getElementById("casehub-token-input");
  var problem = document.getElementById("casehub-token-problem");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var token = bearer(input.value);
    if (!token) {
      problem.textContent = "Enter the agency's bearer token.";
      return;
    }
    input.value = "";
    form.remove();
    start(token);
  });
  input.focus();
})();
