"""Server-side figures of a `bench/load.py` run, from the app's JSON request log.

    .venv/bin/python bench/server_log.py [LOG] [--since HH:MM:SS] [--seconds 60]

LOG defaults to the newest /tmp/assist-bench-*.log (the server's output that `bench/load.py`
keeps). Prints p50/p95/p99 of the app's own duration_ms per route (time inside the worker,
without queueing in gunicorn or the client), and how many matching index builds were logged.
"""

from __future__ import annotations

import argparse
import glob
import json
import math
import os
import re
import sys
import tempfile
from collections import defaultdict
from datetime import datetime

BUILD = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d+ INFO assist\.matching matching index")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("log", nargs="?")
    parser.add_argument("--since", help="local time HH:MM:SS the mixed traffic started")
    parser.add_argument("--seconds", type=float, default=60)
    args = parser.parse_args()
    # Where bench/_server.py's Server keeps the server's output (tempfile.gettempdir()).
    pattern = os.path.join(tempfile.gettempdir(), "assist-bench-*.log")
    path = args.log or max(glob.glob(pattern), key=os.path.getmtime)
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().splitlines()
    entries = []
    for line in lines:
        if line.startswith("{"):
            try:
                entries.append(json.loads(line))
            except ValueError:
                continue
    start = end = None
    if args.since and entries:
        day = datetime.fromtimestamp(entries[0]["ts"]).date()
        start = datetime.combine(day, datetime.strptime(args.since, "%H:%M:%S").time())
        start = start.timestamp()
        end = start + args.seconds
    by_route: dict[str, list[float]] = defaultdict(list)
    for e in entries:
        if e.get("logger") != "assist.access" or "duration_ms" not in e:
            continue
        if start is not None and not start <= e["ts"] <= end:
            continue
        by_route[f"{e['method']} {e['route']}"].append(float(e["duration_ms"]))
    builds = 0
    for line in lines:
        m = BUILD.match(line)
        if m:
            ts = datetime.strptime(m.group(1), "%Y-%m-%d %H:%M:%S").timestamp()
            builds += start is None or start <= ts <= end
    print(f"{path}: server-side duration_ms per route")
    print("| route | requests | p50 ms | p95 ms | p99 ms |")
    print("|---|---:|---:|---:|---:|")
    for route, values in sorted(by_route.items(), key=lambda kv: -len(kv[1])):
        if len(values) < 5:
            continue
        print(
            f"| {route} | {len(values)} | {percentile(values, 0.5):.1f} | "
            f"{percentile(values, 0.95):.1f} | {percentile(values, 0.99):.1f} |"
        )
    print(f"matching index builds logged: {builds}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
