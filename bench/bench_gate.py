"""What the policy gate costs: 100,000 mixed-handling objects read through TAXII with the full gate,
against the same objects read raw.

    .venv/bin/python bench/bench_gate.py [--objects 100000]

A node holds objects from five originators with mixed TLP, classification, release rules,
listed recipients and consents, under three agreements. Measured in one run:

- raw store read: every row paged out of the store (``storage.objects.scan``), no gate;
- gate decisions per second: ``services.gate.judge`` over the same rows for a partner;
- TAXII as the home party (rule 0 releases everything: the gate's cheapest path) and TAXII as a
  partner (every rule, references, derivatives, seals, the ledger), both paging the whole
  collection with limit=1000 over loopback from a ``kizuna serve`` subprocess; the partner
  reads twice: the first read writes the ledger and seals, the second finds them written.

The gate's cost is the partner's time over the home party's time for the same scan.
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from kizuna.core import agreements as core_agreements
from kizuna.core.handling import Classification
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.signing import public_key_of
from kizuna.core.taxii import RELEASED, Filters
from kizuna.services import agreements, consents, gate, ingest, parties, tokens
from kizuna.services.node import init_node, new_private_key
from kizuna.storage import objects as store

sys.path.insert(0, str(Path(__file__).parent))
from servers import RssSampler, free_port

TAXII = "application/taxii+json;version=2.1"
PARTNERS = [
    ("BSI", "DE", "government", "DE"),
    ("NISC", "JP", "government", "JP"),
    ("ACSC", "AU", "government", None),
    ("Hanse Maritime", "DE", "private", None),
]


def build(home: Path, count: int) -> None:
    node = init_node(home, party_name="CERT-EU", jurisdiction="EU", kind="csirt", scheme="EU")
    keys = {}
    for name, jurisdiction, kind, scheme in PARTNERS:
        keys[name] = new_private_key()
        parties.add_party(
            node,
            name,
            jurisdiction=jurisdiction,
            kind=kind,
            scheme=scheme,
            public_keys=(public_key_of(keys[name]),),
        )
    for title, members in (
        ("all", ["CERT-EU", "BSI", "NISC"]),
        ("eu-au", ["CERT-EU", "ACSC"]),
        ("de-industry", ["CERT-EU", "Hanse Maritime"]),
    ):
        draft = agreements.from_template(
            node,
            {
                "title": title,
                "parties": members,
                "valid_from": "2026-01-01T00:00:00Z",
                "classification": {
                    "max_rank": 2,
                    "equivalences": [
                        {
                            "rank": 2,
                            "levels": {"EU": "CONFIDENTIEL UE", "DE": "VS-VERTRAULICH", "JP": "秘"},
                        }
                    ],
                },
            },
        )
        for m in members:
            pid = parties.find(node, m).id
            draft = core_agreements.sign_document(
                draft, pid, node.private_key if m == "CERT-EU" else keys[m]
            )
        agreements.add(node, draft)
    rnd = random.Random(7)
    originators = [node.home_party.id] + [parties.find(node, n).id for n, *_ in PARTNERS]
    markings = [
        handling_marking(
            "marking-definition--00000000-0000-4000-8000-0000000000c1",
            "2026-01-01T00:00:00.000Z",
            node.home_party.id,
            classification=Classification("EU", "CONFIDENTIEL UE"),
        ),
        handling_marking(
            "marking-definition--00000000-0000-4000-8000-0000000000c2",
            "2026-01-01T00:00:00.000Z",
            node.home_party.id,
            release_rule="originator-consent",
        ),
        handling_marking(
            "marking-definition--00000000-0000-4000-8000-0000000000c3",
            "2026-01-01T00:00:00.000Z",
            node.home_party.id,
            recipients=[originators[1]],
        ),
    ]
    ingest.ingest(node, markings, submitter=node.home_party, path="import")
    choices = [[TLP_MARKING_ID[t]] for t in ("clear", "green", "amber", "amber+strict", "red")]
    choices += [[TLP_MARKING_ID["amber"], m["id"]] for m in markings]
    batch = []
    for n in range(count):
        obj = {
            "type": "indicator",
            "spec_version": "2.1",
            "id": f"indicator--{n:08x}-0000-4000-8000-000000000000",
            "created": "2026-01-01T00:00:00.000Z",
            "modified": "2026-01-01T00:00:00.000Z",
            "created_by_ref": rnd.choice(originators),
            "pattern": f"[ipv4-addr:value = '10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}']",
            "pattern_type": "stix",
            "valid_from": "2026-01-01T00:00:00Z",
            "object_marking_refs": rnd.choice(choices),
        }
        batch.append(obj)
        if len(batch) == 1000:
            ingest.ingest(node, batch, submitter=node.home_party, path="import")
            batch = []
    if batch:
        ingest.ingest(node, batch, submitter=node.home_party, path="import")
    consents.grant(node, expires_us=node.now() + 10**12, types=["indicator"], parties=["BSI"])
    node.close()


def raw_and_decisions(home: Path) -> dict[str, float]:
    from kizuna.services.node import open_node

    node = open_node(home)
    filters = Filters(versions=("all",))
    start = time.perf_counter()
    rows, after = [], None
    while True:
        with node.db.read() as conn:
            page = store.scan(conn, filters, after, 1000)
        rows.extend(page)
        if len(page) < 1000:
            break
        after = page[-1].date_added
    raw = time.perf_counter() - start
    partner = parties.find(node, "BSI")
    ctx = gate.context(node)
    start = time.perf_counter()
    released = 0
    for i in range(0, len(rows), 1000):
        released += sum(
            1 for _, d in gate.judge(node, partner, rows[i : i + 1000], ctx) if d.released
        )
    decide = time.perf_counter() - start
    node.close()
    return {
        "rows": len(rows),
        "raw_store_s": raw,
        "decisions_s": decide,
        "released_to_BSI": released,
    }


def taxii_read(base: str, token: str) -> tuple[float, int]:
    with httpx.Client(
        headers={"Authorization": f"Bearer {token}", "Accept": TAXII}, timeout=120
    ) as client:
        url = f"{base}/taxii2/root/collections/{RELEASED}/objects/"
        params: dict[str, str | int] = {"limit": 1000}
        start = time.perf_counter()
        got = 0
        while True:
            r = client.get(url, params=params)
            r.raise_for_status()
            body = r.json()
            got += len(body.get("objects", []))
            if not body.get("more"):
                return time.perf_counter() - start, got
            params = {"limit": 1000, "next": body["next"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--objects", type=int, default=100_000)
    args = parser.parse_args()
    with TemporaryDirectory() as tmp:
        home = Path(tmp) / "node"
        t = time.perf_counter()
        build(home, args.objects)
        print(f"built {args.objects} objects in {time.perf_counter() - t:.1f} s")
        inproc = raw_and_decisions(home)
        from kizuna.services.node import open_node

        node = open_node(home)
        node.set_setting("sync_interval", "0")
        node.set_setting("max_page_size", "1000")
        home_token = tokens.create(node, node.home_party.id).value
        bsi_token = tokens.create(node, "BSI").value
        node.close()
        port = free_port()
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "kizuna"),
                "--home",
                str(home),
                "serve",
                "--port",
                str(port),
                "--log-level",
                "warning",
            ],
            stderr=subprocess.DEVNULL,
        )
        sampler = RssSampler(server.pid)
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(f"{base}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.1)
        try:
            home_s, home_n = taxii_read(base, home_token)
            first_s, first_n = taxii_read(base, bsi_token)
            second_s, second_n = taxii_read(base, bsi_token)
        finally:
            server.terminate()
            server.wait(30)
            sampler.stop()
    rows = inproc["rows"]
    result = {
        "objects": args.objects,
        **inproc,
        "taxii_home_s": home_s,
        "taxii_home_objects": home_n,
        "taxii_partner_first_s": first_s,
        "taxii_partner_second_s": second_s,
        "taxii_partner_objects": second_n,
        "peak_rss_mb": sampler.peak / 2**20,
    }
    print()
    print(f"| measure ({rows} stored versions) | seconds | per second |")
    print("|---|---|---|")
    raw_s, decide_s = inproc["raw_store_s"], inproc["decisions_s"]
    print(f"| raw store read | {raw_s:.2f} | {rows / raw_s:,.0f} rows/s |")
    print(f"| gate decisions for BSI (in process) | {decide_s:.2f} | {rows / decide_s:,.0f}/s |")
    print(f"| TAXII read as home (rule 0) | {home_s:.2f} | {home_n / home_s:,.0f} objects/s |")
    print(
        f"| TAXII read as BSI, first (ledger, seals written) | {first_s:.2f} "
        f"| {rows / first_s:,.0f} scanned/s, {first_n} released |"
    )
    print(f"| TAXII read as BSI, again | {second_s:.2f} | {rows / second_s:,.0f} scanned/s |")
    print()
    print(
        "full gate over the home read of the same rows: "
        f"first {first_s / home_s - 1:+.0%}, again {second_s / home_s - 1:+.0%} (target ≤ +30%)"
    )
    print(f"peak RSS of the server: {sampler.peak / 2**20:.0f} MB")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"gate-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
