"""The world of the trust scenario (tests/services/test_trust_scenario.py): its parties,
agreements and objects, built on one hub node, and read back over real TAXII.

Five parties, eleven agreements, a few hundred objects: each TAXII view is what the rules say.

A hub node run by CERT-EU serves Germany (BSI), Japan (NISC), Australia (ACSC), a private German
company (Hafen Logistik, a declared client of CERT-EU) and an observer with no agreement at all.
Parties post their own objects to the inbox over real TAXII (first-hop); CERT-EU imports its own
objects, a vendor's, and other parties' objects (onward). Agreements are bilateral and
multilateral, with partial equivalence tables, a redaction profile toward private parties, and
one each suspended, unsigned, expired, not yet in force and terminated; consents are granted,
one expires, one is revoked. Each party then reads the "released to you" collection with the
OASIS taxii2-client in small pages from a real uvicorn server, and what arrives is compared with
an independent oracle of DESIGN.md's rules (``tests/oracle.py``): the set of ids (derivatives
under their deterministic new ids), each object's content, the absence of every withheld id from
the bytes, seals, the ledger, and the truthfulness of ``more``/``next``. A last test proves the
scenario is sharp: switching off any one condition of the oracle changes some party's view.
"""

from __future__ import annotations

import random
import threading
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
import requests
import uvicorn
import yaml
from taxii2client.v21 import Collection, as_pages

from kizuna.core import agreements as core_agreements
from kizuna.core.agreement_lifecycle import make as make_notice
from kizuna.core.consents import CONSENT_TYPE
from kizuna.core.handling import Classification
from kizuna.core.markings import TLP_MARKING_ID, handling_marking
from kizuna.core.parties import Party
from kizuna.core.signing import public_key_of
from kizuna.core.stix.timestamps import format_timestamp, parse_timestamp
from kizuna.core.taxii import INBOX, RELEASED, Filters
from kizuna.services import agreement_lifecycle, agreements, consents, importer, parties, tokens
from kizuna.services.node import Node, init_node, new_private_key
from kizuna.storage import objects as store
from oracle import (
    OConsent,
    OHandling,
    OObject,
    OParty,
    Oracle,
    agreement_from,
)
from support import FakeClock, SeqIds, serve_in_thread

PAGE = 17
FILTERED_PAGE = 4  # a small page for the filtered view, so that it has several
NS = uuid.UUID("5d7c61a4-27a8-4a59-9b0e-0f5f3c0a9e11")


KIZUNA_IDENTITY = "identity--37e53cc4-f46b-4dc9-bdd5-52fdac991bbf"


def sid(stix_type: str, seed: str) -> str:
    return f"{stix_type}--{uuid.uuid5(NS, seed)}"


# -- the parties --------------------------------------------------------------------------------

HOME = "CERT-EU"
PARTIES: dict[str, tuple[str, str, str | None]] = {
    # name: (jurisdiction, kind, scheme)
    "CERT-EU": ("EU", "csirt", "EU"),
    "BSI": ("DE", "government", "DE"),
    "NISC": ("JP", "government", "JP"),
    "ACSC": ("AU", "government", "AU"),
    "Hafen Logistik": ("DE", "private", None),
}
CLIENT = "Hafen Logistik"
NAMES = list(PARTIES)
# A sixth party with no agreement at all: most of the node is withheld from it.
OBSERVER = "Harbour ISAC"
OBSERVER_ATTRS = ("SG", "private", None)
VIEWERS = [*NAMES, OBSERVER]
# The observer also reads a filtered view, where nearly every row the server scans is withheld.
FILTERED = f"{OBSERVER} (indicators, malware)"
FILTER_TYPES = ("indicator", "malware")
# Levels per scheme; the last of JP and AU has no row in any agreement.
LEVELS = {
    "EU": [
        "RESTREINT UE/EU RESTRICTED",
        "CONFIDENTIEL UE/EU CONFIDENTIAL",
        "SECRET UE/EU SECRET",
        "TRES SECRET UE/EU TOP SECRET",
    ],
    "DE": ["VS-NUR FÜR DEN DIENSTGEBRAUCH", "VS-VERTRAULICH", "GEHEIM", "STRENG GEHEIM"],
    "JP": ["秘", "極秘", "特定秘密", "機密性2"],
    "AU": ["PROTECTED", "SECRET", "TOP SECRET", "OFFICIAL: Sensitive"],
}
# Ten agreements; ``signers`` sign (all, unless said), then ``action`` moves the lifecycle on.
# The EU/DE rows follow REFERENCE.md; JP and AU columns are partial on purpose.
AGREEMENTS_YAML = """
eu-jp:
  parties: [CERT-EU, NISC]
  classification:
    max_rank: 3
    equivalences:
      - {rank: 1, levels: {EU: RESTREINT UE/EU RESTRICTED}}
      - {rank: 2, levels: {EU: CONFIDENTIEL UE/EU CONFIDENTIAL, JP: 秘}}
      - {rank: 3, levels: {EU: SECRET UE/EU SECRET, JP: 極秘}}
  tlp_allowed: [amber+strict]
de-jp:
  parties: [BSI, NISC]
  classification:
    max_rank: 2
    equivalences:
      - {rank: 1, levels: {DE: VS-NUR FÜR DEN DIENSTGEBRAUCH}}
      - {rank: 2, levels: {DE: VS-VERTRAULICH, JP: 秘}}
      - {rank: 3, levels: {DE: GEHEIM, JP: 極秘}}
  tlp_allowed: [red]
eu-de:
  parties: [CERT-EU, BSI]
  classification: {max_rank: 3, equivalences: &eu-de
    [{rank: 1, levels: &r1 {EU: RESTREINT UE/EU RESTRICTED, DE: VS-NUR FÜR DEN DIENSTGEBRAUCH}},
     {rank: 2, levels: &r2 {EU: CONFIDENTIEL UE/EU CONFIDENTIAL, DE: VS-VERTRAULICH}},
     {rank: 3, levels: &r3 {EU: SECRET UE/EU SECRET, DE: GEHEIM}},
     {rank: 4, levels: &r4 {EU: TRES SECRET UE/EU TOP SECRET, DE: STRENG GEHEIM}}]}
  tlp_allowed: [red]
  onward_release: agreement-members
partnership:
  parties: [CERT-EU, BSI, NISC, ACSC, Hafen Logistik]
  classification: {max_rank: 2, equivalences: &all-schemes
    [{rank: 1, levels: {<<: *r1, AU: PROTECTED}},
     {rank: 2, levels: {<<: *r2, JP: 秘}},
     {rank: 3, levels: {<<: *r3, JP: 極秘, AU: SECRET}},
     {rank: 4, levels: {<<: *r4, AU: TOP SECRET}}]}
  tlp_allowed: [amber]
  redaction_profiles:
    - name: victim-identities
      applies_to: {kinds: [private]}
      drop_types: [note]
      remove_properties: {sighting: [where_sighted_refs], indicator: [description]}
eu-au:
  parties: [CERT-EU, ACSC]
  classification: {max_rank: 4, equivalences: *all-schemes}
  onward_release: agreement-members
  action: suspend
de-au:
  parties: [BSI, ACSC]
  signers: [BSI]
eu-hafen:
  parties: [CERT-EU, Hafen Logistik]
  valid_until: "2026-06-30T00:00:00Z"
  onward_release: agreement-members
jp-au:
  parties: [NISC, ACSC]
  valid_from: "2027-06-01T00:00:00Z"
eu-de-jp:
  parties: [CERT-EU, BSI, NISC]
  classification:
    max_rank: 2
    equivalences:
      - {rank: 1, levels: {EU: RESTREINT UE/EU RESTRICTED, DE: VS-NUR FÜR DEN DIENSTGEBRAUCH}}
      - {rank: 2, levels: {EU: CONFIDENTIEL UE/EU CONFIDENTIAL, DE: VS-VERTRAULICH, JP: 秘}}
  tlp_allowed: [amber]
  onward_release: agreement-members
de-hafen:
  parties: [BSI, Hafen Logistik]
  tlp_allowed: [amber]
jp-hafen:
  parties: [NISC, Hafen Logistik]
  action: terminate
"""
AGREEMENTS: dict[str, dict[str, Any]] = {
    key: {
        "id": f"agreement--{uuid.uuid5(NS, key)}",
        "title": key,
        "valid_from": "2026-01-01T00:00:00Z",
        "onward_release": "originator-consent",
        "signers": spec["parties"],
        **spec,
    }
    for key, spec in yaml.safe_load(AGREEMENTS_YAML).items()
}
AID = {key: spec["id"] for key, spec in AGREEMENTS.items()}


# -- the objects --------------------------------------------------------------------------------

# (originator, path, how many): parties post their own (first-hop); CERT-EU imports its own and a
# vendor's (first-hop, it is their source of record) and other parties' objects (onward).
CHANNELS: list[tuple[str, str, int]] = [
    ("BSI", "taxii", 45),
    ("NISC", "taxii", 35),
    ("ACSC", "taxii", 25),
    ("Hafen Logistik", "taxii", 15),
    ("CERT-EU", "import", 40),
    ("vendor", "import", 25),
    ("BSI", "import", 40),
    ("NISC", "import", 30),
    ("ACSC", "import", 20),
]
# Corner cases the random mix may miss, each the only thing that decides some condition.
CRAFTED: list[tuple[str, str, str, OHandling]] = [
    # GREEN stays in the originator's community: no agreement of CERT-EU's includes the observer.
    (OBSERVER, "import", "indicator", OHandling("green")),
    # agreement-members names the partnership, whose onward clause (originator-consent) is the
    # stricter rule: without BSI's consent nothing goes onward under it.
    ("BSI", "import", "malware", OHandling("green", None, "agreement-members",
                                           release_agreements=frozenset({AID["partnership"]}))),
    # Named the trilateral, whose clause agrees: BSI pre-consented within it (NISC receives).
    ("BSI", "import", "malware", OHandling("green", None, "agreement-members",
                                           release_agreements=frozenset({AID["eu-de-jp"]}))),
    # Issue 12: classified, agreement-members naming no agreement, so the agreements it was
    # received under (eu-de, partnership, eu-de-jp); ACSC shares only the partnership with
    # CERT-EU, whose onward clause needs BSI's consent.
    ("BSI", "import", "indicator", OHandling("green", ("DE", "VS-NUR FÜR DEN DIENSTGEBRAUCH"),
                                             "agreement-members")),
    ("BSI", "import", "malware", OHandling("amber", None, "agreement-members")),
    # A bare release.agreements list restricts nothing: public, and the client exception holds.
    ("ACSC", "import", "indicator", OHandling("clear",
                                              release_agreements=frozenset({AID["eu-jp"]}))),
    ("ACSC", "import", "malware", OHandling("amber",
                                            release_agreements=frozenset({AID["eu-jp"]}))),
    # The trilateral's onward clause lets a classified NISC object go on to BSI.
    ("NISC", "import", "indicator", OHandling("green", ("JP", "秘"))),
    # RED and AMBER+STRICT, nobody listed: NISC's consent naming the client lets them go to it.
    ("NISC", "import", "indicator", OHandling("red")),
    ("NISC", "import", "malware", OHandling("amber+strict")),
]  # fmt: skip
SECOND_VERSIONS = 8
TYPES = ["indicator", "malware", "relationship", "sighting", "report", "note"]
TYPE_WEIGHTS = [36, 14, 15, 13, 14, 8]
# REFERENCE.md: the TLP 1.0 marking-definitions built into STIX 2.1.
TLP_1 = {
    "clear": "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
    "green": "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
    "amber": "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
    "red": "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
}
EMBARGO_ACTIVE = "2027-02-01T00:00:00Z"
EMBARGO_ENDED = "2026-10-01T00:00:00Z"


@dataclass
class Item:
    """One object the scenario made, with how it reached the node and what it asked for."""

    obj: dict[str, Any]
    origin: str  # party name or "vendor"
    path: str
    handling: OHandling
    markings: list[dict[str, Any]] = field(default_factory=list)


@dataclass
class Scenario:
    node: Node
    clock: FakeClock
    party: dict[str, Party]
    keys: dict[str, bytes]
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)
    items: dict[str, Item] = field(default_factory=dict)  # latest version of each, by id
    consents: list[OConsent] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)  # agreements, as filled in
    oracle: Oracle | None = None
    pages: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    raw: dict[str, list[tuple[str, bytes]]] = field(default_factory=dict)  # (url, body) per page

    def pid(self, name: str) -> str:
        return self.party[name].id


class Generator:
    """Deterministic objects of mixed types and handling (``random.Random(1)``)."""

    def __init__(self, sc: Scenario, rng: random.Random) -> None:
        self.sc = sc
        self.rng = rng
        self.n = 0
        self.by_type: dict[str, list[str]] = {t: [] for t in TYPES}
        self.vendor = sid("identity", "vendor")

    def source(self, origin: str) -> str:
        return self.sc.pid(HOME) if origin == "vendor" else self.sc.pid(origin)

    def handling(self, origin: str) -> OHandling:
        r = self.rng
        sc = self.sc
        tlp = r.choices(
            ["clear", "green", "amber", "amber+strict", "red", None], [15, 25, 25, 10, 10, 15]
        )[0]
        scheme = None if origin == "vendor" else PARTIES[origin][2]
        classification = (scheme, r.choice(LEVELS[scheme])) if scheme and r.random() < 0.3 else None
        rule, named = None, frozenset[str]()
        x = r.random()
        if x < 0.12:
            rule = "originator-consent"
        elif x < 0.18:
            rule = "no-onward"
        elif x < 0.26:
            rule = "agreement-members"
            named = frozenset({AID[r.choice(["partnership", "eu-de", "de-jp", "eu-jp"])]})
        others = [sc.pid(n) for n in NAMES if sc.pid(n) != self.source(origin)]
        recipients = None
        if (tlp == "red" and r.random() < 0.75) or r.random() < 0.07:
            recipients = frozenset(r.sample(others, r.randint(1, 3)))
        until, participants = None, frozenset[str]()
        x = r.random()
        if x < 0.12:
            until = parse_timestamp(EMBARGO_ACTIVE if x < 0.08 else EMBARGO_ENDED)
            participants = frozenset(r.sample([sc.pid(n) for n in NAMES], r.randint(1, 3)))
        return OHandling(tlp, classification, rule, recipients, named, until, participants)

    def markings(self, h: OHandling, creator: str) -> tuple[list[str], list[dict[str, Any]]]:
        refs = [TLP_MARKING_ID[h.tlp]] if h.tlp else []
        if h.tlp in TLP_1 and self.rng.random() < 0.15:
            refs = [TLP_1[h.tlp]]  # TLP 1.0, read and mapped (WHITE is CLEAR)
        if not (h.restricted or h.embargo_until or h.release_agreements):
            return refs, []
        key = repr((creator, h.classification, h.release_rule, sorted(h.recipients or ()),
                    sorted(h.release_agreements), h.embargo_until, sorted(h.embargo_participants),
                    h.recipients is None))  # fmt: skip
        md = handling_marking(
            sid("marking-definition", key),
            "2026-01-01T00:00:00.000Z",
            creator,
            classification=Classification(*h.classification) if h.classification else None,
            release_rule=h.release_rule,
            recipients=h.recipients,
            agreements=h.release_agreements,
            embargo_until=format_timestamp(h.embargo_until) if h.embargo_until else None,
            embargo_participants=h.embargo_participants,
        )
        return [*refs, md["id"]], [md]

    def make(
        self, origin: str, path: str, stix_type: str | None = None, h: OHandling | None = None
    ) -> Item:
        r = self.rng
        self.n += 1
        n = self.n
        stix_type = stix_type or r.choices(TYPES, TYPE_WEIGHTS)[0]
        if not self.by_type["indicator"] or not self.by_type["malware"]:
            stix_type = "indicator" if n % 2 else "malware"
        oid = sid(stix_type, f"object/{n}")
        stamp = f"2026-{1 + n % 9:02d}-{1 + n % 27:02d}T{n % 24:02d}:00:00.000Z"
        obj: dict[str, Any] = {
            "type": stix_type,
            "spec_version": "2.1",
            "id": oid,
            "created": stamp,
            "modified": stamp,
        }
        if origin == "vendor":
            obj["created_by_ref"] = self.vendor
        elif origin != HOME or n % 2:
            obj["created_by_ref"] = self.sc.pid(origin)
        obj.update(self.body(stix_type, n))
        h = h or self.handling(origin)
        creator = self.source(origin)
        refs, mds = self.markings(h, creator)
        if refs:
            obj["object_marking_refs"] = refs
        self.by_type[stix_type].append(oid)
        return Item(obj, origin, path, h, mds)

    def body(self, stix_type: str, n: int) -> dict[str, Any]:
        r = self.rng
        ind, mal = self.by_type["indicator"], self.by_type["malware"]
        if stix_type == "indicator":
            out: dict[str, Any] = {
                "name": f"indicator {n}",
                "pattern": f"[ipv4-addr:value = '198.51.100.{n % 250}']",
                "pattern_type": "stix",
                "valid_from": "2026-01-01T00:00:00Z",
            }
            if r.random() < 0.4:
                out["description"] = f"seen at victim {n}"
            return out
        if stix_type == "malware":
            return {"name": f"malware {n}", "is_family": r.random() < 0.5}
        if stix_type == "relationship":
            return {
                "relationship_type": "indicates",
                "source_ref": r.choice(ind),
                "target_ref": r.choice(mal),
            }
        if stix_type == "sighting":
            out = {"sighting_of_ref": r.choice(ind + mal), "count": 1 + n % 5}
            if r.random() < 0.6:
                out["where_sighted_refs"] = [self.sc.pid(r.choice(NAMES))]
            if r.random() < 0.3:
                out["description"] = "sighted"
            return out
        pool = ind + mal + self.by_type["relationship"] + self.by_type["sighting"]
        refs = r.sample(
            pool, min(len(pool), r.randint(2, 6) if stix_type == "report" else r.randint(1, 3))
        )
        if r.random() < 0.1:
            refs.append(sid("indicator", f"never-held/{n}"))  # an end the node does not hold
        if stix_type == "report":
            return {"name": f"report {n}", "published": "2026-06-01T00:00:00Z", "object_refs": refs}
        return {"content": f"note {n}", "object_refs": refs}

    def second_version(self, item: Item) -> Item:
        obj = dict(item.obj)
        obj["modified"] = format_timestamp(parse_timestamp(obj["created"]) + 30 * 86_400_000_000)
        obj["name"] = f"{obj.get('name', 'object')} (revised)"
        h = self.handling(item.origin)
        refs, mds = self.markings(h, self.source(item.origin))
        obj.pop("object_marking_refs", None)
        if refs:
            obj["object_marking_refs"] = refs
        return Item(obj, item.origin, item.path, h, mds)


# -- building the node --------------------------------------------------------------------------


def _free_server(node: Node) -> tuple[str, uvicorn.Server, threading.Thread]:
    return serve_in_thread(node)


class Bearer(requests.auth.AuthBase):
    """Bearer auth for taxii2-client that also keeps the raw bytes of every objects response."""

    def __init__(self, token: str, raw: list[tuple[str, bytes]] | None = None) -> None:
        self.token = token
        self.raw = raw

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        if self.raw is not None:
            r.register_hook("response", self._keep)
        return r

    def _keep(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        if "/objects/" in response.url and self.raw is not None:
            self.raw.append((response.url, response.content))


def _setup_parties(sc: Scenario) -> None:
    for name, (jurisdiction, kind, scheme) in [*PARTIES.items(), (OBSERVER, OBSERVER_ATTRS)]:
        if name == HOME:
            continue
        sc.keys[name] = new_private_key()
        sc.party[name] = parties.add_party(
            sc.node,
            name,
            jurisdiction=jurisdiction,
            kind=kind,
            scheme=scheme,
            sector="transport" if kind == "private" else None,
            public_keys=(public_key_of(sc.keys[name]),),
            client=name == CLIENT,
        )


def _setup_agreements(sc: Scenario) -> None:
    for spec in AGREEMENTS.values():
        template = {k: v for k, v in spec.items() if k not in ("signers", "action")}
        doc = agreements.from_template(sc.node, template)
        for name in spec["signers"]:
            doc = core_agreements.sign_document(doc, sc.pid(name), sc.keys[name])
        stored = agreements.add(sc.node, doc)
        assert stored.state == ("active" if spec["signers"] == spec["parties"] else "draft")
        if "action" in spec:
            # A party to it takes the action: a notice signed with its own key.
            by = spec["parties"][0]
            notice = make_notice(stored, spec["action"], sc.pid(by), sc.keys[by], sc.node.now())
            agreement_lifecycle.apply(sc.node, notice, source=f"sync from {by}")
        sc.documents.append(doc)


def _post(sc: Scenario, name: str, objects: list[dict[str, Any]]) -> None:
    inbox = Collection(f"{sc.url}/taxii2/root/collections/{INBOX}/", auth=Bearer(sc.tokens[name]))
    for start in range(0, len(objects), 40):
        chunk = objects[start : start + 40]
        status = inbox.add_objects({"objects": chunk})
        assert (status.success_count, status.failure_count) == (len(chunk), 0), status.failures
    inbox._conn.close()


def _deliver(sc: Scenario, batch: list[Item]) -> None:
    """Post or import a batch of one channel: its markings first, then its objects."""
    origin, path = batch[0].origin, batch[0].path
    markings = list({m["id"]: m for it in batch for m in it.markings}.values())
    objects = [it.obj for it in batch]
    if path == "taxii":
        _post(sc, origin, markings + objects)
        return
    report = importer.ingest_objects(sc.node, sc.node.home_party, markings + objects, "import")
    assert report.failures == [], report.failures


def _setup_objects(sc: Scenario, rng: random.Random) -> None:
    gen = Generator(sc, rng)
    vendor = {
        "type": "identity",
        "spec_version": "2.1",
        "id": gen.vendor,
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "name": "Example Security Vendor",
        "identity_class": "organization",
        "object_marking_refs": [TLP_MARKING_ID["clear"]],
    }
    report = importer.ingest_objects(sc.node, sc.node.home_party, [vendor], "import")
    assert report.failures == []
    sc.items[gen.vendor] = Item(vendor, "vendor", "import", OHandling("clear"))
    slots = [(o, p) for o, p, count in CHANNELS for _ in range(count)]
    rng.shuffle(slots)
    made = [gen.make(o, p) for o, p in slots]
    made += [gen.make(o, p, t, h) for o, p, t, h in CRAFTED]
    revisable = [it for it in made if it.obj["type"] in ("indicator", "malware")]
    revised = [gen.second_version(it) for it in rng.sample(revisable, SECOND_VERSIONS)]
    for wave in (made, revised):
        for origin, path in [*((o, p) for o, p, _ in CHANNELS), (OBSERVER, "import")]:
            batch = [it for it in wave if (it.origin, it.path) == (origin, path)]
            if batch:
                _deliver(sc, batch)
        for it in wave:
            sc.items[it.obj["id"]] = it


def _onward(sc: Scenario, origin: str, classified: bool = False) -> list[str]:
    """Ids of an originator's objects CERT-EU imported whose onward release needs consent."""
    return sorted(
        i
        for i, it in sc.items.items()
        if it.origin == origin
        and it.path == "import"
        and it.handling.release_rule != "no-onward"
        and (classified or it.handling.classification is None)
        and (it.handling.restricted or it.handling.tlp in ("amber", "amber+strict", "red", None))
    )


def _grant(sc: Scenario, originator: str, expires: str | int, **scope: Any) -> str:
    expires_us = expires if isinstance(expires, int) else parse_timestamp(expires)
    c = consents.grant(
        sc.node,
        expires_us=expires_us,
        originator=originator,
        private_key=sc.keys[originator],
        **scope,
    )
    sc.consents.append(
        OConsent(
            sc.pid(originator),
            expires_us,
            frozenset(scope.get("objects", ())),
            frozenset(scope.get("types", ())),
            frozenset(sc.pid(p) for p in scope.get("parties", ())),
            frozenset(scope.get("agreements", ())),
        )
    )
    return c.id


def _setup_consents(sc: Scenario, rng: random.Random) -> None:
    later = "2027-06-01T00:00:00Z"
    bsi, nisc, acsc = _onward(sc, "BSI"), _onward(sc, "NISC"), _onward(sc, "ACSC")
    _grant(sc, "BSI", later, objects=rng.sample(_onward(sc, "BSI", True), 10), parties=["NISC"])
    _grant(sc, "NISC", later, types=["malware"], agreements=[AID["partnership"]])
    _grant(sc, "NISC", later, objects=rng.sample(nisc, 8), parties=["Hafen Logistik", "ACSC"])
    _grant(sc, "ACSC", later, types=["indicator", "sighting"], parties=["NISC"])
    # A consent naming an agreement that is not active gives nothing (rule 9).
    _grant(sc, "BSI", later, objects=rng.sample(bsi, 6), agreements=[AID["de-au"]])
    # One expires, one is revoked: neither counts any more.
    _grant(sc, "BSI", sc.node.now() + 60_000_000, objects=rng.sample(bsi, 6), parties=["ACSC"])
    revoked = _grant(sc, "ACSC", later, objects=rng.sample(acsc, 5), parties=["NISC"])
    consents.revoke(sc.node, revoked, private_key=sc.keys["ACSC"])
    sc.consents[-1] = OConsent(**{**sc.consents[-1].__dict__, "revoked": True})
    # A consent naming the client is NISC's later word: it lists it for RED objects and lifts
    # the clients exception's TLP condition (DESIGN.md, turn 2).
    unlisted = [
        i
        for i, it in sc.items.items()
        if (it.origin, it.path) == ("NISC", "import")
        and it.handling in (OHandling("red"), OHandling("amber+strict"))
    ]
    _grant(sc, "NISC", later, objects=unlisted, parties=["Hafen Logistik"])
    # CERT-EU's own consents notify the holders it released those objects to (ACSC and NISC
    # pulled once): one names only what each holder has, one also what a holder may not see.
    pulled = {
        v: {o["id"] for p in sc.pages[v] for o in p.get("objects", [])} for v in ("ACSC", "NISC")
    }
    mine = sorted(i for i, it in sc.items.items() if it.origin == HOME)
    both = [i for i in mine if i in pulled["ACSC"] and i in pulled["NISC"]]
    only_acsc = [i for i in mine if i in pulled["ACSC"] and i not in pulled["NISC"]]
    _grant(sc, HOME, later, objects=rng.sample(both, 4), parties=["Hafen Logistik"])
    _grant(sc, HOME, later, objects=rng.sample(both, 2) + only_acsc[:2], parties=["BSI"])
    sc.clock.advance(3600)


def _build_oracle(sc: Scenario) -> Oracle:
    """The oracle's world: every object the node holds, with the provenance the test knows."""
    with sc.node.db.read() as conn:
        held = {r.id: orjson.loads(r.content) for r in store.scan(conn, Filters(), None, 1_000_000)}
    home = sc.pid(HOME)
    by_id = {p.id: p for p in sc.party.values()}
    objects: dict[str, OObject] = {}
    for oid, content in held.items():
        it = sc.items.get(oid)
        if it is not None:
            assert content == it.obj, f"{oid} is stored differently from what was sent"
            source = home if it.origin == "vendor" else sc.pid(it.origin)
            first_hop = it.path == "taxii" or source == home
            objects[oid] = OObject(content, source, first_hop, it.handling)
        elif content["type"] == "identity" and oid in by_id:
            objects[oid] = OObject(content, oid, True, OHandling("clear"))
        elif content["type"] == CONSENT_TYPE:
            objects[oid] = OObject(content, content["created_by_ref"], True, OHandling())
        elif content["type"] == "marking-definition":
            objects[oid] = OObject(content, content.get("created_by_ref", home), True)
        elif content["type"] == "extension-definition" or oid == KIZUNA_IDENTITY:
            # kizuna's own extension-definitions and their author, held by every node from
            # init, as the home party's import: TLP:CLEAR.
            objects[oid] = OObject(content, home, True, OHandling("clear"))
        else:
            raise AssertionError(f"the node holds an object the scenario did not make: {oid}")
    agreed = []
    for doc, spec in zip(sc.documents, AGREEMENTS.values(), strict=True):
        signed = spec["signers"] == spec["parties"]
        state = {"suspend": "suspended", "terminate": "terminated"}.get(spec.get("action", ""))
        agreed.append(agreement_from(doc, state or ("active" if signed else "draft")))
    return Oracle(
        home=home,
        clients=frozenset({sc.pid(CLIENT)}),
        parties={
            p.id: OParty(p.id, p.name, p.jurisdiction, p.kind, p.scheme) for p in by_id.values()
        },
        agreements=tuple(agreed),
        consents=tuple(sc.consents),
        objects=objects,
        now=sc.clock.us,
    )


def _read_views(sc: Scenario, views: list[str] | None = None) -> None:
    """Every viewer's whole view over TAXII, in pages of ``PAGE``, keeping the raw bytes."""
    for view in views or [*VIEWERS, FILTERED]:
        name, filters = (OBSERVER, {"type": FILTER_TYPES}) if view == FILTERED else (view, {})
        size = FILTERED_PAGE if view == FILTERED else PAGE
        raw: list[tuple[str, bytes]] = []
        released = Collection(
            f"{sc.url}/taxii2/root/collections/{RELEASED}/", auth=Bearer(sc.tokens[name], raw)
        )
        sc.pages[view] = list(as_pages(released.get_objects, per_request=size, **filters))
        sc.raw[view] = raw
        released._conn.close()


def build_scenario(folder: Path) -> tuple[Scenario, uvicorn.Server, threading.Thread]:
    """The scenario, its objects delivered and read back; the server still running."""
    clock = FakeClock()
    node = init_node(
        folder,
        party_name=HOME,
        jurisdiction="EU",
        kind="csirt",
        scheme="EU",
        clock=clock,
        new_id=SeqIds("trust-scenario"),
    )
    sc = Scenario(node, clock, {HOME: node.home_party}, {HOME: node.private_key})
    rng = random.Random(1)
    _setup_parties(sc)
    _setup_agreements(sc)
    sc.url, server, thread = _free_server(node)
    sc.tokens = {name: tokens.create(node, sc.pid(name)).value for name in VIEWERS}
    _setup_objects(sc, rng)
    # ACSC and NISC pull once before the consents: they become holders a consent notifies.
    _read_views(sc, ["ACSC", "NISC"])
    _setup_consents(sc, rng)
    sc.oracle = _build_oracle(sc)
    _read_views(sc)
    return sc, server, thread
