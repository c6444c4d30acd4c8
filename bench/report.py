"""Summarizes a bench/run.sh raw results file (JSON lines) as markdown:
one table per engine, the scenario-3 comparison with PostGraphile and the
pgbench floor; writes bench/results/<day>-<engine><suffix>.md and prints
everything."""
import argparse
import json
import os
import platform
import statistics
from collections import defaultdict

parser = argparse.ArgumentParser()
parser.add_argument("raw")
parser.add_argument("--results", required=True)
parser.add_argument("--day", required=True)
parser.add_argument("--suffix", default="")
parser.add_argument("--setup", default="")
args = parser.parse_args()

rows = [json.loads(line) for line in open(args.raw) if line.strip()]
by = defaultdict(list)
for row in rows:
    by[(row["engine"], row["scenario"])].append(row)

NAMES = {
    "1-me": "1 `me` (auth only)",
    "2-patient": "2 patient by id, 5 fields",
    "3-headline": "3 headline: 50 patients, nested",
    "3-headline-postgraphile": "3 headline, PostGraphile v5",
    "3-headline-pgbench": "3 headline, pgbench floor (1 SQL)",
    "4-worklist": "4 front desk worklist today",
    "5-write-mix": "5 write mix (5 mutations/iteration)",
    "6-bomb": "6 rejected depth bomb",
}


def med(runs, key):
    values = [run[key] for run in runs if run.get(key) is not None]
    return statistics.median(values) if values else None


def errors(runs):
    # The bomb's right answer is a refusal (HTTP 400 when refused before
    # parsing): only an answer without the expected code is an error there.
    return sum(
        run.get("socket_errors", 0)
        + (0 if str(run.get("scenario", "")).startswith("6") else run.get("non2xx", 0))
        + run.get("gql_errors", 0)
        + run.get("unexpected", 0)
        for run in runs
    )


def fmt(value, digits=2):
    if value is None:
        return "n/a"
    if isinstance(value, float) and abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}"


def mb(kb):
    return "n/a" if not kb else f"{kb / 1024:.1f}"


def single(engine, scenario):
    runs = by.get((engine, scenario))
    return runs[0] if runs else {}


def engine_report(engine):
    label = {"sqlite": "SQLite", "postgres": "PostgreSQL"}.get(engine, engine)
    seed = single(engine, "seed")
    idle = single(engine, "idle")
    final = single(engine, "final")
    rows_today = single(engine, "4-rows").get("due_today_pending")
    out = [f"## {label}", ""]
    out.append(
        f"Seeded {seed.get('patients', '?')} patients (+{seed.get('write_pool', '?')} write-pool pairs) "
        f"in {fmt(seed.get('seed_seconds'), 1)} s. Server RSS idle {mb(idle.get('rss_kb'))} MB, "
        f"peak {mb(final.get('hwm_kb'))} MB. Worklist rows due today: {rows_today}."
    )
    out.append("")
    out.append("| scenario | req/s (median) | req/s per run | p50 ms | p95 ms | p99 ms | errors | SQL stmts/req | RSS after, MB |")
    out.append("|---|---:|---|---:|---:|---:|---:|---:|---:|")
    order = ["1-me", "2-patient", "3-headline", "3-headline-postgraphile", "3-headline-pgbench",
             "4-worklist", "5-write-mix", "6-bomb"]
    for scenario in order:
        runs = sorted(by.get((engine, scenario), []), key=lambda run: run["run"])
        if not runs:
            continue
        per_run = " / ".join(fmt(run.get("rps"), 0) for run in runs)
        name = NAMES.get(scenario, scenario)
        if scenario == "5-write-mix":
            name += f" = {fmt(med(runs, 'iterations_per_s'), 1)} iterations/s"
        out.append(
            f"| {name} | {fmt(med(runs, 'rps'))} | {per_run} | {fmt(med(runs, 'p50_ms'))} | "
            f"{fmt(med(runs, 'p95_ms'))} | {fmt(med(runs, 'p99_ms'))} | {errors(runs)} | "
            f"{fmt(med(runs, 'statements_per_request'))} | "
            f"{mb(runs[-1].get('rss_kb')) if scenario != '3-headline-pgbench' else 'n/a'} |"
        )
    ours = by.get((engine, "3-headline"))
    peer = by.get((engine, "3-headline-postgraphile"))
    floor = by.get((engine, "3-headline-pgbench"))
    if ours and peer:
        out += ["", "Scenario 3, same database, pool and load:", ""]
        out.append("| | req/s | p99 ms |")
        out.append("|---|---:|---:|")
        out.append(f"| dermagraph | {fmt(med(ours, 'rps'))} | {fmt(med(ours, 'p99_ms'))} |")
        out.append(f"| PostGraphile v5 (amber) | {fmt(med(peer, 'rps'))} | {fmt(med(peer, 'p99_ms'))} |")
        if floor:
            out.append(f"| pgbench floor | {fmt(med(floor, 'rps'))} | {fmt(med(floor, 'p99_ms'))} |")
        out.append(
            f"| **ours / PostGraphile** | **{med(ours, 'rps') / med(peer, 'rps'):.2f}x** | "
            f"**{med(ours, 'p99_ms') / med(peer, 'p99_ms'):.2f}x** |"
        )
        if floor:
            out.append(
                f"| ours / pgbench floor | {med(ours, 'rps') / med(floor, 'rps'):.2f}x | "
                f"{med(ours, 'p99_ms') / med(floor, 'p99_ms'):.2f}x |"
            )
        # Runs of the same number were one interleaved round (bench/run.sh).
        peer_by_run = {run["run"]: run for run in peer}
        rounds = []
        for run in sorted(ours, key=lambda run: run["run"]):
            theirs = peer_by_run.get(run["run"], {})
            if theirs.get("rps") and theirs.get("p99_ms"):
                rounds.append((run["rps"] / theirs["rps"], run["p99_ms"] / theirs["p99_ms"]))
        if rounds:
            out.append("")
            out.append(
                "Ours / PostGraphile per round: "
                + "; ".join(f"{rps:.2f}x req/s, {p99:.2f}x p99" for rps, p99 in rounds)
                + "."
            )
        peer_final = single(engine, "peer-final")
        out.append("")
        out.append(f"PostGraphile peak RSS: {mb(peer_final.get('hwm_kb'))} MB.")
    first_errors = [
        f"- {scenario}: {run['first_error']}"
        for (eng, scenario), runs in by.items() if eng == engine
        for run in runs[:1] if run.get("first_error")
    ]
    if first_errors:
        out += ["", "First error seen per scenario:", ""] + first_errors
    return "\n".join(out) + "\n"


header = (
    f"Run {os.path.basename(args.raw).removesuffix('.jsonl')} on {platform.node() or 'this machine'} "
    f"({os.cpu_count()} cores); {args.setup}\n\n"
)
engines = sorted({engine for engine, _ in by}, key=lambda e: ["sqlite", "postgres"].index(e) if e in ("sqlite", "postgres") else 9)
for engine in engines:
    text = f"# dermagraph benchmark, {args.day}\n\n" + header + engine_report(engine)
    path = os.path.join(args.results, f"{args.day}-{engine}{args.suffix}.md")
    with open(path, "w") as file:
        file.write(text)
    print(text)
    print(f"(written to {path})\n")
