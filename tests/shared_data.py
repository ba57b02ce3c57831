"""Where the shared data sets live, so tests that read real data can skip when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["SHARED_DATA", "require_shared_data"]

ENV_VAR = "KIZUNA_SHARED_DATA"
# $KIZUNA_SHARED_DATA, else shared/data beside the repository (as CI and developers lay it out).
_CANDIDATE = Path(
    os.environ.get(ENV_VAR) or Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
).resolve()

SHARED_DATA: Path | None = _CANDIDATE if _CANDIDATE.is_dir() else None


def require_shared_data(*parts: str) -> Path:
    """Return the shared data folder (or ``parts`` inside it), skipping the test when absent."""
    if SHARED_DATA is None:
        pytest.skip(f"no shared data at {_CANDIDATE}: set {ENV_VAR} to the shared/data folder")
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data set {'/'.join(parts)!r} is not in {SHARED_DATA}")
    return path
