"""Adversarial property: whatever marking-definitions, identities and new versions hostile
partners post, another party's view of an originator's objects does not change
(DESIGN.md "Who may change the gate's inputs"; issue 12, "Done means").

A real node on SQLite holds BSI's objects: TLP-marked, marked with BSI's own handling
definitions, marked with a definition BSI never sent (pending), written by an identity BSI
withholds, and classified. Hypothesis draws sequences of posts by the other partners:
definitions of BSI's referenced, pending and well-known ids and of fresh ones, with lax or
strict content; identities under BSI's author id or a party's id; new versions of BSI's objects.
None of them is an input of rules 0-9 (no agreement, consent or party changes), so what every
party receives of BSI's objects must stay exactly as it was.
"""

from __future__ import annotations

import tempfile
import uuid
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kizuna.core.handling import Classification
from kizuna.core.markings import TLP_EXTENSION, TLP_MARKING_ID, WELL_KNOWN_TLP, handling_marking
from kizuna.core.parties import Party
from kizuna.services import explain, gate, ingest, parties
from kizuna.services.node import Node, init_node
from support import FakeClock, SeqIds

NS = uuid.UUID("0b7d2f4e-6a1c-4e2b-8f3d-5c9a7e1b2d40")
CREATED = "2026-11-01T00:00:00.000Z"
LATER = "2026-11-20T00:00:00.000Z"
PARTNERS = (("BSI", "DE", "DE"), ("NISC", "JP", "JP"), ("ACSC", "AU", None), ("RIA", "EE", "EE"))
HOSTILE = ("NISC", "ACSC", "RIA")


def sid(stix_type: str, seed: str) -> str:
    return f"{stix_type}--{uuid.uuid5(NS, seed)}"


BSI_MARKING = sid("marking-definition", "bsi-no-onward")
BSI_CLASSIFIED = sid("marking-definition", "bsi-classified")
PENDING = sid("marking-definition", "bsi-never-sent")
AUTHOR = sid("identity", "bsi-author")
# BSI's own ids first: Hypothesis tries the first choices most, and they are the attacks.
TARGET_MARKINGS = (
    PENDING,
    BSI_MARKING,
    BSI_CLASSIFIED,
    TLP_MARKING_ID["red"],
    TLP_MARKING_ID["amber+strict"],
    *sorted(WELL_KNOWN_TLP),
    sid("marking-definition", "fresh"),
)


def _indicator(seed: str, markings: list[str], creator: str | None = None) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "spec_version": "2.1",
        "id": sid("indicator", seed),
        "created": CREATED,
        "modified": CREATED,
        "pattern": f"[domain-name:value = '{seed}.example']",
        "pattern_type": "stix",
        "valid_from": CREATED,
        "object_marking_refs": markings,
    }
    if creator:
        obj["created_by_ref"] = creator
    return obj


def bsi_objects(bsi: str) -> list[dict[str, Any]]:
    author = {
        "type": "identity",
        "spec_version": "2.1",
        "id": AUTHOR,
        "created": CREATED,
        "modified": CREATED,
        "name": "BSI analysts",
        "object_marking_refs": [TLP_MARKING_ID["red"]],
    }
    return [
        handling_marking(BSI_MARKING, CREATED, bsi, release_rule="no-onward", recipients=[bsi]),
        handling_marking(
            BSI_CLASSIFIED, CREATED, bsi, classification=Classification("DE", "VS-VERTRAULICH")
        ),
        author,
        _indicator("clear", [TLP_MARKING_ID["clear"]]),
        _indicator("red", [TLP_MARKING_ID["red"]]),
        _indicator("amber-strict", [TLP_MARKING_ID["amber+strict"]]),
        _indicator("own-marking", [TLP_MARKING_ID["clear"], BSI_MARKING]),
        _indicator("classified", [TLP_MARKING_ID["green"], BSI_CLASSIFIED]),
        _indicator("pending", [PENDING]),
        _indicator("authored", [TLP_MARKING_ID["clear"]], AUTHOR),
    ]


# -- what hostile partners post ------------------------------------------------------------------

_CONTENT = st.sampled_from(["clear", "red", "recipients-attacker", "unreadable"])


def _definition(marking_id: str, content: str, attacker: str, creator: bool) -> dict[str, Any]:
    if content == "recipients-attacker":
        md = handling_marking(marking_id, CREATED, recipients=[attacker])
    else:
        md = {
            "type": "marking-definition",
            "spec_version": "2.1",
            "id": marking_id,
            "created": CREATED,
            "name": f"TLP:{content.upper()}",
            "extensions": {
                TLP_EXTENSION: {"extension_type": "property-extension", "tlp_2_0": content}
            },
        }
        if content == "unreadable":
            md["extensions"] = {"extension-definition--" + str(uuid.uuid5(NS, "x")): {}}
    if creator:
        md["created_by_ref"] = attacker
    return md


@st.composite
def hostile_posts(draw: st.DrawFn, ids: dict[str, str]) -> tuple[str, list[dict[str, Any]]]:
    attacker = draw(st.sampled_from(HOSTILE))
    me = ids[attacker]
    posts: list[dict[str, Any]] = []
    for _ in range(draw(st.integers(1, 4))):
        kind = draw(st.sampled_from(["definition", "identity", "version", "own-object"]))
        if kind == "definition":
            target = draw(st.sampled_from(TARGET_MARKINGS))
            posts.append(_definition(target, draw(_CONTENT), me, draw(st.booleans())))
        elif kind == "identity":
            target = draw(st.sampled_from([AUTHOR, ids["BSI"], sid("identity", "fresh")]))
            posts.append(
                {
                    "type": "identity",
                    "spec_version": "2.1",
                    "id": target,
                    "created": CREATED,
                    "modified": draw(st.sampled_from([CREATED, LATER])),
                    "name": "BSI",
                    "object_marking_refs": [TLP_MARKING_ID["clear"]],
                }
            )
        elif kind == "version":
            seed = draw(st.sampled_from(["red", "amber-strict", "own-marking", "pending"]))
            obj = _indicator(seed, [TLP_MARKING_ID["clear"]], draw(st.sampled_from([None, AUTHOR])))
            obj["modified"] = draw(st.sampled_from([CREATED, LATER]))
            posts.append(obj)
        else:
            marks = draw(st.lists(st.sampled_from(TARGET_MARKINGS), min_size=1, max_size=2))
            posts.append(
                _indicator(f"attacker-{len(posts)}", marks, draw(st.sampled_from([None, AUTHOR])))
            )
    return attacker, posts


# -- the property ----------------------------------------------------------------------------------


def _world(folder: Path) -> tuple[Node, dict[str, Party]]:
    node = init_node(
        folder / "node",
        party_name="CERT-EU",
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        clock=FakeClock(),
        new_id=SeqIds("hostile"),
        party_id=sid("identity", "cert-eu"),
    )
    made = {
        name: parties.add_party(
            node, name, jurisdiction=j, kind="government", scheme=s, party_id=sid("identity", name)
        )
        for name, j, s in PARTNERS
    }
    made["CERT-EU"] = node.home_party
    outcomes = ingest.ingest(node, bsi_objects(made["BSI"].id), submitter=made["BSI"], path="taxii")
    assert all(o.ok for o in outcomes), [o.error for o in outcomes if not o.ok]
    return node, made


def view(
    node: Node, everyone: dict[str, Party], bsi: str
) -> dict[str, frozenset[tuple[str | None, ...]]]:
    """What each party receives of BSI's objects: ids, versions, outcomes and released ids."""
    out: dict[str, frozenset[tuple[str | None, ...]]] = {}
    for name, party in everyone.items():
        out[name] = frozenset(
            (
                e.version.id,
                str(e.version.modified),
                e.decision.outcome,
                gate.released_id(e.version, e.decision),
            )
            for e in explain.preview(node, party)
            if e.version.source == bsi
        )
    return out


IDS = {name: sid("identity", name) for name, *_ in PARTNERS}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(hostile_posts(IDS), min_size=1, max_size=3))
def test_hostile_definitions_identities_and_versions_change_no_one_elses_view(
    rounds: list[tuple[str, list[dict[str, Any]]]],
) -> None:
    with tempfile.TemporaryDirectory(prefix="kizuna-hostile-") as folder:
        node, everyone = _world(Path(folder))
        try:
            _check(node, everyone, rounds)
        finally:
            node.close()


def _check(
    node: Node, everyone: dict[str, Party], rounds: list[tuple[str, list[dict[str, Any]]]]
) -> None:
    bsi = everyone["BSI"].id
    before = view(node, everyone, bsi)
    # The pending object and the authored one are held back only by their own markings.
    assert sid("indicator", "authored") in {i for i, *_ in before["ACSC"]}
    assert sid("indicator", "pending") not in {i for i, *_ in before["ACSC"]}
    for attacker, posts in rounds:
        ingest.ingest(node, posts, submitter=everyone[attacker], path="taxii")
    assert view(node, everyone, bsi) == before
