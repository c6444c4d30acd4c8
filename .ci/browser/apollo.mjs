// Apollo Client 4 against dermagraph, as a front desk's app uses it: a
// query that asks for clinical fields the front desk may not read comes
// back with every requested key present (`null` where refused, FORBIDDEN
// at that path), so Apollo's normalised cache can answer the same query
// again (`cache.readQuery`, and `cache-first` without a request).
//
//   node .ci/browser/apollo.mjs BASE_URL ADMIN_ACCESS_TOKEN
import assert from "node:assert/strict";
import { ApolloClient, HttpLink, InMemoryCache, gql } from "@apollo/client";
import { frontDeskToken } from "./clinic.mjs";

const [base, adminToken] = process.argv.slice(2);
if (!base || !adminToken) {
  console.error("usage: apollo.mjs BASE_URL ADMIN_ACCESS_TOKEN");
  process.exit(2);
}
const endpoint = `${base}/graphql`;
const token = await frontDeskToken(base, adminToken);

let requests = 0;
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: new HttpLink({
    uri: endpoint,
    headers: { authorization: `Bearer ${token}` },
    fetch: (...args) => {
      requests += 1;
      return fetch(...args);
    },
  }),
});

const FRONT_DESK_PATIENTS = gql`
  query FrontDeskPatients {
    patients(first: 5) {
      edges {
        node {
          id
          firstName
          lastName
          skinConcerns
          procedures {
            id
            status
            clinicalNotes
            passes: deviceSessions {
              id
            }
          }
        }
      }
    }
  }
`;

const result = await client.query({
  query: FRONT_DESK_PATIENTS,
  fetchPolicy: "network-only",
  errorPolicy: "all",
});
assert.equal(requests, 1);
const edges = result.data?.patients?.edges ?? [];
assert.ok(edges.length > 0, `no patients in ${JSON.stringify(result)}`);
const codes = new Set((result.error?.errors ?? []).map((error) => error.extensions?.code));
assert.deepEqual([...codes], ["FORBIDDEN"], `expected FORBIDDEN refusals: ${result.error}`);
let procedures = 0;
for (const { node } of edges) {
  assert.ok("skinConcerns" in node && node.skinConcerns === null, JSON.stringify(node));
  assert.equal(typeof node.lastName, "string");
  for (const procedure of node.procedures) {
    procedures += 1;
    assert.ok("clinicalNotes" in procedure && procedure.clinicalNotes === null);
    assert.ok("passes" in procedure && procedure.passes === null);
    assert.equal(typeof procedure.status, "string");
  }
}
assert.ok(procedures > 0, "the seeded patients have procedures");

const cached = client.cache.readQuery({ query: FRONT_DESK_PATIENTS });
assert.ok(cached, "cache.readQuery returned null: a requested key is missing from data");
assert.deepEqual(cached, result.data);

const again = await client.query({ query: FRONT_DESK_PATIENTS, fetchPolicy: "cache-first" });
assert.equal(requests, 1, "cache-first went to the network again");
assert.deepEqual(again.data, result.data);

console.log(
  `Apollo Client: ${edges.length} patients, ${procedures} procedures; refused fields are null and the cache answers the query`,
);
