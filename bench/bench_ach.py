"""ACH recomputation (issue 10): 200 evidence items x 10 hypotheses x 8 partners.

    python bench/bench_ach.py [--evidence 200] [--hypotheses 10] [--partners 8] [--repeat 20]

Builds eight fully rated matrices (seeded, reproducible) and times the whole joint picture:
every partner's plain and weighted scores, ranking, diagnosticity per item and sensitivity
(which single item changes the ranking), then the side-by-side picture. Target: < 50 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from kizuna.core.attribution.ach import RATINGS, Evidence, Hypothesis, Matrix
from kizuna.core.attribution.joint import Assessment, picture
from kizuna.core.attribution.scales import ICD_203, Grade


def world(
    n_ev: int, n_hyp: int, n_partners: int, seed: int = 10
) -> tuple[list[Hypothesis], dict[str, Evidence], list[Matrix], list[Assessment]]:
    rnd = random.Random(seed)
    partners = [f"identity--{i:08d}-0000-4000-8000-000000000000" for i in range(n_partners)]
    hyps = [Hypothesis(f"H{i}") for i in range(n_hyp)]
    ev = {
        f"E{i}": Evidence(
            f"E{i}",
            Grade(rnd.choice("ABCDEF"), rnd.randint(1, 6)),
            "technical",
            rnd.choice(partners),
        )
        for i in range(n_ev)
    }
    matrices = [
        Matrix(
            p,
            {(e, h.id): rnd.choice(RATINGS) for e in ev for h in hyps},
            {e: rnd.choice(("low", "medium", "high")) for e in ev},
        )
        for p in partners
    ]
    assessments = [
        Assessment(p, h.id, rnd.choice(ICD_203), "moderate", "bench")
        for p in partners
        for h in hyps
    ]
    return hyps, ev, matrices, assessments


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--evidence", type=int, default=200)
    parser.add_argument("--hypotheses", type=int, default=10)
    parser.add_argument("--partners", type=int, default=8)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    hyps, ev, matrices, assessments = world(args.evidence, args.hypotheses, args.partners)
    times = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        picture(hyps, ev, matrices, assessments)
        times.append((time.perf_counter() - t0) * 1000)
    print(
        f"ACH joint picture, {args.evidence} evidence x {args.hypotheses} hypotheses x "
        f"{args.partners} partners ({args.evidence * args.hypotheses * args.partners:,} cells): "
        f"median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, "
        f"max {max(times):.1f} ms over {args.repeat} runs (target < 50 ms)"
    )


if __name__ == "__main__":
    main()
