"""validate(): the STIX 2.1 rules, one refusal per case, each for the right reason."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stix_samples import (
    DROP,
    EXT_DEF,
    IND,
    INVALID,
    T0,
    VALID,
    Obj,
    changed,
)

from kizuna.core.stix.validate import check_sco_id, validate
from kizuna.errors import InvalidStix, UnsupportedSpecVersion


@pytest.mark.parametrize("obj", list(VALID.values()), ids=list(VALID))
def test_valid_objects_pass(obj: Obj) -> None:
    validate(copy.deepcopy(obj))


@pytest.mark.parametrize(
    ("obj", "message"),
    INVALID,
)
def test_invalid_objects_are_refused_for_the_right_reason(obj: object, message: str) -> None:
    with pytest.raises(InvalidStix) as caught:
        validate(obj)
    assert type(caught.value) is InvalidStix
    assert message in str(caught.value)


def test_messages_name_the_object_and_property() -> None:
    with pytest.raises(InvalidStix) as caught:
        validate(changed("indicator", confidence=150))
    assert str(caught.value) == (
        f'{IND} : property "confidence" must be an integer from 0 to 100, not 150'
    )
    assert caught.value.code == "invalid-stix"
    assert caught.value.status == 422


@pytest.mark.parametrize(
    ("obj", "message"),
    [
        pytest.param(changed("indicator", spec_version=DROP), "has no", id="sdo-missing"),
        pytest.param(changed("relationship", spec_version=DROP), "has no", id="sro-missing"),
        pytest.param(changed("marking-tlp1", spec_version=DROP), "has no", id="marking-missing"),
        pytest.param(changed("custom-sdo", spec_version=DROP), "has no", id="custom-sdo"),
        pytest.param(changed("indicator", spec_version="2.0"), '"2.0"', id="sdo-2.0"),
        pytest.param(changed("ipv4-addr", spec_version="2.0"), '"2.0"', id="sco-2.0"),
        pytest.param(changed("indicator", spec_version="2.2"), "'2.2'", id="future"),
    ],
)
def test_stix_2_0_is_refused_as_unsupported(obj: Obj, message: str) -> None:
    with pytest.raises(UnsupportedSpecVersion) as caught:
        validate(obj)
    assert message in str(caught.value)
    assert "2.1" in str(caught.value)
    assert caught.value.code == "unsupported-spec-version"


def test_the_2_0_message_says_to_upgrade() -> None:
    with pytest.raises(UnsupportedSpecVersion, match=r"STIX 2\.0 is not accepted yet; upgrade it"):
        validate(changed("indicator", spec_version="2.0"))


@pytest.mark.parametrize(
    ("value", "json_type"), [(2.1, "a number"), (None, "null")], ids=["number", "null"]
)
def test_spec_version_of_the_wrong_json_type_is_invalid(value: object, json_type: str) -> None:
    with pytest.raises(InvalidStix, match=rf'must be the string "2\.1", not {json_type}') as caught:
        validate(changed("indicator", spec_version=value))
    assert type(caught.value) is InvalidStix


@pytest.mark.parametrize(
    "obj",
    [
        changed("ipv4-addr", spec_version=DROP),
        changed("file", spec_version="2.1"),
        changed("custom-sco-no-spec-version"),
        {
            **changed("custom-sco-no-spec-version"),
            "created": T0,
            "extensions": {EXT_DEF: {"extension_type": "new-sco"}},
        },
    ],
    ids=["sco", "sco-with-version", "custom-observable", "new-sco-extension"],
)
def test_scos_need_no_spec_version(obj: Obj) -> None:
    validate(obj)


def test_check_sco_id_warns_on_a_non_deterministic_id() -> None:
    obj = changed("ipv4-addr", id="ipv4-addr--b4e29b62-2053-47c4-bab4-bbce39e5ed67")
    validate(obj)  # a SHOULD: valid all the same
    warning = check_sco_id(obj)
    assert warning is not None
    assert "ipv4-addr--28bb3599-77cd-5a82-a950-b5bc3caf07c4" in warning
    assert warning.startswith("ipv4-addr--b4e29b62-2053-47c4-bab4-bbce39e5ed67 : ")


@pytest.mark.parametrize(
    "obj",
    [VALID["ipv4-addr"], VALID["process"], VALID["indicator"], VALID["custom-sdo"]],
    ids=["deterministic", "no-contributing", "sdo", "custom"],
)
def test_check_sco_id_is_quiet_otherwise(obj: Obj) -> None:
    assert check_sco_id(obj) is None


def test_check_sco_id_reports_values_outside_i_json() -> None:
    obj = {"type": "autonomous-system", "id": "autonomous-system--x", "number": 2**60}
    assert "cannot compute" in (check_sco_id(obj) or "")


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
KEYS = st.sampled_from(
    [
        *sorted({k for obj in VALID.values() for k in obj}),
        *["x_custom_ref", "x_custom_refs", "selectors", "ab", "is_active", "objects"],
    ]
)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(sorted(VALID)), st.dictionaries(KEYS, JSON, max_size=4))
def test_any_json_gives_invalid_stix_or_passes(name: str, patch: Obj) -> None:
    obj = {**copy.deepcopy(VALID[name]), **patch}
    try:
        validate(obj)
    except InvalidStix as exc:  # never TypeError, KeyError, ...
        assert " : " in str(exc)


@settings(max_examples=200, deadline=None)
@given(JSON)
def test_any_json_value_as_object_gives_invalid_stix(value: object) -> None:
    with pytest.raises(InvalidStix):
        validate(value)
