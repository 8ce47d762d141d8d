#!/usr/bin/env python3
"""Reads a mail as a mail client would (Python's email package, policy=default) and reports what it found: the MIME
structure, every defect of the message and of each part, the inline images with the Content-IDs the HTML refers
to, and each PNG checked chunk by chunk (CRC-32, IHDR, the IDAT inflated and unfiltered, red pixels counted).
Writes the HTML with each cid: image replaced by a data: URL, so that a browser can show the mail as a client does.

    mail_inspect.py --eml 00000.eml --html-out mail.html

Prints one JSON object.
"""
import argparse
import base64
import email
import email.policy
import json
import re
import struct
import zlib


def inspect_png(data):
    """Chunks, CRCs and pixels of an 8-bit RGB PNG (filters None and Sub, what Plumb writes)."""
    report = {"signature_ok": data[:8] == b"\x89PNG\r\n\x1a\n", "crc_ok": True, "chunks": []}
    pos, idat = 8, b""
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        crc = struct.unpack(">I", data[pos + 8 + length:pos + 12 + length])[0]
        report["crc_ok"] &= zlib.crc32(kind + body) & 0xFFFFFFFF == crc
        report["chunks"].append(kind.decode("ascii", "replace"))
        if kind == b"IHDR":
            report["width"], report["height"], depth, colour = struct.unpack(">IIBB", body[:10])
            report["depth"], report["colour_type"] = depth, colour
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height = report.get("width", 0), report.get("height", 0)
    raw = zlib.decompress(idat)
    report["idat_ok"] = len(raw) == (width * 3 + 1) * height
    red = white = 0
    stride = width * 3
    for row in range(height):
        start = row * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:
            for i in range(3, stride):
                line[i] = (line[i] + line[i - 3]) & 0xFF
        elif kind != 0:
            report["unexpected_filter"] = kind
            break
        for i in range(0, stride, 3):
            r, g, b = line[i], line[i + 1], line[i + 2]
            if r > 160 and g < 100 and b < 90:
                red += 1
            elif r > 245 and g > 245 and b > 245:
                white += 1
    report["red_pixels"], report["white_pixels"] = red, white
    return report


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--eml", required=True)
    parser.add_argument("--html-out", required=True)
    args = parser.parse_args()
    with open(args.eml, "rb") as f:
        raw = f.read()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    defects = [f"message: {type(d).__name__}: {d}" for d in msg.defects]
    structure, images = [], {}
    for part in msg.walk():
        structure.append(part.get_content_type())
        defects += [f"{part.get_content_type()}: {type(d).__name__}: {d}" for d in part.defects]
        cid = part.get("Content-ID")
        if cid and part.get_content_maintype() == "image":
            data = part.get_content()
            image = {"type": part.get_content_type(), "bytes": len(data), "disposition": part.get_content_disposition(),
                     "filename": part.get_filename()}
            if part.get_content_type() == "image/png":
                image["png"] = inspect_png(data)
            images[cid.strip().strip("<>")] = (image, data)
    html = msg.get_body(preferencelist=("html",)).get_content()
    text = msg.get_body(preferencelist=("plain",)).get_content()
    referenced = re.findall(r'src="cid:([^"]+)"', html)

    def inline(match):
        found = images.get(match.group(1))
        if not found:
            return match.group(0)
        image, data = found
        return f'src="data:{image["type"]};base64,{base64.b64encode(data).decode()}"'

    with open(args.html_out, "w", encoding="utf-8") as f:
        f.write(re.sub(r'src="cid:([^"]+)"', inline, html))
    print(json.dumps({
        "defects": defects, "structure": structure, "subject": str(msg["subject"]),
        "referenced_cids": referenced, "images": {cid: image for cid, (image, _) in images.items()},
        "text": text, "html": html, "html_path": args.html_out,
    }))


main()
