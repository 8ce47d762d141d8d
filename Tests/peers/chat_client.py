#!/usr/bin/env python3
"""The chat scenario with a WebSocket client that is not Swift (the `websockets` package).

Usage: chat_client.py --url ws://127.0.0.1:PORT/apps/chat/ws --http http://127.0.0.1:PORT --token TOKEN
Prints one JSON object with what it saw; the Swift test asserts on it.
"""
import argparse
import asyncio
import json
import urllib.request

import websockets


async def frames_until(ws, predicate, timeout=5.0):
    """Reads frames until one satisfies predicate; returns every frame read."""
    seen = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        remaining = deadline - asyncio.get_running_loop().time()
        if remaining <= 0:
            raise TimeoutError(f"no matching frame within {timeout}s; saw {seen}")
        frame = json.loads(await asyncio.wait_for(ws.recv(), remaining))
        seen.append(frame)
        if predicate(frame):
            return seen


def http_json(url, token=None):
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


async def closed_with(ws, timeout=5.0):
    try:
        while True:
            await asyncio.wait_for(ws.recv(), timeout)
    except websockets.ConnectionClosed:
        return ws.close_code, ws.close_reason


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--http", required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    room = "room-" + str(asyncio.get_running_loop().time()).replace(".", "")
    out = {}

    alice = await websockets.connect(f"{args.url}?room={room}&user=alice")
    bob = await websockets.connect(f"{args.url}?room={room}&user=bob")
    await frames_until(alice, lambda f: f.get("type") == "presence" and f.get("user") == "bob")

    texts = ["I love this, it is wonderful!", "This is terrible and I hate it.", "The meeting is at noon."]
    for i, text in enumerate(texts):
        sender = alice if i % 2 == 0 else bob
        await sender.send(json.dumps({"action": "send", "text": text}))
    received = {}
    for name, ws in (("alice", alice), ("bob", bob)):
        # Alice's and Bob's frames are handled concurrently: wait until all three have arrived, in whatever order.
        got = []

        def all_seen(frame, got=got):
            if frame.get("type") == "message":
                got.append(frame)
            return {f.get("text") for f in got} >= set(texts)

        await frames_until(ws, all_seen)
        received[name] = got
    out["received"] = received

    await bob.send(json.dumps({"action": "send", "text": "@support how many users are online?"}))
    frames = await frames_until(alice, lambda f: f.get("type") == "message" and f.get("user") == "support")
    out["support"] = frames[-1]

    out["online_two"] = http_json(args.http + "/apps/chat/online")
    out["connections_two"] = http_json(args.http + "/api/v1/connections", args.token)["perPlugin"].get("chat")

    # Bad input on a third connection: error frames keep it open; binary and oversize frames close it.
    carol = await websockets.connect(f"{args.url}?room={room}&user=carol", max_size=None)
    errors = {}
    await carol.send("this is not json")
    errors["not_json"] = (await frames_until(carol, lambda f: f.get("type") == "error"))[-1]
    await carol.send(json.dumps({"action": "dance"}))
    errors["unknown_action"] = (await frames_until(carol, lambda f: f.get("type") == "error"))[-1]
    await carol.send(json.dumps({"action": "send", "text": ""}))
    errors["empty_text"] = (await frames_until(carol, lambda f: f.get("type") == "error"))[-1]
    await carol.send(json.dumps({"action": "send", "text": "a\u0000b"}))
    errors["nul_text"] = (await frames_until(carol, lambda f: f.get("type") == "error"))[-1]
    await carol.send(json.dumps({"action": "send", "text": "still here after the errors"}))
    await frames_until(carol, lambda f: f.get("type") == "message" and f.get("user") == "carol")
    await carol.send(b"\x00\x01binary")
    errors["binary_close"] = await closed_with(carol)
    # A text frame that is not UTF-8 (sent raw, as a broken client would): RFC 6455 says close with 1007.
    erin = await websockets.connect(f"{args.url}?room={room}&user=erin")
    await erin.send(b'{"action": "send", "text": "caf\xe9"}', text=True)
    errors["invalid_utf8_close"] = await closed_with(erin)
    dave = await websockets.connect(f"{args.url}?room={room}&user=dave", max_size=None)
    await dave.send("x" * 100_000)
    errors["oversize_close"] = await closed_with(dave)
    refused = await websockets.connect(f"{args.url}?room={room}")
    errors["missing_user_close"] = await closed_with(refused)
    out["errors"] = errors
    await asyncio.sleep(0.5)
    out["connections_after_bad"] = http_json(args.http + "/api/v1/connections", args.token)["perPlugin"].get("chat")

    await bob.close()
    await frames_until(alice, lambda f: f.get("type") == "presence" and f.get("event") == "leave" and f.get("user") == "bob")
    out["online_after_bob_left"] = http_json(args.http + "/apps/chat/online")
    await alice.close()
    await asyncio.sleep(0.5)
    out["online_at_end"] = http_json(args.http + "/apps/chat/online")
    out["history"] = http_json(args.http + f"/apps/chat/rooms/{room}/messages?limit=100")
    out["room"] = room
    print(json.dumps(out))


asyncio.run(main())
