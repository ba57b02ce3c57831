"""Seals: deterministic, verifiable, and every alteration is caught."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kizuna.core import seals
from kizuna.core.signing import public_key_of
from kizuna.core.stix.timestamps import format_timestamp

KEY = bytes(range(32))
OTHER = bytes(range(1, 33))
SIGNER = "identity--11111111-1111-4111-8111-111111111111"
OBJ = {
    "type": "indicator",
    "spec_version": "2.1",
    "id": "indicator--22222222-2222-4222-8222-222222222222",
    "created": "2026-01-01T00:00:00.000Z",
    "modified": "2026-01-02T00:00:00.000Z",
    "created_by_ref": SIGNER,
    "name": "Emotet C2 – 例",
    "pattern": "[ipv4-addr:value = '203.0.113.9']",
    "pattern_type": "stix",
    "valid_from": "2026-01-01T00:00:00Z",
}


def test_a_seal_verifies_and_round_trips_as_stix() -> None:
    s = seals.seal(OBJ, SIGNER, KEY, "2026-01-02T00:00:00.000Z")
    parsed = seals.parse(s.to_stix())
    assert parsed == s
    seals.verify(parsed, OBJ, (public_key_of(KEY),))
    assert seals.seal(OBJ, SIGNER, KEY, "2026-01-02T00:00:00.000Z") == s  # deterministic


def test_the_seal_names_the_digest_and_the_key() -> None:
    from kizuna.core.signing import canonical, digest, key_id

    s = seals.seal(OBJ, SIGNER, KEY, "2026-01-02T00:00:00.000Z")
    assert s.digest == digest(canonical(OBJ))
    assert s.key_id == key_id(public_key_of(KEY))
    assert s.to_stix()["sealed_ref"] == OBJ["id"]


@given(st.sampled_from(sorted(OBJ)), st.text(min_size=1, max_size=5))
def test_any_change_to_the_object_breaks_the_seal(prop: str, junk: str) -> None:
    s = seals.seal(OBJ, SIGNER, KEY, "2026-01-02T00:00:00.000Z")
    changed = copy.deepcopy(OBJ)
    changed[prop] = str(changed[prop]) + junk
    with pytest.raises(seals.InvalidSeal):
        seals.verify(s, changed, (public_key_of(KEY),))


def test_a_seal_by_another_key_is_refused() -> None:
    s = seals.seal(OBJ, SIGNER, OTHER, "2026-01-02T00:00:00.000Z")
    with pytest.raises(seals.InvalidSeal, match="not a known key"):
        seals.verify(s, OBJ, (public_key_of(KEY),))


@given(st.integers(0, 85))
def test_a_corrupted_signature_is_refused(position: int) -> None:
    s = seals.seal(OBJ, SIGNER, KEY, "2026-01-02T00:00:00.000Z")
    sig = s.signature
    flipped = (
        sig[: position % len(sig)]
        + ("A" if sig[position % len(sig)] != "A" else "B")
        + sig[position % len(sig) + 1 :]
    )
    bad = seals.Seal(**{**s.__dict__, "signature": flipped})
    with pytest.raises(seals.InvalidSeal):
        seals.verify(bad, OBJ, (public_key_of(KEY),))


def test_a_seal_object_with_a_wrong_id_is_malformed() -> None:
    stix = seals.seal(OBJ, SIGNER, KEY, format_timestamp(0)).to_stix()
    stix["id"] = "x-kizuna-seal--33333333-3333-4333-8333-333333333333"
    with pytest.raises(seals.InvalidSeal, match="deterministic id"):
        seals.parse(stix)
