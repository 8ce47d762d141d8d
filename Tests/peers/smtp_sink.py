#!/usr/bin/env python3
"""A real SMTP server for Plumb's tests (aiosmtpd). Every message it accepts is parsed with Python's email
package and written to OUTDIR as <n>.json (envelope, TLS/auth state, decoded headers and parts: text as text, other
parts in base64) next to the raw
<n>.eml, so a test checks what a mail client would see."""
import signal
import argparse, asyncio, base64, email, email.policy, json, os, ssl, sys, time, itertools
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

counter = itertools.count()

class Sink:
    def __init__(self, outdir):
        self.outdir = outdir

    async def handle_DATA(self, server, session, envelope):
        n = next(counter)
        raw = envelope.original_content or envelope.content
        msg = email.message_from_bytes(raw, policy=email.policy.default)
        parts = {}
        for part in msg.walk():
            if part.get_content_maintype() == "multipart":
                continue
            content = part.get_content()
            # Text parts as text; anything else (an inline chart) as base64, so the summary stays JSON strings.
            parts[part.get_content_type()] = content if isinstance(content, str) else base64.b64encode(content).decode()
        summary = {
            "received": time.time(), "mail_from": envelope.mail_from, "rcpt_tos": envelope.rcpt_tos,
            "tls": session.ssl is not None, "auth": session.auth_data.login.decode() if session.authenticated and session.auth_data else None,
            "subject": str(msg["subject"]), "from": str(msg["from"]), "to": str(msg["to"]), "message_id": str(msg["message-id"]),
            "date": str(msg["date"]), "date_parsed": msg["date"].datetime is not None if msg["date"] else False,
            "x_plumb_message_id": str(msg["x-plumb-message-id"]), "defects": [str(d) for d in msg.defects],
            "parts": parts,
        }
        base = os.path.join(self.outdir, f"{n:05d}")
        with open(base + ".eml", "wb") as f:
            f.write(raw)
        with open(base + ".tmp", "w") as f:
            json.dump(summary, f)
        os.rename(base + ".tmp", base + ".json")
        return "250 2.0.0 Ok: queued"

def authenticator(user, password):
    def check(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)
    return check

def main():
    # The test process may block signals, and children inherit that mask: let SIGTERM work again.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, signal.valid_signals())
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--outdir", required=True)
    p.add_argument("--cert"); p.add_argument("--key")
    p.add_argument("--require-starttls", action="store_true")
    p.add_argument("--auth", help="user:password; AUTH is then required")
    a = p.parse_args()
    os.makedirs(a.outdir, exist_ok=True)
    kwargs = {}
    if a.cert:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(a.cert, a.key)
        kwargs["tls_context"] = ctx
        kwargs["require_starttls"] = a.require_starttls
    if a.auth:
        user, password = a.auth.split(":", 1)
        kwargs["authenticator"] = authenticator(user, password)
        kwargs["auth_required"] = True
        kwargs["auth_require_tls"] = True
    controller = Controller(Sink(a.outdir), hostname="127.0.0.1", port=a.port, **kwargs)
    controller.start()
    print("ready", flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        controller.stop()

if __name__ == "__main__":
    main()
