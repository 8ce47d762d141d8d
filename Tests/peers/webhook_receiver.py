#!/usr/bin/env python3
"""A real HTTP webhook receiver for Plumb's tests. It answers every POST with --status, verifies the
X-Plumb-Signature HMAC-SHA256 with --secret, and appends one JSON line per request to --log: arrival time,
status answered, both message ids, whether the signature verified, and the parsed body."""
import signal
import argparse, hashlib, hmac, json, sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

def main():
    # The test process may block signals, and children inherit that mask: let SIGTERM work again.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--log", required=True)
    p.add_argument("--secret", default="")
    p.add_argument("--status", type=int, default=200)
    a = p.parse_args()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            signature = self.headers.get("X-Plumb-Signature")
            valid = None
            if a.secret:
                expected = "sha256=" + hmac.new(a.secret.encode(), body, hashlib.sha256).hexdigest()
                valid = signature is not None and hmac.compare_digest(expected, signature)
            try:
                parsed = json.loads(body)
            except Exception:
                parsed = None
            record = {"received": time.time(), "status": a.status, "path": self.path,
                      "header_message_id": self.headers.get("X-Plumb-Message-Id"),
                      "message_type": self.headers.get("X-Plumb-Message-Type"),
                      "signature_valid": valid, "body": parsed}
            with open(a.log, "a") as f:
                f.write(json.dumps(record) + "\n")
            self.send_response(a.status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", a.port), Handler)
    print("ready", flush=True)
    server.serve_forever()

if __name__ == "__main__":
    main()
