// dermagraph's GraphiQL: starts the pinned, bundled GraphiQL against this
// server's /graphql (queries, mutations) and /graphql/ws (subscriptions).
// Loaded as a file, not inline, so the page's Content-Security-Policy can
// allow scripts from this server only.
(function () {
  "use strict";
  var origin = window.location.origin;
  var socket = new URL("/graphql/ws", origin);
  socket.protocol = socket.protocol === "https:" ? "wss:" : "ws:";

  // The headers typed into GraphiQL's Headers pane, as GraphiQL stores them.
  function typedHeaders() {
    try {
      return JSON.parse(window.localStorage.getItem("graphiql:headers") || "{}") || {};
    } catch (_) {
      return {};
    }
  }

  // Subscriptions authenticate in connection_init with the same bearer
  // token the Headers pane sends over HTTP.
  var wsClient = graphqlWs.createClient({
    url: socket.toString(),
    lazy: true,
    connectionParams: function () {
      var headers = typedHeaders();
      var authorization = headers.authorization || headers.Authorization;
      return authorization ? { authorization: authorization } : {};
    },
  });

  var fetcher = GraphiQL.createFetcher({
    url: new URL("/graphql", origin).toString(),
    wsClient: wsClient,
  });

  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultEditorToolsVisibility: true,
      defaultHeaders:
        '{\n  "authorization": "Bearer <accessToken from the login mutation>"\n}',
      defaultQuery:
        "# Sign in with the login mutation, put its accessToken in Headers below,\n" +
        "# then run:\n{\n  clinicPolicy {\n    timeZone\n    minIntervalDays\n  }\n}\n",
    })
  );
})();
