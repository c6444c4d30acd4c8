#!/usr/bin/env python3
"""Fault harness for dermagraph (issue 7, "Reliability" / Faults).

Cases
  pg-restart      A throwaway PostgreSQL cluster is stopped (pg_ctl -m fast) under
                  load and started again a few seconds later. Checks: /readyz is
                  non-200 during the outage; every request answers within a bound
                  (no hang) with a coded GraphQL error, and while the database is
                  down that answer is HTTP 503 + Retry-After + INTERNAL +
                  retryAfterSeconds; success resumes by itself within N s of the
                  database being back; every acknowledged createPatient is in the
                  database and no row exists for a request that was told "nothing
                  was changed"; acknowledged reads have their audit rows.
  sigterm-pg      SIGTERM under load (PostgreSQL). Checks: the server exits 0 in
  sigterm-sqlite  time; every request the server had started gets a full answer
                  (no reset/abort); no write commits without its answer being
                  delivered; every acknowledged write and read has its audit row
                  after exit (the read-audit buffer, held in memory by a long
                  DERMAGRAPH_AUDIT_FLUSH_MS, is flushed on shutdown).
  sigkill-pg      SIGKILL under read-heavy load (R-AUDIT, issue 16). Checks: every
  sigkill-sqlite  read the client got an answer to has its READ audit row, and
                  every acknowledged create is stored with its CREATE row, although
                  the process had no chance to flush anything: an answer carrying
                  patient data leaves only once its audit rows are stored.
Every response body is checked for leaked internals (SQL, sqlx, panics, ...).

Usage
  python3 bench/faults.py --bin /path/to/release/dermagraph [--cases all] [--md bench/faults.md]
  (or DERMAGRAPH_BIN=/path/to/dermagraph python3 bench/faults.py)

Needs: Python 3.11 (standard library only), PostgreSQL server binaries
(/usr/lib/postgresql/*/bin or PG_BINDIR) and psql for the PostgreSQL cases.
When run as root, initdb/pg_ctl run as the `postgres` user via runuser.
Never touches any PostgreSQL but the throwaway cluster it creates.
Exit status: 0 when every check passed, 1 when a check failed, 2 on a setup error.
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import http.client
import json
import os
import pwd
import random
import re
import secrets
import shlex
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field

T0 = time.monotonic()


def now() -> float:
    """Seconds since the harness started."""
    return time.monotonic() - T0


def log(message: str) -> None:
    print(f"[{now():7.2f}s] {message}", flush=True)


class SetupError(Exception):
    """The harness could not set up a case (not a server failure)."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def lat_summary(values: list[float]) -> str:
    if not values:
        return "n=0"
    ms = [v * 1000 for v in values]
    return (
        f"n={len(ms)} p50={percentile(ms, 50):.0f}ms p99={percentile(ms, 99):.0f}ms "
        f"max={max(ms):.0f}ms"
    )


# Text that must never reach a client: SQL, driver names, panics, OS errors.
LEAK_PATTERNS = re.compile(
    r"sqlx|panicked|\bSELECT\b|\bINSERT\b|\bUPDATE\s+\w+\s+SET\b|postgres|sqlite|"
    r"pool timed out|os error|connection refused|DbErr|RuntimeErr|"
    r"error returned from database|backtrace|\.rs:\d+|SQLSTATE",
    re.IGNORECASE,
)


# --------------------------------------------------------------------------
# HTTP client and load


def request_id(label: str) -> str:
    """The x-request-id for a labelled request: the server keeps a caller's
    id only when it is a UUID (anything else could carry personal data), so
    each label maps to a UUID, the same one every time."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"dermagraph-faults:{label}"))


@dataclass
class Sample:
    kind: str  # create | read
    rid: str  # x-request-id we sent (a UUID, see request_id)
    thread: int
    t0: float
    t1: float = 0.0
    connected_at: float | None = None
    status: int | None = None
    outcome: str = "pending"  # ok|unavailable|error|refused|reset|timeout|badresponse
    code: str | None = None
    retry_after_header: str | None = None
    retry_ext: object = None
    patient_id: str | None = None
    detail: str = ""
    leak: str | None = None
    label: str = ""  # what the request is called here (a create's lastName)

    @property
    def latency(self) -> float:
        return self.t1 - self.t0


def classify_graphql(sample: Sample, status: int, headers, body: bytes, want) -> None:
    sample.status = status
    sample.retry_after_header = headers.get("Retry-After")
    text = body.decode("utf-8", "replace")
    match = LEAK_PATTERNS.search(text)
    if match:
        sample.leak = text[max(0, match.start() - 80) : match.end() + 80]
    try:
        doc = json.loads(text)
    except ValueError:
        sample.outcome = "badresponse"
        sample.detail = f"HTTP {status}, not JSON: {text[:200]!r}"
        return
    errors = doc.get("errors") or []
    if not errors and status == 200:
        value = want(doc.get("data") or {})
        if value:
            sample.outcome = "ok"
            sample.patient_id = value
        else:
            sample.outcome = "badresponse"
            sample.detail = f"HTTP 200 without the expected data: {text[:200]!r}"
        return
    first = errors[0] if errors else {}
    ext = first.get("extensions") or {}
    sample.code = ext.get("code")
    sample.retry_ext = ext.get("retryAfterSeconds")
    sample.detail = f"HTTP {status} {sample.code} {first.get('message', '')[:160]!r}"
    if (
        status == 503
        and sample.retry_after_header
        and sample.code == "INTERNAL"
        and isinstance(sample.retry_ext, int)
        and all((e.get("extensions") or {}).get("code") for e in errors)
    ):
        sample.outcome = "unavailable"
    else:
        sample.outcome = "error"


def graphql_call(
    port: int,
    sample: Sample,
    query: str,
    variables: dict,
    token: str | None,
    timeout: float,
    want,
) -> Sample:
    """One POST /graphql on a fresh connection (Connection: close), so that a
    failure can be placed precisely: refused at connect, reset after sending,
    or timed out."""
    body = json.dumps({"query": query, "variables": variables}).encode()
    headers = {
        "Content-Type": "application/json",
        "Connection": "close",
        "x-request-id": sample.rid,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        try:
            conn.connect()
        except ConnectionRefusedError:
            sample.outcome = "refused"
            sample.detail = "connection refused"
            return sample
        except OSError as error:
            sample.outcome = "refused"
            sample.detail = f"connect: {error!r}"
            return sample
        sample.connected_at = now()
        conn.request("POST", "/graphql", body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        sample.t1 = now()
        classify_graphql(sample, response.status, response.headers, data, want)
    except (socket.timeout, TimeoutError):
        sample.outcome = "timeout"
        sample.detail = f"no answer within the client timeout of {timeout:.0f} s"
    except (
        ConnectionResetError,
        ConnectionAbortedError,
        BrokenPipeError,
        http.client.RemoteDisconnected,
        http.client.IncompleteRead,
    ) as error:
        sample.outcome = "reset"
        sample.detail = repr(error)
    except (OSError, http.client.HTTPException) as error:
        sample.outcome = "reset"
        sample.detail = repr(error)
    finally:
        if not sample.t1:
            sample.t1 = now()
        conn.close()
    return sample


CREATE = (
    "mutation Create($input: CreatePatientInput!) "
    "{ createPatient(input: $input) { patient { id firstName lastName } } }"
)
READ = "query Read($id: ID!) { patient(id: $id) { id firstName lastName } }"
# consultations goes through a DataLoader, which waits DERMAGRAPH_BATCH_WINDOW_MS
# before it queries: with a long window this read stays in flight that long.
READ_SLOW = "query Read($id: ID!) { patient(id: $id) { id firstName lastName consultations { id } } }"


def want_created(data: dict):
    return ((data.get("createPatient") or {}).get("patient") or {}).get("id")


def want_read(data: dict):
    return (data.get("patient") or {}).get("id")


class Load:
    """N threads, each looping createPatient then (every `read_every` turns) a
    read of a patient it created. Every request is recorded."""

    def __init__(self, port: int, token: str, threads: int, timeout: float, tag: str, read_query: str = READ,
                 read_every: int = 2):
        self.port, self.token, self.threads, self.timeout, self.tag = port, token, threads, timeout, tag
        self.read_query = read_query
        self.read_every = read_every
        self.samples: list[Sample] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.stop_on_refused = False
        self.workers: list[threading.Thread] = []

    def start(self) -> None:
        for index in range(self.threads):
            worker = threading.Thread(target=self._run, args=(index,), daemon=True)
            worker.start()
            self.workers.append(worker)

    def stop(self) -> None:
        self.stop_event.set()
        for worker in self.workers:
            worker.join(self.timeout + 5)

    def _record(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def _run(self, index: int) -> None:
        created: list[str] = []
        turn = 0
        time.sleep(random.random() * 0.3)  # so the threads are not in step
        while not self.stop_event.is_set():
            turn += 1
            label = f"{self.tag}-c-{index}-{turn}"
            sample = Sample("create", request_id(label), index, now(), label=label)
            self._record(sample)
            variables = {"input": {"firstName": "Fault", "lastName": label}}
            graphql_call(self.port, sample, CREATE, variables, self.token, self.timeout, want_created)
            if sample.outcome == "ok":
                created.append(sample.patient_id)
            if sample.outcome == "refused" and self.stop_on_refused:
                return
            if sample.outcome in ("unavailable", "error", "timeout", "reset", "badresponse"):
                time.sleep(0.05)  # a polite client backs off a little
            if created and turn % self.read_every == 0 and not self.stop_event.is_set():
                read = Sample("read", request_id(f"{self.tag}-r-{index}-{turn}"), index, now())
                self._record(read)
                graphql_call(
                    self.port, read, self.read_query, {"id": created[-1]}, self.token, self.timeout, want_read
                )
                if read.outcome == "refused" and self.stop_on_refused:
                    return

    def snapshot(self) -> list[Sample]:
        with self.lock:
            return list(self.samples)


class ReadyzPoller:
    def __init__(self, port: int, every: float = 0.1):
        self.port, self.every = port, every
        self.samples: list[tuple[float, float, object]] = []  # (t0, latency, status|error)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(10)

    def _run(self) -> None:
        while not self.stop_event.is_set():
            t0 = now()
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=8)
                conn.request("GET", "/readyz")
                response = conn.getresponse()
                response.read()
                status: object = response.status
                conn.close()
            except Exception as error:  # noqa: BLE001 - recorded, not raised
                status = type(error).__name__
            self.samples.append((t0, now() - t0, status))
            self.stop_event.wait(self.every)


# --------------------------------------------------------------------------
# Server process


class Server:
    def __init__(self, binary: str, env: dict, port: int, log_path: str):
        self.binary, self.port, self.log_path = binary, port, log_path
        self.env = {**os.environ, **env, "DERMAGRAPH_BIND": f"127.0.0.1:{port}"}
        self.proc: subprocess.Popen | None = None
        self.exit_code: int | None = None

    def start(self, wait: float = 30) -> None:
        self.log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [self.binary, "serve"], env=self.env, stdout=self.log_file, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SetupError(f"server exited with {self.proc.returncode} at start:\n{self.log_tail()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", "/readyz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise SetupError(f"server not ready within {wait} s:\n{self.log_tail()}")

    def terminate(self, wait: float) -> tuple[int | None, float]:
        """SIGTERM, then wait; returns (exit code or None if still running, seconds)."""
        assert self.proc is not None
        started = now()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.exit_code = self.proc.wait(wait)
        except subprocess.TimeoutExpired:
            return None, now() - started
        return self.exit_code, now() - started

    def kill(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)
        if getattr(self, "log_file", None):
            self.log_file.close()

    def log_lines(self) -> list[str]:
        try:
            with open(self.log_path, encoding="utf-8", errors="replace") as handle:
                return handle.read().splitlines()
        except OSError:
            return []

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_lines()[-lines:])

    def request_ids_logged(self, message: str) -> set[str]:
        """Request ids of JSON log lines with this message."""
        ids = set()
        for line in self.log_lines():
            if message not in line:
                continue
            try:
                doc = json.loads(line)
            except ValueError:
                continue
            if doc.get("message") != message:
                continue
            span = doc.get("span") or {}
            rid = span.get("request_id")
            if rid:
                ids.add(rid)
        return ids


def run_cli(binary: str, args: list[str], env: dict) -> str:
    result = subprocess.run(
        [binary, *args], env={**os.environ, **env}, capture_output=True, text=True, timeout=120
    )
    if result.returncode != 0:
        raise SetupError(f"`dermagraph {' '.join(args)}` failed: {result.stdout}{result.stderr}")
    return result.stdout


def login(port: int, email: str, password: str) -> str:
    query = "mutation($i: LoginInput!) { login(input: $i) { accessToken } }"
    sample = Sample("login", request_id("faults-login"), -1, now())
    graphql_call(
        port,
        sample,
        query,
        {"i": {"email": email, "password": password}},
        None,
        30,
        lambda data: (data.get("login") or {}).get("accessToken"),
    )
    if sample.outcome != "ok":
        raise SetupError(f"login failed: {sample.outcome} {sample.detail}")
    return sample.patient_id  # the token, in the generic "value" slot


ADMIN_EMAIL = "faults-admin@clinic.example"


def server_env(database_url: str, data_dir: str, args, **extra) -> dict:
    env = {
        "DATABASE_URL": database_url,
        "DERMAGRAPH_ENV": "development",
        "DERMAGRAPH_LOG_FORMAT": "json",
        # tower_http=debug adds "started processing request" lines, which tell
        # which requests the server had accepted when it was told to stop.
        "RUST_LOG": "info,sqlx=warn,sea_orm=warn,tower_http=debug",
        "DERMAGRAPH_JWT_SECRET": secrets.token_hex(32),
        "DERMAGRAPH_DATA_DIR": data_dir,
        "DERMAGRAPH_DB_MAX_CONNECTIONS": str(args.pool),
        "DERMAGRAPH_DB_ACQUIRE_TIMEOUT_SECS": str(args.acquire_timeout),
        "DERMAGRAPH_REQUEST_TIMEOUT_SECS": "10",
        "DERMAGRAPH_RATE_LIMIT_STAFF_PER_MINUTE": "1000000",
        "DERMAGRAPH_RATE_LIMIT_PARTNER_PER_MINUTE": "1000000",
        "DERMAGRAPH_RATE_LIMIT_ANONYMOUS_PER_MINUTE": "1000",
        "DERMAGRAPH_PASSWORD": args.password,
    }
    env.update(extra)
    return env


# --------------------------------------------------------------------------
# Databases


def pg_bindir() -> str:
    if os.environ.get("PG_BINDIR"):
        return os.environ["PG_BINDIR"]
    candidates = sorted(
        glob.glob("/usr/lib/postgresql/*/bin"),
        key=lambda path: int(re.findall(r"/(\d+)/bin", path)[0]) if re.findall(r"/(\d+)/bin", path) else 0,
    )
    for candidate in reversed(candidates):
        if os.path.exists(os.path.join(candidate, "initdb")):
            return candidate
    found = shutil.which("initdb")
    if found:
        return os.path.dirname(found)
    raise SetupError("no PostgreSQL server binaries (initdb) found; set PG_BINDIR")


class PgCluster:
    """A throwaway cluster in a temp dir, trust auth, 127.0.0.1 on a free port."""

    def __init__(self) -> None:
        self.bindir = pg_bindir()
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="dg-faults-pg-")
        self.data = os.path.join(self.dir, "data")
        self.as_root = os.geteuid() == 0
        if self.as_root:
            entry = pwd.getpwnam("postgres")
            os.chown(self.dir, entry.pw_uid, entry.pw_gid)
        self.running = False

    def _run(self, tool: str, *args: str, timeout: float = 60) -> subprocess.CompletedProcess:
        command = [os.path.join(self.bindir, tool), *args]
        if self.as_root:
            command = ["runuser", "-u", "postgres", "--", *command]
        result = subprocess.run(command, cwd=self.dir, capture_output=True, text=True, timeout=timeout)
        if result.returncode != 0:
            raise SetupError(f"{' '.join(map(shlex.quote, command))} failed:\n{result.stdout}{result.stderr}")
        return result

    def init(self) -> None:
        self._run("initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        with open(os.path.join(self.data, "postgresql.conf"), "a") as conf:
            conf.write(
                f"\nport = {self.port}\nlisten_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.dir}'\nmax_connections = 60\n"
                "shared_buffers = 32MB\n"
            )

    def start(self) -> None:
        self._run("pg_ctl", "-D", self.data, "-l", os.path.join(self.dir, "pg.log"), "-w", "-t", "60", "start")
        self.running = True

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", self.data, "-m", mode, "-w", "-t", "60", "stop")
        self.running = False

    def teardown(self) -> None:
        try:
            if os.path.exists(os.path.join(self.data, "postmaster.pid")):
                self._run("pg_ctl", "-D", self.data, "-m", "immediate", "-w", "-t", "30", "stop")
        except Exception as error:  # noqa: BLE001
            log(f"warning: could not stop the throwaway cluster: {error}")
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, database: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def psql(self, database: str, sql: str) -> list[list[str]]:
        result = subprocess.run(
            ["psql", "-X", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-d", database,
             "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", sql],
            capture_output=True, text=True, timeout=60,
        )
        if result.returncode != 0:
            raise SetupError(f"psql failed: {result.stderr}")
        return [line.split("\t") for line in result.stdout.splitlines() if line]

    def create_db(self, name: str) -> str:
        self.psql("postgres", f'CREATE DATABASE "{name}"')
        return name


def norm_uuid(value) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    return str(value).replace("-", "").lower()


class Db:
    """Read-only queries the checks need, on either backend."""

    def __init__(self, pg: PgCluster | None = None, database: str = "", sqlite_path: str = ""):
        self.pg, self.database, self.sqlite_path = pg, database, sqlite_path

    def rows(self, sql: str) -> list[tuple]:
        if self.pg:
            return [tuple(row) for row in self.pg.psql(self.database, sql)]
        conn = sqlite3.connect(f"file:{self.sqlite_path}?mode=ro", uri=True, timeout=30)
        try:
            return list(conn.execute(sql).fetchall())
        finally:
            conn.close()

    def patients(self) -> dict[str, str]:
        """last_name (= the request id that created it) -> id."""
        return {str(last): norm_uuid(pid) for pid, last in self.rows("SELECT id, last_name FROM patients")}

    def patient_count(self) -> int:
        return int(self.rows("SELECT count(*) FROM patients")[0][0])

    def audit(self) -> list[tuple[str, str, str]]:
        """(request_id, action, entity_id) of every audit row."""
        return [
            (str(rid), str(action), norm_uuid(entity) if entity not in (None, "") else "")
            for rid, action, entity in self.rows(
                "SELECT request_id, action, entity_id FROM audit_events WHERE request_id IS NOT NULL"
            )
        ]

    def read_audit_count(self, samples: list[Sample]) -> int:
        """READ rows stored for these samples' requests (their ids are UUIDs,
        so they are matched one by one, not by a prefix)."""
        rids = {s.rid for s in samples if s.kind == "read"}
        return sum(1 for rid, action, _ in self.audit() if action == "READ" and rid in rids)


# --------------------------------------------------------------------------
# Checks


@dataclass
class Report:
    name: str
    failures: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)
    headline: str = ""

    def check(self, ok: bool, message: str) -> bool:
        if ok:
            self.lines.append(f"PASS {message}")
        else:
            self.failures.append(message)
            self.lines.append(f"FAIL {message}")
        return ok

    def info(self, message: str) -> None:
        self.lines.append(f"     {message}")

    def note(self, message: str) -> None:
        self.notes.append(message)
        self.lines.append(f"NOTE {message}")


def outcome_counts(samples: list[Sample]) -> str:
    counts: dict[str, int] = {}
    for sample in samples:
        key = sample.outcome if sample.outcome != "error" else f"error:{sample.status}:{sample.code}"
        counts[key] = counts.get(key, 0) + 1
    return ", ".join(f"{key}={value}" for key, value in sorted(counts.items())) or "none"


def examples(samples: list[Sample], limit: int = 3) -> str:
    return "; ".join(f"{s.rid} [{s.t0:.2f}s +{s.latency * 1000:.0f}ms] {s.outcome} {s.detail}" for s in samples[:limit])


def check_no_leaks(report: Report, samples: list[Sample]) -> None:
    leaks = [s for s in samples if s.leak]
    report.check(
        not leaks,
        f"no response leaks internals (SQL, sqlx, panics, OS errors) in {len(samples)} responses"
        + (f": {leaks[0].rid}: …{leaks[0].leak}…" if leaks else ""),
    )


def check_durability(report: Report, db: Db, creates: list[Sample], tag: str) -> None:
    """Every acknowledged create is stored with its id; nothing is stored for a
    request told 'nothing was changed'; no row without a request."""
    stored = {last: pid for last, pid in db.patients().items() if last.startswith(f"{tag}-c-")}
    acked = [s for s in creates if s.outcome == "ok"]
    missing = [s for s in acked if s.label not in stored]
    wrong_id = [s for s in acked if s.label in stored and stored[s.label] != norm_uuid(s.patient_id)]
    by_label = {s.label: s for s in creates}
    unacked_stored = [by_label[label] for label in stored if label in by_label and by_label[label].outcome != "ok"]
    lied = [s for s in unacked_stored if s.outcome == "unavailable" or s.code not in (None, "INTERNAL")]
    ambiguous = [s for s in unacked_stored if s not in lied]
    phantom = [label for label in stored if label not in by_label]
    report.info(f"acknowledged creates={len(acked)}  rows stored={len(stored)}  "
                f"stored though not acknowledged={len(unacked_stored)}")
    report.check(not missing, f"every acknowledged createPatient is stored ({len(acked) - len(missing)}/{len(acked)})"
                 + (f"; missing: {examples(missing)}" if missing else ""))
    report.check(not wrong_id, "every stored row has the id that was acknowledged"
                 + (f"; differ: {examples(wrong_id)}" if wrong_id else ""))
    report.check(not lied, "no row exists for a request answered 'nothing was changed' (503 unavailable) or a client error"
                 + (f"; {len(lied)} such rows: {examples(lied)}" if lied else ""))
    report.check(not phantom, "no stored row lacks a request" + (f"; {phantom[:3]}" if phantom else ""))
    report.check(len(stored) == len(acked) + len(ambiguous),
                 f"rows stored ({len(stored)}) == acknowledged ({len(acked)}) + committed-but-unacknowledged ({len(ambiguous)})")
    if ambiguous:
        report.note(f"{len(ambiguous)} create(s) committed although the client got an error "
                    f"(in flight when the database went away; the outcome is unknowable to the client): "
                    f"{examples(ambiguous)}")


def check_audit(report: Report, db: Db, samples: list[Sample]) -> tuple[int, int]:
    rows = db.audit()
    by_rid: dict[str, set[tuple[str, str]]] = {}
    for rid, action, entity in rows:
        by_rid.setdefault(rid, set()).add((action, entity))
    expected = 0
    missing = []
    for s in samples:
        if s.outcome != "ok" or s.kind not in ("create", "read"):
            continue
        expected += 1
        action = "CREATE" if s.kind == "create" else "READ"
        if (action, norm_uuid(s.patient_id)) not in by_rid.get(s.rid, set()):
            missing.append(s)
    found = expected - len(missing)
    missing_reads = [s for s in missing if s.kind == "read"]
    missing_creates = [s for s in missing if s.kind == "create"]
    report.check(not missing_creates, f"every acknowledged create has its CREATE audit row "
                 f"({sum(1 for s in samples if s.kind == 'create' and s.outcome == 'ok') - len(missing_creates)}"
                 f"/{sum(1 for s in samples if s.kind == 'create' and s.outcome == 'ok')})"
                 + (f"; missing: {examples(missing_creates)}" if missing_creates else ""))
    acked_reads = sum(1 for s in samples if s.kind == "read" and s.outcome == "ok")
    report.check(not missing_reads, f"every acknowledged read has its READ audit row "
                 f"({acked_reads - len(missing_reads)}/{acked_reads})"
                 + (f"; missing: {examples(missing_reads)}" if missing_reads else ""))
    return found, expected


# --------------------------------------------------------------------------
# Cases


def case_pg_restart(args, pg: PgCluster, workdir: str) -> Report:
    report = Report("pg-restart")
    tag = "pgr"
    database = pg.create_db("dg_faults_restart")
    data_dir = os.path.join(workdir, "pgr-data")
    port = free_port()
    env = server_env(pg.url(database), data_dir, args, DERMAGRAPH_AUDIT_FLUSH_MS="500")
    run_cli(args.bin, ["create-user", "--email", ADMIN_EMAIL, "--role", "ADMIN", "--display-name", "Faults"], env)
    server = Server(args.bin, env, port, os.path.join(workdir, "server-pg-restart.log"))
    server.start()
    try:
        token = login(port, ADMIN_EMAIL, args.password)
        bound = 3 * args.acquire_timeout + 1
        load = Load(port, token, args.threads, timeout=args.client_timeout, tag=tag)
        ready = ReadyzPoller(port)
        load.start()
        ready.start()
        time.sleep(args.warmup)
        t_stop0 = now()
        log(f"pg-restart: stopping PostgreSQL (pg_ctl stop -m {args.pg_stop_mode}) under load")
        pg.stop(args.pg_stop_mode)
        t_stop1 = now()
        time.sleep(args.outage)
        t_start0 = now()
        log("pg-restart: starting PostgreSQL again")
        pg.start()
        t_up = now()
        # Wait until a create that started after the database was back succeeds.
        recovered_at = None
        deadline = t_up + args.recover_limit
        while now() < deadline and recovered_at is None:
            oks = [s for s in load.snapshot() if s.kind == "create" and s.outcome == "ok" and s.t0 >= t_up]
            if oks:
                recovered_at = min(s.t1 for s in oks)
            else:
                time.sleep(0.1)
        time.sleep(args.post)
        load.stop()
        ready.stop()
        t_end = now()
        code, took = server.terminate(args.exit_wait)
        if code is None:
            server.kill()
        samples = load.snapshot()
    finally:
        server.kill()

    db = Db(pg, database)
    creates = [s for s in samples if s.kind == "create"]
    baseline = [s for s in samples if s.t1 < t_stop0]
    outage = [s for s in samples if t_stop0 <= s.t0 < t_up or (s.t0 < t_stop0 <= s.t1)]
    down = [s for s in samples if t_stop1 <= s.t0 and s.t1 <= t_start0]
    after = [s for s in samples if s.t0 >= (recovered_at or t_end) + 1.0]
    report.info(f"timeline: PG stop {t_stop0:.2f}s→{t_stop1:.2f}s, down until {t_start0:.2f}s, "
                f"up at {t_up:.2f}s, load ended {t_end:.2f}s; {args.threads} client threads, "
                f"acquire timeout {args.acquire_timeout}s, pool {args.pool}")
    report.info(f"all requests: {len(samples)} ({outcome_counts(samples)})")
    report.info(f"before the stop: {lat_summary([s.latency for s in baseline])} ({outcome_counts(baseline)})")
    report.info(f"during the outage (started in [stop, up) or in flight at stop): "
                f"{lat_summary([s.latency for s in outage])} ({outcome_counts(outage)})")
    report.info(f"while PG was fully down: {lat_summary([s.latency for s in down])} ({outcome_counts(down)})")
    report.info(f"≥1 s after recovery: {lat_summary([s.latency for s in after])} ({outcome_counts(after)})")

    report.check(baseline and all(s.outcome == "ok" for s in baseline),
                 f"all {len(baseline)} requests before the stop succeeded"
                 + ("" if all(s.outcome == "ok" for s in baseline) else f": {examples([s for s in baseline if s.outcome != 'ok'])}"))
    # /readyz
    # Probes that started and ended while PG was fully down (a probe begun just
    # before the start may rightly succeed once PG is back).
    r_out = [r for r in ready.samples if t_stop1 <= r[0] and r[0] + r[1] <= t_start0]
    r_bad = [r for r in r_out if r[2] != 200]
    r_lat = [r[1] for r in r_out]
    report.info(f"/readyz while down: {len(r_bad)}/{len(r_out)} non-200 "
                f"({sorted(set(str(r[2]) for r in r_out))}), {lat_summary(r_lat)}")
    report.check(len(r_bad) >= 1, "/readyz is non-200 at least once during the outage")
    report.check(not r_out or all(r[2] == 503 for r in r_out),
                 "/readyz answers 503 (not 200, not a transport error) while PG is down")
    ready_back = [r[0] + r[1] for r in ready.samples if r[0] >= t_up and r[2] == 200]
    ttr_ready = (min(ready_back) - t_up) if ready_back else None
    # No hang
    slow = [s for s in samples if s.latency > bound or s.outcome == "timeout"]
    report.check(not slow, f"every request answered within {bound} s (3 × acquire timeout + 1 s); "
                 f"max latency {max((s.latency for s in samples), default=0):.2f}s"
                 + (f"; {len(slow)} slower: {examples(sorted(slow, key=lambda s: -s.latency))}" if slow else ""))
    # Clear, coded errors
    transport = [s for s in samples if s.outcome in ("reset", "refused", "timeout", "badresponse")]
    report.check(not transport, "no transport failures or malformed answers"
                 + (f"; {len(transport)}: {examples(transport)}" if transport else ""))
    uncoded = [s for s in samples if s.outcome == "error" and not s.code]
    report.check(not uncoded, "every error answer carries extensions.code"
                 + (f"; {examples(uncoded)}" if uncoded else ""))
    not_unavailable = [s for s in down if s.outcome != "unavailable"]
    report.check(down and not not_unavailable,
                 f"while PG is down every request gets 503 + Retry-After + INTERNAL + retryAfterSeconds "
                 f"({len(down) - len(not_unavailable)}/{len(down)})"
                 + (f"; others: {examples(not_unavailable)}" if not_unavailable else ""))
    transition = [s for s in outage if s not in down and s.outcome not in ("ok", "unavailable")]
    if transition:
        report.note(f"{len(transition)} request(s) in flight while PG was stopping/starting got another error "
                    f"({outcome_counts(transition)}), e.g. {examples(transition, 2)}")
    # Recovery
    ttr = (recovered_at - t_up) if recovered_at is not None else None
    report.info("time to recover: first successful create "
                + (f"{ttr:.2f}s" if ttr is not None else "never")
                + ", first /readyz 200 " + (f"{ttr_ready:.2f}s" if ttr_ready is not None else "never")
                + " after PG was accepting connections again")
    report.check(ttr is not None and ttr <= args.recover_limit,
                 f"service recovers by itself within {args.recover_limit} s of PG being back")
    report.check(ttr_ready is not None and ttr_ready <= args.recover_limit,
                 f"/readyz is 200 again within {args.recover_limit} s")
    failing_after = [s for s in after if s.outcome != "ok"]
    report.check(after and not failing_after,
                 f"all {len(after)} requests from 1 s after recovery on succeeded"
                 + (f"; failures: {outcome_counts(failing_after)} e.g. {examples(failing_after)}" if failing_after else ""))
    check_no_leaks(report, samples)
    report.check(code == 0, f"server exits 0 on SIGTERM after the run (exit {code}, {took:.2f}s)")
    check_durability(report, db, creates, tag)
    found, expected = check_audit(report, db, samples)
    report.info(f"audit rows for acknowledged requests: {found}/{expected}")
    lines = server.log_lines()
    retries = sum(1 for line in lines if "audit rows not written yet" in line)
    internal = sum(1 for line in lines if '"message":"internal error"' in line)
    slow = [float(m.group(1)) for line in lines
            for m in [re.search(r'"acquired_after_secs":([0-9.]+)', line)] if m]
    report.info(f"server log: {retries} 'audit rows not written yet; will retry', {internal} 'internal error', "
                f"{len(slow)} sqlx slow-acquire warnings"
                + (f" (longest wait {max(slow):.1f}s: a pool without the {args.acquire_timeout}s acquire timeout, "
                   f"e.g. the LISTEN connection of live events)" if slow else ""))
    fmt = lambda value: f"{value:.2f}s" if value is not None else "never"  # noqa: E731
    report.headline = (
        f"{len(samples)} requests; while PG down {lat_summary([s.latency for s in down])}, "
        f"all {len(down) - len(not_unavailable)}/{len(down)} 503+Retry-After; "
        f"/readyz non-200 {len(r_bad)}/{len(r_out)} while down; recovered in {fmt(ttr)} (readyz {fmt(ttr_ready)}); "
        f"acked creates {sum(1 for s in creates if s.outcome == 'ok')} vs rows {db.patient_count()}; audit {found}/{expected}; exit {code}"
    )
    return report


def fresh_database(backend: str, case: str, workdir: str, pg: PgCluster | None) -> tuple[str, Db]:
    """A new database for one case: (the server's DATABASE_URL, the checks' reader)."""
    if backend == "pg":
        assert pg is not None
        database = pg.create_db(f"dg_faults_{case}")
        return pg.url(database), Db(pg, database)
    path = os.path.join(workdir, f"{case}.db")
    return f"sqlite://{path}?mode=rwc", Db(sqlite_path=path)


def case_sigterm(args, backend: str, workdir: str, pg: PgCluster | None) -> Report:
    report = Report(f"sigterm-{backend}")
    tag = "st" + backend[:2]
    data_dir = os.path.join(workdir, f"{tag}-data")
    url, db = fresh_database(backend, "sigterm", workdir, pg)
    port = free_port()
    # A retry interval far longer than the run: a row the database refused
    # would be written only by the shutdown flush (answers wait for their rows).
    # A long batch window keeps every read in flight for args.slow_read_ms, so
    # SIGTERM always lands on requests that still have work to do.
    env = server_env(url, data_dir, args, DERMAGRAPH_AUDIT_FLUSH_MS="600000",
                     DERMAGRAPH_BATCH_WINDOW_MS=str(args.slow_read_ms))
    run_cli(args.bin, ["create-user", "--email", ADMIN_EMAIL, "--role", "ADMIN", "--display-name", "Faults"], env)
    server = Server(args.bin, env, port, os.path.join(workdir, f"server-sigterm-{backend}.log"))
    server.start()
    try:
        token = login(port, ADMIN_EMAIL, args.password)
        load = Load(port, token, args.threads, timeout=args.client_timeout, tag=tag, read_query=READ_SLOW)
        load.stop_on_refused = True
        load.start()
        time.sleep(args.warmup)
        before_term = db.read_audit_count(load.snapshot())
        # Send SIGTERM just after a read got going, so that it lands on a
        # request with most of its work (the batch window) still ahead.
        deadline = now() + 5
        while now() < deadline and not any(
            s.kind == "read" and not s.t1 and s.connected_at and 0.02 < now() - s.connected_at < 0.1
            for s in load.snapshot()
        ):
            time.sleep(0.005)
        t_term = now()
        log(f"sigterm-{backend}: sending SIGTERM under load")
        code, took = server.terminate(args.exit_wait)
        t_exit = now()
        if code is None:
            server.kill()
        load.stop()
        samples = load.snapshot()
    finally:
        server.kill()

    started = server.request_ids_logged("started processing request")
    finished = server.request_ids_logged("finished processing request")
    creates = [s for s in samples if s.kind == "create"]
    before = [s for s in samples if s.t1 < t_term]
    in_flight = [s for s in samples if s.t0 <= t_term and s.outcome != "refused" and s.t1 >= t_term]
    after = [s for s in samples if s.t0 > t_term]
    report.info(f"SIGTERM at {t_term:.2f}s after {args.warmup}s of load ({args.threads} client threads); "
                f"server exited {took:.2f}s later with {code}")
    report.info(f"all requests: {len(samples)} ({outcome_counts(samples)})")
    report.info(f"before SIGTERM: {lat_summary([s.latency for s in before])} ({outcome_counts(before)})")
    report.info(f"in flight at SIGTERM: {lat_summary([s.latency for s in in_flight])} ({outcome_counts(in_flight)})")
    report.info(f"started after SIGTERM: {outcome_counts(after)}")
    report.check(code == 0, f"server exits 0 after SIGTERM (exit {code}, {took:.2f}s; limit {args.exit_wait}s)")
    report.check(before and all(s.outcome == "ok" for s in before),
                 f"all {len(before)} requests before SIGTERM succeeded"
                 + ("" if all(s.outcome == "ok" for s in before) else f": {examples([s for s in before if s.outcome != 'ok'])}"))
    # A request counts as accepted when the server logged "started processing request" for it.
    accepted = [s for s in samples if s.rid in started]
    aborted = [s for s in accepted if s.outcome != "ok"]
    slow_in_flight = [s for s in in_flight if s.kind == "read" and s.t1 - t_term >= args.slow_read_ms / 2000]
    report.check(len(slow_in_flight) >= 1,
                 f"SIGTERM landed on requests with work left: {len(in_flight)} in flight, {len(slow_in_flight)} "
                 f"of them reads (≥{args.slow_read_ms} ms batch window) still running ≥{args.slow_read_ms // 2} ms "
                 f"after SIGTERM")
    report.check(not aborted, f"every request the server had started finished with a full answer "
                 f"({len(accepted) - len(aborted)}/{len(accepted)})"
                 + (f"; aborted: {examples(aborted)}" if aborted else ""))
    unfinished = [s for s in accepted if s.rid not in finished]
    report.check(not unfinished, f"the server logged a response for every request it started"
                 + (f"; {len(unfinished)} without: {examples(unfinished)}" if unfinished else ""))
    refused_late = [s for s in samples if s.outcome == "refused" and s.t0 < t_term]
    report.check(not refused_late, "no connection refused before SIGTERM"
                 + (f": {examples(refused_late)}" if refused_late else ""))
    dropped = [s for s in samples if s.outcome in ("reset", "timeout", "badresponse") and s.rid not in started]
    if dropped:
        report.note(f"{len(dropped)} request(s) were connected but never read by the server (connection closed "
                    f"when it stopped accepting: listen backlog or not yet read) — not in flight, retryable: "
                    f"{examples(dropped, 2)}")
    other = [s for s in samples if s.outcome in ("error", "unavailable")]
    report.check(not other, "no error answers" + (f"; {examples(other)}" if other else ""))
    check_no_leaks(report, samples)
    check_durability(report, db, creates, tag)
    found, expected = check_audit(report, db, samples)
    acked_reads = sum(1 for s in samples if s.kind == "read" and s.outcome == "ok")
    after_exit = db.read_audit_count(samples)
    report.info(f"READ audit rows: {before_term} in the DB just before SIGTERM, {after_exit} after exit, "
                f"{acked_reads} reads acknowledged (so {after_exit - before_term} written by the shutdown flush "
                f"or by reads finishing after SIGTERM)")
    report.info(f"audit rows for acknowledged requests: {found}/{expected}")
    report.headline = (
        f"{len(samples)} requests; {len(in_flight)} in flight at SIGTERM ({len(slow_in_flight)} slow reads), "
        f"{len(aborted)} aborted; exit {code} after {took:.2f}s; acked creates "
        f"{sum(1 for s in creates if s.outcome == 'ok')} vs rows {db.patient_count()}; audit {found}/{expected} "
        f"({after_exit - before_term} READ rows written after SIGTERM)"
    )
    return report


def case_sigkill(args, backend: str, workdir: str, pg: PgCluster | None) -> Report:
    report = Report(f"sigkill-{backend}")
    tag = "sk" + backend[:2]
    data_dir = os.path.join(workdir, f"{tag}-data")
    url, db = fresh_database(backend, "sigkill", workdir, pg)
    port = free_port()
    # Before issue 16, read-audit rows waited up to DERMAGRAPH_AUDIT_FLUSH_MS in
    # memory after their answer had gone, and a kill lost them; now the value
    # only paces retries, and the answer waits for its rows.
    env = server_env(url, data_dir, args, DERMAGRAPH_AUDIT_FLUSH_MS="5000")
    run_cli(args.bin, ["create-user", "--email", ADMIN_EMAIL, "--role", "ADMIN", "--display-name", "Faults"], env)
    server = Server(args.bin, env, port, os.path.join(workdir, f"server-sigkill-{backend}.log"))
    server.start()
    try:
        token = login(port, ADMIN_EMAIL, args.password)
        load = Load(port, token, args.threads, timeout=args.client_timeout, tag=tag, read_every=1)
        load.stop_on_refused = True
        load.start()
        time.sleep(args.warmup)
        t_kill = now()
        log(f"sigkill-{backend}: sending SIGKILL under load")
        server.kill()
        load.stop()
        samples = load.snapshot()
    finally:
        server.kill()

    reads = [s for s in samples if s.kind == "read"]
    acked_reads = [s for s in reads if s.outcome == "ok"]
    creates = [s for s in samples if s.kind == "create"]
    in_flight = [s for s in samples if s.t0 <= t_kill and s.outcome != "ok" and s.t1 >= t_kill]
    report.info(f"SIGKILL at {t_kill:.2f}s after {args.warmup}s of load ({args.threads} client threads, "
                f"a read after every create)")
    report.info(f"all requests: {len(samples)} ({outcome_counts(samples)}); {len(in_flight)} cut off by the kill")
    report.check(len(acked_reads) >= 50, f"the load got {len(acked_reads)} reads answered before the kill (≥ 50)")
    check_no_leaks(report, samples)
    check_durability(report, db, creates, tag)
    found, expected = check_audit(report, db, samples)
    stored_reads = db.read_audit_count(samples)
    report.check(stored_reads >= len(acked_reads),
                 f"READ audit rows ({stored_reads}) ≥ answered reads ({len(acked_reads)})")
    report.info(f"audit rows for acknowledged requests: {found}/{expected}")
    report.headline = (
        f"{len(samples)} requests; SIGKILL cut off {len(in_flight)}; answered reads {len(acked_reads)}, "
        f"READ rows {stored_reads}; acked creates {sum(1 for s in creates if s.outcome == 'ok')} "
        f"vs rows {db.patient_count()}; audit {found}/{expected}"
    )
    return report


# --------------------------------------------------------------------------


def write_markdown(path: str, args, reports: list[Report], command: str, elapsed: float, binary_info: str) -> None:
    status = "PASS" if all(not r.failures for r in reports) else "FAIL"
    out = [
        "# Fault harness: last results",
        "",
        "Issue 7, *Reliability → Faults*: PostgreSQL restarted under load, and SIGTERM under load "
        "(PostgreSQL and SQLite); issue 16: SIGKILL under load (PostgreSQL and SQLite). Written by `bench/faults.py`; see the docstring there for what each "
        "check means.",
        "",
        f"- Date: {dt.datetime.now(dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- Command: `{command}`",
        f"- Binary: {binary_info}",
        f"- Host: {os.cpu_count()} CPUs; PostgreSQL binaries {pg_bindir_or_none()}",
        f"- Settings: {args.threads} client threads, pool {args.pool}, acquire timeout {args.acquire_timeout}s, "
        f"warm-up {args.warmup}s, outage {args.outage}s (pg_ctl stop -m {args.pg_stop_mode}), "
        f"recover limit {args.recover_limit}s",
        f"- Overall: **{status}** in {elapsed:.0f}s",
        "",
        "| case | result | summary |",
        "|---|---|---|",
    ]
    for report in reports:
        verdict = "PASS" if not report.failures else "**FAIL**"
        out.append(f"| {report.name} | {verdict} | {report.headline} |")
    out.append("")
    for report in reports:
        verdict = "PASS" if not report.failures else f"FAIL ({len(report.failures)} checks)"
        out += [f"## {report.name}: {verdict}", "", "```"]
        out += report.lines
        out += ["```", ""]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(out))


def pg_bindir_or_none() -> str:
    try:
        return pg_bindir()
    except SetupError:
        return "(none)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", default=os.environ.get("DERMAGRAPH_BIN"),
                        help="dermagraph release binary (or DERMAGRAPH_BIN)")
    parser.add_argument("--cases", default="all",
                        help="comma list of pg-restart, sigterm-pg, sigterm-sqlite, sigkill-pg, sigkill-sqlite, or all")
    parser.add_argument("--md", default=None, help="write the results as Markdown here (e.g. bench/faults.md)")
    parser.add_argument("--threads", type=int, default=12)
    parser.add_argument("--pool", type=int, default=8, help="DERMAGRAPH_DB_MAX_CONNECTIONS")
    parser.add_argument("--acquire-timeout", type=int, default=2, help="DERMAGRAPH_DB_ACQUIRE_TIMEOUT_SECS")
    parser.add_argument("--warmup", type=float, default=4.0, help="seconds of load before the fault")
    parser.add_argument("--outage", type=float, default=6.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--post", type=float, default=4.0, help="seconds of load after recovery")
    parser.add_argument("--recover-limit", type=float, default=10.0, help="max seconds to recover")
    parser.add_argument("--exit-wait", type=float, default=20.0, help="max seconds to exit after SIGTERM")
    parser.add_argument("--client-timeout", type=float, default=15.0)
    parser.add_argument("--slow-read-ms", type=int, default=400,
                        help="DERMAGRAPH_BATCH_WINDOW_MS in the SIGTERM cases (how long reads stay in flight)")
    parser.add_argument("--pg-stop-mode", default="fast", choices=["smart", "fast", "immediate"])
    parser.add_argument("--password", default="faults-harness-password-1")
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (server logs) for inspection")
    args = parser.parse_args()
    if not args.bin or not os.access(args.bin, os.X_OK):
        print("error: pass the dermagraph binary with --bin or DERMAGRAPH_BIN", file=sys.stderr)
        return 2
    cases = (["pg-restart", "sigterm-pg", "sigterm-sqlite", "sigkill-pg", "sigkill-sqlite"]
             if args.cases == "all" else args.cases.split(","))
    command = "python3 bench/faults.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    stat = os.stat(args.bin)
    binary_info = (f"`{args.bin}` ({stat.st_size // 1024} KiB, built "
                   f"{dt.datetime.fromtimestamp(stat.st_mtime, dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')})")

    workdir = tempfile.mkdtemp(prefix="dg-faults-")
    os.chmod(workdir, 0o755)
    reports: list[Report] = []
    pg: PgCluster | None = None
    exit_code = 0
    try:
        if any(case.endswith("pg") or case == "pg-restart" for case in cases):
            pg = PgCluster()
            log(f"throwaway PostgreSQL cluster: {pg.bindir}, port {pg.port}, dir {pg.dir}")
            pg.init()
            pg.start()
        for case in cases:
            log(f"case {case}")
            if case == "pg-restart":
                reports.append(case_pg_restart(args, pg, workdir))
            elif case == "sigterm-pg":
                if pg and not pg.running:
                    pg.start()
                reports.append(case_sigterm(args, "pg", workdir, pg))
            elif case == "sigterm-sqlite":
                reports.append(case_sigterm(args, "sqlite", workdir, None))
            elif case == "sigkill-pg":
                if pg and not pg.running:
                    pg.start()
                reports.append(case_sigkill(args, "pg", workdir, pg))
            elif case == "sigkill-sqlite":
                reports.append(case_sigkill(args, "sqlite", workdir, None))
            else:
                raise SetupError(f"unknown case {case}")
    except SetupError as error:
        print(f"SETUP ERROR: {error}", file=sys.stderr)
        exit_code = 2
    finally:
        if pg:
            pg.teardown()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)

    elapsed = now()
    print()
    for report in reports:
        verdict = "PASS" if not report.failures else "FAIL"
        print(f"== {report.name}: {verdict}")
        print(f"  {report.headline}")
        for line in report.lines:
            print(f"  {line}")
    failures = [(r.name, f) for r in reports for f in r.failures]
    if args.md and reports:
        write_markdown(args.md, args, reports, command, elapsed, binary_info)
        print(f"\nresults written to {args.md}")
    if failures:
        print(f"\nFAILED {len(failures)} check(s):")
        for name, failure in failures:
            print(f"  [{name}] {failure}")
        exit_code = exit_code or 1
    elif exit_code == 0:
        print(f"\nall checks passed in {elapsed:.0f}s")
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
