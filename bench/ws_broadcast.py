#!/usr/bin/env python3
"""Peer for bench/chat.sh: a minimal chat broadcast server on Python's `websockets` (rooms from ?room=, frames
{"action": "send", "text"} re-sent to the room as {"type": "message", "text", ...}); no storage, no sentiment.
Usage: ws_broadcast.py --port PORT"""
import argparse
import asyncio
import json
from urllib.parse import parse_qs, urlparse

import websockets

rooms = {}


async def handler(ws):
    query = parse_qs(urlparse(ws.request.path).query)
    room = query.get("room", ["lobby"])[0]
    user = query.get("user", ["anon"])[0]
    members = rooms.setdefault(room, set())
    members.add(ws)
    try:
        async for raw in ws:
            try:
                frame = json.loads(raw)
            except ValueError:
                continue
            if frame.get("action") == "send":
                out = json.dumps({"type": "message", "room": room, "user": user, "text": frame.get("text", "")}, separators=(",", ":"))
                websockets.broadcast(members, out)
    finally:
        members.discard(ws)


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    async with websockets.serve(handler, "127.0.0.1", args.port, max_size=1 << 20, ping_interval=None):
        await asyncio.Future()


asyncio.run(main())
