"""Import files: STIX bundles (2.1, and 2.0 upgraded), TAXII envelopes, NDJSON, MISP events,
CSAF 2.0 advisories."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from kizuna.core.parties import Party
from kizuna.core.stix.upgrade import upgrade_all
from kizuna.errors import InvalidInput, InvalidJson
from kizuna.services import ingest
from kizuna.services.node import Node

log = logging.getLogger("kizuna.import")

BATCH = 500
SUFFIXES = (".json", ".ndjson", ".jsonl")


@dataclass(frozen=True)
class Failure:
    where: str
    id: str | None
    reason: str


@dataclass
class Report:
    """What an import did: counts, and every failure with its reason."""

    stored: int = 0
    unchanged: int = 0
    failures: list[Failure] = field(default_factory=list)
    files: int = 0
    # Bulk imports (services.bulk): files already imported, files resumed, MISP events read,
    # and what was noticed without failing (misp-stix's notes, handling tags not understood).
    skipped: int = 0
    resumed: int = 0
    events: int = 0
    warnings: list[Failure] = field(default_factory=list)
    # CSAF advisories imported, and what was verified about them (hashes, OpenPGP signatures).
    csaf: int = 0
    verified: list[Failure] = field(default_factory=list)
    # Per file, the ``date_added`` range of each batch it stored (a batch's window holds nothing
    # else): what ``services.withholding.after_import`` judges, without holding a million ids.
    stored_ranges: dict[str, list[tuple[int, int]]] = field(default_factory=dict)

    def add(
        self,
        where: str,
        outcomes: Sequence[ingest.Outcome],
        first_index: int,
        file: str | None = None,
    ) -> None:
        dates = [o.date_added for o in outcomes if o.status == "stored" and o.date_added]
        if dates:
            self.stored_ranges.setdefault(file or where, []).append((min(dates), max(dates)))
        for n, o in enumerate(outcomes):
            if o.status == "stored":
                self.stored += 1
            elif o.status == "unchanged":
                self.unchanged += 1
            else:
                reason = str(o.error) if o.error else "unknown"
                self.failures.append(Failure(f"{where}#{first_index + n}", o.id, reason))

    def summary(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "stored": self.stored,
            "unchanged": self.unchanged,
            "failed": [{"where": f.where, "id": f.id, "reason": f.reason} for f in self.failures],
        }
        if self.events:
            out["misp_events"] = self.events
        if self.csaf:
            out["csaf_documents"] = self.csaf
        if self.verified:
            out["verified"] = [{"where": f.where, "what": f.reason} for f in self.verified]
        if self.warnings:
            out["warnings"] = [
                {"where": f.where, "id": f.id, "reason": f.reason} for f in self.warnings
            ]
        return out


def objects_of(document: Any, where: str) -> list[Any]:
    """The objects of a parsed document: bundle, TAXII envelope, one object, or a list."""
    if isinstance(document, list):
        return document
    if not isinstance(document, dict):
        raise InvalidJson(f"{where}: expected a STIX bundle, TAXII envelope or STIX object")
    if document.get("type") == "bundle" or ("objects" in document and "type" not in document):
        objects = document.get("objects", [])
        if not isinstance(objects, list):
            raise InvalidJson(f'{where}: "objects" must be a list')
        return objects
    if "type" in document and "id" in document:
        return [document]
    raise InvalidJson(f"{where}: expected a STIX bundle, TAXII envelope or STIX object")


def files_under(paths: Iterable[Path]) -> list[Path]:
    """Every importable file: the files given, and those in the folders given, sorted."""
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            out.extend(sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in SUFFIXES))
        elif path.is_file():
            out.append(path)
        else:
            raise InvalidInput(f"{path}: no such file or folder")
    return out


def read_objects(path: Path) -> Iterator[tuple[int, Any]]:
    """(index, object) pairs of one file; a broken NDJSON line yields its error instead."""
    if path.suffix in (".ndjson", ".jsonl"):
        with path.open("rb") as f:
            for n, line in enumerate(f):
                if not line.strip():
                    continue
                try:
                    yield n, orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    yield n, InvalidJson(f"line {n + 1} is not JSON: {exc}")
        return
    try:
        document = orjson.loads(path.read_bytes())
    except orjson.JSONDecodeError as exc:
        raise InvalidJson(f"{path}: not JSON: {exc}") from exc
    except OSError as exc:
        raise InvalidInput(f"{path}: cannot read: {exc}") from exc
    yield from enumerate(objects_of(document, str(path)))


def ingest_objects(
    node: Node, submitter: Party, objects: Sequence[Any], path: str, where: str = "body"
) -> Report:
    """Ingest objects in batches (STIX 2.0 upgraded to 2.1 first); a report of what happened."""
    objects = list(upgrade_all(objects))
    report = Report()
    for start in range(0, len(objects), BATCH):
        outcomes = ingest.ingest(
            node, objects[start : start + BATCH], submitter=submitter, path=path
        )
        report.add(where, outcomes, start)
    return report


Progress = Callable[[int], None]


def import_paths(
    node: Node,
    paths: Iterable[Path],
    *,
    progress: Progress | None = None,
    on_file: Callable[[Path], None] | None = None,
    on_bytes: Progress | None = None,
    resume: bool = True,
    csaf_keys: Path | None = None,
) -> Report:
    """Import files and folders as the home party; ``progress`` hears of each object handled.

    STIX 2.1 and 2.0, TAXII envelopes, NDJSON, MISP events and CSAF 2.0 advisories, streamed and
    resumable: see ``services.bulk``.
    """
    from kizuna.services import bulk  # bulk builds on this module

    hooks = bulk.Hooks(objects=progress, bytes=on_bytes, file=on_file)
    return bulk.import_paths(node, paths, hooks=hooks, resume=resume, csaf_keys=csaf_keys)
