// graphql-ws (the client Apollo's GraphQLWsLink and urql use) against
// dermagraph's /graphql/ws: bad credentials close with 4401, a
// subscription the front desk may not open is refused with an `error`
// message (the client's sink.error gets the errors, never a `next`), and
// a subscription an admin may open stays open.
//
//   node .ci/browser/graphql_ws.mjs BASE_URL ADMIN_ACCESS_TOKEN
import assert from "node:assert/strict";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { frontDeskToken } from "./clinic.mjs";

const [base, adminToken] = process.argv.slice(2);
if (!base || !adminToken) {
  console.error("usage: graphql_ws.mjs BASE_URL ADMIN_ACCESS_TOKEN");
  process.exit(2);
}
const url = `${base.replace(/^http/, "ws")}/graphql/ws`;
const ADVERSE = "subscription { adverseEventReported { procedureId } }";

function client(token, closed) {
  return createClient({
    url,
    webSocketImpl: WebSocket,
    retryAttempts: 0,
    lazy: true,
    connectionParams: token ? { authorization: `Bearer ${token}` } : {},
    on: { closed: (event) => closed?.(event) },
  });
}

/** What happens to one subscription within `ms`: next, error or complete. */
function outcome(ws, query, ms = 1500) {
  return new Promise((resolve) => {
    const seen = { next: [], error: null, complete: false };
    const timer = setTimeout(() => resolve(seen), ms);
    ws.subscribe(
      { query },
      {
        next: (value) => seen.next.push(value),
        error: (error) => {
          seen.error = error;
          clearTimeout(timer);
          // Wait a moment: nothing may follow an error.
          setTimeout(() => resolve(seen), 300);
        },
        complete: () => {
          seen.complete = true;
        },
      },
    );
  });
}

// 1. A token that is not one: the connection closes with 4401.
let closedWith = null;
const stranger = client("not-a-token", (event) => {
  closedWith = event.code;
});
const refusedConnection = await outcome(stranger, ADVERSE);
assert.equal(closedWith, 4401, `bad credentials closed with ${closedWith}`);
assert.equal(refusedConnection.next.length, 0);
await stranger.dispose();

// 2. The front desk may not open adverseEventReported: an `error` message.
const desk = client(await frontDeskToken(base, adminToken));
const refused = await outcome(desk, ADVERSE);
assert.equal(refused.next.length, 0, `a refusal came as next: ${JSON.stringify(refused.next)}`);
assert.ok(Array.isArray(refused.error), `sink.error got ${refused.error}`);
assert.equal(refused.error[0]?.extensions?.code, "FORBIDDEN", JSON.stringify(refused.error));
await desk.dispose();

// 3. An admin may: the subscription stays open, without errors.
const admin = client(adminToken);
const opened = await outcome(admin, ADVERSE, 1000);
assert.equal(opened.error, null, `admin's subscription failed: ${JSON.stringify(opened.error)}`);
assert.equal(opened.complete, false);
await admin.dispose();

console.log("graphql-ws: 4401 for bad credentials, `error` for a refused subscription, admin's stays open");
