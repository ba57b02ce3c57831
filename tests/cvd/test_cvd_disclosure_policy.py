"""The disclosure policy section of agreements: parsing, the examples, ``agreement show``."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from click.testing import CliRunner

from kizuna.cli.main import cli
from kizuna.core import agreements as core
from kizuna.core.cvd.disclosure import InvalidDisclosurePolicy, parse
from kizuna.core.signing import public_key_of
from kizuna.errors import InvalidInput
from kizuna.services import agreements, parties
from kizuna.services.node import Node, new_private_key

EXAMPLES = resources.files("kizuna") / "data" / "agreements"
SCHEMA = json.loads((resources.files("kizuna") / "data" / "agreement.schema.json").read_text())
A = "identity--00000000-0000-4000-8000-00000000000a"
B = "identity--00000000-0000-4000-8000-00000000000b"


def example(name: str) -> dict[str, Any]:
    with resources.as_file(EXAMPLES / name) as path:
        return agreements.load_document(Path(path))


@pytest.fixture
def hub(sqlite_node: Node) -> Node:
    for name, juris in (("NISC", "JP"), ("BSI", "DE")):
        key = public_key_of(new_private_key())
        parties.add_party(
            sqlite_node,
            name,
            jurisdiction=juris,
            kind="government",
            scheme=juris,
            public_keys=(key,),
        )
    return sqlite_node


def test_a_full_policy_parses() -> None:
    policy = parse(
        {"version": 1, "default_embargo_days": 90, "max_embargo_days": 120,
         "pre_notify": [{"party": A, "days_before": 7}], "early_release": ["exploit-public"],
         "publisher": "joint", "government_finds_disclosed": True},
        frozenset({A, B}),
    )  # fmt: skip
    assert policy.default_embargo_days == 90 and policy.pre_notify[0].party == A
    assert "joint" in "\n".join(policy.lines())


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"version": 2}, "version 2"),
        ({"default_embargo_days": 0}, "default_embargo_days"),
        ({"default_embargo_days": "90"}, "default_embargo_days"),
        ({"max_embargo_days": 10}, "max_embargo_days is under"),
        ({"publisher": "anyone"}, "publisher must be one of"),
        ({"early_release": ["rumour"]}, "early_release"),
        (
            {
                "pre_notify": [
                    {"party": "identity--00000000-0000-4000-8000-0000000000ff", "days_before": 3}
                ]
            },
            "no party of the agreement",
        ),
        ({"pre_notify": [{"party": A}]}, "{party, days_before}"),
        ({"government_finds_disclosed": "yes"}, "true or false"),
        ({"embargo": 90}, "unknown disclosure fields: embargo"),
    ],
)
def test_a_bad_policy_is_refused_naming_the_field(change: dict[str, Any], words: str) -> None:
    doc = {"version": 1, "default_embargo_days": 45, "publisher": "coordinator", **change}
    with pytest.raises(InvalidDisclosurePolicy, match=words.replace("{", r"\{")):
        parse(doc, frozenset({A, B}))


def test_the_examples_carry_a_policy_that_matches_the_schema(hub: Node) -> None:
    draft = agreements.from_template(hub, example("eu-japan.yaml"))
    jsonschema.validate(draft, SCHEMA)
    policy = core.parse(draft).disclosure
    assert policy is not None
    cert_eu = hub.home_party.id
    assert [(n.party, n.days_before) for n in policy.pre_notify] == [(cert_eu, 7)]
    assert policy.early_release == ("attacks-observed", "exploit-public", "public-disclosure")
    assert core.parse(agreements.from_template(hub, example("germany-japan.yaml"))).disclosure


def test_a_template_naming_a_stranger_for_pre_notice_is_refused(hub: Node) -> None:
    tpl = example("eu-japan.yaml")
    tpl["disclosure"]["pre_notify"] = [{"party": "BSI", "days_before": 7}]  # not a party of it
    with pytest.raises(InvalidInput, match="no party of the agreement"):
        agreements.from_template(hub, tpl)


def test_agreement_show_prints_the_policy(hub: Node) -> None:
    stored = agreements.add(hub, agreements.from_template(hub, example("eu-japan.yaml")))
    bare = {k: v for k, v in example("germany-japan.yaml").items() if k != "disclosure"}
    plain = agreements.add(hub, agreements.from_template(hub, bare))
    home = str(hub.home)
    out = CliRunner().invoke(cli, ["--home", home, "agreement", "show", stored.id])
    assert out.exit_code == 0, out.output
    text = " ".join(out.output.split())
    assert "disclosure policy v1: default embargo 90 days (at most 180)" in text
    assert "pre-notified: CERT-EU 7 days before" in text
    assert "who publishes: coordinator" in text
    out = CliRunner().invoke(cli, ["--home", home, "agreement", "show", plain.id])
    assert "disclosure policy: none" in out.output
