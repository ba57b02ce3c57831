"""The CSAF 2.0 check every test uses: the `csaf` validator, schema plus all mandatory tests."""

from __future__ import annotations

from typing import Any

from csaf.csaf.v20 import validate


def failures(doc: dict[str, Any]) -> dict[str, list[str]]:
    """Failed checks (schema, 6.1.x) of `doc` with their messages; empty when valid."""
    report = validate(doc, preset="basic")
    return {
        r.id: [str(e) for e in r.errors] or ["failed"]
        for r in report.results
        if not r.passed and not r.skipped
    }


def assert_valid(doc: dict[str, Any]) -> None:
    """Fail with the validator's findings unless `doc` passes the schema and tests 6.1.x."""
    found = failures(doc)
    assert not found, found
    report = validate(doc, preset="basic")
    ran = {r.id for r in report.results if not r.skipped}
    # Every mandatory test ran (none skipped as unimplemented), 6.1.31 among them.
    assert {f"6.1.{n}" for n in range(1, 34)} <= ran, sorted(ran)
