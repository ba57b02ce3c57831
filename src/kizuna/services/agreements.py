"""Agreements as a use case: create from a template, sign, import, lifecycle, history."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import orjson
import yaml
from sqlalchemy import delete

from kizuna.core import agreements as core
from kizuna.core.agreements import Agreement, InvalidAgreement
from kizuna.core.parties import Party
from kizuna.core.stix.timestamps import format_timestamp
from kizuna.errors import Forbidden, InvalidInput, NotFound
from kizuna.services import agreement_intake as intake
from kizuna.services import parties as party_service
from kizuna.services.agreement_intake import Stored
from kizuna.services.node import Node
from kizuna.storage import parties as party_store
from kizuna.storage.schema import agreements as table

__all__ = ["Stored", "add", "get", "history", "history_for", "list_all", "sign", "transition"]

# Fields a template may carry besides its parties; everything else is refused as a typo.
_TEMPLATE_FIELDS = frozenset(
    {
        "type", "id", "version", "title", "purpose", "parties", "valid_from", "valid_until",
        "classification", "tlp_allowed", "onward_release", "redaction_profiles", "receipts_owed",
        "supersedes", "signatures", "disclosure",
    }
)  # fmt: skip


def load_document(path: Path) -> dict[str, Any]:
    """An agreement document or template from a JSON or YAML file."""
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise InvalidInput(f"cannot read {path}: {exc}") from exc
    try:
        data = orjson.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise InvalidInput(
            f"{path} is not valid {'JSON' if path.suffix == '.json' else 'YAML'}: {exc}"
        ) from exc
    if not isinstance(data, dict):
        raise InvalidInput(f"{path} must hold one agreement document (a mapping)")
    out: dict[str, Any] = _jsonable(data)
    return out


def _jsonable(value: Any) -> Any:
    # YAML reads timestamps as datetimes; agreements carry them as STIX timestamp strings.
    import datetime as dt

    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dt.datetime):
        stamp = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return stamp.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%dT00:00:00Z")
    return value


def _fill_disclosure(node: Node, doc: dict[str, Any]) -> None:
    """Pre-notified parties may be named by name in a template; the document holds ids."""
    section = doc.get("disclosure")
    if not isinstance(section, dict) or not isinstance(section.get("pre_notify"), list):
        return
    filled = []
    for entry in section["pre_notify"]:
        if isinstance(entry, dict) and "party" in entry:
            entry = {**entry, "party": party_service.find(node, str(entry["party"])).id}
        filled.append(entry)
    doc["disclosure"] = {**section, "pre_notify": filled}


# What a template must say itself; the node fills in the rest (agreement.schema.json).
TEMPLATE_REQUIRED = ("title", "parties")


def from_template(node: Node, template: Mapping[str, Any]) -> dict[str, Any]:
    """A complete draft document: parties named in the template filled in from the registry."""
    unknown = sorted(set(template) - _TEMPLATE_FIELDS)
    if unknown:
        raise InvalidInput(f"unknown agreement fields: {', '.join(unknown)}")
    missing = [f for f in TEMPLATE_REQUIRED if template.get(f) in (None, "", [], {})]
    if missing:
        raise InvalidInput(
            f"the agreement template lacks the required field{'s' if missing[1:] else ''}"
            f" {', '.join(missing)} (the rest is filled in: id, version, valid_from, keys)"
        )
    doc = {k: v for k, v in template.items() if k != "signatures"}
    doc["type"] = "kizuna-agreement"
    doc.setdefault("id", f"agreement--{uuid.uuid4()}")
    doc.setdefault("version", 1)
    doc.setdefault("valid_from", format_timestamp(node.now()))
    filled = []
    for entry in template.get("parties") or ():
        ref = entry if isinstance(entry, str) else entry.get("id") or entry.get("name")
        if not ref:
            raise InvalidInput("each party of an agreement needs an id or a name")
        party = party_service.find(node, str(ref))
        if not party.public_keys:
            raise InvalidInput(
                f"{party.name} has no public key on this node; add one with "
                "`kizuna party update NAME --add-key KEY` first"
            )
        filled.append(_party_entry(party))
    doc["parties"] = filled
    _fill_disclosure(node, doc)
    try:
        core.parse(doc)
    except InvalidAgreement as exc:
        raise InvalidInput(str(exc)) from exc
    return doc


def _party_entry(party: Party) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": party.id,
        "name": party.name,
        "jurisdiction": party.jurisdiction,
        "kind": party.kind,
        "public_key": party.public_keys[-1],
    }
    if party.scheme:
        entry["scheme"] = party.scheme
    return entry


def sign_file_document(document: Mapping[str, Any], private_key: bytes) -> dict[str, Any]:
    """Sign a document as the party whose public key matches ``private_key`` (offline signing)."""
    from kizuna.core.signing import public_key_of

    public = public_key_of(private_key)
    match = [p for p in document.get("parties", ()) if p.get("public_key") == public]
    if not match:
        raise InvalidInput("this key belongs to none of the agreement's parties")
    try:
        return core.sign_document(document, str(match[0]["id"]), private_key)
    except InvalidAgreement as exc:
        raise InvalidInput(str(exc)) from exc


def history(node: Node, agreement_id: str) -> list[Stored]:
    """Every stored version of an agreement, oldest first, judged by the keys the node trusts."""
    if not core.AGREEMENT_ID.fullmatch(agreement_id):
        raise NotFound(f"{agreement_id!r} is not an agreement id (agreement--<uuid>)")
    with node.db.read() as conn:
        found = intake.load(conn, agreement_id).get(agreement_id, [])
    if not found:
        raise NotFound(f"no agreement {agreement_id}; `kizuna agreement list` shows them")
    return found


def history_for(node: Node, agreement_id: str, party: Party) -> list[Stored]:
    """The versions ``party`` may read; a party in none gets the answer of an unknown id."""
    if not core.AGREEMENT_ID.fullmatch(agreement_id):
        raise intake.not_found(agreement_id)
    with node.db.read() as conn:
        found = intake.load(conn, agreement_id).get(agreement_id, [])
    readable = intake.visible(found, party, node.home_party)
    if not readable:
        raise intake.not_found(agreement_id)
    return readable


def list_all(node: Node, party: Party | None = None) -> list[Stored]:
    """The newest version of every agreement (that ``party`` may read, when given)."""
    with node.db.read() as conn:
        everything = intake.load(conn)
    out = []
    for versions in everything.values():
        readable = versions if party is None else intake.visible(versions, party, node.home_party)
        if readable:
            out.append(readable[-1])
    return out


def get(node: Node, agreement_id: str, version: int | None = None) -> Stored:
    """One version (default: the newest)."""
    versions = history(node, agreement_id)
    if version is None:
        return versions[-1]
    for s in versions:
        if s.agreement.version == version:
            return s
    raise NotFound(f"agreement {agreement_id} has no version {version}")


def add(
    node: Node,
    document: Mapping[str, Any],
    *,
    submitter: Party | None = None,
    path: str = "operator",
) -> Agreement:
    """Store a draft or signed agreement version; signatures merge (agreement_intake.py)."""
    return intake.submit(node, document, submitter=submitter, path=path)


def sign(node: Node, agreement_id: str, version: int | None = None) -> Agreement:
    """Sign a stored agreement with this node's key, as its home party."""
    stored = get(node, agreement_id, version).agreement
    home = node.home_party.id
    leaving = not stored.includes(home) and home in stored.required_signers
    if not stored.includes(home) and not leaving:
        raise Forbidden(f"{node.home_party.name} is not a party to {stored.ref}")
    try:
        signed = core.sign_document(stored.document, home, node.private_key, leaving=leaving)
    except InvalidAgreement as exc:
        raise InvalidInput(str(exc)) from exc
    return add(node, signed)


def delete_draft(node: Node, agreement_id: str) -> int:
    """Delete an agreement that never became active: every stored version a draft (say one
    that failed, or was made from the wrong template). Returns how many versions went."""
    versions = history(node, agreement_id)
    live = [s.agreement for s in versions if s.agreement.state != "draft"]
    if live:
        raise InvalidInput(
            f"{live[-1].ref} is {live[-1].state}: only an agreement whose every version is a"
            " draft can be deleted (terminate it instead; what it governed stays in the ledger)"
        )
    with node.db.write() as conn:
        conn.execute(delete(table).where(table.c.id == agreement_id))
        party_store.bump_generation(conn)
    return len(versions)


def transition(node: Node, agreement_id: str, action: str) -> Agreement:
    """Suspend, resume or terminate the newest version; releases under it stop at once.

    The change is a notice signed by the home party, which travels to the other parties'
    nodes with the agreement (services.agreement_lifecycle)."""
    from kizuna.services import agreement_lifecycle

    return agreement_lifecycle.transition(node, agreement_id, action)
