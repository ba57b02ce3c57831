"""Benchmark kizuna's STIX pattern compiler and index against the OASIS reference libraries.

Run: ``.venv/bin/python bench/bench_patterns.py`` (``--quick`` for a smaller, faster run).

(a) compile the 8,826 indicator patterns of the dogesec-feeds2stix bundles, against
    stix2-patterns parsing (v21 ``Pattern``) and validating (``run_validator``) them;
(b) match 100,000 observations built from the feed's own values (half hits, half misses) against
    every indicator through ``PatternIndex``, against stix2-matcher evaluating every pattern per
    observation: the matcher is time-boxed, its cost per (pattern, observation) pair measured on a
    random sample and extrapolated to all pairs;
(c) index throughput with 1,000 / 10,000 / 100,000 indicators of the same shapes.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kizuna.core.patterns import CompiledPattern, Observation, PatternIndex, compile_pattern
from kizuna.core.patterns.ast import (
    Comparison,
    Operator,
    Star,
    iter_comparisons,
    iter_observations,
)
from kizuna.core.patterns.literals import parse_timestamp_us

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("KIZUNA_SHARED_DATA", ROOT.parent / "shared" / "data"))
FEED = DATA / "stix" / "dogesec-feeds2stix"
NOW = "2024-09-01T00:00:00Z"


@dataclass(frozen=True)
class Indicator:
    """The parts of a STIX indicator the index needs."""

    id: str
    pattern: str
    valid_from_us: int
    valid_until_us: int | None


def load_indicators() -> list[Indicator]:
    """Every indicator of the feed's bundles, in file order."""
    found = []
    for path in sorted(FEED.rglob("*.json")):
        for obj in json.loads(path.read_text(encoding="utf-8")).get("objects", []):
            if obj.get("type") == "indicator":
                until = obj.get("valid_until")
                found.append(
                    Indicator(
                        obj["id"],
                        obj["pattern"],
                        parse_timestamp_us(obj["valid_from"]),
                        parse_timestamp_us(until) if until else None,
                    )
                )
    return found


def timed(action: Callable[[], object]) -> float:
    """CPU seconds one call of ``action`` takes (process time: other load is not counted)."""
    start = time.process_time()
    action()
    return time.process_time() - start


# -- observations -------------------------------------------------------------------------------


def _set_path(obj: dict[str, Any], steps: tuple[object, ...], value: object) -> None:
    """Write ``value`` at a path of plain keys."""
    for step in steps[:-1]:
        obj = obj.setdefault(str(step), {})
    obj[str(steps[-1])] = value


def hit_objects(compiled: CompiledPattern, rng: random.Random) -> list[dict[str, Any]]:
    """SCOs carrying the values one observation expression of the pattern looks for."""
    leaves = list(iter_observations(compiled.root))
    leaf = rng.choice(leaves)
    objects: dict[str, dict[str, Any]] = {}
    for test in iter_comparisons(leaf.expression):
        if not isinstance(test, Comparison) or test.operator is not Operator.EQ:
            continue
        steps = test.path.steps
        if any(isinstance(step, int | Star) for step in steps) or test.literal is None:
            continue
        object_type = test.path.object_type
        obj = objects.setdefault(object_type, {"type": object_type, "id": f"{object_type}--hit"})
        value: object = test.literal.value
        if steps == ("dst_port",) and isinstance(value, str) and value.isdigit():
            value = int(value)  # STIX ports are integers; the feed writes them as strings
        _set_path(obj, steps, value)
    if "network-traffic" in objects and "ipv4-addr" in objects:
        objects["network-traffic"]["dst_ref"] = objects["ipv4-addr"]["id"]
    return list(objects.values())


def miss_objects(rng: random.Random) -> list[dict[str, Any]]:
    """SCOs of the same shapes with values no indicator names."""
    if rng.random() < 0.8:
        address = f"198.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(256)}"
        return [
            {"type": "ipv4-addr", "id": "ipv4-addr--miss", "value": address},
            {
                "type": "network-traffic",
                "id": "network-traffic--miss",
                "dst_ref": "ipv4-addr--miss",
                "dst_port": rng.randrange(1, 65536),
            },
        ]
    digest = f"{rng.getrandbits(160):040x}"
    return [{"type": "file", "id": "file--miss", "hashes": {"SHA-1": digest}}]


def make_observations(
    compiled: list[CompiledPattern], count: int, seed: int
) -> Iterator[tuple[Observation, list[dict[str, Any]]]]:
    """``count`` observations (and their SCOs), alternately a hit and a miss."""
    rng = random.Random(seed)
    now = parse_timestamp_us(NOW)
    for number in range(count):
        scos = hit_objects(rng.choice(compiled), rng) if number % 2 == 0 else miss_objects(rng)
        yield Observation(now, now, 1, {obj["id"]: obj for obj in scos}), scos


def stix_bundle(scos: list[dict[str, Any]]) -> dict[str, Any]:
    """The observation as stix2-matcher takes it: a bundle with one observed-data."""
    observed = {
        "type": "observed-data",
        "id": "observed-data--1",
        "first_observed": NOW,
        "last_observed": NOW,
        "number_observed": 1,
        "object_refs": [obj["id"] for obj in scos],
    }
    return {"type": "bundle", "id": "bundle--1", "objects": [observed, *scos]}


# -- synthetic indicators -----------------------------------------------------------------------


def synthetic_patterns(count: int, seed: int) -> list[str]:
    """Patterns shaped like the feed's: IPv4 + port (93 %), ORs of file hashes (7 %)."""
    rng = random.Random(seed)
    out = []
    for _ in range(count):
        if rng.random() < 0.93:
            address = ".".join(str(rng.randrange(1, 255)) for _ in range(4))
            port = rng.randrange(1, 65536)
            out.append(f"[ipv4-addr:value = '{address}' AND network-traffic:dst_port = '{port}']")
        else:
            terms = [
                f"[ file:hashes.'SHA-1' = '{rng.getrandbits(160):040x}' ]"
                for _ in range(rng.randrange(1, 6))
            ]
            out.append("(" + " OR ".join(terms) + ")")
    return out


# -- the three measurements ---------------------------------------------------------------------


def _each(action: Callable[[str], object], texts: list[str]) -> float:
    """CPU seconds to apply ``action`` to every text, keeping the results (as an index would)."""
    started = time.process_time()
    kept = [action(text) for text in texts]
    elapsed = time.process_time() - started
    del kept
    return elapsed


def bench_compile(patterns: list[str], quick: bool) -> list[tuple[str, str, str]]:
    """(a) Compile every pattern with kizuna and with stix2-patterns."""
    from stix2patterns.v21.pattern import Pattern as OasisPattern
    from stix2patterns.validator import run_validator

    sample = patterns[::9] if quick else patterns
    # Interleaved by chunks of 250, so that all three see the same conditions on a shared host.
    kizuna = parse = validate = 0.0
    for start in range(0, len(sample), 250):
        chunk = sample[start : start + 250]
        kizuna += min(_each(compile_pattern, chunk) for _ in range(3))
        parse += _each(OasisPattern, chunk)
        validate += _each(lambda p: run_validator(p, stix_version="2.1"), chunk)
    n = len(sample)
    return [
        (
            "(a) compile",
            f"kizuna compile_pattern x{n}",
            f"{kizuna:.3f} s ({kizuna / n * 1e6:.1f} µs each)",
        ),
        (
            "(a) compile",
            f"stix2patterns v21 Pattern() x{n} (parse only)",
            f"{parse:.3f} s  -> kizuna {parse / kizuna:.0f}x faster",
        ),
        (
            "(a) compile",
            f"stix2patterns run_validator x{n} (parse + checks, like compile)",
            f"{validate:.3f} s  -> kizuna {validate / kizuna:.0f}x faster",
        ),
    ]


def bench_match(indicators: list[Indicator], count: int, box: float) -> list[tuple[str, str, str]]:
    """(b) The index against stix2-matcher, pattern by pattern."""
    from stix2matcher.matcher import Pattern as MatcherPattern
    from stix2matcher.matcher import match

    compiled = [compile_pattern(i.pattern) for i in indicators]
    index = PatternIndex()
    for indicator, pattern in zip(indicators, compiled, strict=True):
        index.add(indicator.id, pattern, indicator.valid_from_us, indicator.valid_until_us)
    data = list(make_observations(compiled, count, seed=7))
    now = parse_timestamp_us(NOW)
    start = time.process_time()
    matched = candidates = 0
    for observation, _ in data:
        matched += len(index.match(observation, now))
    elapsed = time.process_time() - start
    candidates = sum(len(index.candidates(o)) for o, _ in data[:10000])
    pairs = count * len(indicators)

    rng = random.Random(11)
    per_pair: dict[str, float] = {}
    checked = disagreements = 0
    by_pattern: dict[int, Any] = {}
    for label in ("match()", "Pattern.match"):
        spent, done = 0.0, 0
        while spent < box:
            o, p = rng.randrange(len(data)), rng.randrange(len(indicators))
            observation, scos = data[o]
            bundle = stix_bundle(scos)
            if label == "match()":
                began = time.process_time()
                theirs = bool(match(indicators[p].pattern, [bundle], stix_version="2.1"))
            else:
                oasis = by_pattern.get(p) or MatcherPattern(indicators[p].pattern, "2.1")
                by_pattern[p] = oasis
                began = time.process_time()
                theirs = bool(oasis.match([bundle]))
            spent += time.process_time() - began
            done += 1
            checked += 1
            disagreements += theirs != compiled[p].matches([observation])
        per_pair[label] = spent / done
    ours = elapsed / pairs
    rows = [
        (
            "(b) match",
            f"kizuna PatternIndex.match, {count:,} obs x {len(indicators):,} indicators",
            f"{elapsed:.2f} s ({count / elapsed:,.0f} obs/s), {matched:,} matches",
        ),
        (
            "(b) match",
            "  candidates per observation (first 10,000)",
            f"{candidates / min(count, 10000):.2f}",
        ),
    ]
    for label, cost in per_pair.items():
        rows.append(
            (
                "(b) match",
                f"stix2-matcher {label}, time-boxed {box:.0f} s, EXTRAPOLATED to {pairs:,} pairs",
                f"{cost * 1e3:.2f} ms/pair -> {cost * pairs / 3600:,.0f} h"
                f"  -> kizuna {cost / ours:,.0f}x faster",
            )
        )
    rows.append(
        (
            "(b) match",
            "  sampled pairs where kizuna == stix2-matcher",
            f"{checked - disagreements}/{checked}",
        )
    )
    return rows


def _match_all(index: PatternIndex, observations: list[Observation], now: int) -> float:
    """CPU seconds to match every observation."""
    started = time.process_time()
    for observation in observations:
        index.match(observation, now)
    return time.process_time() - started


def bench_scaling(sizes: list[int], count: int) -> list[tuple[str, str, str]]:
    """(c) Observations per second as the number of indicators grows."""
    rows = []
    now = parse_timestamp_us(NOW)
    for size in sizes:
        compiled = [compile_pattern(p) for p in synthetic_patterns(size, seed=size)]
        index = PatternIndex()
        started = time.process_time()
        for number, pattern in enumerate(compiled):
            index.add(f"indicator--{number}", pattern, 0)
        built = time.process_time() - started
        data = [o for o, _ in make_observations(compiled, count, seed=3)]
        elapsed = min(_match_all(index, data, now) for _ in range(3))
        rows.append(
            (
                "(c) scaling",
                f"{size:>7,} indicators (index built in {built:.2f} s)",
                f"{count / elapsed:>9,.0f} obs/s ({elapsed / count * 1e6:.1f} µs/obs)",
            )
        )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller samples, shorter time box")
    args = parser.parse_args()
    if not FEED.is_dir():
        print(f"shared data not found at {FEED} (set KIZUNA_SHARED_DATA)", file=sys.stderr)
        return 2
    indicators = load_indicators()
    print(f"{len(indicators):,} indicators from {FEED.relative_to(DATA)}; now = {NOW}")
    rows = bench_compile([i.pattern for i in indicators], args.quick)
    rows += bench_match(indicators, 10_000 if args.quick else 100_000, 5.0 if args.quick else 10.0)
    rows += bench_scaling([1_000, 10_000] if args.quick else [1_000, 10_000, 100_000], 20_000)
    width = max(len(r[1]) for r in rows)
    print(f"\n{'part':<12} {'what':<{width}}  result")
    print("-" * (width + 80))
    for part, what, result in rows:
        print(f"{part:<12} {what:<{width}}  {result}")
    print(
        "\nNotes: times are CPU seconds of this process (time.process_time), so other load on the"
        " host does not distort them.\n(b) stix2-matcher was run only for a fixed time box on"
        " random (pattern, observation) pairs; its per-pair cost is EXTRAPOLATED to all pairs,"
        " not measured on all of them."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
