"""What attribution cases cost the gate (issue 10): partners' TAXII reads with and without
10,000 case objects present, and one case's joint picture through the gate.

    python bench/bench_attribution_gate.py [--indicators 2000] [--case-objects 10000]

CERT-EU's node (SQLite, in a temporary folder) holds TLP:GREEN indicators released to BSI and
NISC under their agreements. Then cases are added, each of 10 hypotheses, 200 graded evidence
items, 200 ACH rows and 10 assessments (420 objects), until --case-objects are held; BSI takes
part in them, NISC in none. Measured, through the in-process HTTP stack (every rule,
references, seals, the ledger): each partner paging the whole TAXII collection with limit=1000
(a first read, which seals and writes the ledger, then a second), before and after the cases;
and ``services.attribution.view`` of one case for BSI.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Any

from fastapi.testclient import TestClient

sys.path[:0] = [str(Path(__file__).parents[1] / "tests"),
                str(Path(__file__).parents[1] / "tests" / "services")]  # fmt: skip
from view_world import HOUR, World, build  # noqa: E402

from kizuna.core.attribution import case as wire  # noqa: E402
from kizuna.core.attribution.ach import Evidence, Hypothesis  # noqa: E402
from kizuna.core.attribution.joint import Assessment  # noqa: E402
from kizuna.core.attribution.scales import ICD_203, Grade  # noqa: E402
from kizuna.core.markings import TLP_MARKING_ID  # noqa: E402
from kizuna.core.taxii import RELEASED  # noqa: E402
from kizuna.http.app import create_app  # noqa: E402
from kizuna.services import attribution, tokens  # noqa: E402

TAXII = {"Accept": "application/taxii+json;version=2.1"}


def indicators(w: World, n: int) -> None:
    batch = [w.indicator("green") for _ in range(n)]
    for i in range(0, n, 1000):
        w.store(batch[i : i + 1000])


def one_case(w: World, rnd: random.Random, k: int) -> str:
    node, home = w.node, w.node.home_party.id
    cid = attribution.open_case(node, f"case {k}", [CAMPAIGN], ["BSI"])
    c = attribution._case(node, cid)
    marks = attribution._my_markings(node, c)
    stamp = w.stamp()
    hyps = [Hypothesis(node.new_id("note"), APT if i % 2 else None, i % 3 == 0) for i in range(10)]
    ev = [
        Evidence(node.new_id("note"), Grade(rnd.choice("ABCDEF"), rnd.randint(1, 6)),
                 rnd.choice(("technical", "infrastructure", "linguistic")), home)
        for _ in range(200)
    ]  # fmt: skip
    objs: list[dict[str, Any]] = [wire.hypothesis(cid, h, stamp, home, marks) for h in hyps]
    objs += [wire.evidence(cid, e, stamp, marks) for e in ev]
    ratings = ("CC", "C", "N", "I", "II", "NA")
    objs += [
        wire.ratings(cid, home, e.id, {h.id: rnd.choice(ratings) for h in hyps}, "medium",
                     stamp, stamp, marks)
        for e in ev
    ]  # fmt: skip
    objs += [
        wire.assessment(cid, Assessment(home, h.id, rnd.choice(ICD_203), "moderate", "bench"),
                        stamp, stamp, marks)
        for h in hyps
    ]  # fmt: skip
    w.store(objs)
    return cid


CAMPAIGN = "campaign--be000000-0000-4000-8000-000000000001"
APT = "intrusion-set--be000000-0000-4000-8000-000000000002"


def read_all(client: TestClient) -> tuple[float, int]:
    t0 = time.perf_counter()
    url = f"/taxii2/root/collections/{RELEASED}/objects/?limit=1000"
    count, nxt = 0, None
    while True:
        r = client.get(url + (f"&next={nxt}" if nxt else ""), headers=TAXII)
        body = r.json()
        count += len(body.get("objects", []))
        if not body.get("more"):
            break
        nxt = body["next"]
    return time.perf_counter() - t0, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--indicators", type=int, default=2000)
    parser.add_argument("--case-objects", type=int, default=10_000)
    args = parser.parse_args()
    rnd = random.Random(10)
    with TemporaryDirectory() as tmp:
        w = build(Path(tmp) / "node", None)
        w.clock.us += 3 * HOUR
        stamp = w.stamp()
        green = [TLP_MARKING_ID["green"]]
        w.store([
            {"type": "campaign", "spec_version": "2.1", "id": CAMPAIGN, "created": stamp,
             "modified": stamp, "name": "bench", "object_marking_refs": green},
            {"type": "intrusion-set", "spec_version": "2.1", "id": APT, "created": stamp,
             "modified": stamp, "name": "APT-B", "object_marking_refs": green},
        ])  # fmt: skip
        indicators(w, args.indicators)
        app = create_app(w.node)
        clients = {
            name: TestClient(
                app, headers={"Authorization": f"Bearer {tokens.create(w.node, name).value}"}
            )
            for name in ("BSI", "NISC")
        }
        before = {}
        for name, client in clients.items():
            first, n = read_all(client)
            second, _ = read_all(client)
            before[name] = (first, second, n)
        t0 = time.perf_counter()
        made, cases = 0, []
        while made < args.case_objects:
            cases.append(one_case(w, rnd, len(cases)))
            made += 422  # 420 members, the case and its marking
        built = time.perf_counter() - t0
        after = {}
        for name, client in clients.items():
            first, n = read_all(client)
            second, _ = read_all(client)
            after[name] = (first, second, n)
        views = []
        for _ in range(3):
            t0 = time.perf_counter()
            attribution.view(w.node, cases[0], w.bsi)
            views.append(time.perf_counter() - t0)
        w.node.close()
    print(f"{args.indicators} indicators; {len(cases)} cases, {made:,} case objects "
          f"(stored in {built:.1f} s)")  # fmt: skip
    for name in clients:
        (f0, s0, n0), (f1, s1, n1) = before[name], after[name]
        print(
            f"{name:5} TAXII read of the whole collection: before {n0} objects "
            f"first {f0 * 1000:.0f} ms / again {s0 * 1000:.0f} ms; after {n1} objects "
            f"first {f1 * 1000:.0f} ms / again {s1 * 1000:.0f} ms "
            f"(again: x{s1 / s0:.2f})"
        )
    print(f"BSI view of one case (422 objects, joint picture): median "
          f"{statistics.median(views) * 1000:.0f} ms")  # fmt: skip


if __name__ == "__main__":
    main()
