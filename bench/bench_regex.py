"""The regex budget (issue 12 §3): the reported nested-quantifier MATCHES against long values.

    python bench/bench_regex.py [--python-up-to 26]

Times kizuna's evaluation (RE2) of ``[file:name MATCHES '^(a+)+$']`` against observations of
26, 28, 1,000 and 100,000 characters, and Python's re (what stix2-matcher and kizuna before
issue 12 used) up to the size given, since beyond it backtracking doubles with each character.
"""

from __future__ import annotations

import argparse
import re
import time

from kizuna.core.patterns import compile_pattern, observation_from_stix

PATTERN = "[file:name MATCHES '^(a+)+$']"
SIZES = (26, 28, 1000, 100_000)


def observation(size: int) -> object:
    od = {
        "id": "observed-data--1",
        "type": "observed-data",
        "number_observed": 1,
        "first_observed": "2026-01-01T00:00:00Z",
        "last_observed": "2026-01-01T00:00:00Z",
        "object_refs": ["file--1"],
    }
    return observation_from_stix(od, {"file--1": {"type": "file", "name": "a" * (size - 1) + "!"}})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--python-up-to", type=int, default=26)
    args = parser.parse_args()
    compiled = compile_pattern(PATTERN)
    python = re.compile(r"^(a+)+$")
    for size in SIZES:
        obs = observation(size)
        start = time.perf_counter()
        assert not compiled.matches([obs])  # type: ignore[list-item]
        kizuna = time.perf_counter() - start
        line = f"{size:>7} chars: kizuna (RE2) {kizuna * 1e6:10.1f} µs"
        if size <= args.python_up_to:
            start = time.perf_counter()
            python.search("a" * (size - 1) + "!")
            line += f"   Python re {time.perf_counter() - start:8.2f} s"
        else:
            line += "   Python re: not run (doubles per character)"
        print(line)


if __name__ == "__main__":
    main()
