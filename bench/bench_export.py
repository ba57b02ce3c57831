"""Peak memory of ``/api/export`` on a node of N objects: streamed vs built whole (issue 12 §3).

    python bench/bench_export.py --objects 200000

Builds a node of N indicators in a temporary folder, then in two fresh processes reads the
export once streamed (the route) and once as one bytes object (``export.bundle_for``, what the
route did before), printing each process's peak RSS.
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

from kizuna.services import ingest
from kizuna.services.node import init_node, open_node

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def build(home: Path, count: int) -> None:
    node = init_node(home, party_name="CERT-EU", jurisdiction="EU", kind="csirt")
    for start in range(0, count, 5000):
        batch = [
            {
                "type": "indicator",
                "spec_version": "2.1",
                "id": f"indicator--6b1c0000-0000-4000-8000-{n:012d}",
                "created": "2026-01-01T00:00:00.000Z",
                "modified": "2026-01-01T00:00:00.000Z",
                "name": f"indicator {n} " + "x" * 200,
                "pattern": f"[ipv4-addr:value = '10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
                "object_marking_refs": [CLEAR],
            }
            for n in range(start, min(start + 5000, count))
        ]
        ingest.ingest(node, batch, submitter=node.home_party, path="import")
    node.close()


def measure(home: Path, mode: str) -> None:
    from fastapi.testclient import TestClient

    from kizuna.http.app import create_app
    from kizuna.services import export, tokens

    node = open_node(home)
    size = 0
    if mode == "streamed":
        token = tokens.create(node, node.home_party.id).value
        client = TestClient(create_app(node), headers={"Authorization": f"Bearer {token}"})
        with client.stream("GET", "/api/export") as r:
            for chunk in r.iter_bytes():
                size += len(chunk)
    else:
        size = len(export.bundle_for(node, node.home_party))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{mode:>8}: {size / 1e6:8.1f} MB exported, peak RSS {peak:7.1f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--objects", type=int, default=200_000)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        measure(Path(args.measure[0]), args.measure[1])
        return
    with tempfile.TemporaryDirectory() as folder:
        home = Path(folder) / "node"
        build(home, args.objects)
        for mode in ("whole", "streamed"):
            subprocess.run([sys.executable, __file__, "--measure", str(home), mode], check=True)


if __name__ == "__main__":
    main()
