"""Import CSAF 2.0 advisories: check the file (hashes, OpenPGP signature, schema, mandatory
tests), then turn it into STIX with `core.csaf.stix`.

* A `.sha512` (or `.sha256`) beside the file must match its bytes; an `.asc` beside it is checked
  with the system `gpg` (through python-gnupg) against the keys given (`--csaf-keys`). A hash
  that does not match, or a signature that does not verify against those keys, refuses the
  document; an `.asc` with no keys given is reported as not verified.
* The CSAF 2.0 JSON schema must pass (the `csaf` validator); a document that fails a mandatory
  test (6.1.x) is still imported, and the report names each test it fails: real publishers'
  advisories do (CISA's fail 6.1.31), and refusing them would lose them.
"""

from __future__ import annotations

import functools
import hashlib
import logging
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from kizuna.core.csaf.stix import CSAF_SOURCE, Converted, document_text, is_csaf, to_stix
from kizuna.errors import InvalidCsaf, InvalidInput, NotFound
from kizuna.services.node import Node
from kizuna.storage import objects as store

__all__ = ["Checked", "Keyring", "check", "is_csaf", "stored_document"]

_HASHES = (".sha512", ".sha256")
_SHOWN = 3


@dataclass(frozen=True)
class Checked:
    """A CSAF document that passed the checks, its STIX objects, and what the checks said."""

    converted: Converted
    verified: list[str] = field(default_factory=list)  # hashes and signatures verified
    notes: list[str] = field(default_factory=list)  # not verified, mandatory tests failed


class Keyring:
    """OpenPGP public keys to check `.asc` signatures against, in a GnuPG home of its own."""

    def __init__(self, keys: Path) -> None:
        import gnupg  # type: ignore[import-untyped]

        self._home = tempfile.TemporaryDirectory(prefix="kizuna-csaf-keys-")
        self._gpg = gnupg.GPG(gnupghome=self._home.name)
        try:
            data = keys.read_bytes()
        except OSError as exc:
            raise InvalidCsaf(f"{keys}: cannot read the OpenPGP keys: {exc}") from exc
        found = self._gpg.import_keys(data)
        if not found.fingerprints:
            self.close()
            raise InvalidCsaf(f"{keys}: holds no OpenPGP public key")
        self.fingerprints = list(found.fingerprints)

    def verify(self, signature: Path, data: bytes) -> str:
        """Who signed `data` (fingerprint and user id); InvalidCsaf when it does not verify."""
        result = self._gpg.verify_data(str(signature), data)
        if not result.valid:
            why = result.status or "no valid signature"
            if result.key_id and result.status == "no public key":
                why = f"signed by key {result.key_id}, which is not among the keys given"
            raise InvalidCsaf(
                f"{signature}: the OpenPGP signature does not verify: {why}",
                code="csaf-bad-signature",
            )
        return f"{result.fingerprint} ({result.username})"

    def close(self) -> None:
        self._home.cleanup()


def check(path: Path, raw: bytes, document: Any, keyring: Keyring | None) -> Checked:
    """Check one CSAF file whole; InvalidCsaf (nothing to store) when it may not be imported."""
    verified: list[str] = []
    notes: list[str] = []
    for suffix in _HASHES:
        beside = path.with_name(path.name + suffix)
        if beside.is_file():
            verified.append(_check_hash(beside, raw, suffix[1:]))
    signature = path.with_name(path.name + ".asc")
    if signature.is_file():
        if keyring is None:
            notes.append(
                f"{signature.name}: OpenPGP signature not verified: no keys given "
                "(kizuna import --csaf-keys FILE)"
            )
        else:
            verified.append(f"OpenPGP signature verified: {keyring.verify(signature, raw)}")
    version = document["document"].get("csaf_version")
    if version != "2.0":
        raise InvalidCsaf(f"{path}: CSAF {version!r} is not supported: kizuna reads CSAF 2.0")
    notes.extend(_validate(path, document))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidCsaf(f"{path}: not UTF-8 (CSAF 2.0 §9.1.1): {exc}") from exc
    return Checked(to_stix(document, text), verified, notes)


def _check_hash(beside: Path, raw: bytes, algorithm: str) -> str:
    try:
        words = beside.read_text("utf-8").split()
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidCsaf(f"{beside}: cannot read: {exc}") from exc
    expected = words[0].lower() if words else ""
    actual = hashlib.new(algorithm, raw).hexdigest()
    if expected != actual:
        raise InvalidCsaf(
            f"{beside.name}: the file's {algorithm.upper()} is {actual[:16]}…, not the "
            f"{expected[:16] or '(empty)'}… it states: the file was changed or the hash is wrong",
            code="csaf-hash-mismatch",
        )
    return f"{beside.name}: {algorithm.upper()} matches"


@functools.cache
def validator() -> Any:
    """The `csaf` package's CSAF 2.0 validator, imported without its logging set-up: on import
    it calls logging.basicConfig, which would print every kizuna log record on stderr."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    try:
        from csaf.csaf.v20 import validate
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)
    return validate


def _validate(path: Path, document: Any) -> list[str]:
    """Schema errors raise; the mandatory tests that fail come back as notes."""
    report = validator()(document, path=str(path), preset="basic")
    notes = []
    for result in report.results:
        if result.passed or result.skipped:
            continue
        found = "; ".join(f"{e.instance_path}: {e.message}" for e in result.errors[:_SHOWN])
        more = f" (and {len(result.errors) - _SHOWN} more)" if len(result.errors) > _SHOWN else ""
        if result.id == "schema":
            raise InvalidCsaf(f"{path}: not valid CSAF 2.0 (JSON schema): {found}{more}")
        notes.append(f"mandatory test {result.id} ({result.title}) fails: {found}{more}")
    return notes


def stored_document(node: Node, key: str) -> str:
    """The text of a CSAF document this node imported, exactly as imported.

    `key` is the note's id or the document's tracking id; a tracking id that more than one held
    document carries (a security advisory and its VEX, two publishers) must be given as a note id.
    """
    with node.db.read() as conn:
        if key.startswith("note--"):
            rows = list(store.latest(conn, [key]).values())
        else:
            rows = [v for v in store.of_type(conn, "note") if v.is_latest]
    found = []
    for row in rows:
        note = orjson.loads(row.content)
        refs = note.get("external_references") or ()
        tracked = any(r.get("source_name") == CSAF_SOURCE for r in refs)
        if tracked and (key == note["id"] or any(r.get("external_id") == key for r in refs)):
            found.append(note)
    if not found:
        raise NotFound(
            f"{key}: no CSAF document imported on this node has this note or tracking id"
        )
    if len(found) > 1:
        ids = ", ".join(f"{n['id']} ({n['abstract']})" for n in found)
        raise InvalidInput(
            f"{key}: {len(found)} CSAF documents carry this tracking id; give one: {ids}"
        )
    return document_text(found[0])
