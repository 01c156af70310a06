"""Receives tests/signing/calls.yaml's calls on 127.0.0.1 and checks each signature with the
SDK of the API whose scheme it copies: `stripe.WebhookSignature.verify_header` and
`slack_sdk.signature.SignatureVerifier`. Answers {"verified": true}, or 401 with the SDK's
reason. Keys come from STRIPE_KEY and SLACK_KEY. It listens on a free port, which it writes
to the file named by the first argument once it accepts connections."""

import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import stripe
from slack_sdk.signature import SignatureVerifier


def stripe_verified(body, headers):
    try:
        stripe.WebhookSignature.verify_header(
            body.decode("utf-8"),
            headers.get("Stripe-Signature"),
            os.environ["STRIPE_KEY"],
            tolerance=300,
        )
    except stripe.SignatureVerificationError as error:
        return str(error)
    return None


def slack_verified(body, headers):
    verifier = SignatureVerifier(os.environ["SLACK_KEY"])
    if verifier.is_valid(
        body,
        headers.get("X-Slack-Request-Timestamp"),
        headers.get("X-Slack-Signature"),
    ):
        return None
    return "slack_sdk's SignatureVerifier refused the signature"


CHECKS = {"/stripe": stripe_verified, "/slack": slack_verified}


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        check = CHECKS.get(self.path)
        refused = check(body, self.headers) if check else "no such path"
        answer = {"verified": True} if refused is None else {"refused": refused}
        text = json.dumps(answer).encode()
        self.send_response(200 if refused is None else 401)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(sys.argv[1] + ".tmp", "w") as ready:
    ready.write(str(server.server_address[1]))
os.replace(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
