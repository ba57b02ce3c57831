"""Where the shared data sets live, so tests that read real data can skip when they are absent."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

__all__ = ["SHARED_DATA", "require_shared_data"]

ENV_VAR = "KIZUNA_SHARED_DATA"


def _locate() -> Path | None:
    configured = os.environ.get(ENV_VAR)
    # Beside the repository (CI and developer machines lay shared/ next to the clone).
    candidate = (
        Path(configured) if configured else Path(__file__).resolve().parents[1] / ".." / "shared" / "data"
    )
    candidate = candidate.resolve()
    return candidate if candidate.is_dir() else None


SHARED_DATA: Path | None = _locate()


def require_shared_data(*parts: str) -> Path:
    """Return the shared data folder (or ``parts`` inside it), skipping the test when absent."""
    if SHARED_DATA is None:
        pytest.skip(
            f"shared data not found: set {ENV_VAR} or lay it out at <repo>/../shared/data"
        )
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared data set {'/'.join(parts)!r} is not in {SHARED_DATA}")
    return path
