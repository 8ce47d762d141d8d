#!/usr/bin/env python3
"""A slow consumer: a connection that never reads, with a 4 KiB receive buffer, in the same room as a normal one.

The admin API posts 32 KiB frames to the slow connection until the server answers 410 (closed as a slow
consumer); meanwhile the normal connection sends chat messages and times their broadcast back to itself.
Prints one JSON object.
"""
import argparse
import asyncio
import json
import socket
import time
import urllib.error
import urllib.request

import websockets


def api(method, url, token, body=None):
    request = urllib.request.Request(url, data=body, method=method)
    request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    args = parser.parse_args()
    base = f"http://{args.host}:{args.port}"
    room = "slow-" + str(int(time.time() * 1000))

    before = {c["id"] for c in api("GET", base + "/api/v1/connections", args.token)[1]["connections"]}
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    raw.connect((args.host, args.port))
    slow = await websockets.connect(f"ws://{args.host}:{args.port}/apps/chat/ws?room={room}&user=slow", sock=raw, max_size=None, max_queue=1)
    # The slow client's library still reads into its own queue of 1 frame; after that the kernel buffers fill.
    # The server registers the connection just after the handshake answer: poll for it.
    new = []
    for _ in range(100):
        after = api("GET", base + "/api/v1/connections", args.token)[1]["connections"]
        new = [c["id"] for c in after if c["id"] not in before]
        if new:
            break
        time.sleep(0.05)
    fast = await websockets.connect(f"ws://{args.host}:{args.port}/apps/chat/ws?room={room}&user=fast")
    frame = "y" * 32_000

    latencies = []

    async def chatter():
        for i in range(30):
            sent = time.monotonic()
            await fast.send(json.dumps({"action": "send", "text": f"tick {i}"}))
            while True:
                message = json.loads(await asyncio.wait_for(fast.recv(), 10))
                if message.get("type") == "message" and message.get("text") == f"tick {i}":
                    latencies.append(time.monotonic() - sent)
                    break
            await asyncio.sleep(0.05)

    def flood():
        results = {}
        for cid in new:
            posted, status = 0, 200
            while status == 200 and posted < 2_000:
                status, body = api("POST", base + f"/api/v1/connections/{cid}", args.token, frame.encode())
                if status == 200:
                    posted += 1
            results[cid] = {"posted": posted, "status": status, "body": body}
        return results

    chat_task = asyncio.create_task(chatter())
    flood_results = await asyncio.get_running_loop().run_in_executor(None, flood)
    await chat_task
    code = None
    try:
        while True:
            await asyncio.wait_for(slow.recv(), 10)
    except websockets.ConnectionClosed:
        code = slow.close_code
    except asyncio.TimeoutError:
        code = "timeout"
    still = api("GET", base + "/api/v1/connections", args.token)[1]
    print(json.dumps({
        "new": new, "flood": flood_results, "slow_close_code": code,
        "fast_latencies": latencies, "fast_open": fast.state.name,
        "open_after": still["perPlugin"].get("chat"),
    }))


asyncio.run(main())
