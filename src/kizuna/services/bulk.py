"""Bulk import: files and folders of any size, streamed, in batches, resumable after a crash.

* Formats are detected per file: NDJSON (``.ndjson``/``.jsonl``, one object a line), STIX bundles
  and TAXII envelopes (STIX 2.1, or 2.0 upgraded on the way in by ``core.stix.upgrade``), single
  objects or lists of them, MISP event documents (converted by ``services.misp``), and CSAF 2.0
  advisories (``services.csaf_import``: checked whole with the hashes and signature beside them,
  then stored in one transaction or not at all).
* Memory stays bounded: a JSON file larger than ``STREAM_ABOVE`` bytes is read with ijson, one
  object (or MISP event) at a time; smaller ones are parsed whole, which is faster.
* Every batch of ``BATCH`` objects is one ingest transaction (a MISP event is always one, so an
  event is stored whole or not at all). After each batch the journal records how far the file
  got; a re-run skips finished files and resumes the others at the recorded position. Were the
  process to die between a batch and its journal entry, the batch is read again and ingest
  reports its objects "unchanged": nothing is ever stored twice.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, BinaryIO

import ijson
import orjson

from kizuna.core.stix.depth import DOCUMENT_DEPTH_LIMIT, DepthScanner
from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.core.stix.upgrade import upgrade_all
from kizuna.core.stix.validate import validate
from kizuna.errors import InvalidInput, InvalidJson, KizunaError
from kizuna.services import csaf_import, ingest, misp
from kizuna.services.importer import BATCH, Failure, Report, files_under, objects_of
from kizuna.services.node import Node
from kizuna.storage import import_journal as journal
from kizuna.storage import objects as store

log = logging.getLogger("kizuna.import")

STREAM_ABOVE = 8 * 1024 * 1024
_HEAD = 64 * 1024
_NDJSON = (".ndjson", ".jsonl")

Counter = Callable[[int], None]


@dataclass
class Hooks:
    """Progress callbacks: objects handled, bytes read, a file begun."""

    objects: Counter | None = None
    bytes: Counter | None = None
    file: Callable[[Path], None] | None = None


def import_paths(
    node: Node,
    paths: Iterable[Path],
    *,
    hooks: Hooks | None = None,
    resume: bool = True,
    batch: int = BATCH,
    csaf_keys: Path | None = None,
) -> Report:
    """Import files and folders as the home party; ``resume=False`` ignores the journal;
    ``csaf_keys``: OpenPGP public keys that CSAF ``.asc`` signatures are checked against."""
    hooks = hooks or Hooks()
    report = Report()
    keyring = csaf_import.Keyring(csaf_keys) if csaf_keys else None
    try:
        for path in files_under(paths):
            _import_file(node, path, report, hooks, resume, batch, keyring)
    finally:
        if keyring:
            keyring.close()
    return report


def _import_file(
    node: Node,
    path: Path,
    report: Report,
    hooks: Hooks,
    resume: bool,
    batch: int,
    keyring: csaf_import.Keyring | None,
) -> None:
    if hooks.file:
        hooks.file(path)
    report.files += 1
    before = (report.stored, report.unchanged, len(report.failures))
    try:
        run = _FileRun(node, path, report, hooks, resume, batch, keyring)
        run.go()
    except KizunaError as exc:
        report.failures.append(Failure(str(path), None, exc.message))
    log.info(
        "import",
        extra={
            "file": str(path),
            "stored": report.stored - before[0],
            "unchanged": report.unchanged - before[1],
            "failed": len(report.failures) - before[2],
        },
    )


def sniff(head: bytes) -> tuple[str, str | None]:
    """A JSON document's kind from its first bytes: ("misp"|"stix"|"unknown", bundle version)."""
    text = head.lstrip()
    if text.startswith(b"["):
        return ("misp" if re.match(rb'\[\s*\{\s*"Event"\s*:', text) else "stix"), None
    keys: list[str] = []
    version: str | None = None
    depth = 0
    key: str | None = None
    try:
        # basic_parse: no prefixes, whose length grows with the nesting (quadratic in a deep head)
        for event, value in ijson.basic_parse(io.BytesIO(text)):
            if event in ("start_map", "start_array"):
                depth += 1
                if depth > 2:
                    continue  # skip over nested values without looking at them
            elif event in ("end_map", "end_array"):
                depth -= 1
            elif depth == 1 and event == "map_key":
                key = str(value)
                keys.append(key)
            elif depth == 1 and key == "spec_version" and event == "string":
                version = str(value)
            if len(keys) > 50:
                break
    except ijson.JSONError:
        pass  # the head ends mid-document
    if {"Event", "response"} & set(keys) or {"Attribute", "info"} <= set(keys):
        return "misp", None
    if {"objects", "type", "id"} & set(keys):
        return "stix", version
    return "unknown", version


class _FileRun:
    """One file's import: read units, ingest them in batches, keep the journal."""

    def __init__(
        self,
        node: Node,
        path: Path,
        report: Report,
        hooks: Hooks,
        resume: bool,
        batch: int,
        keyring: csaf_import.Keyring | None = None,
    ) -> None:
        self.node, self.path, self.report, self.hooks, self.batch_size = (
            node, path, report, hooks, batch,
        )  # fmt: skip
        self.keyring = keyring
        try:
            st = path.stat()
        except OSError as exc:
            raise InvalidInput(f"{path}: cannot read: {exc}") from exc
        self.size, self.mtime_ns = st.st_size, st.st_mtime_ns
        resolved = str(path.resolve())
        self.key = hashlib.sha256(f"{resolved}|{self.size}|{self.mtime_ns}".encode()).hexdigest()
        self.resolved = resolved
        with node.db.read() as conn:
            found = journal.get(conn, self.key) if resume else None
        self.entry = found or journal.Entry(self.key, 0, 0, False, 0, 0, 0)
        self.read_bytes = 0

    # -- driving --

    def go(self) -> None:
        if self.entry.finished:
            self.report.skipped += 1
            self._bytes(self.size)
            return
        if self.entry.position:
            self.report.resumed += 1
        if self.path.suffix in _NDJSON:
            self._objects(self._ndjson(), unit_offsets=True)
        else:
            self._json()
        self._save(finished=True)
        self._bytes(self.size - self.read_bytes)

    def _json(self) -> None:
        with self.path.open("rb") as f:
            head = f.read(_HEAD)
        kind, version = sniff(head)
        if self.size <= STREAM_ABOVE or kind == "unknown":
            try:
                document = orjson.loads(self.path.read_bytes())
            except orjson.JSONDecodeError as exc:
                raise InvalidJson(f"{self.path}: not JSON: {exc}") from exc
            except OSError as exc:
                raise InvalidInput(f"{self.path}: cannot read: {exc}") from exc
            self._bytes(self.size)
            self.read_bytes = self.size
            if misp.is_misp(document):
                self._events(iter(misp.events_of(document, str(self.path))))
                return
            if csaf_import.is_csaf(document):
                self._csaf(document)
                return
            version = document.get("spec_version") if isinstance(document, dict) else None
            try:
                objs = objects_of(document, str(self.path))
            except InvalidJson as exc:
                raise InvalidJson(
                    f"{self.path}: neither STIX (a bundle, TAXII envelope, object or list of"
                    " objects) nor MISP events"
                ) from exc
            self._objects(enumerate_all(objs, version))
            return
        with self.path.open("rb") as f:
            counted = _Counting(f, self._bytes_and_remember)
            try:
                if kind == "misp":
                    prefix = "item" if head.lstrip().startswith(b"[") else "response.item"
                    events = (
                        e.get("Event", e) if isinstance(e, dict) else e
                        for e in ijson.items(counted, prefix, use_float=True)
                    )
                    self._events(events)
                else:
                    prefix = "item" if head.lstrip().startswith(b"[") else "objects.item"
                    items = ijson.items(counted, prefix, use_float=True)
                    self._objects(enumerate_all(items, version))
            except ijson.JSONError as exc:
                raise InvalidJson(f"{self.path}: not JSON: {exc}") from exc
            except InvalidJson as exc:  # the depth guard stopped the parser
                raise InvalidJson(f"{self.path}: {exc.message}") from exc

    def _ndjson(self) -> Iterator[tuple[int, int, Any]]:
        """(line index, offset after the line, object or error) from the journal's offset on."""
        with self.path.open("rb") as f:
            f.seek(self.entry.offset)
            offset = self.entry.offset
            n = self.entry.position
            for line in f:
                offset += len(line)
                self._bytes_and_remember(len(line))
                if not line.strip():
                    continue
                try:
                    value: Any = orjson.loads(line)
                except orjson.JSONDecodeError as exc:
                    value = InvalidJson(f"line is not JSON: {exc}")
                yield n, offset, value
                n += 1

    # -- STIX objects --

    def _objects(self, units: Iterator[tuple[int, int, Any]], unit_offsets: bool = False) -> None:
        """Ingest units in batches; the journal's position counts units (lines, list items)."""
        skip = 0 if unit_offsets else self.entry.position
        batch: list[Any] = []
        first = consumed = self.entry.position
        offset = self.entry.offset
        home = self.node.home_party
        for index, after, obj in units:
            if index < skip:
                continue
            consumed, offset = index + 1, after
            if isinstance(obj, KizunaError):
                self.report.failures.append(Failure(f"{self.path}#{index}", None, obj.message))
                self.entry = replace(self.entry, failed=self.entry.failed + 1)
                self._count(1)
                continue
            batch.extend(upgrade_all([obj]))
            if len(batch) >= self.batch_size:
                self._flush(batch, first, consumed, offset, home)
                batch, first = [], consumed
        if batch or consumed != self.entry.position:
            self._flush(batch, first, consumed, offset, home)

    def _flush(self, batch: list[Any], first: int, position: int, offset: int, home: Any) -> None:
        outcomes = ingest.ingest(self.node, batch, submitter=home, path="import") if batch else []
        before = len(self.report.failures)
        self.report.add(str(self.path), outcomes, first, file=str(self.path))
        self.entry = replace(
            self.entry,
            position=position,
            offset=offset,
            stored=self.entry.stored + sum(1 for o in outcomes if o.status == "stored"),
            unchanged=self.entry.unchanged + sum(1 for o in outcomes if o.status == "unchanged"),
            failed=self.entry.failed + len(self.report.failures) - before,
        )
        self._save(finished=False)
        self._count(len(batch))

    # -- CSAF advisories --

    def _csaf(self, document: Any) -> None:
        """One CSAF document: checked whole, then stored whole (one transaction) or not at all."""
        where = str(self.path)
        checked = csaf_import.check(self.path, self.path.read_bytes(), document, self.keyring)
        objects = checked.converted.objects
        refused = _refusals(objects)
        if refused:
            for oid, reason in refused:
                self.report.failures.append(Failure(where, oid, reason))
            self.entry = replace(self.entry, failed=self.entry.failed + len(refused))
            return
        outcomes = ingest.ingest(self.node, objects, submitter=self.node.home_party, path="import")
        before = len(self.report.failures)
        self.report.add(where, outcomes, 0, file=where)
        self.report.csaf += 1
        for line in checked.verified:
            self.report.verified.append(Failure(where, checked.converted.note_id, line))
        for line in checked.notes:
            self.report.warnings.append(Failure(where, checked.converted.note_id, line))
        self.entry = replace(
            self.entry,
            position=len(objects),
            stored=self.entry.stored + sum(1 for o in outcomes if o.status == "stored"),
            unchanged=self.entry.unchanged + sum(1 for o in outcomes if o.status == "unchanged"),
            failed=self.entry.failed + len(self.report.failures) - before,
        )
        self._count(len(outcomes))

    # -- MISP events --

    def _events(self, events: Iterator[Any]) -> None:
        dirs = misp.directory(self.node)
        home = self.node.home_party
        for index, event in enumerate(events):
            if index < self.entry.position:
                continue
            where = f"{self.path}#event{index}"
            stored = unchanged = failed = 0
            try:
                if not isinstance(event, dict):
                    raise InvalidJson(f"{where}: not a MISP event")
                converted = misp.convert(event, where, dirs)
                converted.objects = self._without_held_shared(converted)
                refused = _refusals(converted.objects)
                if refused:
                    # An event is stored whole or not at all.
                    for oid, reason in refused:
                        self.report.failures.append(Failure(where, oid, reason))
                    failed = len(refused)
                else:
                    outcomes = ingest.ingest(
                        self.node, converted.objects, submitter=home, path="import"
                    )
                    before = len(self.report.failures)
                    self.report.add(where, outcomes, 0, file=str(self.path))
                    stored = sum(1 for o in outcomes if o.status == "stored")
                    unchanged = sum(1 for o in outcomes if o.status == "unchanged")
                    failed = len(self.report.failures) - before
                    self._count(len(outcomes))
                self.report.events += 1
                for note in converted.warnings:
                    self.report.warnings.append(Failure(where, converted.uuid, note))
                for tag in converted.unreadable:
                    self.report.warnings.append(
                        Failure(where, converted.uuid, f"handling tag {tag!r} not understood:"
                                " the event stays on this node")
                    )  # fmt: skip
            except KizunaError as exc:
                self.report.failures.append(Failure(where, None, exc.message))
                failed += 1
            self.entry = replace(
                self.entry,
                position=index + 1,
                stored=self.entry.stored + stored,
                unchanged=self.entry.unchanged + unchanged,
                failed=self.entry.failed + failed,
            )
            self._save(finished=False)

    def _without_held_shared(self, converted: misp.Converted) -> list[dict[str, Any]]:
        """Leave out shared objects (author identity, galaxy clusters) already held at the same
        version: another event stored them with its own markings, and their content is the same;
        this event's link to them is its container, which carries this event's handling."""
        if not converted.shared:
            return converted.objects
        with self.node.db.read() as conn:
            held = store.existing_versions(conn, converted.shared)
        out = []
        for obj in converted.objects:
            versions = held.get(str(obj.get("id")), ())
            stamp = obj.get("modified") or obj.get("created")
            if versions and isinstance(stamp, str):
                modified = parse_timestamp(stamp)
                if any(v.modified == modified for v in versions):
                    continue
            out.append(obj)
        return out

    # -- bookkeeping --

    def _save(self, *, finished: bool) -> None:
        self.entry = replace(self.entry, finished=finished)
        with self.node.db.write() as conn:
            journal.save(
                conn,
                self.key,
                path=self.resolved,
                size=self.size,
                mtime_ns=self.mtime_ns,
                entry=self.entry,
                now_us=self.node.now(),
            )

    def _count(self, n: int) -> None:
        if self.hooks.objects:
            self.hooks.objects(n)

    def _bytes(self, n: int) -> None:
        if self.hooks.bytes and n > 0:
            self.hooks.bytes(n)

    def _bytes_and_remember(self, n: int) -> None:
        self.read_bytes += n
        self._bytes(n)


def enumerate_all(objects: Iterable[Any], version: Any = None) -> Iterator[tuple[int, int, Any]]:
    """(index, offset, object) for objects of a JSON document (offsets only matter for NDJSON)."""
    bundle_version = version if isinstance(version, str) else None
    for n, obj in enumerate(objects):
        if bundle_version == "2.0" and isinstance(obj, dict) and "spec_version" not in obj:
            obj = {**obj, "spec_version": "2.0"}
        yield n, 0, obj


def _refusals(objects: list[dict[str, Any]]) -> list[tuple[str | None, str]]:
    """What the validator refuses in a converted event (checked before anything is stored)."""
    out: list[tuple[str | None, str]] = []
    for obj in objects:
        try:
            validate(obj)
        except KizunaError as exc:
            oid = obj.get("id")
            out.append((oid if isinstance(oid, str) else None, exc.message))
    return out


class _Counting(io.RawIOBase):
    """A read-only stream that reports how many bytes were read (for the progress bar), and
    stops the streaming parser before it builds a nesting deeper than any document may have
    (ijson would build all of it: a 10 MB file of ``[`` is five million nested lists)."""

    def __init__(self, inner: BinaryIO, seen: Counter) -> None:
        self.inner, self.seen = inner, seen
        self.depth = DepthScanner()

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        data = self.inner.read(size)
        self._check(data)
        return data

    def readinto(self, buffer: Any) -> int:
        data = self.inner.read(len(buffer))
        self._check(data)
        buffer[: len(data)] = data
        return len(data)

    def _check(self, data: bytes) -> None:
        self.seen(len(data))
        if self.depth.feed(data) > DOCUMENT_DEPTH_LIMIT:
            raise InvalidJson(
                f"nested deeper than {DOCUMENT_DEPTH_LIMIT} levels, the most this node parses"
            )
