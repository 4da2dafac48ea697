#!/usr/bin/env python3
"""Functional probe before a DAuth measurement: does the system under test do the work?

  probe.py LABEL URL MODE TOKEN1 TOKEN2 PRIVATE_KEY [CA_FILE]

MODE is "verify" (C: signature and claims checked, replay protection off) or "replay" (D, G: a
request_id is accepted once). TOKEN1 and TOKEN2 are fresh valid DAuth tokens never sent before.
On one keep-alive HTTP/1.1 connection (TLS when URL is https, checked against CA_FILE):

  no DAuth header                  -> refused (4xx)
  TOKEN1                           -> 200
  TOKEN2 with its signature altered -> refused (4xx)
  TOKEN2 re-written as alg "none"  -> refused (4xx)
  TOKEN2's claims, a new request_id, exp an hour ago, iat two hours ago, signed with
  PRIVATE_KEY (openssl dgst)       -> refused (4xx)
  TOKEN1 again                     -> 200 for verify, refused for replay
  TOKEN2                           -> 200 (a second fresh token on the same connection)
then, on a new connection, TOKEN2 again -> 200 for verify, refused for replay.

If the server closes the connection after a refusal, the next request is sent again on a new
connection and the answer is marked "(reconnected)": HAProxy 2.6 over TLS does this after a
failed jwt_verify (the OpenSSL error queue is left set, haproxy/haproxy#2643, fixed in later
versions); it is not a weaker check.

Prints one line with every answer; exits 1 if any differs from the expectation, so bench/run
does not compare a system that skips a check with one that does it.
Standard library only.
"""

import base64
import http.client
import json
import ssl
import subprocess
import sys
import time
import uuid
from urllib.parse import urlsplit


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def bad_signature(token):
    head, payload, sig = token.split(".")
    i = len(sig) // 2
    swapped = "A" if sig[i] != "A" else "B"
    return f"{head}.{payload}.{sig[:i]}{swapped}{sig[i + 1:]}"


def alg_none(token):
    _, payload, _ = token.split(".")
    head = b64url(b'{"alg":"none","typ":"JWT"}')
    return f"{head}.{payload}."


def expired(token, key):
    """TOKEN's claims with a new request_id, expired an hour ago, signed RS256 with KEY."""
    payload = token.split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    now = int(time.time())
    claims.update(iat=now - 7200, exp=now - 3600, request_id=str(uuid.uuid4()))
    claims["timestamp"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 7200))
    head = b64url(b'{"alg":"RS256","typ":"JWT"}')
    body = b64url(json.dumps(claims, separators=(",", ":")).encode())
    signing_input = f"{head}.{body}".encode()
    sig = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", key], input=signing_input, capture_output=True, check=True
    ).stdout
    return f"{head}.{body}.{b64url(sig)}"


def connect(url, ca):
    u = urlsplit(url)
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=ca)
        return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=10)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=10)


def ask(conn, path, token):
    headers = {} if token is None else {"DAuth": token}
    conn.request("GET", path, headers=headers)
    resp = conn.getresponse()
    resp.read()
    return resp.status


def main():
    if len(sys.argv) < 7:
        sys.exit(__doc__)
    label, url, mode, t1, t2, key = sys.argv[1:7]
    ca = sys.argv[7] if len(sys.argv) > 7 else None
    path = urlsplit(url).path or "/"
    replay = mode == "replay"
    ok, refused = (lambda s: s == 200), (lambda s: 400 <= s < 500)
    steps = [
        ("no token", None, refused),
        ("valid", t1, ok),
        ("bad signature", bad_signature(t2), refused),
        ("alg none", alg_none(t2), refused),
        ("expired", expired(t2, key), refused),
        ("same token again" + (" (replay)" if replay else ""), t1, refused if replay else ok),
        ("second fresh token, same connection", t2, ok),
    ]
    conn = connect(url, ca)
    seen, good = [], True
    for name, token, expect in steps:
        try:
            status = ask(conn, path, token)
        except (http.client.RemoteDisconnected, ConnectionError):
            conn.close()
            conn = connect(url, ca)
            status = ask(conn, path, token)
            name += " (reconnected)"
        good &= expect(status)
        seen.append(f"{name} {status}")
    conn.close()
    conn = connect(url, ca)
    status = ask(conn, path, t2)
    conn.close()
    expect = refused if replay else ok
    good &= expect(status)
    seen.append(("replayed on a new connection " if replay else "same token, new connection ") + str(status))
    print(f"probe {label} ({mode}): " + ", ".join(seen) + (": as expected" if good else ": UNEXPECTED"))
    sys.exit(0 if good else 1)


if __name__ == "__main__":
    main()
