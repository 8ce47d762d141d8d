#!/usr/bin/env python3
"""Python clients of Plumb's TLS listener, trusting only the test's CA file.

Usage:
  tls_client.py basic --port PORT --ca CA.pem
      GET /healthz with urllib and with requests, and the chat over wss:// (two users, one message).
  tls_client.py fingerprint --port PORT --ca CA.pem
      The SHA-256 fingerprint of the certificate a new connection is shown.
  tls_client.py slowhead --port PORT --ca CA.pem
      Sends the start of a head and nothing more; reads what comes back until the server closes.
  tls_client.py reload --port PORT --ca CA.pem --pid PID
      Opens a keep-alive connection and asks once, sends SIGHUP to PID, waits until new connections see another
      certificate, then asks again on the first connection.
Prints one JSON object; the Swift test asserts on it.
"""
import argparse
import asyncio
import hashlib
import http.client
import json
import os
import signal
import ssl
import time
import urllib.request


def context(ca, alpn=None):
    ctx = ssl.create_default_context(cafile=ca)
    if alpn:
        ctx.set_alpn_protocols(alpn)
    return ctx


def fingerprint(port, ca):
    import socket

    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        with context(ca).wrap_socket(raw, server_hostname="localhost") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def basic(args):
    out = {}
    url = f"https://localhost:{args.port}/healthz"
    with urllib.request.urlopen(url, context=context(args.ca), timeout=10) as response:
        out["urllib"] = {"status": response.status, "body": json.loads(response.read())}
    import requests

    response = requests.get(url, verify=args.ca, timeout=10)
    out["requests"] = {"status": response.status_code, "body": response.json()}
    out["chat"] = asyncio.run(chat(args))
    return out


async def chat(args):
    import websockets

    ctx = context(args.ca, alpn=["http/1.1"])
    url = f"wss://localhost:{args.port}/apps/chat/ws"
    room = "tls-" + str(time.time_ns())
    alice = await websockets.connect(f"{url}?room={room}&user=alice", ssl=ctx)
    bob = await websockets.connect(f"{url}?room={room}&user=bob", ssl=ctx)
    # The upgrade is answered before $connect runs: bob is in the room once alice sees him join.
    deadline = asyncio.get_running_loop().time() + 10
    while True:
        frame = json.loads(await asyncio.wait_for(alice.recv(), deadline - asyncio.get_running_loop().time()))
        if frame.get("type") == "presence" and frame.get("event") == "join" and frame.get("user") == "bob":
            break
    await alice.send(json.dumps({"action": "send", "text": "hello over TLS"}))
    received = None
    deadline = asyncio.get_running_loop().time() + 10
    while received is None:
        frame = json.loads(await asyncio.wait_for(bob.recv(), deadline - asyncio.get_running_loop().time()))
        if frame.get("type") == "message":
            received = frame
    await alice.close()
    await bob.close()
    return {"received": received.get("text"), "from": received.get("user")}


def reload(args):
    conn = http.client.HTTPSConnection("localhost", args.port, context=context(args.ca), timeout=10)
    conn.request("GET", "/healthz")
    first = conn.getresponse()
    first_body = first.read()
    old_print = hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest()
    old_socket = conn.sock
    os.kill(args.pid, signal.SIGHUP)
    new_print = old_print
    deadline = time.time() + 15
    while new_print == old_print and time.time() < deadline:
        time.sleep(0.1)
        new_print = fingerprint(args.port, args.ca)
    conn.request("GET", "/healthz")
    second = conn.getresponse()
    second_body = second.read()
    return {
        "before": {"status": first.status, "body": json.loads(first_body)},
        "old_fingerprint": old_print,
        "new_fingerprint": new_print,
        "after": {"status": second.status, "body": json.loads(second_body)},
        "same_connection": conn.sock is old_socket,
        "old_connection_fingerprint": hashlib.sha256(conn.sock.getpeercert(binary_form=True)).hexdigest(),
    }


def slowhead(args):
    import socket

    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", args.port), timeout=15) as raw:
        with context(args.ca).wrap_socket(raw, server_hostname="localhost") as tls:
            tls.sendall(b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: ")
            received = b""
            closed = False
            while True:
                try:
                    chunk = tls.recv(4096)
                except (ssl.SSLError, ConnectionResetError, socket.timeout) as error:
                    closed = not isinstance(error, socket.timeout)
                    break
                if not chunk:
                    closed = True
                    break
                received += chunk
    return {"received": received.decode(errors="replace"), "closed": closed, "seconds": time.monotonic() - started}


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("mode", choices=["basic", "fingerprint", "reload", "slowhead"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--ca", required=True)
    parser.add_argument("--pid", type=int)
    args = parser.parse_args()
    if args.mode == "basic":
        out = basic(args)
    elif args.mode == "slowhead":
        out = slowhead(args)
    elif args.mode == "fingerprint":
        out = {"fingerprint": fingerprint(args.port, args.ca)}
    else:
        out = reload(args)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
