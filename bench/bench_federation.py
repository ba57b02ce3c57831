"""Federation benchmark: four nodes on loopback converge on N objects released across them.

    .venv/bin/python bench/bench_federation.py                    # 100,000 objects
    .venv/bin/python bench/bench_federation.py --objects 8000     # a smoke run
    .venv/bin/python bench/bench_federation.py --objects 8000 --profile   # py-spy every process

Four ``kizuna serve`` subprocesses (the demo's cast: CERT-EU, BSI, NISC and the Maritime ISAC),
each with its own folder and SQLite, wired through the services before they start, as
``kizuna demo`` wires its nodes: parties and public keys, a token each node issues to each
other, every node a peer of every other, one agreement among all four signed by each, and
background sync off. Each node originates N/4 TLP:GREEN indicators. Then rounds of sync: in
each, every node runs ``services.sync.sync_all`` (what ``kizuna sync`` runs) in a process of
its own, all four at once, against the others' sockets, until a round stores nothing new.

Measured: the time from the first sync until every node holds all N indicators (polled from
each node's SQLite), each round's wall time, and per puller and peer the items pulled
(objects and the seals that travel with them), the new objects stored, the seconds that
peer's sync took and the rates. Checked at the end: every node holds exactly N indicators,
each version once, none quarantined, each foreign one with its originator's seal. Prints a
table and writes everything as JSON to bench/results/federation-<time>.json. See
bench/README_federation.md.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

RESULTS = Path(__file__).resolve().parent / "results"
GREEN = "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"
NAMESPACE = uuid.UUID("0f4c1d3e-8b2a-4e61-9f1d-6a5b4c3d2e1f")
PY_SPY = Path(sys.executable).parent / "py-spy"


def say(text: str) -> None:
    print(text, flush=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def indicator(originator: str, tag: str, n: int) -> dict[str, Any]:
    stamp = "2026-05-01T00:00:00.000Z"
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(NAMESPACE, f'{tag}/{n}')}",
        "created": stamp,
        "modified": stamp,
        "created_by_ref": originator,
        "name": f"{tag} botnet controller {n}",
        "indicator_types": ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}']",
        "pattern_type": "stix",
        "valid_from": "2026-05-01T00:00:00Z",
        "object_marking_refs": [GREEN],
    }


# Setup: four nodes wired like ``kizuna demo`` wires its own, before any server starts.


@dataclass
class NodeInfo:
    name: str
    home: str
    port: int
    party_id: str = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/"

    @property
    def db(self) -> str:
        return str(Path(self.home) / "kizuna.db")


def setup(base: Path, objects: int) -> tuple[list[NodeInfo], float, float]:
    """Create and wire the nodes; each originates objects/4 indicators. (nodes, wiring s,
    originating s)."""
    from kizuna.cli.demo import CAST
    from kizuna.core import agreements as core_agreements
    from kizuna.services import agreements, ingest, parties, peers, tokens
    from kizuna.services.node import Node, init_node

    start = time.monotonic()
    infos = [NodeInfo(c[0], str(base / c[0].lower().replace(" ", "-")), free_port()) for c in CAST]
    nodes: dict[str, Node] = {}
    try:
        for info, (name, _city, jurisdiction, kind, scheme) in zip(infos, CAST, strict=True):
            node = init_node(
                Path(info.home), party_name=name, jurisdiction=jurisdiction, kind=kind,
                scheme=scheme,
            )  # fmt: skip
            node.set_setting("sync_interval", "0")
            nodes[name] = node
            info.party_id = node.home_party.id
        for name, node in nodes.items():
            for other, other_node in nodes.items():
                if other != name:
                    p = other_node.home_party
                    parties.add_party(
                        node, p.name, jurisdiction=p.jurisdiction, kind=p.kind, scheme=p.scheme,
                        party_id=p.id, public_keys=(other_node.public_key,),
                    )  # fmt: skip
        by_name = {i.name: i for i in infos}
        for name, node in nodes.items():
            for other, other_node in nodes.items():
                if other != name:
                    token = tokens.create(other_node, name, "bench-peer").value
                    peers.add(node, by_name[other].url, other, token)
        first = next(iter(nodes.values()))
        draft = agreements.from_template(
            first,
            {
                "title": "Benchmark: all four partners share TLP:GREEN",
                "parties": list(nodes),
                "valid_from": "2026-01-01T00:00:00Z",
                "tlp_allowed": ["clear", "green"],
            },
        )
        for node in nodes.values():
            draft = core_agreements.sign_document(draft, node.home_party.id, node.private_key)
        for node in nodes.values():
            agreements.add(node, draft)
        wired = time.monotonic() - start
        start = time.monotonic()
        share = objects // len(nodes)
        for i, (name, node) in enumerate(nodes.items()):
            count = share + (objects - share * len(nodes) if i == 0 else 0)
            batch = [indicator(node.home_party.id, name, n) for n in range(count)]
            for j in range(0, len(batch), 5000):
                ingest.ingest(node, batch[j : j + 5000], submitter=node.home_party, path="import")
            say(f"  {name} originates {count:,} TLP:GREEN indicators")
        originated = time.monotonic() - start
    finally:
        for node in nodes.values():
            node.close()
    return infos, wired, originated


# Processes: the servers, and one sync run per node and round.


class Processes:
    """Every subprocess the benchmark starts, stopped (only these, by pid) at the end.

    With ``profile``, a sync run starts under ``py-spy record``; a server is started plainly
    and ``py-spy record --pid`` attaches to it, so it can be stopped on its own afterwards.
    """

    def __init__(self, logs: Path, profile: bool) -> None:
        self.logs, self.profile = logs, profile
        self.running: list[tuple[subprocess.Popen[bytes], Any]] = []
        self.spies: list[subprocess.Popen[bytes]] = []
        self.profiles: list[tuple[str, Path]] = []

    def _profile_file(self, role: str) -> Path:
        out = self.logs / f"profile-{role}-{len(self.profiles)}.txt"
        self.profiles.append((role, out))
        return out

    def start(self, role: str, argv: list[str], log_name: str) -> subprocess.Popen[bytes]:
        log = (self.logs / log_name).open("ab")
        if self.profile and role == "sync":
            out = self._profile_file(role)
            argv = [str(PY_SPY), "record", "-r", "100", "-f", "raw", "-o", str(out), "--", *argv]
        process = subprocess.Popen(
            argv, stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )  # fmt: skip
        self.running.append((process, log))
        if self.profile and role == "serve":
            out = self._profile_file(role)
            self.spies.append(
                subprocess.Popen(
                    [
                        str(PY_SPY),
                        "record",
                        "-r",
                        "100",
                        "-f",
                        "raw",
                        "-o",
                        str(out),
                        "--pid",
                        str(process.pid),
                    ],
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        return process

    def stop_all(self) -> None:
        for spy in self.spies:
            if spy.poll() is None:
                spy.send_signal(signal.SIGINT)  # py-spy writes its profile on SIGINT
            spy.wait(timeout=60)
        self.spies.clear()
        for process, _ in self.running:
            if process.poll() is None:
                process.terminate()
        for process, log in self.running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
            log.close()
        self.running.clear()


def serve(procs: Processes, info: NodeInfo) -> subprocess.Popen[bytes]:
    argv = [sys.executable, "-c", "from kizuna.cli.main import main; main()", "--home",
            info.home, "serve", "--port", str(info.port), "--log-level", "warning"]  # fmt: skip
    return procs.start("serve", argv, f"serve-{Path(info.home).name}.log")


def wait_ready(infos: list[NodeInfo], servers: list[subprocess.Popen[bytes]]) -> None:
    deadline = time.monotonic() + 120
    for info, process in zip(infos, servers, strict=True):
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{info.name} exited with {process.returncode}")
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(info.url + "healthz", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError(f"{info.name} did not start")
            time.sleep(0.1)


def sync_once(home: str, out: str, page: int | None) -> None:
    """One node's sync of all its peers (``kizuna sync``'s use case), timed per peer."""
    from kizuna.services import sync
    from kizuna.services.node import open_node

    if page:
        sync.PAGE = page  # the limit a puller asks for (a peer caps it at its max_page_size)
    node = open_node(Path(home))
    wall = time.time()
    started = time.monotonic()
    last: dict[str, float] = {}

    def progress(peer: str, _n: int) -> None:
        last[peer] = time.monotonic() - started

    try:
        results = asyncio.run(sync.sync_all(node, progress=progress, timeout=120))
    finally:
        node.close()
    elapsed = time.monotonic() - started
    report = [{**asdict(r), "seconds": last.get(r.peer, 0.0)} for r in results]
    Path(out).write_text(json.dumps({"seconds": elapsed, "started": wall, "peers": report}))


# Watching: how many indicators each node holds, from its SQLite, while the rounds run.


def count_indicators(db: str) -> int:
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as c:
            return int(
                c.execute("SELECT count(*) FROM objects WHERE type = 'indicator'").fetchone()[0]
            )
    except sqlite3.OperationalError:
        return -1


def synced_by_peer(db: str) -> dict[str, int]:
    """Indicators a node stored from each peer's sync so far (party id → count)."""
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5)) as c:
            rows = c.execute(
                "SELECT submitted_by, count(*) FROM objects WHERE type = 'indicator' "
                "AND path = 'sync' GROUP BY submitted_by"
            ).fetchall()
            return {str(k): int(n) for k, n in rows}
    except sqlite3.OperationalError:
        return {}


class Watch:
    """Polls every node's SQLite while a round runs: when each node held all N, and when the
    last new indicator from each peer arrived (so a peer's rate counts only useful work)."""

    def __init__(self, infos: list[NodeInfo], objects: int, start: float) -> None:
        self.infos, self.objects, self.start = infos, objects, start
        self.full_at: dict[str, float] = {}
        self.counts: dict[tuple[str, str], int] = {}
        self.last_new: dict[tuple[str, str], float] = {}
        self.names = {i.party_id: i.name for i in infos}

    def poll(self) -> None:
        now, wall = time.monotonic(), time.time()
        for info in self.infos:
            by_peer = synced_by_peer(info.db)
            for party, n in by_peer.items():
                key = (info.name, self.names.get(party, party))
                if n != self.counts.get(key):
                    self.counts[key] = n
                    self.last_new[key] = wall
            if info.name not in self.full_at and count_indicators(info.db) >= self.objects:
                self.full_at[info.name] = now - self.start


@dataclass
class Round:
    number: int
    seconds: float
    per_node: dict[str, Any] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return sum(p["stored"] for n in self.per_node.values() for p in n["peers"])


def run_rounds(
    procs: Processes,
    infos: list[NodeInfo],
    objects: int,
    work: Path,
    max_rounds: int,
    page: int | None,
) -> tuple[list[Round], float | None, dict[str, float]]:
    """Sync rounds until one stores nothing; (rounds, converged after s, each node's time)."""
    rounds: list[Round] = []
    watch = Watch(infos, objects, time.monotonic())
    for number in range(1, max_rounds + 1):
        say(f"  round {number}: all four nodes sync with their three peers at once")
        round_start = time.monotonic()
        watch.last_new.clear()
        running = []
        for info in infos:
            out = work / f"round-{number}-{Path(info.home).name}.json"
            argv = [sys.executable, __file__, "--sync-once", info.home, "--out", str(out)]
            if page:
                argv += ["--page", str(page)]
            running.append(
                (info, out, procs.start("sync", argv, f"sync-{Path(info.home).name}.log"))
            )
        while any(p.poll() is None for _, _, p in running):
            watch.poll()
            time.sleep(0.5)
        watch.poll()
        this = Round(number, time.monotonic() - round_start)
        for info, out, process in running:
            if process.returncode != 0:
                raise RuntimeError(f"sync of {info.name} exited {process.returncode}; see logs")
            this.per_node[info.name] = json.loads(out.read_text())
            started = this.per_node[info.name]["started"]
            for p in this.per_node[info.name]["peers"]:
                last = watch.last_new.get((info.name, p["peer"]))
                p["new_done_seconds"] = last - started if last is not None else None
        rounds.append(this)
        errors = [
            f"{n} <- {p['peer']}: {p['error']}"
            for n, r in this.per_node.items()
            for p in r["peers"]
            if p["error"]
        ]
        say(
            f"    {this.seconds:,.1f} s, {this.stored:,} new objects"
            + (f", errors: {errors}" if errors else "")
        )
        if this.stored == 0 and not errors:
            break
    full_at = watch.full_at
    converged = max(full_at.values()) if len(full_at) == len(infos) else None
    return rounds, converged, full_at


def verify(infos: list[NodeInfo], objects: int) -> dict[str, Any]:
    """What each node holds at the end, straight from its SQLite."""
    out: dict[str, Any] = {}
    for info in infos:
        with contextlib.closing(sqlite3.connect(f"file:{info.db}?mode=ro", uri=True)) as c:
            held = c.execute("SELECT count(*) FROM objects WHERE type='indicator'").fetchone()[0]
            twice = c.execute(
                "SELECT count(*) FROM (SELECT id, modified FROM objects GROUP BY id, modified "
                "HAVING count(*) > 1)"
            ).fetchone()[0]
            quarantined = c.execute(
                "SELECT count(*) FROM objects WHERE handling LIKE '%\"quarantine\"%'"
            ).fetchone()[0]
            unsealed = c.execute(
                "SELECT count(*) FROM objects o WHERE o.type='indicator' AND o.source != ? "
                "AND NOT EXISTS (SELECT 1 FROM seals s WHERE s.object_id = o.id "
                "AND s.modified = o.modified AND s.signer = o.source)",
                (info.party_id,),
            ).fetchone()[0]
        out[info.name] = {
            "indicators": held, "versions_twice": twice, "quarantined": quarantined,
            "foreign_without_originator_seal": unsealed, "ok": held == objects and not twice
            and not quarantined and not unsealed,
        }  # fmt: skip
    return out


# Profiles: py-spy's raw stacks, folded into the functions that cost the most.


def hotspots(files: list[Path], top: int = 12) -> dict[str, list[tuple[str, float]]]:
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for path in files:
        if not path.exists():
            continue
        for line in path.read_text().splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit():
                continue
            frames = stack.split(";")
            total += int(n)
            own[frames[-1]] += int(n)
            for f in set(frames):
                if "kizuna/" in f:
                    inclusive[f] += int(n)
    if not total:
        return {"self": [], "kizuna_inclusive": []}
    return {
        "self": [(f, n / total) for f, n in own.most_common(top)],
        "kizuna_inclusive": [(f, n / total) for f, n in inclusive.most_common(top * 2)],
    }


def _children_cpu() -> float:
    """User and system CPU seconds of the subprocesses that ended so far (servers, syncs)."""
    used = resource.getrusage(resource.RUSAGE_CHILDREN)
    return used.ru_utime + used.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--objects", type=int, default=100_000, help="indicators in all")
    parser.add_argument("--rounds", type=int, default=4, help="most sync rounds to run")
    parser.add_argument("--profile", action="store_true", help="run every process under py-spy")
    parser.add_argument("--keep", action="store_true", help="keep the nodes' folders")
    parser.add_argument(
        "--page", type=int, help="limit each puller asks for per page (default: sync.PAGE)"
    )
    parser.add_argument("--sync-once", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sync_once:
        sync_once(args.sync_once, args.out, args.page)
        return
    if args.profile and not PY_SPY.exists():
        parser.error(f"--profile needs py-spy at {PY_SPY}")

    work = Path(tempfile.mkdtemp(prefix="kizuna-bench-federation-"))
    say(f"federation benchmark: 4 nodes, {args.objects:,} objects, work folder {work}")
    infos, wired, originated = setup(work / "nodes", args.objects)
    procs = Processes(work, args.profile)
    cpu_before = _children_cpu()
    try:
        servers = [serve(procs, info) for info in infos]
        wait_ready(infos, servers)
        rounds, converged, full_at = run_rounds(
            procs, infos, args.objects, work, args.rounds, args.page
        )
    finally:
        procs.stop_all()
    cpu = _children_cpu() - cpu_before
    checks = verify(infos, args.objects)
    profile = None
    if args.profile:
        profile = {
            role: hotspots([p for r, p in procs.profiles if r == role])
            for role in ("serve", "sync")
        }
    result = {
        "benchmark": "federation",
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {
            "python": platform.python_version(),
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
        },
        "objects": args.objects,
        "nodes": [asdict(i) for i in infos],
        "setup_seconds": {"wire": wired, "originate": originated},
        "converged_seconds": converged,
        "node_full_seconds": full_at,
        "rounds": [asdict(r) for r in rounds],
        "cpu_seconds": cpu,
        "page": args.page,
        "checks": checks,
        "profile": profile,
        "profiled": args.profile,
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"federation-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(result, indent=1))
    print_table(result)
    say(f"\nresults: {path}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        say(f"nodes kept in {work}")
    if not all(c["ok"] for c in checks.values()):
        raise SystemExit(1)


def print_table(r: dict[str, Any]) -> None:
    n = r["objects"]
    say("")
    say(f"kizuna federation: 4 nodes on loopback, {n:,} TLP:GREEN indicators "
        f"({n // 4:,} originated by each), SQLite, {r['machine']['cpus']} CPUs"
        + (" — PROFILED (py-spy slows every process)" if r["profiled"] else ""))  # fmt: skip
    s = r["setup_seconds"]
    say(f"setup (not timed below): wiring {s['wire']:.1f} s, originating {s['originate']:.1f} s")
    say(
        f"CPU: {r['cpu_seconds']:,.0f} s used by the four servers and all sync runs "
        f"(start-up included), on a machine shared with other work"
    )
    conv = r["converged_seconds"]
    say(f"converged: every node holds all {n:,} after "
        + (f"{conv:,.1f} s" if conv is not None else "NEVER (see checks)"))  # fmt: skip
    for node, t in sorted(r["node_full_seconds"].items(), key=lambda x: x[1]):
        say(f"  {node:<14} full after {t:8,.1f} s")
    for rnd in r["rounds"]:
        say(f"\nround {rnd['number']}: {rnd['seconds']:,.1f} s wall")
        say(
            f"  {'puller':<14} {'peer':<14} {'new':>7} {'new by':>8} {'new/s':>6} "
            f"{'pulled':>8} {'sync s':>7} {'pulled/s':>8}  error"
        )
        for node, res in rnd["per_node"].items():
            for p in res["peers"]:
                secs = p["seconds"] or 0.0
                done = p.get("new_done_seconds") if p["stored"] else None
                rate = f"{p['stored'] / done:6,.0f}" if done else f"{'-':>6}"
                by = f"{done:7,.1f}s" if done else f"{'-':>8}"
                prate = p["pulled"] / secs if secs else 0.0
                say(
                    f"  {node:<14} {p['peer']:<14} {p['stored']:>7,} {by} {rate} "
                    f"{p['pulled']:>8,} {secs:>7,.1f} {prate:>8,.0f}  {p['error'] or ''}"
                )
    say(
        "\n(new: objects stored for the first time, from that peer; new by: when the last of"
        "\n them was in, from the start of that node's sync (polled every 0.5 s); pulled:"
        "\n every item received, objects with their seals, new or already held (a peer sends"
        "\n back our own objects and relays what others sent); sync s: how long the sync of"
        "\n that peer ran)"
    )
    say("\nchecks:")
    for node, c in r["checks"].items():
        say(f"  {node:<14} {c['indicators']:,} indicators, {c['versions_twice']} versions "
            f"twice, {c['quarantined']} quarantined, {c['foreign_without_originator_seal']} "
            f"foreign without the originator's seal: {'ok' if c['ok'] else 'FAILED'}")  # fmt: skip
    if r["profile"]:
        for role, spots in r["profile"].items():
            say(f"\nprofile of the {role} processes (share of samples):")
            for f, share in spots["self"]:
                say(f"  self {share:6.1%}  {f}")
            for f, share in spots["kizuna_inclusive"]:
                say(f"  incl {share:6.1%}  {f}")


if __name__ == "__main__":
    main()
