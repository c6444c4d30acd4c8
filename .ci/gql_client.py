#!/usr/bin/env python3
"""Python `gql`, as a partner's or a data team's script uses it (issue 17):
it fetches the schema by the standard introspection query
(`fetch_schema_from_transport=True`), validates the query against it
locally, and runs it.

  python3 .ci/gql_client.py BASE_URL ACCESS_TOKEN
"""

import sys

from gql import Client, gql
from gql.transport.requests import RequestsHTTPTransport

base, token = sys.argv[1:3]
transport = RequestsHTTPTransport(url=f"{base}/graphql", headers={"authorization": f"Bearer {token}"}, timeout=30)
with Client(transport=transport, fetch_schema_from_transport=True) as session:
    answer = session.execute(gql("query ClinicPolicy { clinicPolicy { timeZone minIntervalDays } }"))
    schema = session.client.schema
    assert schema is not None and schema.get_type("Patient") is not None, "no schema fetched"
    assert answer["clinicPolicy"]["minIntervalDays"] == 42, answer
    print(f"gql fetched {len(schema.type_map)} types by introspection and ran ClinicPolicy: {answer}")
