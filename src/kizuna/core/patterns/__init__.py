"""STIX 2.1 patterning (§9): compiler, evaluator and indicator index, in pure Python.

``compile_pattern`` accepts exactly what stix2-patterns' validator accepts and refuses the rest
with ``InvalidPattern`` (position, reason); a ``CompiledPattern`` matches observations as
stix2-matcher does; ``PatternIndex`` finds the indicators an observation matches by key.
"""

from kizuna.core.patterns.compiler import CompiledPattern, compile_pattern
from kizuna.core.patterns.errors import InvalidPattern
from kizuna.core.patterns.index import PatternIndex
from kizuna.core.patterns.keys import IndexKey, RangeKey, ValueKey
from kizuna.core.patterns.observation import (
    Observation,
    observation_from_stix,
    observations_from_stix,
)

__all__ = [
    "CompiledPattern",
    "IndexKey",
    "InvalidPattern",
    "Observation",
    "PatternIndex",
    "RangeKey",
    "ValueKey",
    "compile_pattern",
    "observation_from_stix",
    "observations_from_stix",
]
