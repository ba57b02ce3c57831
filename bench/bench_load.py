"""Load test of one hub with locust: 50 partners polling, 2 feeds posting, for each backend
(SQLite, PostgreSQL) and each number of ``kizuna serve --workers`` processes (1, 2, 4).

    .venv/bin/python bench/bench_load.py                      # 60 s per run, 6 runs
    .venv/bin/python bench/bench_load.py --seconds 600        # the issue's 10 minutes per run
    .venv/bin/python bench/bench_load.py --backends sqlite --workers 1 2

Each run: a fresh node (home party, 50 partners and 2 feeds with keys, one agreement among all
of them signed by all, ``--seed`` GREEN indicators already held), ``kizuna serve --workers N``
on loopback, then ``locust --headless`` (bench/locustfile.py) for ``--seconds``. Prints a
Markdown table (bench/README.md keeps one) and writes locust's CSVs to bench/results/.
PostgreSQL runs use a fresh schema of ``KIZUNA_BENCH_DATABASE_URL`` (default: the local test
database), dropped afterwards.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx
import psutil
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from kizuna.core import agreements as core_agreements
from kizuna.core.signing import public_key_of
from kizuna.services import agreements, ingest, parties, tokens
from kizuna.services.node import init_node, new_private_key

HERE = Path(__file__).parent
RESULTS = HERE / "results"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
ENVELOPE = int(os.environ.get("KIZUNA_LOAD_ENVELOPE", "50"))
PG = os.environ.get(
    "KIZUNA_BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def make_node(home: Path, url: str | None, partners: int, seed: int) -> dict[str, object]:
    node = init_node(
        home, party_name="Hub CSIRT", jurisdiction="EU", kind="csirt", scheme="EU",
        database_url=url,
    )  # fmt: skip
    try:
        node.set_setting("sync_interval", "0")
        keys: dict[str, bytes] = {}
        names = []
        for i in range(partners + 2):
            name = f"Partner {i:02d}" if i < partners else f"Feed {i - partners}"
            key = new_private_key()
            p = parties.add_party(
                node, name, jurisdiction="DE", kind="csirt", scheme="DE",
                public_keys=(public_key_of(key),),
            )  # fmt: skip
            keys[p.id] = key
            names.append((name, p.id))
        draft = agreements.from_template(
            node,
            {"title": "hub", "parties": ["Hub CSIRT", *[n for n, _ in names]],
             "valid_from": "2026-01-01T00:00:00Z"},
        )  # fmt: skip
        signed = core_agreements.sign_document(draft, node.home_party.id, node.private_key)
        for pid, key in keys.items():
            signed = core_agreements.sign_document(signed, pid, key)
        assert agreements.add(node, signed).state == "active"
        objects = [
            {
                "type": "indicator", "spec_version": "2.1", "id": f"indicator--{uuid.uuid4()}",
                "created": "2026-01-01T00:00:00.000Z", "modified": "2026-01-01T00:00:00.000Z",
                "name": "seed", "pattern": f"[ipv4-addr:value = '10.9.{n // 250}.{n % 250}']",
                "pattern_type": "stix", "valid_from": "2026-01-01T00:00:00Z",
                "object_marking_refs": [GREEN],
            }
            for n in range(seed)
        ]  # fmt: skip
        for i in range(0, len(objects), 1000):
            ingest.ingest(node, objects[i : i + 1000], submitter=node.home_party, path="import")
        partner_tokens = [tokens.create(node, pid).value for _, pid in names[:partners]]
        feed_tokens = [
            {"party": pid, "token": tokens.create(node, pid).value} for _, pid in names[partners:]
        ]
        return {"partners": partner_tokens, "feeds": feed_tokens}
    finally:
        node.close()


def serve(
    home: Path, url: str | None, workers: int, log: Path
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("KIZUNA_DATABASE_URL", None)
    if url:
        env["KIZUNA_DATABASE_URL"] = url
    process = subprocess.Popen(
        [sys.executable, "-c", "from kizuna.cli.main import main; main()", "--home", str(home),
         "serve", "--port", str(port), "--workers", str(workers), "--log-level", "warning"],
        stdout=log.open("ab"), stderr=subprocess.STDOUT, env=env,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/healthz", timeout=1).status_code == 200:
                return process, base
        except httpx.TransportError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"kizuna serve did not start; see {log}")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and all its children (the workers) so far."""
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return 0.0
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
            total += t.user + t.system
        except psutil.NoSuchProcess:
            pass
    return total


def run_locust(base: str, tokens_file: Path, seconds: int, prefix: Path) -> None:
    env = {**os.environ, "KIZUNA_LOAD_TOKENS": str(tokens_file)}
    subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(HERE / "locustfile.py"), "--headless",
         "-u", "52", "-r", "52", "-t", f"{seconds}s", "--host", base, "--csv", str(prefix),
         "--only-summary", "--stop-timeout", "10", "--loglevel", "WARNING"],
        env=env, check=False, timeout=seconds + 120,
    )  # fmt: skip


def read_stats(prefix: Path) -> dict[str, dict[str, float]]:
    out = {}
    with open(f"{prefix}_stats.csv") as f:
        for row in csv.DictReader(f):
            out[row["Name"]] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "p50": float(row["50%"]),
                "p99": float(row["99%"]),
                "rps": float(row["Requests/s"]),
            }
    return out


def pg_schema() -> tuple[str, str]:
    schema = "bench_" + uuid.uuid4().hex[:10]
    engine = create_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    engine.dispose()
    url = make_url(PG).update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, url.render_as_string(hide_password=False)


def drop_schema(schema: str) -> None:
    engine = create_engine(PG, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=int, default=60, help="length of each run")
    parser.add_argument("--backends", nargs="+", default=["sqlite", "postgresql"])
    parser.add_argument("--workers", nargs="+", type=int, default=[1, 2, 4])
    parser.add_argument("--partners", type=int, default=50)
    parser.add_argument("--seed", type=int, default=2000, help="indicators held at the start")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    stamp = time.strftime("%Y%m%dT%H%M%S")
    rows = []
    for backend in args.backends:
        for workers in args.workers:
            with tempfile.TemporaryDirectory() as tmp:
                schema, url = pg_schema() if backend == "postgresql" else (None, None)
                try:
                    home = Path(tmp) / "hub"
                    tokens_file = Path(tmp) / "tokens.json"
                    tokens_file.write_text(
                        json.dumps(make_node(home, url, args.partners, args.seed))
                    )
                    process, base = serve(home, url, workers, Path(tmp) / "serve.log")
                    load = os.getloadavg()[0]
                    prefix = RESULTS / f"load-{stamp}-{backend}-{workers}"
                    cpu_before = cpu_seconds(process.pid)
                    try:
                        run_locust(base, tokens_file, args.seconds, prefix)
                        cpu = cpu_seconds(process.pid) - cpu_before
                    finally:
                        process.terminate()
                        process.wait(60)
                    stats = read_stats(prefix)
                    stats["cpu"] = {"seconds": cpu}
                    rows.append((backend, workers, load, stats))
                    print_table(rows, args.seconds)
                finally:
                    if schema:
                        drop_schema(schema)


def print_table(
    rows: list[tuple[str, int, float, dict[str, dict[str, float]]]], seconds: int
) -> None:
    print(f"\nlocust, {seconds} s per run, 50 partners polling + 2 feeds posting")
    print(
        "| backend | processes | poll p50 / p99 ms | post p50 / p99 ms | requests/s"
        " | per process | objects posted/s | errors | server CPU ms/request | load |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for backend, workers, load, s in rows:
        poll, post, total = s.get("poll", {}), s.get("post", {}), s["Aggregated"]
        posted = post.get("count", 0) * ENVELOPE / seconds
        print(
            f"| {backend} | {workers} | {poll.get('p50', 0):.0f} / {poll.get('p99', 0):.0f} "
            f"| {post.get('p50', 0):.0f} / {post.get('p99', 0):.0f} | {total['rps']:.1f} "
            f"| {total['rps'] / workers:.1f} | {posted:.0f} | {total['failures']:.0f}"
            f" | {1000 * s['cpu']['seconds'] / max(total['count'], 1):.1f} | {load:.1f} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
