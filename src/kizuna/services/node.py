"""A node: its home folder, database, key, clock and home party; ``init`` and ``open``."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kizuna.core import settings as core_settings
from kizuna.core import signing
from kizuna.core.parties import Party, check_jurisdiction, check_kind, check_scheme
from kizuna.core.party_names import normalise
from kizuna.errors import AlreadyExists, InvalidInput, NodeNotInitialised
from kizuna.services.metrics import Metrics
from kizuna.storage import migrate
from kizuna.storage import parties as party_store
from kizuna.storage import settings as settings_store
from kizuna.storage.database import Database, sqlite_url

KEY_FILE = "node.key"

Clock = Callable[[], int]
IdFactory = Callable[[str], str]


def system_clock() -> int:
    """Now, in microseconds since the Unix epoch."""
    return time.time_ns() // 1000


def random_id(stix_type: str) -> str:
    """A new STIX id (UUIDv4) of the given type."""
    return f"{stix_type}--{uuid.uuid4()}"


def database_url_for(home: Path, database_url: str | None) -> str:
    """The URL given (``KIZUNA_DATABASE_URL``) or the home folder's embedded SQLite."""
    return database_url or sqlite_url(home)


@dataclass
class Node:
    """An opened node. Faces get one of these and call services with it."""

    home: Path
    db: Database
    private_key: bytes
    home_party: Party
    clock: Clock = system_clock
    new_id: IdFactory = random_id
    _settings: dict[str, Any] | None = field(default=None, repr=False)
    metrics: Metrics = field(default_factory=Metrics, repr=False)
    # Per-node caches of derived state (see services.state); dropped with the node.
    cache: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def public_key(self) -> str:
        return signing.public_key_of(self.private_key)

    def now(self) -> int:
        return self.clock()

    def settings(self) -> dict[str, Any]:
        """Effective settings (stored values over defaults), read once per opened node."""
        if self._settings is None:
            with self.db.read() as conn:
                self._settings = core_settings.resolve(settings_store.stored(conn))
        return self._settings

    def set_setting(self, name: str, value: str | None) -> Any:
        """Store (or, with None, reset) a setting after checking its value."""
        setting = core_settings.BY_NAME.get(name)
        if setting is None:
            known = ", ".join(core_settings.BY_NAME)
            raise InvalidInput(f"there is no setting {name!r}; settings are: {known}")
        with self.db.write() as conn:
            if value is None:
                settings_store.reset(conn, name)
            else:
                try:
                    setting.parse(value)
                except ValueError as exc:
                    raise InvalidInput(f"setting {name}: {exc}") from exc
                settings_store.put(conn, name, value)
            party_store.bump_caches(conn)  # every process of the node reads them again
        self._settings = None
        return self.settings()[name]

    def forget_settings(self) -> None:
        """Read the settings again on next use (another process may have changed them)."""
        self._settings = None

    def close(self) -> None:
        self.db.dispose()


def _write_key(path: Path, private_key: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(signing.b64(private_key) + "\n")


def read_key(path: Path) -> bytes:
    """A raw Ed25519 private key from a key file (base64url text)."""
    try:
        key = signing.unb64(path.read_text().strip())
    except (OSError, ValueError) as exc:
        raise InvalidInput(f"cannot read the key file {path}: {exc}") from exc
    if len(key) != 32:
        raise InvalidInput(f"{path} does not hold a raw Ed25519 private key")
    return key


def new_private_key() -> bytes:
    """A fresh raw Ed25519 private key."""
    return Ed25519PrivateKey.generate().private_bytes_raw()


def write_new_key(path: Path) -> str:
    """Create a key file (mode 0600, never overwritten); returns its public key."""
    key = new_private_key()
    try:
        _write_key(path, key)
    except FileExistsError as exc:
        raise AlreadyExists(f"{path} exists; kizuna never overwrites a key file") from exc
    return signing.public_key_of(key)


def init_node(
    home: Path,
    *,
    party_name: str,
    jurisdiction: str,
    kind: str,
    scheme: str | None = None,
    sector: str | None = None,
    party_id: str | None = None,
    database_url: str | None = None,
    clock: Clock = system_clock,
    new_id: IdFactory = random_id,
) -> Node:
    """Create a node: its folder, key, database and home party."""
    from kizuna.services import parties as party_service

    try:
        party_name = normalise(party_name)
        jurisdiction = check_jurisdiction(jurisdiction)
        kind = check_kind(kind)
        scheme = check_scheme(scheme) if scheme else None
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    home.mkdir(mode=0o700, parents=True, exist_ok=True)
    home.chmod(0o700)  # the node's key and database live here: its user's alone
    key_path = home / KEY_FILE
    db = Database(database_url_for(home, database_url))
    migrate.upgrade(db)
    with db.read() as conn:
        exists = party_store.home_party_id(conn) is not None
    if exists:
        db.dispose()
        raise AlreadyExists(f"a node is already initialised in {home}")
    if key_path.exists():
        db.dispose()
        raise AlreadyExists(f"{key_path} exists; move it away or use another --home")
    private_key = new_private_key()
    _write_key(key_path, private_key)
    party = Party(
        id=party_id or new_id("identity"),
        name=party_name,
        jurisdiction=jurisdiction,
        kind=kind,
        scheme=scheme,
        sector=sector,
        public_keys=(signing.public_key_of(private_key),),
        is_home=True,
    )
    now = clock()
    with db.write() as conn:
        party_store.create_node(conn, party.id, now)
    node = Node(home, db, private_key, party, clock, new_id)
    party_service.register(node, party)
    _publish_extension_definitions(node)
    return node


def _publish_extension_definitions(node: Node) -> None:
    """Hold kizuna's extension-definitions, so they travel with what uses them (DESIGN.md)."""
    from kizuna.services import ingest

    bundle = orjson.loads(
        (resources.files("kizuna") / "data" / "extension-definitions.json").read_bytes()
    )
    for outcome in ingest.ingest(
        node, bundle["objects"], submitter=node.home_party, path="registry"
    ):
        if outcome.error is not None:
            raise outcome.error


def open_node(
    home: Path,
    *,
    database_url: str | None = None,
    clock: Clock = system_clock,
    new_id: IdFactory = random_id,
    upgrade: bool = True,
) -> Node:
    """Open an initialised node (bringing its schema up to date unless told not to)."""
    key_path = home / KEY_FILE
    if not key_path.exists():
        raise NodeNotInitialised(
            f"no node in {home}: run `kizuna init --party-name NAME --jurisdiction CC --kind KIND`"
            " first (or pass --home / set KIZUNA_HOME)"
        )
    db = Database(database_url_for(home, database_url))
    if upgrade:
        migrate.upgrade(db)
    with db.read() as conn:
        home_id = party_store.home_party_id(conn)
        everyone = party_store.all_parties(conn) if home_id else []
    if home_id is None:
        db.dispose()
        raise NodeNotInitialised(f"the database of {home} holds no node; run `kizuna init`")
    try:
        private_key = read_key(key_path)
    except InvalidInput:
        db.dispose()
        raise
    home_party = next(p for p in everyone if p.id == home_id)
    return Node(home, db, private_key, home_party, clock, new_id)
