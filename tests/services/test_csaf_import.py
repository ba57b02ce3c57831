"""`kizuna import` of CSAF 2.0: vulnerabilities plus the document verbatim, under its TLP; the
hashes and OpenPGP signatures beside a file verified; bad CSAF refused with nothing stored."""

from __future__ import annotations

import dataclasses
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gnupg  # type: ignore[import-untyped]
import orjson
import pytest

from csaf_check import failures
from csaf_world import advisory
from kizuna.core.csaf.stix import document_text
from kizuna.core.csaf.writer import dumps, write_advisory, write_vex
from kizuna.core.markings import TLP_MARKING_ID
from kizuna.services import importer
from kizuna.services.node import Node
from kizuna.storage import objects as store
from shared_data import require_shared_data

OASIS = ("csaf", "oasis-tcs-csaf", "csaf_2.0", "examples", "csaf")
CISA = ("csaf", "cisagov-CSAF-sample", "csaf_files")


def held(node: Node, stix_type: str) -> list[dict[str, Any]]:
    with node.db.read() as conn:
        return [orjson.loads(v.content) for v in store.of_type(conn, stix_type)]


def count(node: Node) -> int:
    with node.db.read() as conn:
        return store.count(conn)


def test_all_cisa_advisories_import(sqlite_node: Node) -> None:
    folder = require_shared_data(*CISA)
    files = sorted(folder.rglob("*.json"))
    report = importer.import_paths(sqlite_node, [folder])
    assert report.failures == []
    assert report.csaf == report.files == len(files) >= 298
    # The 50 .sha512 beside them match; the 50 .asc are reported, not verified (no key given).
    assert sum("SHA512 matches" in v.reason for v in report.verified) == 50
    assert sum("not verified: no keys given" in w.reason for w in report.warnings) == 50
    # Mandatory tests CISA's own advisories fail are named, not hidden.
    assert any("6.1.31" in w.reason for w in report.warnings)
    expected = set()
    for f in files:
        doc = orjson.loads(f.read_bytes())
        expected |= {v["cve"] for v in doc.get("vulnerabilities", ()) if "cve" in v}
    vulns = held(sqlite_node, "vulnerability")
    cves = {
        r["external_id"]
        for v in vulns
        for r in v["external_references"]
        if r["source_name"] == "cve"
    }
    assert cves == expected
    assert all(v["object_marking_refs"] == [TLP_MARKING_ID["clear"]] for v in vulns)
    assert all("x_kizuna_cvss" in v for v in vulns if v["name"].startswith("CVE-"))
    assert len(held(sqlite_node, "note")) == len(files)


def oasis_examples() -> list[Path]:
    return sorted(require_shared_data(*OASIS).rglob("*.json"))


def test_oasis_examples_round_trip_without_losing_a_field(sqlite_node: Node) -> None:
    files = oasis_examples()
    report = importer.import_paths(sqlite_node, files)
    assert report.failures == [] and report.csaf == len(files)
    notes = {n["external_references"][0]["external_id"]: n for n in held(sqlite_node, "note")}
    vulns = {v["id"]: v for v in held(sqlite_node, "vulnerability")}
    for f in files:
        original = f.read_bytes()
        doc = orjson.loads(original)
        note = notes[doc["document"]["tracking"]["id"]]
        # Written back: the very bytes imported, so every field (and its order) survives.
        assert document_text(note).encode() == original, f
        assert orjson.loads(document_text(note)) == doc
        mine = [vulns[ref] for ref in note["object_refs"] if ref in vulns]
        # Under the document's TLP; a document naming none is stored unmarked.
        label = doc["document"].get("distribution", {}).get("tlp", {}).get("label")
        expected = [TLP_MARKING_ID["clear"]] if label == "WHITE" else None
        assert {str(o.get("object_marking_refs")) for o in [note, *mine]} == {str(expected)}, f
        assert len(mine) == len(doc.get("vulnerabilities", ())), f
        for v, source in zip(mine, doc.get("vulnerabilities", ()), strict=True):
            refs = {(r["source_name"], r.get("external_id")) for r in v["external_references"]}
            if "cve" in source:
                assert ("cve", source["cve"]) in refs
            if "cwe" in source:
                assert ("cwe", source["cwe"]["id"]) in refs
    # The one mandatory test an OASIS example fails is named in the report, the file imported.
    (failing,) = {w.where for w in report.warnings if "mandatory test" in w.reason}
    assert failing.endswith("2022-evd-uc-08-001.json")
    # Importing the same documents again stores nothing new.
    again = importer.import_paths(sqlite_node, files, resume=False)
    assert (again.stored, again.unchanged, again.failures) == (0, report.stored, [])


@pytest.mark.parametrize("tlp", ["clear", "amber+strict", "red"])
def test_what_kizuna_writes_imports_under_its_tlp_and_round_trips(
    node: Node, tmp_path: Path, tlp: str
) -> None:
    for write in (write_advisory, write_vex):
        doc = write(advisory(tlp=tlp))
        path = tmp_path / f"{write.__name__}.json"
        path.write_bytes(dumps(doc))
        report = importer.import_paths(node, [path])
        assert report.failures == [] and report.warnings == []
        (vuln,) = [v for v in held(node, "vulnerability") if v["name"] == "CVE-2026-12345"][-1:]
        assert vuln["object_marking_refs"] == [TLP_MARKING_ID[tlp]]
        (score,) = [s for s in vuln["x_kizuna_cvss"] if s["version"] == "3.1"]
        assert (score["base_score"], score["base_severity"]) == (9.8, "CRITICAL")
        note = next(n for n in held(node, "note") if doc["document"]["category"] in n["abstract"])
        assert orjson.loads(document_text(note)) == doc
        assert failures(orjson.loads(document_text(note))) == {}


def _bad(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _cisa_copy(tmp_path: Path) -> Path:
    source = next(iter(sorted(require_shared_data(*CISA).rglob("*.json"))))
    for suffix in ("", ".sha512", ".asc"):
        shutil.copy(source.with_name(source.name + suffix), tmp_path / (source.name + suffix))
    return tmp_path / source.name


BAD = {
    "invalid-json": (b'{"document": {"csaf_version": "2.0", ', "not JSON"),
    "wrong-schema": (
        orjson.dumps({"document": {"csaf_version": "2.0", "category": "csaf_base"}}),
        "not valid CSAF 2.0 (JSON schema)",
    ),
    "csaf-2.1": (
        orjson.dumps({"document": {"csaf_version": "2.1"}}),
        "CSAF '2.1' is not supported",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD), ids=sorted(BAD))
def test_bad_csaf_is_refused_and_nothing_stored(node: Node, tmp_path: Path, case: str) -> None:
    data, reason = BAD[case]
    before = count(node)
    report = importer.import_paths(node, [_bad(tmp_path, "bad.json", data)])
    assert len(report.failures) == 1 and reason in report.failures[0].reason
    assert count(node) == before


def test_tampered_file_fails_its_sha512_and_nothing_is_stored(
    sqlite_node: Node, tmp_path: Path
) -> None:
    before = count(sqlite_node)
    path = _cisa_copy(tmp_path)
    path.write_bytes(path.read_bytes().replace(b'"title"', b'"title" ', 1))
    report = importer.import_paths(sqlite_node, [path])
    (failure,) = report.failures
    assert "SHA512" in failure.reason and "was changed" in failure.reason
    assert count(sqlite_node) == before
    # A tampered hash file is refused alike.
    (tmp_path / "again").mkdir()
    path = _cisa_copy(tmp_path / "again")
    sha = path.with_name(path.name + ".sha512")
    sha.write_text("0" * 128 + "  " + path.name + "\n")
    assert "SHA512" in importer.import_paths(sqlite_node, [path]).failures[0].reason
    assert count(sqlite_node) == before


@pytest.fixture
def signer(tmp_path: Path) -> Iterator[tuple[gnupg.GPG, Path]]:
    """A throwaway OpenPGP key (Ed25519) in a GnuPG home of its own, and its public key file."""
    if shutil.which("gpg") is None:
        pytest.skip("no gpg on this machine")
    home = tmp_path / "gnupg"
    home.mkdir(mode=0o700)
    gpg = gnupg.GPG(gnupghome=str(home))
    key = gpg.gen_key(
        gpg.gen_key_input(
            key_type="EDDSA",
            key_curve="ed25519",
            key_usage="sign",
            name_real="Example PSIRT",
            name_email="psirt@example.com",
            no_protection=True,
        )
    )
    assert key.fingerprint, key.stderr
    public = tmp_path / "psirt.asc"
    public.write_text(gpg.export_keys(key.fingerprint))
    yield gpg, public
    subprocess.run(["gpgconf", "--homedir", str(home), "--kill", "all"], check=False)


def _signed(gpg: gnupg.GPG, folder: Path) -> Path:
    folder.mkdir()
    path = folder / "advisory.json"
    path.write_bytes(dumps(write_advisory(advisory())))
    sig = gpg.sign(path.read_bytes(), detach=True, clearsign=False)
    (folder / "advisory.json.asc").write_text(str(sig))
    return path


def test_openpgp_signatures_are_verified_with_the_keys_given(
    sqlite_node: Node, tmp_path: Path, signer: tuple[gnupg.GPG, Path]
) -> None:
    gpg, public = signer
    path = _signed(gpg, tmp_path / "good")
    report = importer.import_paths(sqlite_node, [path], csaf_keys=public)
    assert report.failures == []
    (line,) = [v.reason for v in report.verified]
    assert "OpenPGP signature verified" in line and "psirt@example.com" in line
    # Without keys: imported, and the report says the signature was not verified.
    unverified = importer.import_paths(sqlite_node, [path], resume=False)
    assert any("not verified" in w.reason for w in unverified.warnings)


def test_a_signature_that_does_not_verify_stores_nothing(
    sqlite_node: Node, tmp_path: Path, signer: tuple[gnupg.GPG, Path]
) -> None:
    gpg, public = signer
    before = count(sqlite_node)
    path = _signed(gpg, tmp_path / "bad")
    changed = dataclasses.replace(advisory(), title="Something else entirely")
    path.write_bytes(dumps(write_advisory(changed)))
    report = importer.import_paths(sqlite_node, [path], csaf_keys=public)
    (failure,) = report.failures
    assert "OpenPGP signature does not verify" in failure.reason
    assert count(sqlite_node) == before


def test_a_cisa_signature_by_a_key_not_given_is_refused_naming_the_key(
    sqlite_node: Node, tmp_path: Path, signer: tuple[gnupg.GPG, Path]
) -> None:
    """CISA's real .asc, checked against a key that is not CISA's: refused, nothing stored."""
    _, public = signer
    before = count(sqlite_node)
    path = _cisa_copy(tmp_path)
    report = importer.import_paths(sqlite_node, [path], csaf_keys=public)
    (failure,) = report.failures
    assert "signed by key" in failure.reason and "not among the keys given" in failure.reason
    assert count(sqlite_node) == before
