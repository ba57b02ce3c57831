"""The database schema, in SQLAlchemy Core. Alembic migrations are written against it."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    text,
)

metadata = MetaData()

# One row: the node's home party and the clock behind TAXII ``date_added``.
node = Table(
    "node",
    metadata,
    Column("singleton", Integer, primary_key=True, autoincrement=False),
    Column("home_party", String(64), nullable=False),
    Column("last_date_added", BigInteger, nullable=False),
    Column("created_us", BigInteger, nullable=False),
    # Bumped whenever parties, agreements or consents change, so every process reloads them.
    Column("generation", BigInteger, nullable=False, server_default=text("0")),
    # Bumped when settings, marking definitions or received seals change: every process drops
    # what it remembers of them (services.state). Peers never see it, unlike ``generation``.
    Column("caches", BigInteger, nullable=False, server_default=text("0")),
)

settings = Table(
    "settings",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

parties = Table(
    "parties",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("jurisdiction", String(8), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("scheme", String(16)),
    Column("sector", String(100)),
    Column("is_client", Boolean, nullable=False, server_default=text("false")),
    Column("created_us", BigInteger, nullable=False),
)

party_keys = Table(
    "party_keys",
    metadata,
    Column("party_id", String(64), primary_key=True),
    Column("key_id", String(32), primary_key=True),
    Column("public_key", String(64), nullable=False),
    Column("added_us", BigInteger, nullable=False),
    # A retired key is no longer trusted for anything new; a backup's seals made before still
    # verify with it (services.backup).
    Column("retired_us", BigInteger),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("party_id", String(64), nullable=False, index=True),
    Column("name", String(100), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
    # "party": acts as its party everywhere; "monitoring": may read /metrics and nothing else.
    Column("scope", String(16), nullable=False, server_default=text("'party'")),
    # A personal token: the user it acts for (as that user's party, with that user's roles).
    Column("user_id", String(32)),
)

# People: accounts of the console and of personal tokens. A user belongs to one party (the home
# party, or a partner whose analysts use this node's console) and has roles (core.people).
users = Table(
    "users",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("party_id", String(64), nullable=False),
    Column("roles", String(100), nullable=False),
    # Argon2id (argon2-cffi's encoded form: parameters, salt and hash).
    Column("password_hash", String(200), nullable=False),
    Column("disabled", Boolean, nullable=False, server_default=text("false")),
    Column("created_us", BigInteger, nullable=False),
    # When the user last opened the console's home page ("what arrived since my last visit").
    Column("last_visit_us", BigInteger),
)

# Console sessions: only a hash of the cookie's secret is stored; revoked by setting revoked_us.
sessions = Table(
    "sessions",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("user_id", String(32), nullable=False, index=True),
    Column("csrf", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("expires_us", BigInteger, nullable=False),
    Column("revoked_us", BigInteger),
)

# Who did what: every write through the console, the JSON API or TAXII records the party and,
# when a person acted (console session or personal token), the person (``kizuna audit actions``).
actions = Table(
    "actions",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("time_us", BigInteger, nullable=False),
    Column("party_id", String(64), nullable=False),
    Column("user_name", String(100)),
    Column("via", String(16), nullable=False),
    Column("action", String(200), nullable=False),
    Column("outcome", Integer, nullable=False),
)

# Object versions: (id, modified) is immutable; ``date_added`` is unique and strictly increasing.
objects = Table(
    "objects",
    metadata,
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
    Column("id", String(300), nullable=False),
    Column("type", String(250), nullable=False),
    Column("modified", BigInteger, nullable=False),
    Column("spec_version", String(8), nullable=False),
    Column("is_latest", Boolean, nullable=False),
    Column("is_first", Boolean, nullable=False),
    Column("source", String(64), nullable=False),
    Column("submitted_by", String(64), nullable=False),
    Column("path", String(16), nullable=False),
    Column("first_hop", Boolean, nullable=False),
    Column("handling", Text, nullable=False),
    Column("refs", Text, nullable=False),
    Column("digest", String(80), nullable=False),
    Column("content", LargeBinary, nullable=False),
    # The version's entry in ``view_keys``: what the gate's decision on it depends on.
    Column("view_key", Integer, nullable=False),
    UniqueConstraint("id", "modified", name="uq_objects_version"),
    Index(
        "ix_objects_latest",
        "date_added",
        sqlite_where=text("is_latest"),
        postgresql_where=text("is_latest"),
    ),
    Index("ix_objects_type", "type", "date_added"),
    Index("ix_objects_source", "source", "date_added"),
    Index("ix_objects_view_key", "view_key", "date_added"),
)

# The index of parties' views (services.view): every distinct combination of what the gate's
# decision on a version depends on besides its id, its references and the context. A key's
# columns never change; a version whose handling changes moves to another key.
view_keys = Table(
    "view_keys",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # SHA-256 of the columns below (storage.view_keys.digest_of), so a key is found by one lookup.
    Column("digest", String(64), nullable=False, unique=True),
    Column("type", String(250), nullable=False),
    Column("source", String(64), nullable=False),
    Column("submitted_by", String(64), nullable=False),
    Column("first_hop", Boolean, nullable=False),
    Column("handling", Text, nullable=False),
    # The newest ``date_added`` ever given a version of this key: a page after it skips the key.
    Column("last_added", BigInteger, nullable=False),
    Index("ix_view_keys_last_added", "last_added"),
)

# Object versions whose markings named a marking-definition the node did not hold yet: their
# handling is recomputed when it arrives (until then the gate fails closed on them).
pending_markings = Table(
    "pending_markings",
    metadata,
    Column("marking_id", String(300), primary_key=True),
    Column("date_added", BigInteger, primary_key=True, autoincrement=False),
)

# TAXII status resources; POSTs are processed synchronously, so each is complete when written.
statuses = Table(
    "statuses",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("party_id", String(64), nullable=False),
    Column("created_us", BigInteger, nullable=False),
    Column("document", LargeBinary, nullable=False),
)

# Agreements: every version of every signed document, and its local lifecycle state.
agreements = Table(
    "agreements",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("document", Text, nullable=False),
    Column("state", String(16), nullable=False),
    Column("updated_us", BigInteger, nullable=False),
)

# The ledger: append-only, hash-chained record of every release to another party.
ledger = Table(
    "ledger",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("time_us", BigInteger, nullable=False),
    Column("recipient", String(64), nullable=False),
    Column("object_id", String(300), nullable=False),
    Column("object_modified", BigInteger, nullable=False),
    Column("released_id", String(300), nullable=False),
    Column("released_digest", String(80), nullable=False),
    Column("original_digest", String(80), nullable=False),
    Column("outcome", String(20), nullable=False),
    Column("agreement", String(80)),
    Column("rules", String(40), nullable=False),
    Column("prev_hash", String(80), nullable=False),
    Column("hash", String(80), nullable=False),
    Index("ix_ledger_object", "object_id"),
    Index("ix_ledger_released", "released_id", "recipient"),
)

ledger_checkpoints = Table(
    "ledger_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("hash", String(80), nullable=False),
    Column("time_us", BigInteger, nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("signature", String(128), nullable=False),
)

# Seals of object versions: received with objects from peers and parties, or made by this node
# (for what its home party originates, and for derivatives) when the version first leaves.
seals = Table(
    "seals",
    metadata,
    Column("object_id", String(300), primary_key=True),
    Column("modified", BigInteger, primary_key=True, autoincrement=False),
    Column("signer", String(64), primary_key=True),
    Column("version", String(40), nullable=False),
    Column("key_id", String(32), nullable=False),
    Column("digest", String(80), nullable=False),
    Column("signature", String(128), nullable=False),
    Column("created", String(40), nullable=False),
    Column("original_digest", String(80)),
    # For an object a party posted under a creator that is no party: the party it came from
    # (the node seals it as received from that party, never as its own).
    Column("received_from", String(64)),
)

# Copies set aside: a quarantined copy (its seal did not verify: tampered on the way, say) that
# the sealed, genuine copy of the same version replaced. Kept for the operator, never released.
set_aside = Table(
    "set_aside",
    metadata,
    Column("id", String(300), primary_key=True),
    Column("modified", BigInteger, primary_key=True, autoincrement=False),
    Column("digest", String(80), primary_key=True),
    Column("submitted_by", String(64), nullable=False),
    Column("path", String(16), nullable=False),
    Column("reason", Text, nullable=False),
    Column("content", LargeBinary, nullable=False),
    Column("set_aside_us", BigInteger, nullable=False),
    # The party whose sealed copy replaced it.
    Column("replaced_by", String(64), nullable=False),
)

# Lifecycle notices: a party's signed suspension, resumption or termination of an agreement
# version (core.agreement_lifecycle); they travel with the agreement and set its state.
agreement_notices = Table(
    "agreement_notices",
    metadata,
    Column("agreement_id", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("party", String(64), primary_key=True),
    Column("issued_us", BigInteger, primary_key=True, autoincrement=False),
    Column("action", String(16), nullable=False),
    Column("document", LargeBinary, nullable=False),
)

# Peers: other nodes this node pulls from (and optionally pushes to) over TAXII 2.1.
peers = Table(
    "peers",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("url", String(500), nullable=False, unique=True),
    Column("party_id", String(64), nullable=False),
    # The token the peer issued to us, encrypted with a key derived from this node's key.
    Column("token", LargeBinary, nullable=False),
    Column("push", Boolean, nullable=False, server_default=text("false")),
    # The peer's date_added of the last object we committed (µs), and our own push position.
    Column("cursor", BigInteger),
    Column("push_cursor", BigInteger),
    Column("policy_generation", BigInteger),
    Column("last_sync_us", BigInteger),
    Column("last_ok_us", BigInteger),
    Column("last_error", Text),
    Column("failures", Integer, nullable=False, server_default=text("0")),
    Column("pulled", BigInteger, nullable=False, server_default=text("0")),
    Column("pushed", BigInteger, nullable=False, server_default=text("0")),
    Column("created_us", BigInteger, nullable=False),
)

# Bulk imports: how far each file got, so a re-run after a crash resumes where it stopped (the
# key is the file's path, size and modification time: a changed file is imported afresh).
import_journal = Table(
    "import_journal",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("path", Text, nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("mtime_ns", BigInteger, nullable=False),
    # Units (objects, NDJSON lines or MISP events) committed from the start of the file.
    Column("position", BigInteger, nullable=False),
    # NDJSON: the byte offset of the next line to read, so a resume seeks instead of re-reading.
    Column("offset", BigInteger, nullable=False, server_default=text("0")),
    Column("finished", Boolean, nullable=False, server_default=text("false")),
    Column("stored", BigInteger, nullable=False, server_default=text("0")),
    Column("unchanged", BigInteger, nullable=False, server_default=text("0")),
    Column("failed", BigInteger, nullable=False, server_default=text("0")),
    Column("updated_us", BigInteger, nullable=False),
)
