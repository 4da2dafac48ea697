#!/usr/bin/env python3
"""bench/run's arithmetic: CPU samples, one measurement's record, h2load and openssl parsing,
and the run's JSON document. Standard library only. Subcommands:

  sample --target PID... [--helper PID...]       one JSON line: CPU ticks of the measured
                                                  process(es), of helpers, per core and in all
  record --scenario S --system ours|haproxy --before F --after F --load F --load-ms N
         --rss-kb N --gateway-core N [--extra KEY=VALUE...]
                                                  appends a measurement to RESULTS (env), prints
                                                  a line about it on stderr
  h2load OUTPUT LOGFILE SECS                      h2load's text + --log-file -> BENCH_RESULT JSON
  openssl OUTPUT                                  `openssl speed rsa2048` -> verify/s and us
  assemble META RESULTS OUT                       the run's document (bench/README.md, "JSON")

Ticks are clock ticks (sysconf CLK_TCK) from /proc/PID/stat (utime + stime: every thread of the
process, as the kernel sums them) and /proc/stat (user + nice + system of a core; steal
separately). See bench/README.md, "CPU accounting".
"""

import argparse
import json
import os
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")


def proc_ticks(pid):
    """utime + stime of a process (all its threads), or 0 if it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return 0


def stat_lines():
    """/proc/stat's cpu lines: {"all": [busy, total, steal], "0": [...], ...}."""
    out = {}
    with open("/proc/stat") as f:
        for line in f:
            if not line.startswith("cpu"):
                break
            name, *vals = line.split()
            v = [int(x) for x in vals[:8]] + [0] * max(0, 8 - len(vals))
            key = "all" if name == "cpu" else name[3:]
            out[key] = [v[0] + v[1] + v[2], sum(v[:8]), v[7]]
    return out


def cmd_sample(args):
    doc = {
        "t": time.monotonic(),
        "target": sum(proc_ticks(p) for p in args.target),
        "helpers": sum(proc_ticks(p) for p in args.helper or []),
        "cpu": stat_lines(),
    }
    print(json.dumps(doc))


def delta(before, after, core):
    b, a = before["cpu"][core], after["cpu"][core]
    return [a[i] - b[i] for i in range(3)]


def cmd_record(args):
    before = json.load(open(args.before))
    after = json.load(open(args.after))
    load = json.load(open(args.load))
    wall = max(after["t"] - before["t"], 1e-9)
    target_ticks = after["target"] - before["target"]
    helper_ticks = after["helpers"] - before["helpers"]
    cpu_s = target_ticks / CLK_TCK
    requests = load["requests"]
    secs = load["duration_us"] / 1e6
    core = str(args.gateway_core)
    cbusy, ctotal, csteal = delta(before, after, core)
    mbusy, mtotal, msteal = delta(before, after, "all")
    lbusy, ltotal, _ = delta(before, after, str(args.load_core))
    load_ticks = args.load_ms / 1000 * CLK_TCK
    errors = {
        k: load[k]
        for k in ("non2xx", "connect_errors", "read_errors", "write_errors", "timeouts")
        if load.get(k, 0) > 0
    }
    rec = {
        "scenario": args.scenario,
        "system": args.system,
        "rps": round(requests / secs, 1) if secs > 0 else 0,
        "p50_ms": round(load["p50_us"] / 1000, 3),
        "p99_ms": round(load["p99_us"] / 1000, 3),
        "cpu_us_per_req": round(cpu_s * 1e6 / requests, 2) if requests else None,
        # Over the load tool's own measured time, not the samples' window: that window also
        # holds the load tool's start-up, when the process has nothing to do (wrk's rotate.lua
        # formats every remaining token first: 2.2 s for D's 305,000, in a 12 s window).
        "core_busy_pct": round(100 * cpu_s / (secs if secs > 0 else wall), 1),
        "window_s": round(wall, 2),
        "rss_mb": round(args.rss_kb / 1024, 1),
        "requests": requests,
        "secs": round(secs, 2),
        "errors": errors,
        # Others on the measured core: its busy ticks less the measured process's.
        "others_core_pct": round(100 * max(0, cbusy - target_ticks) / max(ctotal, 1), 1),
        "steal_core_pct": round(100 * csteal / max(ctotal, 1), 1),
        # How busy the load core was (the load generator, the upstream and anything else there):
        # near 100 % with the measured core well below it, the load side was the limit.
        "load_core_busy_pct": round(100 * lbusy / max(ltotal, 1), 1),
        # Others on the whole machine: less the measured process, the upstream and the load tool.
        "others_machine_pct": round(
            100 * max(0, mbusy - target_ticks - helper_ticks - load_ticks) / max(mtotal, 1), 1
        ),
        "load_tool": args.tool,
    }
    if load.get("tokens_used", -1) >= 0:
        rec["tokens_used"] = load["tokens_used"]
        rec["tokens_short"] = load["tokens_short"]
    for kv in args.extra or []:
        k, _, v = kv.partition("=")
        try:
            rec[k] = json.loads(v)
        except ValueError:
            rec[k] = v
    with open(os.environ["RESULTS"], "a") as f:
        f.write(json.dumps(rec) + "\n")
    err = f"; ERRORS {json.dumps(errors)}" if errors else ""
    cpu = "-" if rec["cpu_us_per_req"] is None else f"{rec['cpu_us_per_req']:.1f}"
    print(
        f"[bench] {args.scenario} {args.system}: {rec['rps']:,.0f} req/s, {cpu} us CPU/request "
        f"(measured core {rec['core_busy_pct']:.0f}% busy with it), p50 {rec['p50_ms']:.2f} ms, "
        f"p99 {rec['p99_ms']:.2f} ms, peak RSS {rec['rss_mb']} MB; others: "
        f"{rec['others_core_pct']}% of the measured core (steal {rec['steal_core_pct']}%), "
        f"{rec['others_machine_pct']}% of the machine{err}",
        file=sys.stderr,
    )
    if rec["others_core_pct"] > 5 or rec["steal_core_pct"] > 5:
        print(
            f"[bench] warning: other processes took {rec['others_core_pct']}% of the measured "
            f"core (steal {rec['steal_core_pct']}%) during {args.scenario} {args.system}: "
            "its req/s is low; its CPU us/request is still its own (see bench/README.md)",
            file=sys.stderr,
        )


def percentile(sorted_vals, p):
    if not sorted_vals:
        return 0.0
    rank = max(1, min(len(sorted_vals), -(-len(sorted_vals) * p // 100)))
    return float(sorted_vals[int(rank) - 1])


def cmd_h2load(args):
    text = open(args.output).read()
    done = succeeded = errored = timeout = 0
    codes = {}
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("requests:"):
            parts = {w[1]: int(w[0]) for w in (p.split() for p in line[9:].split(",")) if len(w) == 2}
            done, succeeded = parts.get("done", 0), parts.get("succeeded", 0)
            errored, timeout = parts.get("errored", 0), parts.get("timeout", 0)
        elif line.startswith("status codes:"):
            codes = {w[1]: int(w[0]) for w in (p.split() for p in line[13:].split(",")) if len(w) == 2}
    lat = []
    with open(args.logfile) as f:
        for line in f:
            cols = line.split("\t")
            if len(cols) >= 3:
                lat.append(int(cols[2]))
    lat.sort()
    if "Application protocol: h2" not in text:
        sys.exit("h2load did not negotiate h2:\n" + text)
    print(
        "BENCH_RESULT "
        + json.dumps(
            {
                "requests": done,
                "duration_us": int(float(args.secs) * 1e6),
                "p50_us": percentile(lat, 50),
                "p99_us": percentile(lat, 99),
                "non2xx": codes.get("4xx", 0) + codes.get("5xx", 0),
                "connect_errors": 0,
                "read_errors": errored,
                "write_errors": 0,
                "timeouts": timeout,
                "tokens_used": -1,
                "tokens_short": -1,
                "tokens_next": -1,
                "succeeded": succeeded,
            }
        )
    )


def cmd_openssl(args):
    for line in open(args.output):
        if line.startswith("rsa 2048 bits") or line.startswith("rsa  2048 bits"):
            cols = line.split()
            verify_per_s = float(cols[-1])
            print(json.dumps({"verify_per_s": verify_per_s, "verify_us": round(1e6 / verify_per_s, 2)}))
            return
    sys.exit("no 'rsa 2048 bits' line in openssl speed's output")


# --- The run's document ---------------------------------------------------------------------

TITLES = {
    "A": "direct to the upstream (upstream on the measured core)",
    "B": "plain proxy, no auth",
    "C": "one reused DAuth token",
    "D": "unique DAuth tokens, replay check",
    "BN": "B without the admin listener (nothing counted)",
    "DN": "D without the admin listener (nothing counted)",
    "CM": "D on the PostgreSQL store, hot-user cache off, memory replay window, 2 connections (CM_CONNECTIONS): each request's user a store lookup",
    "DR": "D, replay window on Redis",
    "DP": "D, replay window on PostgreSQL",
    "E": "users/current, reused DAuth token",
    "F": "users/current, bearer token",
    "G": "every request a new contract (get-or-create, durable)",
    "GP": "G on the PostgreSQL store (pool 32, replay ids in its table)",
    "TB": "TLS, HTTP/1.1 keep-alive, plain proxy",
    "TD": "TLS, HTTP/1.1 keep-alive, unique tokens + replay",
    "HB": "HTTP/2 over TLS (h2load), plain proxy",
    "HBt": "HTTP/2 over TLS (h2_tokens, no token), plain proxy",
    "HD": "HTTP/2 over TLS (h2_tokens), unique tokens + replay",
}
ORDER = list(TITLES)

# Issue 17's targets: (key, text, comparison, bound).
TARGETS = [
    ("B_cpu_ours_over_haproxy", "B: our CPU µs/request / HAProxy's", "<=", 1.3),
    ("C_over_B_rps", "C: our C / our B, req/s", ">=", 0.92),
    ("D_minus_B_cpu_over_verify", "D: (our D - our B) CPU µs / openssl verify µs", "<=", 1.5),
    ("D_rps_ours_over_haproxy", "D: our req/s / HAProxy's", ">=", 1.25),
    ("G_new_users_per_s", "G: new users per second (durable)", ">=", 5000),
    ("GP_new_users_per_s", "GP: new users per second on PostgreSQL (issue 13)", ">=", 8000),
    ("DR_over_D_rps", "DR: our req/s, Redis window / memory window (issue 13)", ">=", 0.85),
    ("DP_over_D_rps", "DP: our req/s, PostgreSQL window / memory window (issue 13)", ">=", 0.60),
    ("CM_store_p99_ms", "CM: store lookup of an existing user on a cache miss, p99 ms (issue 13)", "<=", 0.5),
    ("B_metrics_cost_pct", "B: metrics' cost, CPU µs/request with / without the admin listener, % (issue 14)", "<", 3),
    ("D_metrics_cost_pct", "D: metrics' cost, CPU µs/request with / without the admin listener, % (issue 14)", "<", 3),
    ("D_window_rss_mb", "D: our peak RSS, replay window full (MB)", "<", 64),
    ("idle_rss_mb", "10k idle keep-alive connections, our RSS (MB)", "<", 64),
]


def ratio(x, y, nd=3):
    return round(x / y, nd) if x is not None and y else None


def get(scen, name, system, key):
    s = scen.get(name, {}).get(system)
    return None if s is None else s.get(key)


def ratios(doc):
    sc, v = doc["scenarios"], doc.get("openssl", {}).get("verify_us")
    r = {}
    for n in ("B", "C", "D", "TB", "TD", "HB", "HBt", "HD"):
        r[f"{n}_cpu_ours_over_haproxy"] = ratio(get(sc, n, "ours", "cpu_us_per_req"), get(sc, n, "haproxy", "cpu_us_per_req"))
    for n in ("D", "TD", "HD"):
        r[f"{n}_rps_ours_over_haproxy"] = ratio(get(sc, n, "ours", "rps"), get(sc, n, "haproxy", "rps"))
    r["C_over_B_rps"] = ratio(get(sc, "C", "ours", "rps"), get(sc, "B", "ours", "rps"))
    # The same two comparisons from CPU us/request, which the load side cannot cap.
    r["C_over_B_capacity"] = ratio(get(sc, "B", "ours", "cpu_us_per_req"), get(sc, "C", "ours", "cpu_us_per_req"))
    r["D_capacity_ours_over_haproxy"] = ratio(get(sc, "D", "haproxy", "cpu_us_per_req"), get(sc, "D", "ours", "cpu_us_per_req"))
    for system in ("ours", "haproxy"):
        d, b = get(sc, "D", system, "cpu_us_per_req"), get(sc, "B", system, "cpu_us_per_req")
        key = "D_minus_B_cpu_over_verify" + ("" if system == "ours" else "_haproxy")
        r[key] = ratio(d - b, v, 2) if d is not None and b is not None and v else None
    r["G_new_users_per_s"] = get(sc, "G", "ours", "new_users_per_s")
    r["GP_new_users_per_s"] = get(sc, "GP", "ours", "new_users_per_s")
    for n in ("DR", "DP"):
        r[f"{n}_over_D_rps"] = ratio(get(sc, n, "ours", "rps"), get(sc, "D", "ours", "rps"))
        r[f"{n}_over_D_capacity"] = ratio(get(sc, "D", "ours", "cpu_us_per_req"), get(sc, n, "ours", "cpu_us_per_req"))
    for n in ("B", "D"):
        on, off = get(sc, n, "ours", "cpu_us_per_req"), get(sc, n + "N", "ours", "cpu_us_per_req")
        r[f"{n}_metrics_cost_pct"] = round((on - off) / off * 100, 1) if on is not None and off else None
    r["CM_store_p99_ms"] = get(sc, "CM", "ours", "store_p99_ms")
    r["D_window_rss_mb"] = get(sc, "D", "ours", "window_rss_mb")
    r["idle_rss_mb"] = (doc.get("idle") or {}).get("rss_mb")
    return r


def verdicts(r):
    out = {}
    for key, _, op, bound in TARGETS:
        val = r.get(key)
        if val is None:
            out[key] = None
        else:
            out[key] = {"<=": val <= bound, ">=": val >= bound, "<": val < bound}[op]
    return out


def read_histogram(path, name, sel):
    """One histogram series of a Prometheus text exposition: {le: count}, sum, count."""
    buckets, total, count = {}, 0.0, 0.0
    for line in open(path):
        if not line.startswith(name) or sel not in line:
            continue
        head, _, value = line.rpartition(" ")
        if head.startswith(name + "_bucket"):
            le = head.split('le="', 1)[1].split('"', 1)[0]
            buckets[float("inf") if le == "+Inf" else float(le)] = float(value)
        elif head.startswith(name + "_sum"):
            total = float(value)
        elif head.startswith(name + "_count"):
            count = float(value)
    return buckets, total, count


def cmd_p99(args):
    """The p99 and mean of one histogram series of a Prometheus text exposition, in ms: the p99
    is the upper bound of the first bucket holding 99% of the observations; within_half_ms_pct is
    the share of observations at most 0.5 ms (when 0.5 ms is a bucket bound). With --before (an
    exposition scraped when the measured interval began), only the observations made since: the
    warm-up and the process's start are left out."""
    buckets, total, count = read_histogram(args.metrics, args.name, args.labels)
    if args.before:
        b0, total0, count0 = read_histogram(args.before, args.name, args.labels)
        if not b0:
            sys.exit(f"no {args.name}{{{args.labels}}} series in {args.before}: the measured interval cannot be told apart")
        buckets = {le: c - b0.get(le, 0.0) for le, c in buckets.items()}
        total, count = total - total0, count - count0
    if not buckets or not count:
        sys.exit(f"no observations of {args.name}{{{args.labels}}} in {args.metrics}")
    ordered = sorted(buckets.items())
    p99 = next(le for le, c in ordered if c >= 0.99 * count)
    half = buckets.get(0.0005)
    print(json.dumps({"p99_ms": p99 * 1000, "mean_ms": round(total / count * 1000, 3), "observations": int(count),
                      "within_half_ms_pct": None if half is None else round(half / count * 100, 2)}))


def cmd_assemble(args):
    meta = json.load(open(args.meta))
    scenarios = {}
    for line in open(args.results):
        rec = json.loads(line)
        name, system = rec.pop("scenario"), rec.pop("system")
        entry = scenarios.setdefault(name, {"title": TITLES.get(name, name)})
        entry[system] = rec
    idle_path = meta.pop("idle_path", None)
    doc = dict(meta)
    doc["scenarios"] = {k: scenarios[k] for k in ORDER if k in scenarios}
    doc["idle"] = json.load(open(idle_path)) if idle_path and os.path.exists(idle_path) else None
    doc["ratios"] = ratios(doc)
    doc["targets"] = {
        key: {"text": text, "bound": f"{op} {bound}", "value": doc["ratios"].get(key), "met": met}
        for (key, text, op, bound), met in zip(TARGETS, verdicts(doc["ratios"]).values())
    }
    with open(args.out, "w") as f:
        json.dump(doc, f, indent=2)
        f.write("\n")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("sample")
    s.add_argument("--target", nargs="+", type=int, required=True)
    s.add_argument("--helper", nargs="*", type=int)
    s = sub.add_parser("record")
    for a in ("--scenario", "--system", "--before", "--after", "--load", "--tool"):
        s.add_argument(a, required=True)
    s.add_argument("--load-ms", type=int, required=True)
    s.add_argument("--rss-kb", type=int, required=True)
    s.add_argument("--gateway-core", type=int, required=True)
    s.add_argument("--load-core", type=int, required=True)
    s.add_argument("--extra", nargs="*")
    s = sub.add_parser("h2load")
    s.add_argument("output")
    s.add_argument("logfile")
    s.add_argument("secs")
    s = sub.add_parser("openssl")
    s.add_argument("output")
    s = sub.add_parser("p99")
    s.add_argument("metrics")
    s.add_argument("name")
    s.add_argument("labels")
    s.add_argument("--before", help="an exposition from the start of the measured interval")
    s = sub.add_parser("assemble")
    s.add_argument("meta")
    s.add_argument("results")
    s.add_argument("out")
    args = p.parse_args()
    {"sample": cmd_sample, "record": cmd_record, "h2load": cmd_h2load, "openssl": cmd_openssl, "p99": cmd_p99, "assemble": cmd_assemble}[args.cmd](args)


if __name__ == "__main__":
    main()
