"""Back up a node and restore it; a restore verifies the ledger and every seal first.

A backup is a folder (0700): the database (``kizuna.db`` made with SQLite's online backup API, or
``database.pgdump`` from ``pg_dump --format=custom``), the node's key, its ``ledger-heads`` file,
and ``manifest.json`` naming each file's SHA-256. ``ledger-heads`` is copied before the database,
so every head in it is in the copied chain.

A restore checks the manifest, loads the copy into a staging place, brings its schema up to
date, verifies the ledger (chain, signed checkpoints, the chain against ``ledger-heads``) and
every stored seal against the object it seals and its signer's keys; only a backup that verifies
takes the node folder's place. One that does not is removed again, and the refusal names what
failed.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from kizuna import __version__
from kizuna.core import seals as core_seals
from kizuna.core.ledger_heads import HEADS_FILE
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import InvalidInput, KizunaError
from kizuna.services import ledger as ledger_service
from kizuna.services.node import KEY_FILE, Node, open_node
from kizuna.storage import backup as store_backup
from kizuna.storage import migrate
from kizuna.storage import parties as party_store
from kizuna.storage.database import SQLITE_FILE
from kizuna.storage.schema import objects, seals

MANIFEST = "manifest.json"
PG_DUMP_FILE = "database.pgdump"
FORMAT = 1


class RestoreRefused(KizunaError):
    """A backup that does not verify: nothing of it was kept."""

    code = "restore-refused"
    status = 422


@dataclass(frozen=True)
class Manifest:
    party: str
    party_name: str
    schema: str | None
    database: str  # "sqlite" or "postgresql"
    created: str
    files: dict[str, str]  # name -> sha256

    def to_json(self) -> bytes:
        return orjson.dumps(
            {
                "format": FORMAT,
                "kizuna": __version__,
                "party": self.party,
                "party_name": self.party_name,
                "schema": self.schema,
                "database": self.database,
                "created": self.created,
                "files": self.files,
            },
            option=orjson.OPT_INDENT_2,
        )


@dataclass(frozen=True)
class SealCheck:
    checked: int
    problems: list[str]


@dataclass(frozen=True)
class Restored:
    manifest: Manifest
    entries: int
    checkpoints: int
    seals: int


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _copy_private(source: Path, target: Path) -> None:
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out, source.open("rb") as src:
        shutil.copyfileobj(src, out)


def backup(node: Node, target: Path) -> Manifest:
    """Write a backup of ``node`` into the new (or empty) folder ``target``."""
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise InvalidInput(f"{target} exists and is not an empty folder; choose a new one")
    target.mkdir(mode=0o700, parents=True, exist_ok=True)
    target.chmod(0o700)
    files: list[str] = [KEY_FILE]
    _copy_private(node.home / KEY_FILE, target / KEY_FILE)
    heads = node.home / HEADS_FILE
    if heads.exists():  # before the database: the copy's chain then holds every head in it
        _copy_private(heads, target / HEADS_FILE)
        files.append(HEADS_FILE)
    if node.db.is_sqlite:
        store_backup.sqlite_copy(store_backup.sqlite_path(node.db.url), target / SQLITE_FILE)
        files.append(SQLITE_FILE)
        kind = "sqlite"
    else:
        store_backup.pg_dump(node.db.url, target / PG_DUMP_FILE)
        files.append(PG_DUMP_FILE)
        kind = "postgresql"
    manifest = Manifest(
        party=node.home_party.id,
        party_name=node.home_party.name,
        schema=migrate.current(node.db),
        database=kind,
        created=format_timestamp(node.now()),
        files={name: _sha256(target / name) for name in sorted(files)},
    )
    fd = os.open(target / MANIFEST, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(manifest.to_json())
    return manifest


def read_manifest(source: Path) -> Manifest:
    """The backup's manifest, after checking every file it names against its digest."""
    try:
        raw: dict[str, Any] = orjson.loads((source / MANIFEST).read_bytes())
    except FileNotFoundError:
        raise InvalidInput(f"{source} is not a kizuna backup: it has no {MANIFEST}") from None
    except orjson.JSONDecodeError as exc:
        raise RestoreRefused(f"{source / MANIFEST} is not JSON: {exc}") from exc
    if raw.get("format") != FORMAT:
        raise RestoreRefused(f"{source / MANIFEST}: unknown backup format {raw.get('format')!r}")
    try:
        manifest = Manifest(
            party=str(raw["party"]),
            party_name=str(raw["party_name"]),
            schema=raw.get("schema"),
            database=str(raw["database"]),
            created=str(raw["created"]),
            files={str(k): str(v) for k, v in dict(raw["files"]).items()},
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise RestoreRefused(f"{source / MANIFEST} lacks {exc}") from exc
    for name, digest in manifest.files.items():
        if "/" in name or name.startswith("."):
            raise RestoreRefused(f"{MANIFEST} names {name!r}, which is not a backup file")
        path = source / name
        if not path.is_file():
            raise RestoreRefused(f"the backup lacks {name}, which its manifest names")
        if _sha256(path) != digest:
            raise RestoreRefused(f"{name} does not match its digest in {MANIFEST}: changed or cut")
    if KEY_FILE not in manifest.files:
        raise RestoreRefused(f"the backup holds no {KEY_FILE}")
    return manifest


def _seal_rows(node: Node) -> Iterator[tuple[core_seals.Seal, bytes | None]]:
    cols = (
        seals.c.object_id,
        seals.c.version,
        seals.c.signer,
        seals.c.key_id,
        seals.c.digest,
        seals.c.signature,
        seals.c.created,
        seals.c.original_digest,
        seals.c.received_from,
    )
    joined = seals.outerjoin(
        objects, (objects.c.id == seals.c.object_id) & (objects.c.modified == seals.c.modified)
    )
    query = select(*cols, objects.c.content).select_from(joined)
    with node.db.read() as conn:
        for row in conn.execute(query):
            yield core_seals.Seal(*row[:9]), row[9]


def verify_seals(node: Node) -> SealCheck:
    """Every stored seal whose object version is stored: digest and signature, by its signer's
    keys (a derivative's seal seals what a release computes, so it has no stored row)."""
    with node.db.read() as conn:
        keys = party_store.every_key(conn)  # retired keys verify what they signed before
    keys[node.home_party.id] = (*keys.get(node.home_party.id, ()), node.public_key)
    checked, problems = 0, []
    for seal, content in _seal_rows(node):
        if content is None:
            continue
        checked += 1
        try:
            core_seals.verify(seal, orjson.loads(content), keys.get(seal.signer, ()))
        except core_seals.InvalidSeal as exc:
            problems.append(f"seal of {seal.signer} on {seal.object_id} {seal.version}: {exc}")
    return SealCheck(checked, problems)


def _verify(node: Node) -> tuple[int, int, int]:
    audit = ledger_service.verify(node)
    problems = [f"ledger: {p.message}" for p in audit.problems]
    sealed = verify_seals(node)
    problems += sealed.problems
    if problems:
        shown = problems[:10] + ([f"... and {len(problems) - 10} more"] if problems[10:] else [])
        raise RestoreRefused(
            "the backup does not verify, nothing restored:\n  " + "\n  ".join(shown)
        )
    return audit.entries, audit.checkpoints, sealed.checked


def _holds_a_node(home: Path) -> bool:
    return (home / KEY_FILE).exists() or (home / SQLITE_FILE).exists()


def restore(source: Path, home: Path, database_url: str | None = None) -> Restored:
    """Restore the backup in ``source`` as the node in ``home`` (and ``database_url``)."""
    manifest = read_manifest(source)
    if _holds_a_node(home):
        raise InvalidInput(f"{home} already holds a node; restore into a new folder")
    if home.exists() and (not home.is_dir() or any(home.iterdir())):
        raise InvalidInput(f"{home} is not empty; restore into a new folder")
    if manifest.database == "postgresql" and not database_url:
        raise InvalidInput(
            "this backup is of a PostgreSQL node: give the empty database to restore into"
            " (--database-url or KIZUNA_DATABASE_URL)"
        )
    if manifest.database == "sqlite" and database_url:
        raise InvalidInput("this backup is of a SQLite node: restore it without --database-url")
    home.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{home.name}.restoring-", dir=home.parent))
    loaded_into: str | None = None
    try:
        staging.chmod(0o700)
        for name in manifest.files:
            if name != PG_DUMP_FILE:
                _copy_private(source / name, staging / name)
        if manifest.database == "postgresql":
            assert database_url is not None
            if not store_backup.is_empty(database_url):
                raise InvalidInput("the database to restore into is not empty")
            loaded_into = database_url
            store_backup.pg_restore(database_url, source / PG_DUMP_FILE)
        node = open_node(staging, database_url=database_url)
        try:
            if node.home_party.id != manifest.party:
                raise RestoreRefused(
                    f"the database is {node.home_party.id}'s, the manifest says {manifest.party}"
                )
            entries, checkpoints, sealed = _verify(node)
        finally:
            node.close()
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if loaded_into is not None:
            store_backup.drop_everything(loaded_into)
        raise
    if home.exists():
        home.rmdir()
    staging.rename(home)
    return Restored(manifest, entries, checkpoints, sealed)
