#!/usr/bin/env python3
"""Asterisk AMI -> hotline CTI bridge (screen-pop).

Listens to the Asterisk Manager Interface for the hotline queue's events and posts them to
the hotline box as call events:

  AgentCalled  (a seat's phone rings)   -> {"event": "ringing",  "seat", "caller", "call_id"}
  AgentConnect (the seat answered)      -> {"event": "answered", "seat", "call_id"}
  Hangup       (the caller's leg ended) -> {"event": "hangup",   "call_id"}

The call id is the call's Linkedid (the same on every leg, and in CDRs and recordings' file
names when MixMonitor uses ${LINKEDID}), so an order's 呼叫编号 finds its recording.

Standard library only (Python 3.8+). Configure with environment variables:

  AMI_HOST=127.0.0.1 AMI_PORT=5038 AMI_USER=hotline AMI_SECRET=...
  HOTLINE_URL=https://192.168.1.10:8443/api/v1/cti/events
  HOTLINE_TOKEN=hl_...                (the admin's 对接 page, type 电话系统（CTI）)
  HOTLINE_CA=/etc/hotline/ca.pem      (the box's CA certificate, from its admin page)
  SEAT_MAP="PJSIP/8001=1,PJSIP/8002=2,PJSIP/8003=3,PJSIP/8004=4"
           (queue member interface -> seat; default: the last digit of the interface)

manager.conf needs a user with `read = call,agent` (no write rights are needed).
"""

import json
import os
import socket
import ssl
import sys
import time
import urllib.request


def env(name, default=None):
    v = os.environ.get(name, default)
    if v is None:
        sys.exit(f"missing environment variable {name}")
    return v


AMI_HOST = env("AMI_HOST", "127.0.0.1")
AMI_PORT = int(env("AMI_PORT", "5038"))
AMI_USER = env("AMI_USER")
AMI_SECRET = env("AMI_SECRET")
URL = env("HOTLINE_URL")
TOKEN = env("HOTLINE_TOKEN")
CA = os.environ.get("HOTLINE_CA")
SEAT_MAP = dict(
    (k.strip(), int(v))
    for k, v in (p.split("=", 1) for p in os.environ.get("SEAT_MAP", "").split(",") if "=" in p)
)

CONTEXT = ssl.create_default_context(cafile=CA) if URL.startswith("https") else None


def seat_of(interface):
    if interface in SEAT_MAP:
        return SEAT_MAP[interface]
    digits = [c for c in interface if c.isdigit()]
    return int(digits[-1]) if digits else None


def post(body):
    req = urllib.request.Request(
        URL,
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + TOKEN, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=5, context=CONTEXT) as r:
            print("hotline", r.status, body, flush=True)
    except Exception as e:  # the next call still works; a lost pop is re-offered on reconnect
        print("hotline error", e, body, flush=True)


def handle(ev):
    kind = ev.get("Event")
    call_id = ev.get("Linkedid") or ev.get("Uniqueid")
    if not call_id:
        return
    if kind == "AgentCalled":
        seat = seat_of(ev.get("Interface") or ev.get("MemberName") or "")
        if seat:
            post({"event": "ringing", "seat": seat, "caller": ev.get("CallerIDNum", ""), "call_id": call_id})
    elif kind == "AgentConnect":
        seat = seat_of(ev.get("Interface") or ev.get("MemberName") or "")
        if seat:
            post({"event": "answered", "seat": seat, "call_id": call_id})
    elif kind == "Hangup" and ev.get("Uniqueid") == ev.get("Linkedid"):
        post({"event": "hangup", "call_id": call_id})


def events(sock):
    buf = b""
    while True:
        chunk = sock.recv(4096)
        if not chunk:
            return
        buf += chunk
        while b"\r\n\r\n" in buf:
            block, buf = buf.split(b"\r\n\r\n", 1)
            ev = {}
            for line in block.decode("utf-8", "replace").split("\r\n"):
                if ": " in line:
                    k, v = line.split(": ", 1)
                    ev[k] = v
            yield ev


def main():
    while True:
        try:
            with socket.create_connection((AMI_HOST, AMI_PORT), timeout=None) as s:
                s.sendall(
                    f"Action: Login\r\nUsername: {AMI_USER}\r\nSecret: {AMI_SECRET}\r\nEvents: call,agent\r\n\r\n".encode()
                )
                for ev in events(s):
                    if ev.get("Response") == "Error":
                        sys.exit("AMI login refused: " + ev.get("Message", ""))
                    handle(ev)
        except OSError as e:
            print("AMI connection lost:", e, flush=True)
        time.sleep(3)


if __name__ == "__main__":
    main()
