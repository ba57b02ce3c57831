"""Consents: an originator's signed permission to release its objects onward.

A consent is a STIX object of kizuna's ``x-kizuna-consent`` type (defined by an
extension-definition, so other STIX tools pass it through). It names what it covers (objects by
id in ``object_refs``, or a class of objects by type, or all the originator's objects), to whom
(parties and/or agreements), and until when; ``notify`` names the holders it must reach.
Revoking publishes a new version with ``revoked: true``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from kizuna.core import signing
from kizuna.core.stix.timestamps import parse_timestamp

CONSENT_TYPE = "x-kizuna-consent"
CONSENT_EXTENSION = "extension-definition--0c8a264c-8906-4f59-88ad-ded5ad9775dd"


class InvalidConsent(ValueError):
    """A consent object that is malformed or whose signature does not verify."""


@dataclass(frozen=True)
class Consent:
    """A parsed consent, ready for the gate."""

    id: str
    originator: str
    objects: frozenset[str]
    types: frozenset[str]
    parties: frozenset[str]
    agreements: frozenset[str]
    expires_us: int
    revoked: bool = False

    def covers(
        self,
        object_id: str,
        object_type: str,
        originator: str,
        recipient: str,
        recipient_agreements: frozenset[str],
        now_us: int,
    ) -> bool:
        """True when this consent permits releasing that object to that recipient now."""
        if self.revoked or now_us >= self.expires_us or originator != self.originator:
            return False
        if self.objects and object_id not in self.objects:
            return False
        if self.types and object_type not in self.types:
            return False
        return recipient in self.parties or bool(self.agreements & recipient_agreements)


def consent_object(
    consent_id: str,
    originator: str,
    created: str,
    expires: str,
    *,
    objects: Iterable[str] = (),
    types: Iterable[str] = (),
    parties: Collection[str] = (),
    agreements: Collection[str] = (),
    revoked: bool = False,
    modified: str | None = None,
    notify: Iterable[str] = (),
) -> dict[str, Any]:
    """Build an unsigned consent object; ``notify`` names the holders it must reach."""
    obj: dict[str, Any] = {
        "type": CONSENT_TYPE,
        "spec_version": "2.1",
        "id": consent_id,
        "created": created,
        "modified": modified or created,
        "created_by_ref": originator,
        "recipients": {
            k: sorted(v) for k, v in (("parties", parties), ("agreements", agreements)) if v
        },
        "expires": expires,
        "extensions": {CONSENT_EXTENSION: {"extension_type": "new-sdo"}},
    }
    if types:
        obj["object_types"] = sorted(types)
    if objects:
        # A reference list, so rule 7 releases the consent only to whoever may see them all.
        obj["object_refs"] = sorted(objects)
    if revoked:
        obj["revoked"] = True
    if notify:
        obj["notify"] = sorted(notify)
    return obj


def sign_consent(obj: Mapping[str, Any], private_key: bytes) -> dict[str, Any]:
    """Add the originator's signature over the canonical consent (without its signature)."""
    body = {k: v for k, v in obj.items() if k != "signature"}
    public_key = signing.public_key_of(private_key)
    sig = signing.sign(private_key, signing.canonical(body))
    return {**body, "signature": {"key_id": signing.key_id(public_key), "value": sig}}


def parse_consent(obj: Mapping[str, Any], originator_keys: Iterable[str]) -> Consent:
    """Check a consent object and its signature against the originator's known keys."""
    try:
        if obj.get("type") != CONSENT_TYPE:
            raise InvalidConsent(f"not a {CONSENT_TYPE} object")
        body = {k: v for k, v in obj.items() if k != "signature"}
        sig = obj.get("signature") or {}
        message = signing.canonical(body)
        if not any(signing.verify(k, message, str(sig.get("value", ""))) for k in originator_keys):
            raise InvalidConsent(
                f"{obj.get('id')}: the signature does not verify with the originator's keys"
            )
        recipients = obj.get("recipients") or {}
        consent = Consent(
            id=str(obj["id"]),
            originator=str(obj["created_by_ref"]),
            objects=frozenset(str(x) for x in obj.get("object_refs", ())),
            types=frozenset(str(x) for x in obj.get("object_types", ())),
            parties=frozenset(str(x) for x in recipients.get("parties", ())),
            agreements=frozenset(str(x) for x in recipients.get("agreements", ())),
            expires_us=parse_timestamp(str(obj["expires"])),
            revoked=bool(obj.get("revoked", False)),
        )
    except InvalidConsent:
        raise
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise InvalidConsent(f"consent is malformed: {exc}") from exc
    if not consent.parties and not consent.agreements:
        raise InvalidConsent(f"{consent.id}: a consent must name a party or an agreement")
    return consent
