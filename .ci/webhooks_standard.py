#!/usr/bin/env python3
"""Checks a real delivery with the official Standard Webhooks library
(`pip install standardwebhooks`), as a partner would (issue 17).

  python3 .ci/webhooks_standard.py BASE_URL ADMIN_EMAIL ADMIN_PASSWORD

Against a running development server (loopback webhooks allowed): signs in
as the admin, registers an endpoint on a receiver this script runs on
127.0.0.1, books a consultation (a SCHEDULE_CHANGED event), and verifies
the delivery with `standardwebhooks.Webhook(secret).verify`; a changed body
and another secret must fail to verify. Exit 0 when all holds."""

import datetime as dt
import http.server
import json
import secrets
import sys
import threading
import urllib.request

from standardwebhooks.webhooks import Webhook, WebhookVerificationError

base, email, password = sys.argv[1:4]
received: list[tuple[dict, bytes]] = []
arrived = threading.Event()


class Receiver(http.server.BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers["content-length"]))
        received.append(({key.lower(): value for key, value in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()
        arrived.set()

    def log_message(self, *_):
        pass


def gql(query, variables=None, token=None):
    request = urllib.request.Request(
        f"{base}/graphql",
        data=json.dumps({"query": query, "variables": variables or {}}).encode(),
        headers={"content-type": "application/json", **({"authorization": f"Bearer {token}"} if token else {})},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        answer = json.load(response)
    if answer.get("errors"):
        sys.exit(f"{query[:60]}…: {answer['errors']}")
    return answer["data"]


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
threading.Thread(target=server.serve_forever, daemon=True).start()
receiver_url = f"http://127.0.0.1:{server.server_address[1]}/hooks"

admin = gql("mutation($e: String!, $p: String!) { login(input: { email: $e, password: $p }) { accessToken } }",
            {"e": email, "p": password})["login"]["accessToken"]
created = gql("mutation($i: CreateWebhookEndpointInput!) { createWebhookEndpoint(input: $i) { secret } }",
              {"i": {"url": receiver_url, "eventTypes": ["SCHEDULE_CHANGED"]}}, admin)
secret = created["createWebhookEndpoint"]["secret"]
expires = (dt.date.today() + dt.timedelta(days=400)).isoformat()
provider = gql("mutation($i: CreateUserInput!) { createUser(input: $i) { user { id } } }",
               {"i": {"email": f"hooks-{secrets.token_hex(4)}@clinic.test", "displayName": "Dr Hook", "role": "PROVIDER",
                      "password": "a long enough password",
                      "license": {"number": "RN-1", "kind": "RN", "issuingState": "NY", "expiresOn": expires}}},
               admin)["createUser"]["user"]["id"]
patient = gql('mutation { createPatient(input: { firstName: "Web", lastName: "Hook" }) { patient { id } } }',
              token=admin)["createPatient"]["patient"]["id"]
starts = (dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=3)).strftime("%Y-%m-%dT15:00:00Z")
gql("mutation($i: ScheduleConsultationInput!) { scheduleConsultation(input: $i) { consultation { id } } }",
    {"i": {"patientId": patient, "providerId": provider, "startsAt": starts, "durationMinutes": 30}}, admin)

if not arrived.wait(30):
    sys.exit("no delivery arrived within 30 s")
headers, body = received[0]
event = Webhook(secret).verify(body, headers)
assert event["type"] == "SCHEDULE_CHANGED", event
for name, tampered, key in [("a changed body", body.replace(b"}", b" }"), secret),
                            ("another secret", body, "whsec_" + "d3Jvbmcgc2VjcmV0IGtleSAxMjM0NTY3ODkw")]:
    try:
        Webhook(key).verify(tampered, headers)
    except WebhookVerificationError:
        continue
    sys.exit(f"{name} verified: the check proves nothing")
print(f"standardwebhooks {event['type']} delivery {headers['webhook-id']} verified; tampering refused")
