// PostGraphile v5 benchmark peer for dermagraph: the same PostgreSQL database
// served by PostGraphile's "amber" preset. No auth, no GraphiQL, no watch.
//
// Env: DATABASE_URL (required), PEER_PORT (default 5678),
//      PEER_POOL_SIZE (pg pool max, default 10), PEER_HOST (default 127.0.0.1).
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { PgSimplifyInflectionPreset } from "@graphile/simplify-inflection";

const connectionString = process.env.DATABASE_URL;
if (!connectionString) {
  throw new Error("DATABASE_URL is not set");
}
const poolSize = Number.parseInt(process.env.PEER_POOL_SIZE ?? "10", 10);
const port = Number.parseInt(process.env.PEER_PORT ?? "5678", 10);

/** @type {GraphileConfig.Preset} */
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  pgServices: [
    makePgService({
      connectionString,
      schemas: ["public"],
      // Passed through to `new pg.Pool(...)`.
      poolConfig: { max: poolSize },
    }),
  ],
  grafserv: {
    host: process.env.PEER_HOST ?? "127.0.0.1",
    port,
    graphqlPath: "/graphql",
    graphiql: false,
    graphiqlOnGraphQLGET: false,
    watch: false,
    websockets: false,
  },
  grafast: {
    explain: false,
  },
};

export default preset;
