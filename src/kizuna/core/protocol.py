"""Federation messages as STIX objects: dissemination receipts and consent requests.

Like consents, they are objects of kizuna types defined by extension-definitions, so they
travel through the same channel as everything else (TAXII) and any STIX tool passes them
through. They are addressed: the gate releases a message only to the parties it is for.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from kizuna.core.consents import CONSENT_TYPE
from kizuna.core.handling import Handling

RECEIPT_TYPE = "x-kizuna-receipt"
RECEIPT_EXTENSION = "extension-definition--36eba46d-cab3-43b4-b169-5568a771fe1f"
REQUEST_TYPE = "x-kizuna-consent-request"
REQUEST_EXTENSION = "extension-definition--4addb0c7-e554-4b64-8de5-9fa236bebdd3"
PROTOCOL_TYPES = frozenset({RECEIPT_TYPE, REQUEST_TYPE, CONSENT_TYPE})
_NAMESPACE = uuid.UUID("9b0a6f43-7d0e-4c1b-8b55-0d6f3a3f2c11")


def receipt(
    holder: str,
    originator: str,
    object_id: str,
    version: str,
    recipient: str,
    agreement: str | None,
    released_id: str,
    released_digest: str,
    created: str,
    ledger_entry: int | None = None,
    ledger_head: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A holder's report to the originator that it released the originator's object.

    ``ledger_entry`` is the holder's ledger entry for the release and ``ledger_head`` the
    holder's signed ledger head at or after it (core.ledger_heads): kept by the originator, it
    proves the holder's ledger once reached that entry, whatever the holder's database says later.
    """
    key = f"{holder}|{object_id}|{version}|{recipient}|{released_digest}"
    obj: dict[str, Any] = {
        "type": RECEIPT_TYPE,
        "spec_version": "2.1",
        "id": f"{RECEIPT_TYPE}--{uuid.uuid5(_NAMESPACE, key)}",
        "created": created,
        "modified": created,
        "created_by_ref": holder,
        "originator_ref": originator,
        "receipted_ref": object_id,
        "receipted_version": version,
        "recipient_ref": recipient,
        "released_id": released_id,
        "released_digest": released_digest,
        "extensions": {RECEIPT_EXTENSION: {"extension_type": "new-sdo"}},
    }
    if agreement:
        obj["agreement"] = agreement
    if ledger_entry is not None:
        obj["ledger_entry"] = ledger_entry
    if ledger_head is not None:
        obj["ledger_head"] = dict(ledger_head)
    return obj


def consent_request(
    request_id: str,
    holder: str,
    originator: str,
    object_ids: Iterable[str],
    recipient: str,
    created: str,
    reason: str = "",
) -> dict[str, Any]:
    """A holder asks an originator for consent to release its objects onward to ``recipient``."""
    obj: dict[str, Any] = {
        "type": REQUEST_TYPE,
        "spec_version": "2.1",
        "id": request_id,
        "created": created,
        "modified": created,
        "created_by_ref": holder,
        "originator_ref": originator,
        "object_refs": sorted(object_ids),
        "recipient_ref": recipient,
        "extensions": {REQUEST_EXTENSION: {"extension_type": "new-sdo"}},
    }
    if reason:
        obj["reason"] = reason
    return obj


def addressees(obj: Mapping[str, Any]) -> frozenset[str] | None:
    """The parties a federation message is for, or None for any other object."""
    stix_type = obj.get("type")
    if stix_type in (RECEIPT_TYPE, REQUEST_TYPE):
        return frozenset({str(obj.get("originator_ref"))})
    if stix_type == CONSENT_TYPE:
        # The holders that may release onward need it; the recipient it names does not (and
        # must not learn from it of objects it cannot see yet).
        return frozenset(str(p) for p in obj.get("notify", ()))
    return None


def protocol_handling(obj: Mapping[str, Any], base: Handling) -> Handling:
    """Handling of a federation message: for its addressees only, whatever else is marked."""
    to = addressees(obj)
    if to is None:
        return base
    return Handling(tlp=base.tlp, recipients=to, unresolved=base.unresolved, protocol=True)
