#!/usr/bin/env python3
"""Long-lived clients for the shutdown test: they hold a server's long responses open and record how each ended.

Usage: long_lived_clients.py --port PORT --token TOKEN --detector D-1 --ready FILE --out FILE

- tail-kept: follows a log group (GET …/tail) and keeps reading until the server ends the response;
- tail-dropped: follows a log group, reads the response head, then closes its socket (the server must notice);
- stream: a chunked POST /apps/sensors/ingest that sends one reading, reads its acknowledgement and then waits;
- websocket: a chat member on /apps/chat/ws that waits for the server's close frame.

Writes FILE (--ready) once all four are open, then FILE (--out) with one JSON object: for each client what it saw
and how its connection ended (the server's EOF, a close code), with the time since the ready file was written.
"""
import argparse
import asyncio
import json
import time

import websockets


async def open_http(port, head, body=b""):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head.encode() + body)
    await writer.drain()
    status = await reader.readuntil(b"\r\n\r\n")
    return reader, writer, status.split(b"\r\n")[0].decode()


async def until_eof(reader, started):
    seen = b""
    try:
        while True:
            chunk = await reader.read(65536)
            if not chunk:
                return {"ended": "eof", "after": round(time.time() - started[0], 3), "bytes": len(seen)}
            seen += chunk
    except ConnectionError as error:
        return {"ended": f"reset: {error}", "after": round(time.time() - started[0], 3), "bytes": len(seen)}


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--detector", required=True)
    parser.add_argument("--ready", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    auth = f"Authorization: Bearer {args.token}\r\n"
    tail = f"GET /api/v1/logs/%2Fplumb%2Faudit/tail HTTP/1.1\r\nHost: x\r\n{auth}\r\n"
    started = [time.time()]
    results = {}

    kept_reader, _, results["tail-kept-status"] = await open_http(args.port, tail)
    dropped_reader, dropped_writer, results["tail-dropped-status"] = await open_http(args.port, tail)
    dropped_writer.close()
    await dropped_writer.wait_closed()

    stream_head = (
        "POST /apps/sensors/ingest HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-ndjson\r\n"
        "Transfer-Encoding: chunked\r\n\r\n"
    )
    reading = json.dumps({
        "detector": args.detector, "timestamp": int(time.time() * 1000), "event_count": 60, "coincidence_count": 12,
        "rate_hz": 1.25, "temperature_c": 19.5, "pressure_hpa": 1012.75, "humidity_pct": 44.5, "sipm_voltage_v": 29.41,
        "sipm_current_ua": 1.12, "dead_time_ms": 0.31, "adc_peak": 805, "adc_area": 5090, "battery_v": 3.91,
        "rssi_dbm": -71, "firmware": "fw 1.0",
    }).encode() + b"\n"
    chunk = f"{len(reading):x}\r\n".encode() + reading + b"\r\n"
    stream_reader, stream_writer, results["stream-status"] = await open_http(args.port, stream_head, chunk)
    results["stream-first-ack"] = (await asyncio.wait_for(stream_reader.read(4096), 10)).decode()

    ws = await websockets.connect(f"ws://127.0.0.1:{args.port}/apps/chat/ws?room=shutdown&user=dora")

    async def websocket_end():
        try:
            while True:
                await ws.recv()
        except websockets.ConnectionClosed as closed:
            return {"ended": "close", "code": closed.rcvd.code if closed.rcvd else None,
                    "after": round(time.time() - started[0], 3)}

    started[0] = time.time()
    with open(args.ready, "w") as f:
        f.write("ready\n")
    ends = await asyncio.wait_for(asyncio.gather(
        until_eof(kept_reader, started), until_eof(stream_reader, started), websocket_end()), 60)
    results["tail-kept"], results["stream"], results["websocket"] = ends
    with open(args.out, "w") as f:
        json.dump(results, f)


asyncio.run(main())
