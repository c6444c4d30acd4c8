"""Turns a pgbench run (its output on stdin, its per-transaction logs from
`-l` in the folder given) into one JSON line like bench/wrk/graphql.lua's."""
import glob
import json
import math
import re
import sys

output = sys.stdin.read()
latencies = []
for path in glob.glob(f"{sys.argv[1]}/pgbench_log.*"):
    with open(path) as log:
        for line in log:
            fields = line.split()
            if len(fields) >= 3:
                latencies.append(int(fields[2]) / 1000.0)  # microseconds -> ms
latencies.sort()


def percentile(p):
    if not latencies:
        return None
    return latencies[max(1, math.ceil(p / 100 * len(latencies))) - 1]


tps = re.search(r"tps = ([0-9.]+) \(without initial connection time\)", output)
failed = re.search(r"number of failed transactions: (\d+)", output)
duration = re.search(r"duration: (\d+) s", output)
print(json.dumps({
    "requests": len(latencies),
    "duration_s": float(duration.group(1)) if duration else None,
    "rps": float(tps.group(1)) if tps else None,
    "p50_ms": percentile(50),
    "p95_ms": percentile(95),
    "p99_ms": percentile(99),
    "socket_errors": 0,
    "non2xx": 0,
    "gql_errors": int(failed.group(1)) if failed else 0,
    "unexpected": 0,
}))
