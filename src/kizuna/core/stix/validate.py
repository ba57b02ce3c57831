"""Validate one STIX 2.1 object, a plain dict from JSON, fast enough for every ingested object.

Where the OASIS stix2-validator (default options) reports an error, ``validate`` refuses too,
with these deliberate differences:

* Not checked here: STIX pattern syntax (an indicator's ``pattern`` is only required to be a
  string), RFC 5646 language tags, IANA MIME types and character sets, CPE syntax. They need
  tables or grammars that do not belong on the hot path of a pure validator.
* Property names follow the text of §3.1 (``[a-zA-Z0-9_]{3,250}``), where the OASIS JSON schemas
  also demand a lower-case letter first.
* Stricter than the validator, as the spec's text requires: ``created_by_ref`` must name an
  ``identity``; ``object_marking_refs`` and ``marking_ref`` a ``marking-definition``; every
  ``*_ref``/``*_refs`` property, custom ones included, must hold identifiers (§2.9); an
  external reference needs one of ``description``, ``url``, ``external_id`` (§2.6); reference
  properties of SCOs must point at the types §6 names; no top-level value may be null.
* STIX 2.0 is told apart from 2.1 by ``spec_version``: absent (or "2.0") means 2.0, except on
  SCOs, where §6 makes it optional; 2.0 had no top-level SCOs, so an object of a known SCO type,
  one declaring a ``new-sco`` extension, or one of an unknown type without ``created`` (a custom
  observable; every 2.0 object had ``created``) is taken as 2.1.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, NoReturn

from kizuna.core.stix.ids import id_error, is_identifier, sco_deterministic_id, type_error
from kizuna.core.stix.object_types import (
    OBJECT_TYPES,
    TLP_1_CREATED,
    TLP_1_MARKINGS,
    Category,
    ObjectType,
)
from kizuna.core.stix.timestamps import parse_timestamp
from kizuna.errors import InvalidStix, UnsupportedSpecVersion

__all__ = ["check_sco_id", "validate"]

_Obj = dict[str, Any]

# §3.1: property names are ASCII letters, digits and underscore, 3 to 250 characters.
_PROPERTY_NAME = re.compile(r"[a-zA-Z0-9_]{3,250}")
# §5.1: relationship_type is lower-case ASCII letters, digits and hyphens.
_RELATIONSHIP_TYPE = re.compile(r"[a-z0-9-]+")
# The OASIS JSON schemas (common/core.json) reserve these STIX 2.0-era names.
_RESERVED_PROPERTIES = frozenset({"severity", "action", "username", "phone_numbers"})
_RESERVED_TYPES = frozenset({"action"})
# §7.3: the kinds of extension an extension-definition can declare.
_EXTENSION_TYPES = frozenset(
    {"new-sdo", "new-sco", "new-sro", "property-extension", "toplevel-property-extension"}
)
_HASH_FORMS = {
    "MD5": re.compile(r"[0-9a-fA-F]{32}"),
    "SHA-1": re.compile(r"[0-9a-fA-F]{40}"),
    "SHA-256": re.compile(r"[0-9a-fA-F]{64}"),
    "SHA-512": re.compile(r"[0-9a-fA-F]{128}"),
    "SHA3-256": re.compile(r"[0-9a-fA-F]{64}"),
    "SHA3-512": re.compile(r"[0-9a-fA-F]{128}"),
    "SSDEEP": re.compile(r"[a-zA-Z0-9/+:.]{1,128}"),
    "TLSH": re.compile(r"[a-zA-Z0-9]{70}"),
}
# §2.1 binary (RFC 4648 base64, padded) and the hex type, as the OASIS schemas spell them.
_BASE64 = re.compile(
    r"(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{4}|[A-Za-z0-9+/]{3}=|[A-Za-z0-9+/]{2}==)"
)
_HEX = re.compile(r"(?:[a-fA-F0-9]{2})+")
_HASH_NAME = re.compile(r"[a-zA-Z0-9_-]{3,250}")
_EXTENSION_NAME = re.compile(r"[a-z][a-z0-9]*(?:-[a-z0-9]+)*-ext")
_EXTENSION_DEFINITION_PREFIX = "extension-definition--"
# §5.1, §5.2, §7.1: what relationships, sightings and translations may not point at.
_NOT_RELATABLE = frozenset(
    {
        "relationship",
        "sighting",
        "bundle",
        "marking-definition",
        "language-content",
        "extension-definition",
    }
)
_UUID_TAIL = 38  # len("--") + len(UUID)

# Names that need no syntax check: those the spec defines (and so are known to be valid).
_KNOWN_NAMES = frozenset(
    {
        "id",
        "type",
        "spec_version",
        "created",
        "modified",
        "created_by_ref",
        "revoked",
        "labels",
        "confidence",
        "lang",
        "external_references",
        "object_marking_refs",
        "granular_markings",
        "extensions",
        "defanged",
        "name",
        "description",
        "hashes",
        "value",
        "kill_chain_phases",
        "aliases",
    }
    | {name for t in OBJECT_TYPES.values() for name in t.required}
    | {name for t in OBJECT_TYPES.values() for name in t.timestamps}
    | {name for t in OBJECT_TYPES.values() for name in t.id_contributing}
    | {name for t in OBJECT_TYPES.values() for name in t.ref_types}
    | {name for t in OBJECT_TYPES.values() for name in t.int_ranges}
)


def _label(obj: _Obj) -> str:
    oid = obj.get("id")
    if is_identifier(oid):
        return oid
    otype = obj.get("type")
    return f"{otype} object" if isinstance(otype, str) else "object"


def _fail(obj: _Obj, prop: str, message: str) -> NoReturn:
    raise InvalidStix(f'{_label(obj)} : property "{prop}" {message}')


def _missing(obj: _Obj, prop: str) -> NoReturn:
    raise InvalidStix(f'{_label(obj)} : required property "{prop}" is missing')


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, dict):
        return "an object"
    return "null" if value is None else type(value).__name__


def _timestamp(obj: _Obj, prop: str, value: object, *, millis: bool = False) -> int:
    if type(value) is not str:
        _fail(obj, prop, f"must be a timestamp string, not {_json_type(value)}")
    try:
        us = parse_timestamp(value)
    except ValueError as exc:
        _fail(obj, prop, str(exc))
    # ".sssZ" closes a timestamp with millisecond precision: 24 characters at least.
    if millis and len(value) < 24:
        _fail(obj, prop, f"{value!r} must have at least millisecond precision (.sss)")
    return us


def _ref(obj: _Obj, prop: str, value: object, types: frozenset[str] | None) -> None:
    if not is_identifier(value):
        _fail(obj, prop, id_error(value) or "is not an identifier")
    if types is not None and value[:-_UUID_TAIL] not in types:
        _fail(
            obj, prop, f"{value!r} must be the id of an object of type {' or '.join(sorted(types))}"
        )


def _refs(obj: _Obj, prop: str, value: object, types: frozenset[str] | None) -> None:
    if type(value) is not list:
        _fail(obj, prop, f"must be a list of identifiers, not {_json_type(value)}")
    for item in value:
        _ref(obj, prop, item, types)


def _strings(obj: _Obj, prop: str, value: object) -> None:
    if type(value) is not list or not all(type(item) is str for item in value):
        _fail(obj, prop, "must be a list of strings")


def _check_created_by_ref(obj: _Obj, prop: str, value: object) -> None:
    _ref(obj, prop, value, _IDENTITY)  # §3.2: the identity that created the object


def _check_object_marking_refs(obj: _Obj, prop: str, value: object) -> None:
    _refs(obj, prop, value, _MARKING)  # §7.2.2
    if obj.get("type") == "marking-definition" and type(value) is list and obj.get("id") in value:
        _fail(obj, prop, "must not contain the marking definition's own id")


def _check_granular_markings(obj: _Obj, prop: str, value: object) -> None:
    # §7.2.3: each has a non-empty list of selectors and exactly one of marking_ref or lang.
    if type(value) is not list:
        _fail(obj, prop, "must be a list of granular markings")
    for marking in value:
        if type(marking) is not dict:
            _fail(obj, prop, f"must hold granular markings (objects), not {_json_type(marking)}")
        selectors = marking.get("selectors")
        if type(selectors) is not list or not selectors:
            _fail(obj, prop, 'entries need "selectors", a non-empty list')
        if ("marking_ref" in marking) == ("lang" in marking):
            _fail(obj, prop, 'entries need exactly one of "marking_ref" or "lang"')
        if "marking_ref" in marking:
            _ref(obj, f"{prop}.marking_ref", marking["marking_ref"], _MARKING)
            if marking["marking_ref"] == obj.get("id"):
                _fail(obj, prop, "must not refer to the marking definition itself")
        elif type(marking["lang"]) is not str:
            _fail(obj, f"{prop}.lang", "must be a string")
        for selector in selectors:
            problem = _selector_problem(obj, selector)
            if problem is not None:
                _fail(obj, prop, f"selector {selector!r} {problem}")


def _selector_problem(obj: _Obj, selector: object) -> str | None:
    # §7.2.3: a selector is a dotted path of property names and [index] steps into this object.
    if type(selector) is not str or not selector:
        return "must be a non-empty string"
    node: object = obj
    for step in selector.split("."):
        if (
            step.startswith("[")
            and step.endswith("]")
            and step[1:-1].isascii()
            and step[1:-1].isdigit()
        ):
            if type(node) is not list:
                return f"indexes {step} into something that is not a list"
            index = int(step[1:-1])
            if index >= len(node):
                return f"index {step} is out of range"
            node = node[index]
        elif type(node) is dict and step in node:
            node = node[step]
        else:
            return f"names {step!r}, which is not a property here"
    return None


def _check_external_references(obj: _Obj, prop: str, value: object) -> None:
    # §2.6: source_name is required, with at least one of description, url or external_id.
    if type(value) is not list:
        _fail(obj, prop, "must be a list of external references")
    for ref in value:
        if type(ref) is not dict:
            _fail(obj, prop, f"must hold external references (objects), not {_json_type(ref)}")
        if type(ref.get("source_name")) is not str:
            _fail(obj, prop, 'entries need "source_name", a string')
        if "description" not in ref and "url" not in ref and "external_id" not in ref:
            _fail(
                obj,
                prop,
                f"entry {ref['source_name']!r} needs one of description, url or external_id",
            )
        for key in ("description", "url", "external_id"):
            if key in ref and type(ref[key]) is not str:
                _fail(obj, f"{prop}.{key}", "must be a string")
        if "hashes" in ref:
            _check_hashes(obj, f"{prop}.hashes", ref["hashes"])


def _check_hashes(obj: _Obj, prop: str, value: object) -> None:
    # §2.8: a non-empty dictionary of hash algorithm name to hash value; values of the §10
    # algorithms have their algorithm's form, as in the OASIS schemas (common/hashes-type.json).
    if type(value) is not dict or not value:
        _fail(obj, prop, "must be a non-empty dictionary of hashes")
    for algorithm, digest in value.items():
        if type(algorithm) is not str or type(digest) is not str:
            _fail(obj, prop, f"hash {algorithm!r} must be a string")
        form = _HASH_FORMS.get(algorithm)
        if form is not None:
            if form.fullmatch(digest) is None:
                _fail(obj, prop, f"{algorithm} value {digest!r} is not a valid {algorithm} hash")
        elif _HASH_NAME.fullmatch(algorithm) is None:
            _fail(obj, prop, f"hash name {algorithm!r} must be 3 to 250 of a-z, A-Z, 0-9, _ and -")


def _check_bool(obj: _Obj, prop: str, value: object) -> None:
    if type(value) is not bool:
        _fail(obj, prop, f"must be true or false, not {_json_type(value)}")


def _check_string(obj: _Obj, prop: str, value: object) -> None:
    if type(value) is not str:
        _fail(obj, prop, f"must be a string, not {_json_type(value)}")


def _check_binary(obj: _Obj, prop: str, value: object) -> None:
    if type(value) is not str or _BASE64.fullmatch(value) is None:
        _fail(obj, prop, "must be a base64-encoded string (§2.1)")


def _check_hex(obj: _Obj, prop: str, value: object) -> None:
    if type(value) is not str or _HEX.fullmatch(value) is None:
        _fail(obj, prop, "must be a string of hex digit pairs (hex type, §2)")


def _check_confidence(obj: _Obj, prop: str, value: object) -> None:
    # §3.2: confidence is an integer from 0 to 100.
    if type(value) is not int or not 0 <= value <= 100:
        _fail(obj, prop, f"must be an integer from 0 to 100, not {value!r}")


def _check_extensions(obj: _Obj, prop: str, value: object) -> None:
    # §7.3 and §2.5: keys are extension-definition ids (or predefined "-ext" names); each value is
    # a dictionary, and one keyed by an extension-definition says its extension_type.
    if type(value) is not dict or not value:
        _fail(obj, prop, "must be a non-empty dictionary of extensions")
    for key, extension in value.items():
        if type(key) is not str:
            _fail(obj, prop, f"keys must be strings, not {_json_type(key)}")
        if type(extension) is not dict or not extension:
            _fail(obj, f"{prop}.{key}", "must be a non-empty dictionary")
        if key.startswith(_EXTENSION_DEFINITION_PREFIX):
            error = id_error(key)
            if error is not None:
                _fail(obj, prop, f"key {error}")
            kind = extension.get("extension_type")
            if type(kind) is not str or kind not in _EXTENSION_TYPES:
                _fail(
                    obj,
                    f"{prop}.{key}.extension_type",
                    f"must be one of {', '.join(sorted(_EXTENSION_TYPES))}",
                )
        elif _EXTENSION_NAME.fullmatch(key) is None:
            _fail(obj, prop, f"key {key!r} must be an extension-definition id or end in -ext")


_IDENTITY = frozenset({"identity"})
_MARKING = frozenset({"marking-definition"})

_Check = Callable[[_Obj, str, Any], None]
# Value checks of the properties common to many types (§3.2, §6, §7.2), by name.
_COMMON_CHECKS: Mapping[str, _Check] = {
    "created_by_ref": _check_created_by_ref,
    "object_marking_refs": _check_object_marking_refs,
    "granular_markings": _check_granular_markings,
    "external_references": _check_external_references,
    "revoked": _check_bool,
    "defanged": _check_bool,
    "labels": _strings,
    "confidence": _check_confidence,
    "lang": _check_string,
    "extensions": _check_extensions,
    "hashes": _check_hashes,
}


def _nothing(obj: _Obj, prop: str, value: object) -> None:
    """Stand in for properties checked elsewhere or free of value rules."""


_REF_TYPES: dict[str, Mapping[str, frozenset[str]]] = {
    name: known.ref_types for name, known in OBJECT_TYPES.items()
}
_NO_REF_TYPES: Mapping[str, frozenset[str]] = {}


def _typed_ref(obj: _Obj, prop: str, value: object) -> None:
    _ref(obj, prop, value, _REF_TYPES.get(obj["type"], _NO_REF_TYPES).get(prop))


def _typed_refs(obj: _Obj, prop: str, value: object) -> None:
    _refs(obj, prop, value, _REF_TYPES.get(obj["type"], _NO_REF_TYPES).get(prop))


def _untyped_ref(obj: _Obj, prop: str, value: object) -> None:
    _ref(obj, prop, value, None)


def _untyped_refs(obj: _Obj, prop: str, value: object) -> None:
    _refs(obj, prop, value, None)


def _check_for(name: str, *, typed: bool) -> _Check:
    if name in _COMMON_CHECKS:
        return _COMMON_CHECKS[name]
    if name in ("type", "spec_version", "id", "created", "modified"):
        return _nothing  # checked before or after the property loop
    # §2.1 and §2.9: the suffix says the type: *_bin is base64, *_hex is hex, *_ref holds an
    # identifier and *_refs a list of them.
    if name.endswith("_bin"):
        return _check_binary
    if name.endswith("_hex"):
        return _check_hex
    if name.endswith("_ref"):
        return _typed_ref if typed else _untyped_ref
    if name.endswith("_refs"):
        return _typed_refs if typed else _untyped_refs
    return _nothing


# One dictionary look-up per property finds its check; names absent are custom (§11.1).
_CHECK_BY_NAME: Mapping[str, _Check] = {name: _check_for(name, typed=True) for name in _KNOWN_NAMES}
# Custom names seen before, with their checks, so each is syntax-checked once; bounded.
_custom_checks: dict[str, _Check] = {}
_CUSTOM_MEMO_SIZE = 4096


def _custom_check(obj: _Obj, name: object) -> _Check:
    # §3.1: property names are 3 to 250 of a-z, A-Z, 0-9 and _.
    if type(name) is not str or _PROPERTY_NAME.fullmatch(name) is None:
        raise InvalidStix(
            f"{_label(obj)} : property name {name!r} must be 3 to 250 characters"
            " of a-z, A-Z, 0-9 and _ (§3.1)"
        )
    if name in _RESERVED_PROPERTIES:
        _fail(obj, name, "is a reserved name and must not be used")
    check = _check_for(name, typed=False)
    if len(_custom_checks) < _CUSTOM_MEMO_SIZE:
        _custom_checks[name] = check
    return check


def _declares(obj: _Obj, extension_type: str) -> bool:
    extensions = obj.get("extensions")
    return type(extensions) is dict and any(
        type(ext) is dict and ext.get("extension_type") == extension_type
        for ext in extensions.values()
    )


def _check_spec_version(obj: _Obj, known: ObjectType | None) -> None:
    if "spec_version" not in obj:
        if known is not None and known.category is Category.SCO:
            return  # §6: spec_version is optional on SCOs
        if known is None and ("created" not in obj or _declares(obj, "new-sco")):
            return  # a custom observable: see the module docstring
        raise UnsupportedSpecVersion(
            f'{_label(obj)} : has no "spec_version", so it is STIX 2.0, which kizuna does not'
            " accept yet; upgrade it to STIX 2.1 (for example with the OASIS stix2-elevator)"
        )
    version = obj["spec_version"]
    if version == "2.0":
        raise UnsupportedSpecVersion(
            f'{_label(obj)} : "spec_version" is "2.0": STIX 2.0 is not accepted yet; upgrade it'
            " to STIX 2.1 (for example with the OASIS stix2-elevator)"
        )
    if type(version) is str:
        raise UnsupportedSpecVersion(
            f'{_label(obj)} : "spec_version" is {version!r}; kizuna accepts STIX 2.1 only'
        )
    _fail(obj, "spec_version", f'must be the string "2.1", not {_json_type(version)}')


def _check_type_rules(obj: _Obj, known: ObjectType) -> None:
    for name in known.required:
        if name not in obj:
            _missing(obj, name)
    for group in known.any_of:
        if not any(name in obj for name in group):
            raise InvalidStix(
                f"{_label(obj)} : needs one of {', '.join(group)} (STIX 2.1 §{known.section})"
            )
    if known.int_ranges:
        for name, (low, high) in known.int_ranges.items():
            value = obj.get(name)
            if value is not None and (type(value) is not int or not low <= value <= high):
                _fail(obj, name, f"must be an integer from {low} to {high}, not {value!r}")
    if known.timestamps:
        times = {name: _timestamp(obj, name, obj[name]) for name in known.timestamps if name in obj}
        for later, earlier, strict in known.order:
            if later in times and earlier in times:
                if strict and times[later] <= times[earlier]:
                    _fail(obj, later, f'must be later than "{earlier}"')
                if not strict and times[later] < times[earlier]:
                    _fail(obj, later, f'must not be earlier than "{earlier}"')
    extra = _TYPE_CHECKS.get(known.name)
    if extra is not None:
        extra(obj)
    # §2.9: without ID contributing properties, an SCO's id is a UUIDv4.
    if (
        known.category is Category.SCO
        and obj["id"][-22] != "4"
        and not any(p in obj for p in known.id_contributing)
    ):
        _fail(obj, "id", "must hold a UUIDv4: none of the ID contributing properties is set")


def _check_indicator(obj: _Obj) -> None:
    _check_string(obj, "pattern", obj["pattern"])  # §4.7; its syntax is not checked here
    _check_string(obj, "pattern_type", obj["pattern_type"])


def _check_relationship(obj: _Obj) -> None:
    kind = obj["relationship_type"]
    if type(kind) is not str or _RELATIONSHIP_TYPE.fullmatch(kind) is None:
        _fail(obj, "relationship_type", "must be a string of a-z, 0-9 and hyphens (§5.1)")
    for end in ("source_ref", "target_ref"):
        if obj[end][:-_UUID_TAIL] in _NOT_RELATABLE:
            _fail(obj, end, "must point at an SDO or SCO (§5.1)")


def _check_sighting(obj: _Obj) -> None:
    if obj["sighting_of_ref"][:-_UUID_TAIL] in _NOT_RELATABLE:
        _fail(obj, "sighting_of_ref", "must point at an SDO (§5.2)")


def _check_malware(obj: _Obj) -> None:
    _check_bool(obj, "is_family", obj["is_family"])
    if obj["is_family"] and "name" not in obj:
        _missing(obj, "name")  # §4.11: a malware family must have a name


def _check_location(obj: _Obj) -> None:
    # §4.10: region, country, or latitude with longitude; coordinates in range.
    has_lat, has_long = "latitude" in obj, "longitude" in obj
    if has_lat != has_long:
        _fail(obj, "latitude" if has_lat else "longitude", "needs its pair (latitude, longitude)")
    if "precision" in obj and not has_lat:
        _fail(obj, "precision", "needs latitude and longitude")
    if not has_lat and "region" not in obj and "country" not in obj:
        raise InvalidStix(f"{_label(obj)} : needs one of region, country, or latitude+longitude")
    for name, limit in (("latitude", 90), ("longitude", 180)):
        value = obj.get(name)
        if value is not None and (type(value) not in (int, float) or not -limit <= value <= limit):
            _fail(obj, name, f"must be a number from -{limit} to {limit}")


def _check_observed_data(obj: _Obj) -> None:
    if "objects" in obj and "object_refs" in obj:
        _fail(obj, "objects", 'must not be present with "object_refs" (§4.14)')


def _check_network_traffic(obj: _Obj) -> None:
    # §6.12: traffic that is still active has no end.
    if obj.get("is_active") is True and "end" in obj:
        _fail(obj, "end", 'must not be present when "is_active" is true')


def _check_artifact(obj: _Obj) -> None:
    # §6.1: payload_bin or url, not both; url comes with hashes.
    if "payload_bin" in obj and "url" in obj:
        _fail(obj, "url", 'must not be present with "payload_bin"')
    if "url" in obj and "hashes" not in obj:
        _missing(obj, "hashes")


def _check_marking_definition(obj: _Obj) -> None:
    # §7.2.1: definition_type with definition (TLP 1.0 and statement markings, deprecated), or
    # an extension (TLP 2.0 and the like).
    has_type, has_definition = "definition_type" in obj, "definition" in obj
    if has_type != has_definition:
        _missing(obj, "definition" if has_type else "definition_type")
    if has_type:
        _check_string(obj, "definition_type", obj["definition_type"])
        if type(obj["definition"]) is not dict:
            _fail(obj, "definition", "must be an object")
        if obj["definition_type"] == "tlp":
            _check_tlp_1(obj)
        elif (
            obj["definition_type"] == "statement"
            and type(obj["definition"].get("statement")) is not str
        ):
            _fail(obj, "definition", 'of a statement marking needs "statement", a string')
    elif "extensions" not in obj:
        raise InvalidStix(
            f'{_label(obj)} : needs "definition_type" and "definition", or "extensions"'
        )


def _check_tlp_1(obj: _Obj) -> None:
    # §7.2.1: TLP 1.0 markings are the four the spec defines, never other instances.
    colour = TLP_1_MARKINGS.get(obj["id"])
    if colour is None:
        _fail(obj, "id", "is not one of the four TLP 1.0 marking definitions of STIX 2.1 §7.2.1")
    if obj["definition"] != {"tlp": colour}:
        _fail(obj, "definition", f'must be {{"tlp": "{colour}"}} for this TLP 1.0 marking')
    if obj["created"] != TLP_1_CREATED:
        _fail(obj, "created", f"must be {TLP_1_CREATED} for a TLP 1.0 marking")
    if obj.get("name", f"TLP:{colour.upper()}") != f"TLP:{colour.upper()}":
        _fail(obj, "name", f'must be "TLP:{colour.upper()}" for this TLP 1.0 marking')


def _check_language_content(obj: _Obj) -> None:
    if obj["object_ref"][:-_UUID_TAIL] in ("bundle", "language-content"):
        _fail(obj, "object_ref", "must not point at a bundle or language-content (§7.1)")
    contents = obj["contents"]
    if type(contents) is not dict or not contents:
        _fail(obj, "contents", "must be a non-empty dictionary of language to translations")


def _check_extension_definition(obj: _Obj) -> None:
    kinds = obj["extension_types"]
    if type(kinds) is not list or not all(type(k) is str and k in _EXTENSION_TYPES for k in kinds):
        _fail(obj, "extension_types", f"must list some of {', '.join(sorted(_EXTENSION_TYPES))}")
    for name in ("name", "schema", "version"):
        _check_string(obj, name, obj[name])


_TYPE_CHECKS: Mapping[str, Callable[[_Obj], None]] = {
    "indicator": _check_indicator,
    "relationship": _check_relationship,
    "sighting": _check_sighting,
    "malware": _check_malware,
    "location": _check_location,
    "observed-data": _check_observed_data,
    "artifact": _check_artifact,
    "network-traffic": _check_network_traffic,
    "marking-definition": _check_marking_definition,
    "language-content": _check_language_content,
    "extension-definition": _check_extension_definition,
}


def validate(obj: object) -> None:
    """Raise InvalidStix (or UnsupportedSpecVersion) unless ``obj`` is a valid STIX 2.1 object."""
    if type(obj) is not dict:
        raise InvalidStix(f"a STIX object must be a JSON object, not {_json_type(obj)}")
    otype = obj.get("type")
    known = OBJECT_TYPES.get(otype) if type(otype) is str else None
    if known is None:
        if otype is None:
            _missing(obj, "type")
        error = type_error(otype)
        if error is not None:
            _fail(obj, "type", error)
        if otype == "bundle":
            _fail(obj, "type", "is bundle: a bundle (§8) is no object; validate its objects")
        if otype in _RESERVED_TYPES:
            _fail(obj, "type", f"{otype!r} is reserved")
    if obj.get("spec_version") != "2.1":
        _check_spec_version(obj, known)

    oid = obj.get("id")
    if oid is None:
        _missing(obj, "id")
    if not is_identifier(oid):
        _fail(obj, "id", id_error(oid) or "is not an identifier")
    if oid[:-_UUID_TAIL] != otype:
        _fail(obj, "id", f'must start with "{otype}--", the object\'s type')

    check_by_name = _CHECK_BY_NAME.get
    for key, value in obj.items():
        check = check_by_name(key) or _custom_checks.get(key) or _custom_check(obj, key)
        if not value and (value is None or type(value) is list):
            if value is None:
                _fail(obj, key, "is null: STIX has no null values; leave the property out")
            _fail(obj, key, "is an empty list: leave the property out instead (§2.12)")
        if check is not _nothing:
            check(obj, key, value)

    if known is None or known.category is not Category.SCO:  # SCOs have no created/modified
        _check_versioning(obj, millis=otype != "marking-definition")
    if known is not None:
        _check_type_rules(obj, known)


def _check_versioning(obj: _Obj, *, millis: bool) -> None:
    # §3.2: created and modified are timestamps, at least to the millisecond (the marking
    # definition's created excepted, as in the OASIS schemas), and modified is not before created.
    created = obj.get("created")
    modified = obj.get("modified")
    if created is not None:
        created_us = _timestamp(obj, "created", created, millis=millis)
        if (
            modified is not None
            and modified != created
            and _timestamp(obj, "modified", modified, millis=millis) < created_us
        ):
            _fail(obj, "modified", f"({modified}) must not be earlier than created ({created})")
    elif modified is not None:
        _timestamp(obj, "modified", modified, millis=millis)


def check_sco_id(obj: Mapping[str, object]) -> str | None:
    """Warn when an SCO with ID contributing properties lacks its deterministic id (§2.9 SHOULD)."""
    try:
        expected = sco_deterministic_id(obj)
    except ValueError as exc:
        return f"{obj.get('id')} : cannot compute the deterministic id: {exc}"
    if expected is None or obj.get("id") == expected:
        return None
    return (
        f"{obj.get('id')} : the id SHOULD be the deterministic {expected}"
        " (UUIDv5 of the ID contributing properties, STIX 2.1 §2.9)"
    )
