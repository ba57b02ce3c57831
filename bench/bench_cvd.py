"""Coordinated vulnerability disclosure benchmarks (issue 9): one small function per part.

    python bench/bench_cvd.py csaf-import [--data DIR]    # CSAF advisories imported per second

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


PARTS: dict[str, Callable[[argparse.Namespace], None]] = {"csaf-import": bench_csaf_import}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("part", choices=sorted(PARTS))
    parser.add_argument("--data", help="csaf-import: the folder of advisories to import")
    args = parser.parse_args()
    PARTS[args.part](args)


if __name__ == "__main__":
    main()
