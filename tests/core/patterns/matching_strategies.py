"""Hypothesis strategies for observations and patterns over them, to compare with stix2-matcher.

Objects come from a small pool, so generated patterns name paths and values that exist (and
some that do not); observations vary in count and time so qualifiers have work to do.
"""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

SCOS: list[dict[str, Any]] = [
    {"type": "ipv4-addr", "id": "ipv4-addr--1", "value": "10.1.2.3"},
    {"type": "ipv4-addr", "id": "ipv4-addr--2", "value": "192.168.7.0/24"},
    {"type": "ipv6-addr", "id": "ipv6-addr--1", "value": "2001:db8::1"},
    {
        "type": "network-traffic",
        "id": "network-traffic--1",
        "src_ref": "ipv4-addr--2",
        "dst_ref": "ipv4-addr--1",
        "dst_port": 443,
        "protocols": ["tcp", "ssl"],
    },
    {
        "type": "file",
        "id": "file--1",
        "name": "a.exe",
        "size": 100,
        "hashes": {"MD5": "d41d8cd98f00b204e9800998ecf8427e", "SHA-256": "ab" * 32},
        "payload_bin": "aGVsbG8=",
        "ctime": "2020-01-01T00:00:00.5Z",
    },
    {"type": "file", "id": "file--2", "name": "b.dll", "size": 2.5, "x_flag": True},
    {
        "type": "email-message",
        "id": "email-message--1",
        "to_refs": ["email-addr--1", "email-addr--2"],
        "subject": "Hello wörld",
    },
    {"type": "email-addr", "id": "email-addr--1", "value": "a@example.org"},
    {"type": "email-addr", "id": "email-addr--2", "value": "b@example.org"},
    {
        "type": "x-thing",
        "id": "x-thing--1",
        "nested": {"list": [1, "two", {"k": "v"}], "key with space": "x"},
        "x_hex": "00ff",
    },
]

_PATHS = {
    "ipv4-addr": ["value"],
    "ipv6-addr": ["value"],
    "network-traffic": [
        "dst_port",
        "protocols[*]",
        "protocols[1]",
        "dst_ref.value",
        "src_ref.value",
    ],
    "file": ["name", "size", "hashes.MD5", "hashes.'SHA-256'", "payload_bin", "ctime", "x_flag"],
    "email-message": ["to_refs[*].value", "to_refs[0].value", "subject", "to_refs.value"],
    "x-thing": ["nested.list[*]", "nested.list[2].k", "nested.'key with space'", "x_hex", "nested"],
}
_LITERALS = [
    "'10.1.2.3'",
    "'192.168.7.0/24'",
    "'2001:db8::1'",
    "443",
    "443.0",
    "'tcp'",
    "'ssl'",
    "'a.exe'",
    "'b.dll'",
    "100",
    "2.5",
    "'d41d8cd98f00b204e9800998ecf8427e'",
    "b'aGVsbG8='",
    "'hello'",
    "t'2020-01-01T00:00:00.5Z'",
    "t'2019-06-01T00:00:00Z'",
    "true",
    "1",
    "'a@example.org'",
    "'Hello wörld'",
    "'two'",
    "'v'",
    "'x'",
    "h'00ff'",
    "'zzz'",
]
_LIKES = ["'%.exe'", "'a._xe'", "'%@example.org'", "'10.%'", "'Hello%'", "'%'"]
_REGEXES = ["'^a'", "'exe$'", "'[0-9]+'", "'^b@'", "'w.rld'", "'\\\\d{3}'"]
_NETWORKS = [
    "'10.0.0.0/8'",
    "'10.1.2.3/32'",
    "'192.168.0.0/16'",
    "'11.0.0.0/8'",
    "'192.168.7.0/25'",
]
_QUALIFIERS = [
    "WITHIN 5 SECONDS",
    "WITHIN 15 SECONDS",
    "WITHIN 0.5 SECONDS",
    "REPEATS 2 TIMES",
    "REPEATS 3 TIMES",
    "START t'2020-01-01T00:00:00Z' STOP t'2020-01-01T00:00:20Z'",
    "START t'2020-01-01T00:00:10Z' STOP t'2020-01-02T00:00:00Z'",
]
_TIMES = [f"2020-01-01T00:00:{second:02d}Z" for second in (0, 5, 10, 20, 30)]


# (path, literal) pairs that hold for some pool object, so that patterns often match.
_FACTS = [
    ("ipv4-addr:value", "'10.1.2.3'"),
    ("network-traffic:dst_ref.value", "'10.1.2.3'"),
    ("network-traffic:protocols[*]", "'ssl'"),
    ("network-traffic:dst_port", "443"),
    ("file:name", "'a.exe'"),
    ("file:size", "2.5"),
    ("file:hashes.MD5", "'d41d8cd98f00b204e9800998ecf8427e'"),
    ("file:payload_bin", "'hello'"),
    ("file:ctime", "t'2020-01-01T00:00:00.5Z'"),
    ("email-message:to_refs[*].value", "'b@example.org'"),
    ("x-thing:nested.list[2].k", "'v'"),
    ("x-thing:x_hex", "h'00ff'"),
]
_IP_PATHS = ["ipv4-addr:value", "network-traffic:src_ref.value", "network-traffic:dst_ref.value"]


@st.composite
def comparisons(draw: st.DrawFn) -> str:
    """A comparison over the pool's paths, often one that holds for some object."""
    if draw(st.booleans()):
        path, literal = draw(st.sampled_from(_FACTS))
        operator = draw(st.sampled_from(["=", "=", "!=", "<=", ">", "IN"]))
        if operator == "IN":
            same_kind = [other for _, other in _FACTS if other[0] == literal[0]]
            literal = f"({literal}, {draw(st.sampled_from(same_kind))})"
        if operator in ("<=", ">") and literal == "true":
            operator = "="
        return f"{path} {operator} {literal}"
    if draw(st.integers(0, 3)) == 0:
        return f"{draw(st.sampled_from(_IP_PATHS))} ISSUBSET {draw(st.sampled_from(_NETWORKS))}"
    object_type = draw(st.sampled_from(sorted(_PATHS)))
    path = f"{object_type}:{draw(st.sampled_from(_PATHS[object_type]))}"
    negated = draw(st.sampled_from(["", "", "", "NOT "]))
    operator = draw(st.sampled_from(["=", "=", "!=", "<", ">=", "IN", "LIKE", "MATCHES", "EXISTS"]))
    if operator == "EXISTS":
        return f"EXISTS {path}"
    if operator == "IN":
        members = draw(st.lists(st.sampled_from(_LITERALS), min_size=0, max_size=3))
        return f"{path} {negated}IN ({', '.join(members)})"
    pool = {"LIKE": _LIKES, "MATCHES": _REGEXES}.get(operator, _LITERALS)
    literal = draw(st.sampled_from(pool))
    if operator in ("<", ">=") and literal == "true":
        literal = "1"
    return f"{path} {negated}{operator} {literal}"


@st.composite
def comparison_expressions(draw: st.DrawFn) -> str:
    """One to three comparisons joined by AND/OR."""
    text = draw(comparisons())
    for _ in range(draw(st.integers(0, 2))):
        joiner = draw(st.sampled_from(["AND", "OR"]))
        text = f"{text} {joiner} {draw(comparisons())}"
    return text


@st.composite
def patterns(draw: st.DrawFn) -> str:
    """An observation expression of up to three terms, with qualifiers."""
    terms = []
    for _ in range(draw(st.integers(1, 3))):
        term = f"[{draw(comparison_expressions())}]"
        if draw(st.integers(0, 3)) == 0:
            term = f"({term})"
        if draw(st.integers(0, 2)) == 0:
            term = f"{term} {draw(st.sampled_from(_QUALIFIERS))}"
        terms.append(term)
    text = terms[0]
    for term in terms[1:]:
        text = f"{text} {draw(st.sampled_from(['AND', 'OR', 'FOLLOWEDBY']))} {term}"
    if draw(st.integers(0, 4)) == 0:
        text = f"({text}) {draw(st.sampled_from(_QUALIFIERS))}"
    return text


@st.composite
def observed_data(draw: st.DrawFn) -> list[dict[str, Any]]:
    """STIX objects: one to three observed-data with the objects they refer to."""
    objects: list[dict[str, Any]] = []
    referenced: dict[str, dict[str, Any]] = {}
    for number in range(draw(st.integers(1, 3))):
        chosen = draw(st.lists(st.sampled_from(SCOS), min_size=1, max_size=4, unique_by=id))
        refs = {obj["id"] for obj in chosen}
        for obj in chosen:  # what the chosen objects refer to is observed too
            for key in ("src_ref", "dst_ref"):
                if key in obj:
                    refs.add(obj[key])
            refs.update(obj.get("to_refs", []))
        first = draw(st.integers(0, len(_TIMES) - 1))
        last = draw(st.integers(first, len(_TIMES) - 1))
        objects.append(
            {
                "type": "observed-data",
                "id": f"observed-data--{number}",
                "first_observed": _TIMES[first],
                "last_observed": _TIMES[last],
                "number_observed": draw(st.integers(1, 3)),
                "object_refs": sorted(refs),
            }
        )
        for obj in SCOS:
            if obj["id"] in refs:
                referenced[obj["id"]] = obj
    return objects + list(referenced.values())
