#!/usr/bin/env python3
"""A slow download through the release binary over HTTP/1.1, h2c and TLS h2 (issue 11, item 3).

Run from the repository root, after `cargo build --release`:

  pip install h2
  python3 bench/attacks/slow_download.py --bin target/release/dauth-proxy
  python3 bench/attacks/slow_download.py --bin BIN --secs 20 --bytes 2621440   # the defaults

Starts a small upstream of its own (HTTP/1.1, chunked, --bytes bytes spread evenly over
--secs seconds) and the gateway with the default clocks (`header_read_timeout_secs = 10`,
`idle_timeout_secs = 60`), TLS with a throw-away self-signed certificate (needs `openssl`), and
one route `/slow/` to the upstream. Downloads through it once per protocol, reading as it
arrives (so the client's WINDOW_UPDATE frames flow while the body streams), and prints one
JSON object per protocol: bytes received, seconds, and whether the download completed.

Before the fix, h2c and TLS h2 were cut after one to two header timeouts; after it all three
complete.
"""

import argparse
import http.server
import json
import os
import shutil
import socket
import socketserver
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


class SlowHandler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    total = 0
    secs = 1.0

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        pieces = 40
        size = self.total // pieces
        for i in range(pieces):
            n = size if i < pieces - 1 else self.total - size * (pieces - 1)
            self.wfile.write(b"%x\r\n" % n + b"x" * n + b"\r\n")
            self.wfile.flush()
            time.sleep(self.secs / pieces)
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, *_):
        pass


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gateway(binary, work, port, upstream_port):
    cert, key = os.path.join(work, "cert.pem"), os.path.join(work, "key.pem")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=localhost", "-keyout", key, "-out", cert],
        check=True, capture_output=True,
    )
    config = os.path.join(work, "gateway.toml")
    with open(config, "w") as f:
        f.write(
            f'[server]\nlisten = "127.0.0.1:{port}"\ntls_cert = "{cert}"\ntls_key = "{key}"\n'
            f'[store]\npath = "{work}/store"\n[dauth]\nenabled = false\n[log]\nlevel = "warn"\n'
            f'[[routes]]\nprefix = "/slow/"\nupstream = "http://127.0.0.1:{upstream_port}"\n'
            f'auth = "none"\ntimeout_secs = 30\n'
        )
    log = open(os.path.join(work, "gateway.log"), "w")
    proc = subprocess.Popen([binary, "serve", "--config", config], stdout=log, stderr=log)
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    sys.exit("the gateway did not start")


def tls_socket(port, alpn):
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    ctx.set_alpn_protocols([alpn])
    raw = socket.create_connection(("127.0.0.1", port), timeout=120)
    return ctx.wrap_socket(raw, server_hostname="localhost")


def download_h1(port, expected):
    s = tls_socket(port, "http/1.1")
    s.sendall(b"GET /slow/file HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    data = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (OSError, ssl.SSLError):
            break
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    # Count payload bytes of the chunked body.
    got, rest = 0, body
    while rest:
        line, _, rest = rest.partition(b"\r\n")
        try:
            n = int(line.split(b";")[0], 16)
        except ValueError:
            break
        if n == 0:
            return got, True
        got += min(n, len(rest))
        rest = rest[n + 2:]
    return got, got == expected


def download_h2(sock, expected):
    import h2.config
    import h2.connection
    import h2.events

    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    conn.initiate_connection()
    conn.send_headers(1, [(":method", "GET"), (":scheme", "http"), (":authority", "x"),
                          (":path", "/slow/file")], end_stream=True)
    sock.sendall(conn.data_to_send())
    got, ended = 0, False
    while not ended:
        try:
            data = sock.recv(65536)
        except (OSError, ssl.SSLError):
            break
        if not data:
            break
        for e in conn.receive_data(data):
            if isinstance(e, h2.events.DataReceived):
                got += len(e.data)
                conn.acknowledge_received_data(e.flow_controlled_length, e.stream_id)
            elif isinstance(e, (h2.events.StreamEnded,)):
                ended = True
            elif isinstance(e, (h2.events.StreamReset, h2.events.ConnectionTerminated)):
                return got, False
        sock.sendall(conn.data_to_send())
    return got, ended and got == expected


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bin", default=os.path.join(ROOT, "target", "release", "dauth-proxy"))
    p.add_argument("--secs", type=float, default=20.0)
    p.add_argument("--bytes", type=int, default=2_621_440)
    args = p.parse_args()
    try:
        import h2  # noqa: F401
    except ImportError:
        sys.exit("needs the h2 library: pip install h2")
    SlowHandler.total, SlowHandler.secs = args.bytes, args.secs
    upstream = socketserver.ThreadingTCPServer(("127.0.0.1", 0), SlowHandler)
    upstream.daemon_threads = True
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    work = tempfile.mkdtemp(prefix="dauth-slow-")
    port = free_port()
    proc = start_gateway(args.bin, work, port, upstream.server_address[1])
    try:
        runs = {
            "http/1.1 (TLS)": lambda: download_h1(port, args.bytes),
            "h2 (TLS + ALPN)": lambda: download_h2(tls_socket(port, "h2"), args.bytes),
        }
        for name, run in runs.items():
            t0 = time.monotonic()
            got, done = run()
            print(json.dumps({"protocol": name, "bytes": got, "of": args.bytes,
                              "secs": round(time.monotonic() - t0, 1), "completed": done}),
                  flush=True)
    finally:
        proc.terminate()
        proc.wait(timeout=40)
        shutil.rmtree(work, ignore_errors=True)
    # h2c needs a plaintext gateway: the same again without TLS.
    work = tempfile.mkdtemp(prefix="dauth-slow-")
    port = free_port()
    config = os.path.join(work, "gateway.toml")
    with open(config, "w") as f:
        f.write(
            f'[server]\nlisten = "127.0.0.1:{port}"\n[store]\npath = "{work}/store"\n'
            f'[dauth]\nenabled = false\n[log]\nlevel = "warn"\n[[routes]]\nprefix = "/slow/"\n'
            f'upstream = "http://127.0.0.1:{upstream.server_address[1]}"\nauth = "none"\n'
        )
    proc = subprocess.Popen([args.bin, "serve", "--config", config],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                sock = socket.create_connection(("127.0.0.1", port), timeout=120)
                break
            except OSError:
                time.sleep(0.1)
        t0 = time.monotonic()
        got, done = download_h2(sock, args.bytes)
        print(json.dumps({"protocol": "h2c", "bytes": got, "of": args.bytes,
                          "secs": round(time.monotonic() - t0, 1), "completed": done}), flush=True)
        sock.close()
    finally:
        proc.terminate()
        proc.wait(timeout=40)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
