#!/usr/bin/env python3
"""Idle keep-alive connections: how much memory does the gateway hold per open connection?

Opens COUNT connections to HOST:PORT, sends one request on each (HTTP/1.1, keep-alive) and
reads its answer, then holds them all idle for SETTLE seconds and reads the gateway's memory
from /proc/PID/status. Prints one JSON object on stdout:

  {"connections": opened and answered 200, "still_open": not closed by the gateway at the
   end, "baseline_rss_mb": before, "rss_mb": VmRSS while holding, "hwm_mb": VmHWM,
   "gateway_fds": open descriptors of the gateway while holding, "open_secs": time to open}

Used by bench/run; standard library only. Raises its own RLIMIT_NOFILE to the hard limit.
"""

import json
import os
import resource
import selectors
import socket
import sys
import time


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def read_response(sock):
    """Reads one small response whose head carries Content-Length; returns the status line."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response head")
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed before the response body")
        body += chunk
    return head.split(b"\r\n", 1)[0].decode()


def main():
    if len(sys.argv) < 5:
        sys.exit("usage: idle_conns.py HOST PORT COUNT GATEWAY_PID [PATH] [SETTLE_SECS]")
    host, port, count, pid = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    path = sys.argv[5] if len(sys.argv) > 5 else "/health"
    settle = float(sys.argv[6]) if len(sys.argv) > 6 else 3.0
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < count + 64:
        sys.exit(f"RLIMIT_NOFILE hard limit {hard} is too low for {count} connections")

    baseline = status_kb(pid, "VmRSS")
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    socks = []
    started = time.monotonic()
    for i in range(count):
        s = socket.create_connection((host, port), timeout=10)
        s.sendall(request)
        status = read_response(s)
        if " 200 " not in status + " ":
            sys.exit(f"connection {i}: unexpected answer {status!r}")
        socks.append(s)
    open_secs = time.monotonic() - started

    time.sleep(settle)
    rss = status_kb(pid, "VmRSS")
    hwm = status_kb(pid, "VmHWM")
    try:
        fds = len(os.listdir(f"/proc/{pid}/fd"))
    except OSError:
        fds = -1

    # A socket the gateway closed is readable (EOF); an idle open one is not.
    sel = selectors.DefaultSelector()
    for s in socks:
        s.setblocking(False)
        sel.register(s, selectors.EVENT_READ)
    closed = len(sel.select(timeout=0))
    sel.close()
    for s in socks:
        s.close()

    print(
        json.dumps(
            {
                "connections": len(socks),
                "still_open": len(socks) - closed,
                "baseline_rss_mb": round(baseline / 1024, 1),
                "rss_mb": round(rss / 1024, 1),
                "hwm_mb": round(hwm / 1024, 1),
                "gateway_fds": fds,
                "open_secs": round(open_secs, 2),
            }
        )
    )


if __name__ == "__main__":
    main()
