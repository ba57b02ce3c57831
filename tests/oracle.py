"""An independent oracle of the policy contract (DESIGN.md "The policy contract", rules 0–9).

Written from the text of DESIGN.md, not from ``kizuna.core.policy``: it reads plain values the
scenario test describes (parties, agreements, consents, each object's intended handling and
provenance) and predicts what each party receives. Where DESIGN.md leaves a choice open, the
oracle follows what kizuna documents; each such choice is marked ``ALIGNED:`` below.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from kizuna.core.stix.timestamps import parse_timestamp

# TLP 2.0, least to most restrictive (FIRST, August 2022).
TLP_LEVELS = ("clear", "green", "amber", "amber+strict", "red")
# Rule 7: containers go as derivatives without withheld refs; everything else goes whole or not.
CONTAINERS = frozenset({"report", "grouping", "note", "opinion", "observed-data"})
# ALIGNED: handling vocabulary goes to every party (kizuna: policy.HANDLING_VOCABULARY).
VOCABULARY = frozenset({"marking-definition", "extension-definition"})
CONSENT = "x-kizuna-consent"
STIX_ID = re.compile(
    r"^[a-z0-9][a-z0-9-]*--[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)


@dataclass(frozen=True)
class OParty:
    id: str
    name: str
    jurisdiction: str
    kind: str
    scheme: str | None


@dataclass(frozen=True)
class OProfile:
    """A redaction profile: to whom it applies and what it takes out."""

    name: str
    jurisdictions: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    parties: frozenset[str] = frozenset()
    drop_types: frozenset[str] = frozenset()
    remove: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def applies(self, p: OParty) -> bool:
        return p.id in self.parties or p.jurisdiction in self.jurisdictions or p.kind in self.kinds

    def removes(self, stix_type: str) -> tuple[str, ...]:
        return (*self.remove.get("*", ()), *self.remove.get(stix_type, ()))


@dataclass(frozen=True)
class OAgreement:
    id: str
    version: int
    parties: frozenset[str]
    valid_from: int
    valid_until: int | None
    signed_by_all: bool
    state: str  # draft, active, suspended, terminated
    rows: tuple[Mapping[str, Any], ...]  # {"rank": n, "levels": {scheme: level}}
    max_rank: int
    tlp_allowed: frozenset[str]
    onward: str
    profiles: tuple[OProfile, ...] = ()

    def active(self, now: int) -> bool:
        """Rule 9: signed by every party, inside its validity, neither suspended nor terminated."""
        in_force = self.valid_from <= now and (self.valid_until is None or now < self.valid_until)
        return self.signed_by_all and self.state not in ("suspended", "terminated") and in_force

    def allows(self, tlp: str) -> bool:
        # ALIGNED: allowing a label allows every less restrictive one (Agreement.allows_tlp).
        return any(TLP_LEVELS.index(tlp) <= TLP_LEVELS.index(t) for t in self.tlp_allowed)

    def row_of(self, scheme: str, level: str) -> Mapping[str, Any] | None:
        return next((r for r in self.rows if r["levels"].get(scheme) == level), None)


def agreement_from(doc: Mapping[str, Any], state: str) -> OAgreement:
    """Read an agreement document (as ``data/agreement.schema.json`` describes it)."""
    cls = doc.get("classification") or {}
    return OAgreement(
        id=doc["id"],
        version=doc["version"],
        parties=frozenset(p["id"] for p in doc["parties"]),
        valid_from=parse_timestamp(doc["valid_from"]),
        valid_until=parse_timestamp(doc["valid_until"]) if doc.get("valid_until") else None,
        signed_by_all={p["id"] for p in doc["parties"]}
        <= {s["party"] for s in doc.get("signatures", ())},
        state=state,
        rows=tuple(cls.get("equivalences", ())),
        max_rank=cls.get("max_rank", 0),
        tlp_allowed=frozenset(doc.get("tlp_allowed", TLP_LEVELS)),
        onward=doc.get("onward_release", "originator-consent"),
        profiles=tuple(
            OProfile(
                p["name"],
                jurisdictions=frozenset(p.get("applies_to", {}).get("jurisdictions", ())),
                kinds=frozenset(p.get("applies_to", {}).get("kinds", ())),
                parties=frozenset(p.get("applies_to", {}).get("parties", ())),
                drop_types=frozenset(p.get("drop_types", ())),
                remove={t: tuple(v) for t, v in (p.get("remove_properties") or {}).items()},
            )
            for p in doc.get("redaction_profiles", ())
        ),
    )


@dataclass(frozen=True)
class OConsent:
    originator: str
    expires: int
    objects: frozenset[str] = frozenset()
    types: frozenset[str] = frozenset()
    parties: frozenset[str] = frozenset()
    agreements: frozenset[str] = frozenset()
    revoked: bool = False


@dataclass(frozen=True)
class OHandling:
    """What the originator asked for, as the scenario wrote it into markings."""

    tlp: str | None = None
    classification: tuple[str, str] | None = None  # (scheme, level)
    release_rule: str | None = None
    recipients: frozenset[str] | None = None
    release_agreements: frozenset[str] = frozenset()
    embargo_until: int | None = None
    embargo_participants: frozenset[str] = frozenset()

    @property
    def restricted(self) -> bool:
        # DESIGN.md, turn 2: ``release.agreements`` alone restricts nothing; it only qualifies
        # rule ``agreement-members`` for onward release.
        return bool(self.classification or self.release_rule or self.recipients is not None)


@dataclass(frozen=True)
class OObject:
    """One object (its latest version) with its provenance."""

    content: Mapping[str, Any]
    source: str  # the source of record
    first_hop: bool
    handling: OHandling = OHandling()
    # The party that delivered it to the node (poster or peer); None: the source itself.
    received_from: str | None = None

    @property
    def id(self) -> str:
        return str(self.content["id"])

    @property
    def type(self) -> str:
        return str(self.content["type"])


@dataclass(frozen=True)
class Outcome:
    """The oracle's prediction for one (object, party)."""

    released: bool
    why: str
    profiles: tuple[OProfile, ...] = ()  # the profiles that change the object (rule 8)
    dropped_refs: frozenset[str] = frozenset()  # withheld refs left out (rule 7)
    # Refs to objects the party receives as derivatives, renamed to the derivatives' ids.
    renamed: frozenset[tuple[str, str]] = frozenset()

    @property
    def derived(self) -> bool:
        return bool(self.profiles or self.dropped_refs or self.renamed)


def addressees(consent: Mapping[str, Any]) -> frozenset[str]:
    """Whom a consent is for: the holders it notifies (not the recipient it names)."""
    return frozenset(consent.get("notify", ()))


def _withhold(why: str) -> Outcome:
    return Outcome(False, why)


def mentioned_ids(obj: Mapping[str, Any]) -> frozenset[str]:
    """Every STIX id an object names anywhere (rule 7 "reveal the id"), but its own and markings.

    Deliberately wider than ``*_ref``/``*_refs``: rule 7 forbids revealing a withheld id through
    any property, whatever its name.
    """
    found: set[str] = set()

    def walk(value: Any) -> None:
        if isinstance(value, str):
            if STIX_ID.match(value):
                found.add(value)
        elif isinstance(value, Mapping):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    for key, value in obj.items():
        if key not in ("id", "object_marking_refs", "granular_markings"):
            walk(value)
    return frozenset(found)


def without(obj: Mapping[str, Any], props: Iterable[str], refs: frozenset[str]) -> dict[str, Any]:
    """``obj`` without the given top-level properties and without any reference to ``refs``."""
    out = {k: v for k, v in obj.items() if k not in set(props)}

    def drop(value: Any) -> Any:
        if isinstance(value, dict):
            kept: dict[str, Any] = {}
            for k, v in value.items():
                if k.endswith("_refs") and isinstance(v, list):
                    v = [r for r in v if r not in refs]
                    if not v:
                        continue
                elif k.endswith("_ref") and v in refs:
                    continue
                kept[k] = drop(v)
            return kept
        if isinstance(value, list):
            return [drop(v) for v in value]
        return value

    return drop(out) if refs else out


def renaming(obj: dict[str, Any], renamed: Mapping[str, str]) -> dict[str, Any]:
    """``obj`` with its ``*_ref``/``*_refs`` values renamed."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            out: dict[str, Any] = {}
            for k, v in value.items():
                if k.endswith("_refs") and isinstance(v, list):
                    out[k] = [renamed.get(r, r) for r in v]
                elif k.endswith("_ref") and isinstance(v, str):
                    out[k] = renamed.get(v, v)
                else:
                    out[k] = walk(v)
            return out
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(obj) if renamed else obj


@dataclass
class Oracle:
    """Predicts each party's view from the rules of DESIGN.md."""

    home: str
    clients: frozenset[str]
    parties: Mapping[str, OParty]
    agreements: tuple[OAgreement, ...]
    consents: tuple[OConsent, ...]
    # ALIGNED: the latest version of every object the node holds; TAXII's default
    # match[version]=last shows only it, so an older version is never shown in its stead.
    objects: Mapping[str, OObject]
    now: int
    default_tlp: str = "amber"
    # Conditions switched off, to prove that each one decides something in a scenario.
    off: frozenset[str] = frozenset()
    _memo: dict[tuple[str, str, bool], Outcome] = field(default_factory=dict)

    def outcome(self, object_id: str, party_id: str, refs: bool = True) -> Outcome:
        """The decision; with ``refs=False``, as if the object named nothing (rule 7 off)."""
        key = (object_id, party_id, refs)
        if key not in self._memo:
            o, p = self.objects[object_id], self.parties[party_id]
            decided = self._memo[key] = self._decide(o, p, refs)
            if refs and decided.released and p.id != self.home:
                self._memo[key] = self._renamed(o, p, decided)
        return self._memo[key]

    def _renamed(self, o: OObject, p: OParty, out: Outcome) -> Outcome:
        """A container of an object released as a derivative references the derivative."""
        renamed = set()
        for r in mentioned_ids(o.content):
            held = r in self.objects and r not in out.dropped_refs and r != o.id
            if held and self.outcome(r, p.id).released:
                new = self.released_id(r, p.id)
                if new != r:
                    renamed.add((r, new))
        return dataclasses.replace(out, renamed=frozenset(renamed)) if renamed else out

    def variant(self, **changes: Any) -> Oracle:
        """The same world with some agreements or consents changed (for counterfactuals)."""
        return dataclasses.replace(self, _memo={}, **changes)

    def releases(self, party_ids: Iterable[str]) -> set[tuple[str, str, str]]:
        """Every (object, party, released id) this world releases to those parties."""
        return {
            (i, p, self.released_id(i, p))
            for i in self.objects
            for p in party_ids
            if self.outcome(i, p).released
        }

    def nested(self, object_id: str, party_id: str) -> frozenset[str]:
        """The refs a container loses only because their own refs are withheld (two levels)."""
        out = self.outcome(object_id, party_id)
        if self.objects[object_id].type not in CONTAINERS:
            return frozenset()
        return frozenset(r for r in out.dropped_refs if self.outcome(r, party_id, False).released)

    def view(self, party_id: str) -> dict[str, OObject]:
        """What the party receives: released id (a derivative's new id) -> the original."""
        return {
            self.released_id(o.id, party_id): o
            for o in self.objects.values()
            if self.outcome(o.id, party_id).released
        }

    def withheld(self, party_id: str) -> set[str]:
        return {i for i in self.objects if not self.outcome(i, party_id).released}

    def released_id(self, object_id: str, party_id: str) -> str:
        from kizuna.core.redaction import derived_id, profile_name  # the two id helpers

        out = self.outcome(object_id, party_id)
        if not out.derived:
            return object_id
        name = profile_name(out.profiles, out.dropped_refs)  # type: ignore[arg-type]
        return derived_id(object_id, name, self.expected_content(object_id, party_id))

    def expected_content(self, object_id: str, party_id: str) -> dict[str, Any]:
        """The released content, without the derivative extension kizuna adds."""
        o, out = self.objects[object_id], self.outcome(object_id, party_id)
        removed = [prop for p in out.profiles for prop in p.removes(o.type)]
        return renaming(without(o.content, removed, out.dropped_refs), dict(out.renamed))

    # -- the rules ------------------------------------------------------------------------------

    def _decide(self, o: OObject, p: OParty, refs: bool = True) -> Outcome:
        h = o.handling
        if p.id == self.home:
            return Outcome(True, "rule 0: the home party sees everything its node holds")
        if p.id == o.source:
            return Outcome(True, "rule 1: the originator receives its own objects")
        if o.type in VOCABULARY:
            return Outcome(True, "vocabulary: every party needs it to read markings")
        if o.type == CONSENT:
            # ALIGNED: a consent is a federation message, only for the holders it names in
            # ``notify`` whatever its markings, and rule 7 holds for it (core/protocol.py).
            if p.id not in addressees(o.content):
                return _withhold("message: not addressed to this party")
            dropped = self._withheld_refs(o, p) if refs else frozenset()
            if dropped:
                return Outcome(False, f"rule 7: message names withheld {sorted(dropped)}")
            return Outcome(True, "message: addressed to this party")
        if (
            "embargo" not in self.off
            and h.embargo_until is not None
            and self.now < h.embargo_until
            and p.id not in h.embargo_participants
        ):
            return _withhold("rule 2: embargoed and not a participant")
        # Rule 7: only the ends the node holds count.
        dropped = (
            self._withheld_refs(o, p) if refs and "references" not in self.off else frozenset()
        )
        if dropped and o.type not in CONTAINERS:
            return Outcome(False, f"rule 7: names withheld {sorted(dropped)}", (), dropped)
        if dropped and not self._left_after(o, dropped):
            return Outcome(False, "rule 7: every ref withheld", (), dropped)
        tlp = h.tlp or self.default_tlp
        if tlp == "clear" and not h.restricted and "public" not in self.off:
            return Outcome(True, "rule 3: public", (), dropped)
        onward = not o.first_hop
        consent = self._consented(o, p)
        # DESIGN.md, turn 2: a consent naming the recipient itself is the originator's later
        # word; it adds the recipient to the listed ones (for RED it counts as listing it).
        # ALIGNED (docs/policy.md): a consent naming an agreement the recipient is in does not.
        named = self._consented(o, p, agreements=False) and "consent-lists" not in self.off
        # Rule 5, the part no agreement changes.
        listed = h.recipients is None or p.id in h.recipients or named
        if not listed and "listed" not in self.off:
            return _withhold("rule 5: not a listed recipient")
        red_listed = h.recipients is not None or named
        if tlp == "red" and not red_listed and "red-listed" not in self.off:
            return _withhold("rule 5: RED needs listed recipients")
        if onward and not consent and "tlp-onward" not in self.off:
            if tlp in ("amber+strict", "red"):
                return _withhold(f"rule 5: {tlp} is first-hop only")
            if tlp == "amber" and p.id not in self.clients:
                return _withhold("rule 5: AMBER goes onward only to clients")
        reasons: list[str] = []
        # Rule 4's exception: onward to a client of the home, unclassified GREEN or AMBER, needs
        # no agreement (rules 5 and 6 still hold). ALIGNED: CLEAR counts with GREEN and AMBER,
        # and where the exception applies it is used, so no agreement governs and no redaction
        # profile applies. Turn 2: a consent naming the client lifts the TLP restriction.
        client_tlp = tlp in ("clear", "green", "amber") or (
            self._consented(o, p, agreements=False) and "client-consent" not in self.off
        )
        if (
            "client-exception" not in self.off
            and onward
            and h.classification is None
            and p.id in self.clients
            and client_tlp
        ):
            why = self._third_party(None, o, consent)
            if why is None:
                return Outcome(True, "rule 4: onward to a client, no agreement needed", (), dropped)
            reasons.append(f"client: {why}")
        releaser = o.source if o.first_hop else self.home
        candidates: list[tuple[OAgreement, tuple[OProfile, ...]]] = []
        for a in sorted(self.agreements, key=lambda a: (a.id, a.version)):
            alive = a.active(self.now) or "lifecycle" in self.off
            if not (alive and releaser in a.parties and p.id in a.parties):
                continue
            why = self._fails(a, o, p, tlp, onward, consent)
            if why:
                reasons.append(f"{a.id}: {why}")
                continue
            applying = [x for x in a.profiles if x.applies(p)]
            if any(o.type in x.drop_types for x in applying) and "drop" not in self.off:
                reasons.append(f"{a.id}: rule 8 drops every {o.type}")
                continue
            # ALIGNED: a profile makes a derivative only when it changes the object (gate.py).
            touching = tuple(x for x in applying if any(k in o.content for k in x.removes(o.type)))
            touching = () if "redaction" in self.off else touching
            candidates.append((a, touching))
        if not candidates:
            return _withhold(f"rule 4: no governing agreement ({'; '.join(reasons)})")
        # ALIGNED: a whole release beats a redacted one; otherwise the first by (id, version).
        whole = [c for c in candidates if not c[1] or "whole-first" in self.off]
        agreement, profiles = whole[0] if whole else candidates[0]
        return Outcome(True, f"under {agreement.id}", profiles, dropped)

    def _withheld_refs(self, o: OObject, p: OParty) -> frozenset[str]:
        """Rule 7: the ids ``o`` names that the node holds and withholds from ``p``."""
        return frozenset(
            r
            for r in mentioned_ids(o.content)
            if r in self.objects and not self.outcome(r, p.id).released
        )

    def _fails(
        self, a: OAgreement, o: OObject, p: OParty, tlp: str, onward: bool, consent: bool
    ) -> str | None:
        """Why ``a`` cannot govern this release (rules 4 and 6), or None."""
        h, off = o.handling, self.off
        if not a.allows(tlp) and "tlp-allowed" not in off:
            return f"does not allow {tlp}"
        # Rule 4: GREEN stays in the originator's community. ALIGNED (docs/policy.md): a
        # consent naming the recipient lifts this TLP condition as it lifts rule 5's onward
        # limits; otherwise raising GREEN to AMBER could add a release, which DESIGN forbids.
        green_held = o.source not in a.parties and not consent
        if onward and tlp == "green" and green_held and "green" not in off:
            return "GREEN onward needs the originator in the agreement"
        if h.classification is not None and "classification" not in off:
            scheme, level = h.classification
            row = a.row_of(scheme, level)
            if row is None or (row["rank"] > a.max_rank and "max-rank" not in off):
                return "no row at or under the maximum rank"
            if (p.scheme is None or p.scheme not in row["levels"]) and "partial" not in off:
                return "no level for the recipient's scheme"
        if not onward:
            return None
        return self._third_party(a, o, consent)

    def _third_party(self, a: OAgreement | None, o: OObject, consent: bool) -> str | None:
        """Rule 6 for an onward release under ``a`` (None: the clients exception), or None.

        DESIGN.md, turn 2: the stricter of the object's release rule and the agreement's onward
        clause applies, so without a consent both must allow the release.
        """
        h, off = o.handling, self.off
        if h.release_rule == "no-onward" and "no-onward" not in off:
            return "no-onward"
        if h.classification is None and h.release_rule is None:
            return None
        if consent or "third-party" in off:
            return None
        if a is None:
            # ALIGNED (docs/policy.md): a rule pre-consents within agreements, so with none
            # governing only the originator's consent lets a ruled object go to a client.
            return "outside an agreement onward release needs the originator's consent"
        if h.release_rule == "agreement-members" and "pre-consent" not in off:
            # Naming no agreement, it means the agreements under which the object was received.
            rule_allows = a.id in (h.release_agreements or self.received_under(o))
        else:
            rule_allows = h.release_rule is None  # originator-consent needs the consent
        clause_allows = (
            a.onward == "agreement-members" and o.source in a.parties and "onward-clause" not in off
        )
        if "stricter" in off:  # as before turn 2: either one sufficed
            pre_consented = h.release_rule == "agreement-members" and rule_allows
            allowed = pre_consented or clause_allows
        else:
            allowed = rule_allows and clause_allows
        return None if allowed else "onward release needs the originator's consent"

    def received_under(self, o: OObject) -> frozenset[str]:
        """The agreements the object was received under: active now, joining the home party
        and the party that delivered it (the source, when the home party imported it).
        ALIGNED: kizuna records no agreements at receipt; it reads them now (docs/policy.md)."""
        came_from = o.received_from or o.source
        if came_from == self.home:
            came_from = o.source
        return frozenset(
            a.id
            for a in self.agreements
            if a.active(self.now) and came_from in a.parties and self.home in a.parties
        )

    def _consented(self, o: OObject, p: OParty, agreements: bool = True) -> bool:
        """An unexpired, unrevoked consent of the source naming p or an active agreement of p
        (with ``agreements=False``, naming p itself).

        ALIGNED: the same consent that satisfies rule 6 lifts rule 5's onward limits, whether it
        names the recipient or an agreement the recipient is in (kizuna: Consent.covers).
        """
        mine = frozenset(
            a.id for a in self.agreements if agreements and a.active(self.now) and p.id in a.parties
        )
        return any(
            c.originator == o.source
            and not c.revoked
            and self.now < c.expires
            and (not c.objects or o.id in c.objects)
            and (not c.types or o.type in c.types)
            and (p.id in c.parties or bool(c.agreements & mine))
            for c in self.consents
        )

    def _left_after(self, o: OObject, dropped: frozenset[str]) -> bool:
        """A container keeps at least one ref (STIX requires a non-empty ``object_refs``)."""
        refs = o.content.get("object_refs")
        return refs is None or any(r not in dropped for r in refs)
