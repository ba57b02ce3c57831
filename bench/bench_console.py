"""Server time of each console page, p50 and p95, on a node holding N objects.

    .venv/bin/python bench/bench_console.py [--objects 100000] [--runs 30]

The node (SQLite) holds ``--objects`` indicators of the home party, a mix of TLP:CLEAR, GREEN,
AMBER and RED, a partner BSI under an active agreement, and two people: ``aiko`` (home party,
every role) and ``hans`` (BSI's analyst, who sees BSI's view). Each page is requested
``--runs`` times through the real ASGI app in process (Starlette's TestClient: routing, session,
gate, templates; no socket), after one warm-up, and the wall time of each request is the
server's time. The issue's target is 150 ms at p95 with 1,000,000 objects.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from fastapi.testclient import TestClient

from kizuna.core.agreements import sign_document
from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.signing import public_key_of
from kizuna.http.app import create_app
from kizuna.services import agreements, ingest, parties, users
from kizuna.services.node import init_node, new_private_key

TLPS = ("clear", "green", "amber", "red")
PASSWORD = "benchmark password"


def indicator(n: int) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n:08x}-0000-4000-8000-000000000000",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": f"indicator {n}",
        "labels": ["apt"] if n % 97 == 0 else ["malicious-activity"],
        "pattern": f"[ipv4-addr:value = '10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [TLP_MARKING_ID[TLPS[n % 4]]],
    }


def login(app: object, user: str) -> TestClient:
    http = TestClient(app)  # type: ignore[arg-type]
    import re

    token = re.search(r'name="csrf" value="([^"]+)"', http.get("/login").text)
    assert token
    r = http.post(
        "/login",
        data={"csrf": token.group(1), "user": user, "password": PASSWORD},
        follow_redirects=False,
    )
    assert r.status_code == 303, r.text
    return http


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--objects", type=int, default=100_000)
    ap.add_argument("--runs", type=int, default=30)
    args = ap.parse_args()
    with TemporaryDirectory(prefix="kizuna-bench-console-") as tmp:
        node = init_node(
            Path(tmp) / "node", party_name="CERT-EU", jurisdiction="EU", kind="csirt", scheme="EU"
        )
        bsi_key = new_private_key()
        bsi = parties.add_party(
            node,
            "BSI",
            jurisdiction="DE",
            kind="government",
            scheme="DE",
            public_keys=(public_key_of(bsi_key),),
        )
        draft = agreements.from_template(
            node,
            {"title": "bench", "parties": ["CERT-EU", "BSI"], "valid_from": "2026-01-01T00:00:00Z"},
        )
        signed = sign_document(draft, node.home_party.id, node.private_key)
        agreements.add(node, sign_document(signed, bsi.id, bsi_key))
        t0 = time.perf_counter()
        for start in range(0, args.objects, 1000):
            batch = [indicator(n) for n in range(start, min(args.objects, start + 1000))]
            ingest.ingest(node, batch, submitter=node.home_party, path="import")
        print(
            f"loaded {args.objects:,} objects in {time.perf_counter() - t0:.1f} s", file=sys.stderr
        )
        users.add(
            node, "aiko", roles=("analyst", "publisher", "admin", "auditor"), password=PASSWORD
        )
        users.add(node, "hans", party="BSI", roles=("analyst",), password=PASSWORD)
        app = create_app(node)
        aiko, hans = login(app, "aiko"), login(app, "hans")
        middle = indicator(args.objects // 2)["id"]
        last_ip = indicator(args.objects - 1)["pattern"].split("'")[1]  # type: ignore[union-attr]
        pages = [
            ("home (aiko)", aiko, "/"),
            ("home (hans, BSI)", hans, "/"),
            ("search value, newest (aiko)", aiko, f"/search?q={last_ip}"),
            ("search type (aiko)", aiko, "/search?type=indicator"),
            ("search label apt (hans, BSI)", hans, "/search?label=apt"),
            ("object (aiko)", aiko, f"/object/{middle}"),
            ("object (hans, BSI)", hans, f"/object/{indicator(args.objects // 2 - 2)['id']}"),
            ("consents (aiko)", aiko, "/consents"),
            ("agreements (aiko)", aiko, "/agreements"),
            ("ledger (aiko)", aiko, "/ledger"),
            ("import form (aiko)", aiko, "/import"),
            ("partner preview BSI (aiko)", aiko, "/partners/BSI"),
        ]
        print(f"| page ({args.objects:,} objects, {args.runs} runs) | p50 ms | p95 ms |")
        print("|---|---|---|")
        for name, http, url in pages:
            runs = 3 if "preview" in name else args.runs
            assert http.get(url).status_code == 200, (name, url)
            times = []
            for _ in range(runs):
                t = time.perf_counter()
                r = http.get(url)
                times.append((time.perf_counter() - t) * 1000)
                assert r.status_code == 200
            times.sort()
            p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
            print(f"| {name} | {statistics.median(times):.1f} | {p95:.1f} |", flush=True)
        node.close()


if __name__ == "__main__":
    main()
