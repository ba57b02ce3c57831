"""TAXII 2.1 benchmark: kizuna against medallion 3.0.0, then kizuna alone at larger sizes.

    .venv/bin/python bench/bench_taxii.py                 # 10,000 (both), 100,000, 1,000,000
    .venv/bin/python bench/bench_taxii.py --quick         # a smoke run in about two minutes
    .venv/bin/python bench/bench_taxii.py --sizes 10000,100000 --no-medallion

Every server is a subprocess on loopback driven by the same one-connection client
(``taxii_client``): POST indicators in envelopes, then page them all back with ``limit=100``
following ``next``. Prints a table and writes the full results as JSON to ``bench/results/``.
See bench/README.md for what is measured and how medallion's slow read-back is extrapolated.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import platform
import sqlite3
import statistics
import sys
import tempfile
import time
from importlib.metadata import version
from pathlib import Path
from typing import Any

import orjson
import servers
import workload
from report import Probe, Run, probe_table, ratios, table
from taxii_client import PostResult, ReadResult, TaxiiClient

RESULTS = Path(__file__).resolve().parent / "results"
PAGE = 100


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def measure(server: servers.Server, size: int, envelope: int, time_box: float | None) -> Run:
    """POST ``size`` indicators to ``server``, then page them back; sample its peak RSS."""
    load = os.getloadavg()[0]
    client = TaxiiClient(server.target)
    posted = PostResult()
    try:
        _say(f"  {server.name}: POST {size:,} objects in envelopes of {envelope}")
        cpu = server.cpu_seconds()
        for count, body in workload.prefetched(workload.envelopes(size, envelope)):
            client.post(posted, count, body)
        posted.server_cpu_s = server.cpu_seconds() - cpu
        read = _read(server, client, time_box)
    finally:
        client.close()
    return _finish(Run(server.name, size, envelope, posted, read, server.stop(), load))


def _read(server: servers.Server, client: TaxiiClient, time_box: float | None) -> ReadResult:
    _say(f"  {server.name}: read back with limit={PAGE}")
    cpu = server.cpu_seconds()
    read = client.read_all(PAGE, time_box)
    read.server_cpu_s = server.cpu_seconds() - cpu
    return read


def _finish(run: Run) -> Run:
    if run.post.failures:
        run.notes.append(f"{run.server}: {run.post.failures} objects refused at POST")
    if run.read.complete and run.read.objects < run.objects:  # kizuna also holds its identity
        run.notes.append(f"{run.server}: read back only {run.read.objects:,} of {run.objects:,}")
    return run


def compare(
    size: int, envelope: int, scratch: Path, time_box: float | None, medallion: bool, normal: bool
) -> tuple[list[Run], str]:
    """The comparison: each envelope goes to every server in turn, so all meet the same load.

    Then each reads its objects back, medallion last (its cut read keeps its CPU busy). Returns
    the runs and the token of the kizuna node, which is left in ``scratch / kizuna-<size>``.
    """
    token = servers.init_kizuna(scratch / f"kizuna-{size}")
    with contextlib.ExitStack() as stack:
        contenders: list[tuple[servers.Server, float | None]] = []
        contenders.append(
            (stack.enter_context(servers.kizuna(scratch / f"kizuna-{size}", token)), None)
        )
        if normal:
            folder = scratch / f"kizuna-{size}-normal"
            server = stack.enter_context(
                servers.kizuna(folder, servers.init_kizuna(folder), "NORMAL")
            )
            server.name = "kizuna (NORMAL)"
            contenders.append((server, None))
        if medallion:
            server = stack.enter_context(servers.medallion(scratch / f"medallion-{size}"))
            contenders.append((server, time_box))
        clients = [TaxiiClient(server.target) for server, _ in contenders]
        for client in clients:
            stack.callback(client.close)
        load = os.getloadavg()[0]
        names = ", ".join(server.name for server, _ in contenders)
        _say(f"  POST {size:,} objects in envelopes of {envelope} to {names}, in turn")
        posts = [PostResult() for _ in contenders]
        cpu = [server.cpu_seconds() for server, _ in contenders]
        for count, body in workload.prefetched(workload.envelopes(size, envelope)):
            for client, posted in zip(clients, posts, strict=True):
                client.post(posted, count, body)
        runs = []
        for (server, box), client, posted, before in zip(
            contenders, clients, posts, cpu, strict=True
        ):
            posted.server_cpu_s = server.cpu_seconds() - before
            read = _read(server, client, box)
            runs.append(
                _finish(Run(server.name, size, envelope, posted, read, server.stop(), load))
            )
    runs.sort(key=lambda r: r.server != "medallion")  # medallion first in the table
    return runs, token


def extrapolate(run: Run, calibration: tuple[int, ...], scratch: Path) -> None:
    """Estimate medallion's whole read when the time box cut it; say so in the run's notes."""
    if run.read.complete:
        return
    size, pages = run.objects, math.ceil(run.objects / PAGE)
    done = len(run.read.latencies)
    cut = f"medallion read: {done} of {pages} pages in {run.read.seconds:.0f} s (time box)"
    if done >= 2:
        # The first page pays the quadratic filtering; the rest are cheaper and alike.
        rest = statistics.mean(run.read.latencies[1:])
        run.read_estimate_s = run.read.latencies[0] + rest * (pages - 1)
        run.notes.append(f"{cut}; the other pages EXTRAPOLATED from the {done - 1} after the first")
        return
    # Not even two pages: fit its costs measured at smaller sizes. Its first page is quadratic
    # in the collection size (filter_by_spec_version and sort_and_paginate compare every pair
    # of objects), each later page linear (get_next scans the whole manifest).
    first: list[tuple[int, float]] = []
    later: list[tuple[int, float]] = []
    for n in calibration:
        _say(f"  medallion: calibration read of {n:,} objects")
        with servers.medallion(scratch / f"medallion-cal-{n}") as server:
            cal = measure(server, n, PAGE, None)
        first.append((n, cal.read.latencies[0]))
        later.append((n, statistics.mean(cal.read.latencies[1:] or [0.0])))
    a = sum(t * n * n for n, t in first) / sum(n**4 for n, _ in first)
    b, c = _line(later)
    run.read_estimate_s = max(a * size * size + (b + c * size) * (pages - 1), run.read.seconds)
    run.calibration = [
        {"objects": n, "first_page_s": f, "later_page_s": g}
        for (n, f), (_, g) in zip(first, later, strict=True)
    ]
    fit = ", ".join(f"{n:,}: {t:.1f} s" for n, t in first)
    run.notes.append(
        f"{cut}; estimated {run.read_estimate_s:.0f} s for all {pages} pages, EXTRAPOLATED from "
        f"full reads at smaller sizes (first page {fit}; fitted a*n^2, later pages b+c*n); "
        f"as measured: under {run.read_bound:.0f} obj/s"
    )


def _line(points: list[tuple[int, float]]) -> tuple[float, float]:
    """Least-squares ``t = b + c*n`` with b, c >= 0."""
    n_mean = statistics.mean(n for n, _ in points)
    t_mean = statistics.mean(t for _, t in points)
    spread = sum((n - n_mean) ** 2 for n, _ in points)
    c = sum((n - n_mean) * (t - t_mean) for n, t in points) / spread if spread else 0.0
    if c <= 0:
        return t_mean, 0.0
    b = t_mean - c * n_mean
    if b < 0:
        return 0.0, sum(t * n for n, t in points) / sum(n * n for n, _ in points)
    return b, c


def probe(nodes: dict[int, tuple[Path, str]], pages: int, chunk: int = 10) -> Probe:
    """Serve every node at once and read ``chunk`` pages from each in turn, ``pages`` each.

    Read-backs minutes apart meet different machine loads; taking turns gives every size the
    same, so the latency ratio between sizes means something on a shared machine.
    """
    out: dict[int, list[float]] = {size: [] for size in nodes}
    with contextlib.ExitStack() as stack:
        clients = {}
        for size, (folder, token) in nodes.items():
            server = stack.enter_context(servers.kizuna(folder, token))
            clients[size] = TaxiiClient(server.target)
            stack.callback(clients[size].close)
        cursors: dict[int, str | None] = dict.fromkeys(nodes)
        for _ in range(math.ceil(pages / chunk)):
            for size, client in clients.items():
                latencies, cursors[size] = client.walk(PAGE, chunk, cursors[size])
                out[size].extend(latencies)
    return Probe(out)


def environment() -> dict[str, Any]:
    return {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "sqlite": sqlite3.sqlite_version,
        "kizuna": version("kizuna"),
        "medallion": version("medallion"),
    }


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add = parser.add_argument
    add(
        "--sizes",
        default="10000,100000,1000000",
        help="object counts; the first is also run against medallion (default %(default)s)",
    )
    add(
        "--quick",
        action="store_true",
        help="smoke run: sizes 2000,20000, medallion time box 30 s, probe 100 pages",
    )
    add(
        "--envelope",
        type=int,
        default=100,
        help="objects per POST at the first size, the comparison (default %(default)s)",
    )
    add(
        "--bulk-envelope",
        type=int,
        default=1000,
        help="objects per POST at the larger sizes, kizuna alone (default %(default)s)",
    )
    add(
        "--medallion-time-box",
        type=float,
        default=120.0,
        help="seconds medallion may spend reading back, 0 for no limit (default %(default)s)",
    )
    add("--no-medallion", action="store_true", help="run kizuna only")
    add(
        "--no-normal",
        action="store_true",
        help="skip the extra kizuna run with SQLite synchronous=NORMAL at the first size",
    )
    add(
        "--probe-pages",
        type=int,
        default=500,
        help="pages per size in the interleaved latency probe, 0 to skip (default %(default)s)",
    )
    return parser.parse_args(argv)  # fmt: skip


def main(argv: list[str] | None = None) -> None:
    args = _arguments(argv)
    sizes = [int(s) for s in args.sizes.split(",")]
    time_box, probe_pages = args.medallion_time_box, args.probe_pages
    calibration = (1000, 2000, 3000)
    if args.quick:
        sizes, time_box, calibration, probe_pages = [2000, 20000], 30.0, (500, 1000, 1500), 100
    env = environment()
    _say(f"bench: sizes {sizes}, {env['cpus']} CPUs, load average {env['load_average'][0]:.2f}")
    started = time.time()
    nodes: dict[int, tuple[Path, str]] = {}
    measured: Probe | None = None
    with tempfile.TemporaryDirectory(prefix="kizuna-bench-") as tmp:
        scratch = Path(tmp)
        first, *larger = sizes
        _say(f"comparison at {first:,}")
        runs, token = compare(
            first, args.envelope, scratch, time_box, not args.no_medallion, not args.no_normal
        )
        nodes[first] = (scratch / f"kizuna-{first}", token)
        for run in runs:
            if run.server == "medallion":
                extrapolate(run, calibration, scratch)
        for size in larger:
            _say(f"kizuna at {size:,}")
            folder = scratch / f"kizuna-{size}"
            token = servers.init_kizuna(folder)
            with servers.kizuna(folder, token) as server:
                runs.append(measure(server, size, args.bulk_envelope, None))
            nodes[size] = (folder, token)
        if probe_pages and len(nodes) >= 2:
            _say(f"interleaved latency probe: {probe_pages} pages from each size in turn")
            measured = probe(nodes, probe_pages)
    elapsed = time.time() - started
    text, summary = ratios(runs, measured)
    print()
    print(
        f"TAXII 2.1 over loopback, one keep-alive client, read back with limit={PAGE}; "
        f"{env['cpus']} CPUs, Python {env['python']}, SQLite {env['sqlite']}; "
        f"{elapsed / 60:.1f} min in all"
    )
    print(table(runs))
    if measured is not None:
        print("\ninterleaved latency probe (every size served at once, 10 pages each in turn):")
        print(probe_table(measured))
    print()
    print(text)
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"taxii-{time.strftime('%Y%m%dT%H%M%S')}.json"
    document = {
        "environment": env,
        "arguments": vars(args),
        "seconds": elapsed,
        "summary": summary,
        "runs": [r.document() for r in runs],
        "probe": measured.pages if measured else None,
    }
    out.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_NON_STR_KEYS))
    print(f"\nresults: {out}")


if __name__ == "__main__":
    main()
