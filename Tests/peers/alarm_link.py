#!/usr/bin/env python3
"""Signs an alarm page link the way the server does, from its key file: a second implementation of the scheme, so
that a test can make links the server never sent (already expired, or for another alarm) and pin the format.

    alarm_link.py --key DATA/alarm-links.key --name NAME --exp EPOCH   →   {"sig": "…"}
"""
import argparse
import base64
import hashlib
import hmac
import json

parser = argparse.ArgumentParser()
parser.add_argument("--key", required=True)
parser.add_argument("--name", required=True)
parser.add_argument("--exp", type=int, required=True)
args = parser.parse_args()
with open(args.key, "rb") as f:
    key = f.read()
name = args.name.encode()
message = b"plumb-alarm-page-v1\n" + str(len(name)).encode() + b":" + name + b"\n" + str(args.exp).encode()
sig = base64.urlsafe_b64encode(hmac.new(key, message, hashlib.sha256).digest()).rstrip(b"=").decode()
print(json.dumps({"sig": sig}))
