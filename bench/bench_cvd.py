"""Coordinated vulnerability disclosure benchmarks (issue 9): one small function per part.

    python bench/bench_cvd.py csaf-import [--data DIR]    # CSAF advisories imported per second
    python bench/bench_cvd.py gate-overhead [--embargoed 10000]  # a partner's read, gate cost

Parts are added as functions registered in PARTS (the `cvd` gate-overhead part goes beside
`csaf_import`). Each part runs in this process and prints one line of figures.

csaf-import: imports every CSAF advisory under DIR (default: the 300-advisory CISA sample in
shared/data) into a fresh node on SQLite in a temporary folder, through the same path as
`kizuna import` (hash files checked, schema and mandatory tests run, STIX stored), and prints
advisories/s and the process's peak RSS. The `csaf` validator's one-time load (a few seconds:
it builds its grammars) is timed apart.
"""

from __future__ import annotations

import argparse
import os
import resource
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kizuna.services import csaf_import, importer
from kizuna.services.node import init_node

CISA = Path("csaf") / "cisagov-CSAF-sample" / "csaf_files"


def _shared_data() -> Path:
    here = Path(__file__).resolve().parents[1]
    return Path(os.environ.get("KIZUNA_SHARED_DATA") or here / ".." / "shared" / "data").resolve()


def bench_csaf_import(args: argparse.Namespace) -> None:
    """Advisories/s and peak RSS of importing a folder of CSAF 2.0 advisories."""
    folder = Path(args.data) if args.data else _shared_data() / CISA
    files = sorted(folder.rglob("*.json"))
    if not files:
        raise SystemExit(f"no CSAF advisories under {folder}")
    loading = time.perf_counter()
    csaf_import.validator()  # the csaf package's first load (its grammars), once per process
    loaded = time.perf_counter() - loading
    with tempfile.TemporaryDirectory() as tmp:
        node = init_node(Path(tmp) / "node", party_name="BSI", jurisdiction="DE", kind="government")
        try:
            started = time.perf_counter()
            report = importer.import_paths(node, [folder])
            elapsed = time.perf_counter() - started
        finally:
            node.close()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"csaf-import: {report.csaf} advisories ({report.stored} STIX objects, "
        f"{len(report.failures)} failed, {len(report.verified)} hashes verified) in "
        f"{elapsed:.2f} s: {report.csaf / elapsed:.1f} advisories/s, peak RSS {peak:.0f} MB "
        f"(loading the validator first took {loaded:.1f} s, not counted)"
    )


CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def _gate_node(home: Path, base: int, embargoed: int) -> tuple[Any, Any]:
    """A node with ``base`` TLP:CLEAR indicators and ``embargoed`` objects of one embargoed
    case (notes carrying the case's marking), and a partner that is no participant."""
    from kizuna.core.cvd.case import Vulnerability
    from kizuna.services import cvd, ingest, parties

    node = init_node(home, party_name="BSI", jurisdiction="DE", kind="government")
    partner = parties.add_party(node, "NISC", jurisdiction="JP", kind="government")
    stamp = "2026-05-01T00:00:00.000Z"
    objs = [{"type": "indicator", "spec_version": "2.1", "id": node.new_id("indicator"),
             "created": stamp, "modified": stamp, "pattern_type": "stix",
             "pattern": f"[ipv4-addr:value = '198.51.{i // 250}.{i % 250}']",
             "valid_from": "2026-05-01T00:00:00Z", "object_marking_refs": [CLEAR]}
            for i in range(base)]  # fmt: skip
    if embargoed:
        cid = cvd.create(node, title="bench case", reporter="BSI",
                         vulnerabilities=[Vulnerability("bench vulnerability")])  # fmt: skip
        cvd.embargo_propose(node, cid, days=30)
        cvd.embargo_accept(node, cid)
        marks = cvd.show(node, cid) and node_marks(node, cid)
        objs += [{"type": "note", "spec_version": "2.1", "id": node.new_id("note"),
                  "created": stamp, "modified": stamp, "created_by_ref": node.home_party.id,
                  "content": f"case note {i}", "object_refs": [cid],
                  "object_marking_refs": marks} for i in range(embargoed)]  # fmt: skip
    for start in range(0, len(objs), 5000):
        ingest.ingest(node, objs[start : start + 5000], submitter=node.home_party, path="import",
                      correlate=False)  # fmt: skip
    return node, partner


def node_marks(node: Any, case_id: str) -> list[str]:
    import orjson

    from kizuna.storage import objects as store

    with node.db.read() as conn:
        return list(
            orjson.loads(store.latest(conn, [case_id])[case_id].content)["object_marking_refs"]
        )


def bench_gate_overhead(args: argparse.Namespace) -> None:
    """A non-participant partner's full read (services.export.releases, through the gate) on a
    node holding 10,000 embargoed case objects versus none; best of three."""
    from kizuna.services import export

    timings = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, count in (("none", 0), ("embargoed", args.embargoed)):
            node, partner = _gate_node(Path(tmp) / label, args.base, count)
            try:
                best, got = float("inf"), 0
                for _ in range(3):
                    started = time.perf_counter()
                    got = sum(1 for _ in export.releases(node, partner))
                    best = min(best, time.perf_counter() - started)
                timings[label] = (best, got)
            finally:
                node.close()
    (t0, n0), (t1, n1) = timings["none"], timings["embargoed"]
    print(
        f"gate-overhead: partner read of {n0} released objects: {t0 * 1000:.0f} ms with no "
        f"case objects, {t1 * 1000:.0f} ms with {args.embargoed} embargoed case objects held "
        f"({n1} released): {100 * (t1 - t0) / t0:+.1f} %"
    )


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {
    "csaf-import": bench_csaf_import,
    "gate-overhead": bench_gate_overhead,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=sorted(PARTS))
    parser.add_argument("--data", help="csaf-import: the folder of advisories to import")
    parser.add_argument("--base", type=int, default=2000, help="gate-overhead: CLEAR objects")
    parser.add_argument("--embargoed", type=int, default=10000,
                        help="gate-overhead: embargoed case objects")  # fmt: skip
    args = parser.parse_args()
    PARTS[args.part](args)


if __name__ == "__main__":
    main()
