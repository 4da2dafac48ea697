#!/usr/bin/env python3
"""Password-hashing flood: how much memory do COUNT concurrent anonymous registrations take, is it
returned afterwards, and how long does one real login wait behind them? (issue 11, item 2)

Starts the gateway binary given (default target/release/dauth-proxy) on a free loopback port
with a fresh store, the development issuer key and `[log] level = "warn"`; registers one user
for the login probe; opens COUNT connections, then sends one `POST /api/auth/register` (unique
email) on each at once, and, while they are answered, one login of the probe user from another
address (127.0.0.2, so the per-IP password rate is its own): how long a real user waits. VmRSS and
VmHWM are read from /proc/PID/status every 20 ms during the burst and once more SETTLE seconds
after the last answer. Prints one JSON object:

  {"count", "statuses": {status: n}, "baseline_rss_mb" (VmRSS once started),
   "peak_rss_mb" (highest VmRSS sampled), "threads_peak" (most threads sampled),
   "hwm_mb" (VmHWM at the end), "after_rss_mb" (VmRSS SETTLE s after the burst; the hashing
   threads give their memory back after 5 s idle), "burst_secs", "login_status",
   "login_secs", "config_extra"}

Usage (from the repository root, after `cargo build --release`):
  bench/attacks/register_flood.py [--binary PATH] [--count N] [--settle SECS]
                                  [--accounts TOML] [--limits TOML]
  --accounts and --limits are extra lines for those sections, e.g.
  --limits 'password_per_ip_per_minute = 0' to measure the hashing queue alone, and
  --accounts 'hash_queue = 1000' to have every registration hashed (the memory bound alone).
  A binary from before issue 11 knows neither key: run it without them.
Standard library only; raises its own RLIMIT_NOFILE to the hard limit.
"""

import argparse
import json
import os
import resource
import socket
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def status_kb(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def request(body, path="/api/auth/register"):
    data = json.dumps(body).encode()
    return (
        f"POST {path} HTTP/1.1\r\nHost: gateway.test\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    ).encode() + data


def read_status(sock):
    """Reads until the server closes; returns the status code (0 on a socket error)."""
    out = b""
    try:
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                break
            out += chunk
    except OSError:
        pass
    parts = out.split(b" ", 2)
    return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else 0


def exchange(port, raw, source="127.0.0.1"):
    with socket.create_connection(("127.0.0.1", port), timeout=120, source_address=(source, 0)) as s:
        s.sendall(raw)
        return read_status(s)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(binary, work, port, accounts, limits):
    config = os.path.join(work, "gateway.toml")
    key = os.path.join(ROOT, "keys/dev/issuer_private.pem")
    dauth_key = os.path.join(ROOT, "keys/dev/dauth_public.pem")
    with open(config, "w") as f:
        f.write(
            f'[server]\nlisten = "127.0.0.1:{port}"\nshutdown_grace_secs = 1\n'
            f'[store]\npath = "{work}/store"\n'
            f'[dauth]\npublic_keys = ["{dauth_key}"]\n'
            f'[issuer]\nurl = "http://127.0.0.1:{port}"\nprivate_key = "{key}"\nkid = "dev-1"\n'
            f"[accounts]\n{accounts}\n[limits]\n{limits}\n"
            '[log]\nlevel = "warn"\n'
        )
    log = open(os.path.join(work, "gateway.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--config", config], stdout=log, stderr=log)
    health = b"GET /health HTTP/1.1\r\nHost: gateway.test\r\nConnection: close\r\n\r\n"
    for _ in range(200):
        try:
            if exchange(port, health) == 200:
                return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    sys.exit(f"gateway did not start; see {work}/gateway.log")


def burst(port, count):
    socks = [socket.create_connection(("127.0.0.1", port), timeout=300) for _ in range(count)]
    statuses = [0] * count
    go = threading.Barrier(count + 1)

    def one(i):
        body = {"email": f"flood-{i}@example.com", "password": f"flood-password-{i}"}
        raw = request(body)
        go.wait()
        try:
            socks[i].sendall(raw)
            statuses[i] = read_status(socks[i])
        except OSError:
            statuses[i] = 0
        finally:
            socks[i].close()

    threads = [threading.Thread(target=one, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    return go, threads, statuses


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--binary", default=os.path.join(ROOT, "target/release/dauth-proxy"))
    p.add_argument("--count", type=int, default=200)
    p.add_argument("--settle", type=float, default=8.0)
    p.add_argument("--accounts", default="")
    p.add_argument("--limits", default="")
    a = p.parse_args()
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    with tempfile.TemporaryDirectory() as work:
        port = free_port()
        proc = start(a.binary, work, port, a.accounts, a.limits)
        try:
            baseline = status_kb(proc.pid, "VmRSS")
            probe = {"email": "probe@example.com", "password": "probe-password"}
            assert exchange(port, request(probe)) == 201, "probe registration failed"
            go, threads, statuses = burst(port, a.count)
            peak = [baseline, 0]
            done = threading.Event()

            def sample():
                while not done.is_set():
                    peak[0] = max(peak[0], status_kb(proc.pid, "VmRSS"))
                    peak[1] = max(peak[1], status_kb(proc.pid, "Threads"))
                    time.sleep(0.02)

            sampler = threading.Thread(target=sample)
            sampler.start()
            started = time.monotonic()
            go.wait()
            time.sleep(0.05)  # the burst is in: now a real user logs in behind it
            login_started = time.monotonic()
            login = exchange(port, request(probe, "/api/auth/login"), "127.0.0.2")
            login_secs = time.monotonic() - login_started
            for t in threads:
                t.join()
            burst_secs = time.monotonic() - started
            time.sleep(a.settle)
            done.set()
            sampler.join()
            counts = {}
            for s in statuses:
                counts[str(s)] = counts.get(str(s), 0) + 1
            print(
                json.dumps(
                    {
                        "count": a.count,
                        "statuses": counts,
                        "baseline_rss_mb": round(baseline / 1024, 1),
                        "peak_rss_mb": round(peak[0] / 1024, 1),
                        "threads_peak": peak[1],
                        "hwm_mb": round(status_kb(proc.pid, "VmHWM") / 1024, 1),
                        "after_rss_mb": round(status_kb(proc.pid, "VmRSS") / 1024, 1),
                        "burst_secs": round(burst_secs, 2),
                        "login_status": login,
                        "login_secs": round(login_secs, 3),
                        "config_extra": {"accounts": a.accounts, "limits": a.limits},
                    }
                )
            )
        finally:
            proc.terminate()
            proc.wait()


if __name__ == "__main__":
    main()
