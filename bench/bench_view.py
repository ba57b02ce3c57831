"""A partner's poll over rows withheld from it, against the home party's read of the same page.

    .venv/bin/python bench/bench_view.py [--withheld 100000] [--released 1000] [--polls 60]

The node holds ``--withheld`` TLP:AMBER indicators of the home party (withheld from BSI: no
agreement joins them), then ``--released`` TLP:CLEAR ones. Over loopback from a ``kizuna serve``
subprocess, in turn: BSI polls from the start (``limit=100``: the view index lets the page skip
every withheld row; without it each poll judged all of them), and the home party reads the same
objects (``added_after`` just before the first CLEAR one, ``limit=100``). Both read their page
once first (BSI's first read signs seals and writes the ledger), then ``--polls`` times each,
interleaved so both meet the same machine load; the medians are compared (target ≤ 1.3×).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory

import httpx

from kizuna.core.markings import TLP_MARKING_ID
from kizuna.core.taxii import RELEASED, taxii_timestamp
from kizuna.services import ingest, parties, tokens
from kizuna.services.node import init_node

sys.path.insert(0, str(Path(__file__).parent))
from servers import free_port

TAXII = "application/taxii+json;version=2.1"


def indicator(n: int, tlp: str) -> dict[str, object]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{n:08x}-0000-4000-8000-000000000000",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '10.{n >> 16 & 255}.{n >> 8 & 255}.{n & 255}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [TLP_MARKING_ID[tlp]],
    }


def build(home: Path, withheld: int, released: int) -> tuple[str, str, int]:
    """The node; returns the home party's and BSI's tokens and the last withheld date_added."""
    node = init_node(home, party_name="CERT-EU", jurisdiction="EU", kind="csirt", scheme="EU")
    parties.add_party(node, "BSI", jurisdiction="DE", kind="government", scheme="DE")
    for start in range(0, withheld, 1000):
        batch = [indicator(n, "amber") for n in range(start, min(withheld, start + 1000))]
        ingest.ingest(node, batch, submitter=node.home_party, path="import")
    with node.db.read() as conn:
        from kizuna.storage import objects as store

        last_withheld = store.last_date_added(conn)
    clear = [indicator(withheld + n, "clear") for n in range(released)]
    for start in range(0, released, 1000):
        ingest.ingest(node, clear[start : start + 1000], submitter=node.home_party, path="import")
    node.set_setting("sync_interval", "0")
    home_token = tokens.create(node, node.home_party.id).value
    bsi_token = tokens.create(node, "BSI").value
    node.close()
    return home_token, bsi_token, last_withheld


def get(client: httpx.Client, url: str, token: str, params: dict[str, str]) -> tuple[float, int]:
    start = time.perf_counter()
    r = client.get(url, params=params, headers={"Authorization": f"Bearer {token}"})
    took = time.perf_counter() - start
    r.raise_for_status()
    return took, len(r.json().get("objects", []))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--withheld", type=int, default=100_000)
    parser.add_argument("--released", type=int, default=1000)
    parser.add_argument("--polls", type=int, default=60)
    args = parser.parse_args()
    with TemporaryDirectory() as tmp:
        home = Path(tmp) / "node"
        t = time.perf_counter()
        home_token, bsi_token, last_withheld = build(home, args.withheld, args.released)
        print(f"built {args.withheld:,} withheld + {args.released:,} released in "
              f"{time.perf_counter() - t:.0f} s")  # fmt: skip
        port = free_port()
        kizuna = str(Path(sys.executable).parent / "kizuna")
        server = subprocess.Popen(
            [kizuna, "--home", str(home), "serve", "--port", str(port), "--log-level", "warning"],
            stderr=subprocess.DEVNULL,
        )
        base = f"http://127.0.0.1:{port}"
        url = f"{base}/taxii2/root/collections/{RELEASED}/objects/"
        partner_params = {"limit": "100"}
        home_params = {"limit": "100", "added_after": taxii_timestamp(last_withheld)}
        partner: list[float] = []
        own: list[float] = []
        try:
            with httpx.Client(headers={"Accept": TAXII}, timeout=120) as client:
                for _ in range(200):
                    try:
                        client.get(f"{base}/healthz", timeout=1)
                        break
                    except httpx.HTTPError:
                        time.sleep(0.1)
                first, partner_n = get(client, url, bsi_token, partner_params)
                _, home_n = get(client, url, home_token, home_params)
                for _ in range(args.polls):
                    partner.append(get(client, url, bsi_token, partner_params)[0])
                    own.append(get(client, url, home_token, home_params)[0])
        finally:
            server.terminate()
            server.wait(30)
    p50, h50 = statistics.median(partner), statistics.median(own)
    print(f"BSI's first poll (seals signed, ledger written): {first * 1000:.1f} ms")
    print(f"BSI's poll over {args.withheld:,} withheld rows: p50 {p50 * 1000:.2f} ms "
          f"({partner_n} entries: half objects, half their seals)")  # fmt: skip
    print(f"home's read of the same page: p50 {h50 * 1000:.2f} ms ({home_n} objects)")
    print(f"ratio {p50 / h50:.2f}x (target <= 1.3x)")
    out = Path(__file__).parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"view-{time.strftime('%Y%m%dT%H%M%S')}.json").write_text(
        json.dumps({**vars(args), "partner_s": partner, "home_s": own, "first_s": first})
    )


if __name__ == "__main__":
    main()
