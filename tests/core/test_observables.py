"""Plain values as observations: each value in the roles MISP's indicators give it.

The patterns are the ones MISP writes (misp-stix's STIX 2.1 export of each attribute type, as in
its test pairs); every verdict is checked against stix2-matcher, the reference implementation.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from stix2matcher.matcher import match

from kizuna.core.observables import observable_of, observables_of, sco_of
from kizuna.core.patterns import compile_pattern, observations_from_stix

NOW = "2026-06-01T00:00:00Z"

# (value as an analyst pastes it, the pattern misp-stix writes for that MISP attribute type)
MISP_PATTERNS = [
    ("ip-dst", "5.6.7.8",
     "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8']"),
    ("ip-src", "1.2.3.4",
     "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '1.2.3.4']"),
    ("ip-dst v6", "2001:db8::1",
     "[network-traffic:dst_ref.type = 'ipv6-addr' AND "
     "network-traffic:dst_ref.value = '2001:db8::1']"),
    ("ip-dst|port", "5.6.7.8|5678",
     "[network-traffic:dst_ref.type = 'ipv4-addr' AND network-traffic:dst_ref.value = '5.6.7.8'"
     " AND network-traffic:dst_port = '5678']"),
    ("ip-src|port", "1.2.3.4|1234",
     "[network-traffic:src_ref.type = 'ipv4-addr' AND network-traffic:src_ref.value = '1.2.3.4'"
     " AND network-traffic:src_port = '1234']"),
    ("ip|port, numeric", "203.0.113.1|53", "[network-traffic:dst_port = 53 AND "
     "network-traffic:dst_ref.value = '203.0.113.1']"),
    ("domain|ip", "circl.lu|149.13.33.14",
     "[domain-name:value = 'circl.lu' AND domain-name:resolves_to_refs[*].value = '149.13.33.14']"),
    ("domain", "circl.lu", "[domain-name:value = 'circl.lu']"),
    ("email-src", "donald.duck@disney.com",
     "[email-message:from_ref.value = 'donald.duck@disney.com']"),
    ("email sender", "donald.duck@disney.com",
     "[email-message:sender_ref.value = 'donald.duck@disney.com']"),
    ("email-dst", "dst@email.test", "[email-message:to_refs[*].value = 'dst@email.test']"),
    ("email", "address@email.test", "[email-addr:value = 'address@email.test']"),
    ("url", "https://circl.lu/team", "[url:value = 'https://circl.lu/team']"),
    ("sha256", "7fa3b767c460b54a2be4d49030b349c7" * 2,
     f"[file:hashes.'SHA-256' = '{'7fa3b767c460b54a2be4d49030b349c7' * 2}']"),
    ("sha256 unhyphenated", "7fa3b767c460b54a2be4d49030b349c7" * 2,
     f"[file:hashes.SHA256 = '{'7fa3b767c460b54a2be4d49030b349c7' * 2}']"),
    ("md5", "b2a5abfeef9e36964281a31e17b57c97",
     "[file:hashes.MD5 = 'b2a5abfeef9e36964281a31e17b57c97']"),
    ("filename|sha1", "oui|2920d5e6c579fce772e5506caf03af65579088bd",
     "[file:name = 'oui' AND file:hashes.'SHA-1' = '2920d5e6c579fce772e5506caf03af65579088bd']"),
]  # fmt: skip


def bundle_of(value: str) -> list[dict[str, Any]]:
    """The observation of one value, as STIX objects (an observed-data and what it refers to)."""
    found = observable_of(value)
    objects = found.objects
    observed = {
        "type": "observed-data",
        "spec_version": "2.1",
        "id": "observed-data--00000000-0000-4000-8000-000000000001",
        "created": NOW,
        "modified": NOW,
        "first_observed": NOW,
        "last_observed": NOW,
        "number_observed": 1,
        "object_refs": [o["id"] for o in objects],
    }
    return [observed, *[{"spec_version": "2.1", **o} for o in objects]]


def kizuna_matches(pattern: str, value: str) -> bool:
    return compile_pattern(pattern).matches(observations_from_stix(bundle_of(value)))


def matcher_matches(pattern: str, value: str) -> bool:
    bundle = {"type": "bundle", "id": "bundle--1", "objects": bundle_of(value)}
    return bool(match(pattern, [bundle], stix_version="2.1"))


@pytest.mark.parametrize(("value", "pattern"), [p[1:] for p in MISP_PATTERNS],
                         ids=[p[0] for p in MISP_PATTERNS])  # fmt: skip
def test_a_value_matches_the_pattern_misp_writes_for_it(value: str, pattern: str) -> None:
    assert matcher_matches(pattern, value), "stix2-matcher, the reference, disagrees"
    assert kizuna_matches(pattern, value)


@pytest.mark.parametrize(
    ("value", "pattern"),
    [
        ("5.6.7.9", MISP_PATTERNS[0][2]),
        ("5.6.7.8|80", MISP_PATTERNS[3][2]),
        ("circl.lu", MISP_PATTERNS[6][2]),  # a domain alone says nothing of what it resolves to
        ("circl.lu|149.13.33.15", MISP_PATTERNS[6][2]),
        ("other@disney.com", MISP_PATTERNS[8][2]),
        ("oui2|2920d5e6c579fce772e5506caf03af65579088bd", MISP_PATTERNS[-1][2]),
    ],
)
def test_other_values_do_not_match(value: str, pattern: str) -> None:
    assert not matcher_matches(pattern, value)
    assert not kizuna_matches(pattern, value)


def test_only_plain_scos_are_stored_the_roles_are_readings() -> None:
    found = observable_of("circl.lu|149.13.33.14")
    assert [s["type"] for s in found.scos] == ["domain-name", "ipv4-addr"]
    assert all("resolves_to_refs" not in s for s in found.scos)
    assert {o["type"] for o in found.forms} == {"domain-name", "network-traffic"}
    mail = observable_of("a@example.org")
    assert [s["type"] for s in mail.scos] == ["email-addr"]
    assert sco_of("a@example.org") == mail.scos[0]


def test_bad_composites_say_why() -> None:
    found, bad = observables_of(["circl.lu|not-an-ip", "https://x.example/a|b", "# comment", ""])
    assert [o.text for o in found] == ["https://x.example/a|b"]  # a URL may hold a bar
    assert bad == [
        (
            "circl.lu|not-an-ip",
            "'circl.lu|not-an-ip' is none of MISP's domain|ip, ip|port or filename|hash values",
        )
    ]


@given(st.ip_addresses(v=4), st.ip_addresses(v=4))
def test_an_address_matches_as_source_or_destination_and_only_itself(a: Any, b: Any) -> None:
    for side in ("src", "dst"):
        pattern = f"[network-traffic:{side}_ref.value = '{a}']"
        assert kizuna_matches(pattern, str(a))
        assert kizuna_matches(pattern, str(b)) == (a == b)
