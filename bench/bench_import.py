"""Bulk import benchmark: 1,000,000 STIX objects and ESET's MISP events, peak RSS and rates.

    .venv/bin/python bench/bench_import.py                  # 1,000,000 objects (issue 6)
    .venv/bin/python bench/bench_import.py --objects 100000 # a quicker run

The STIX workload is the dogesec abuse.ch bundles (46,616 objects of shared data) repeated with
fresh ids (each copy's ids are UUIDv5s of the original and the copy number, version 4 bits set,
references rewritten alike; the well-known TLP markings are written once), written as ONE bundle
file so the import has to stream it. Each import runs in a child process (``kizuna import``) on
a fresh node and reports its own peak RSS (``getrusage(RUSAGE_SELF)``). Prints a table
and writes the figures as JSON to ``bench/results/``. Target (issue 6): peak RSS under 300 MB.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
RESULTS = Path(__file__).resolve().parent / "results"
KIZUNA = str(Path(sys.executable).parent / "kizuna")
NAMESPACE = uuid.UUID("2c4ad7f0-5a1e-4c55-8c47-3f1b1e0d6a77")
WELL_KNOWN = {  # TLP 2.0 and 1.0 marking-definitions (REFERENCE.md): never renamed
    "94868c89-83c2-464b-929b-a1a8aa3c8487", "bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
    "55d920b0-5e8b-4f79-9ee9-91f868d9b421", "939a9414-2ddd-4d32-a0cd-375ea402b003",
    "e828b379-4e03-4974-9ac4-e53a884c97c1", "613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "34098fce-860f-48ae-8e50-ebd3cc5e41da", "f88d31f6-486f-44da-b317-01333bde0b82",
    "5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}  # fmt: skip
TARGET_RSS_MB = 300
_ID = re.compile(rb"--([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})")


def shared_data() -> Path:
    configured = os.environ.get("KIZUNA_SHARED_DATA")
    path = Path(configured) if configured else ROOT.parent / "shared" / "data"
    if not path.is_dir():
        sys.exit(f"shared data not found at {path}: set KIZUNA_SHARED_DATA")
    return path


def build_bundle(target: Path, count: int, data: Path) -> int:
    """Write one bundle of ``count`` objects (dogesec repeated with fresh ids); returns bytes."""
    source: list[bytes] = []
    fixed: list[bytes] = []
    for path in sorted((data / "stix" / "dogesec-feeds2stix" / "bundles").rglob("*.json")):
        for obj in orjson.loads(path.read_bytes())["objects"]:
            raw = orjson.dumps(obj)
            (fixed if obj["id"].split("--", 1)[1] in WELL_KNOWN else source).append(raw)
    seen_fixed: set[bytes] = set()
    written = 0
    with target.open("wb") as f:
        f.write(b'{"type":"bundle","id":"bundle--' + str(uuid.uuid4()).encode() + b'","objects":[')
        for raw in fixed:
            if raw not in seen_fixed and written < count:
                f.write(b"," if written else b"")
                f.write(raw)
                seen_fixed.add(raw)
                written += 1
        copy = 0
        while written < count:
            cache: dict[bytes, bytes] = {}

            def fresh(
                m: re.Match[bytes], copy: int = copy, cache: dict[bytes, bytes] = cache
            ) -> bytes:
                old = m.group(1)
                if old.decode() in WELL_KNOWN:
                    return m.group(0)
                new = cache.get(old)
                if new is None:
                    digest = uuid.uuid5(NAMESPACE, f"{copy}|{old.decode()}").bytes
                    new = str(uuid.UUID(bytes=digest, version=4)).encode()
                    cache[old] = new
                return b"--" + new

            for raw in source:
                if written >= count:
                    break
                f.write(b"," if written else b"")
                f.write(_ID.sub(fresh, raw))
                written += 1
            copy += 1
        f.write(b"]}")
    return target.stat().st_size


def run_import(home: Path, paths: list[Path]) -> dict[str, Any]:
    """``kizuna import`` in a child process on a fresh node: seconds, its peak RSS, its summary."""
    env = {**os.environ, "KIZUNA_HOME": str(home)}
    subprocess.run(
        [KIZUNA, "init", "--party-name", "Bench CERT", "--jurisdiction", "EU", "--kind", "csirt"],
        env=env, check=True, capture_output=True,
    )  # fmt: skip
    # The child reports its own peak RSS when the command is done (getrusage RUSAGE_SELF).
    code = (
        "import resource, sys\n"
        "from kizuna.cli.main import main\n"
        "sys.argv = ['kizuna', 'import', '--quiet', *sys.argv[1:]]\n"
        "try:\n    main()\nexcept SystemExit:\n    pass\n"
        "rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print('PEAK_RSS_KB', rss, file=sys.stderr)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", code, *map(str, paths)], env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    peak = re.search(r"PEAK_RSS_KB (\d+)", done.stderr)
    peak_kb = int(peak.group(1)) if peak else 0
    summary = done.stdout.strip().splitlines()[0] if done.stdout.strip() else done.stderr[-500:]
    found = re.findall(r"([\d,]+) (stored|unchanged|failed|MISP events)", summary)
    numbers = {k: int(v.replace(",", "")) for v, k in found}
    return {
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "summary": summary,
        **numbers,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--objects", type=int, default=1_000_000)
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()
    data = shared_data()
    work = Path(tempfile.mkdtemp(prefix="kizuna-bench-import-"))
    rows: list[dict[str, Any]] = []
    try:
        eset = data / "misp" / "eset-malware-ioc"
        misp = run_import(work / "misp-node", [eset])
        events = misp.get("MISP events", 0)
        rows.append({
            "workload": f"ESET MISP events ({events} events)",
            "objects": misp.get("stored", 0),
            **misp,
            "events_per_s": round(events / misp["seconds"], 1),
            "objects_per_s": round(misp.get("stored", 0) / misp["seconds"]),
        })  # fmt: skip
        bundle = work / "bundle.json"
        started = time.perf_counter()
        size = build_bundle(bundle, args.objects, data)
        built = time.perf_counter() - started
        stix = run_import(work / "stix-node", [bundle])
        rows.append({
            "workload": f"STIX bundle, one file of {size / 1e6:,.0f} MB (built in {built:.0f} s)",
            "objects": args.objects,
            **stix,
            "events_per_s": None,
            "objects_per_s": round(args.objects / stix["seconds"]),
        })  # fmt: skip
    finally:
        if not args.keep:
            subprocess.run(["rm", "-rf", str(work)], check=False)
    print(f"\nkizuna bulk import on {platform.node()} ({os.cpu_count()} cores, SQLite)\n")
    header = (
        f"{'workload':62} {'objects':>10} {'seconds':>8} {'events/s':>9} {'objects/s':>10}"
        f" {'peak RSS':>9}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        eps = f"{r['events_per_s']:.1f}" if r["events_per_s"] is not None else "—"
        print(
            f"{r['workload']:62} {r['objects']:>10,} {r['seconds']:>8.1f} {eps:>9} "
            f"{r['objects_per_s']:>10,} {r['peak_rss_mb']:>6.0f} MB"
        )
    worst = max(r["peak_rss_mb"] for r in rows)
    verdict = "met" if worst < TARGET_RSS_MB else "MISSED"
    print(f"\npeak RSS target < {TARGET_RSS_MB} MB: {verdict} ({worst:.0f} MB)")
    for r in rows:
        print(f"  {r['workload']}: {r['summary']}")
    RESULTS.mkdir(exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    out = RESULTS / f"import-{stamp}.json"
    out.write_text(json.dumps({"objects": args.objects, "rows": rows}, indent=2) + "\n")
    print(f"\nwrote {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
