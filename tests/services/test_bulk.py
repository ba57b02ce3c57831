"""Bulk import: streamed, in batches, resumable after a crash, with progress; exports stream."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest
from sqlalchemy import func, select

from kizuna.services import bulk, export, importer, ingest, taxii
from kizuna.services.node import Node
from kizuna.storage.schema import objects as objects_table

STAMP = "2026-01-01T00:00:00.000Z"
CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"


def indicator(n: int, spec_version: str | None = "2.1") -> dict[str, Any]:
    obj: dict[str, Any] = {
        "type": "indicator",
        "id": f"indicator--6b1c0000-0000-4000-8000-{n:012d}",
        "created": STAMP,
        "modified": STAMP,
        "pattern": f"[ipv4-addr:value = '10.0.{n >> 8 & 255}.{n & 255}']",
        "valid_from": STAMP,
        "object_marking_refs": [CLEAR],
    }
    if spec_version:
        obj["spec_version"] = spec_version
        obj["pattern_type"] = "stix"
    else:
        obj["labels"] = ["malicious-activity"]
    return obj


def write_bundle(path: Path, count: int, **bundle: Any) -> Path:
    object_version = bundle.pop("object_version", "2.1")
    objects = [indicator(n, object_version) for n in range(count)]
    path.write_bytes(
        orjson.dumps(
            {
                "type": "bundle",
                "id": "bundle--" + "1" * 8 + "-1111-4111-8111-" + "1" * 12,
                **bundle,
                "objects": objects,
            }
        )
    )
    return path


def write_ndjson(path: Path, count: int) -> Path:
    path.write_bytes(b"".join(orjson.dumps(indicator(n)) + b"\n" for n in range(count)))
    return path


def count_rows(node: Node) -> int:
    with node.db.read() as conn:
        return int(conn.execute(select(func.count()).select_from(objects_table)).scalar_one())


class Crash(Exception):
    """A simulated crash in the middle of an import."""


def crash_after(monkeypatch: pytest.MonkeyPatch, batches: int) -> None:
    real = ingest.ingest
    calls = [0]

    def crashing(*args: Any, **kwargs: Any) -> Any:
        if calls[0] == batches:
            raise Crash
        calls[0] += 1
        return real(*args, **kwargs)

    monkeypatch.setattr(ingest, "ingest", crashing)


@pytest.mark.parametrize("streamed", [False, True], ids=["parsed-whole", "streamed"])
def test_a_bundle_imports_in_batches(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:
        monkeypatch.setattr(bulk, "STREAM_ABOVE", 0)
    path = write_bundle(tmp_path / "b.json", 1234)
    seen = {"objects": 0, "bytes": 0}
    hooks = bulk.Hooks(
        objects=lambda n: seen.__setitem__("objects", seen["objects"] + n),
        bytes=lambda n: seen.__setitem__("bytes", seen["bytes"] + n),
    )
    report = bulk.import_paths(sqlite_node, [path], hooks=hooks, batch=100)
    assert (report.stored, report.unchanged, report.failures) == (1234, 0, [])
    assert seen == {"objects": 1234, "bytes": path.stat().st_size}


@pytest.mark.parametrize("streamed", [False, True], ids=["parsed-whole", "streamed"])
def test_a_stix_2_0_bundle_comes_in_whole(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, streamed: bool
) -> None:
    if streamed:
        monkeypatch.setattr(bulk, "STREAM_ABOVE", 0)
    path = write_bundle(tmp_path / "b20.json", 50, spec_version="2.0", object_version=None)
    report = importer.import_paths(sqlite_node, [path])
    assert (report.stored, report.failures) == (50, [])
    with sqlite_node.db.read() as conn:
        query = select(objects_table.c.content).where(objects_table.c.type == "indicator")
        rows = conn.execute(query).scalars().all()
    assert len(rows) == 50
    for row in rows:
        stored = orjson.loads(row)
        assert stored["spec_version"] == "2.1"
        assert stored["indicator_types"] == ["malicious-activity"]


@pytest.mark.parametrize("kind", ["bundle", "streamed-bundle", "ndjson"])
def test_a_crashed_import_resumes_and_stores_nothing_twice(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    if kind == "streamed-bundle":
        monkeypatch.setattr(bulk, "STREAM_ABOVE", 0)
    path = (
        write_ndjson(tmp_path / "o.ndjson", 1000)
        if kind == "ndjson"
        else write_bundle(tmp_path / "b.json", 1000)
    )
    before = count_rows(sqlite_node)  # the home party's identity
    with monkeypatch.context() as m:
        crash_after(m, 3)  # three batches of 100 committed, then the process "dies"
        with pytest.raises(Crash):
            bulk.import_paths(sqlite_node, [path], batch=100)
    assert count_rows(sqlite_node) - before == 300
    calls: list[int] = []
    real = ingest.ingest

    def counted(node: Node, objs: list[dict[str, Any]], **kw: Any) -> Any:
        calls.append(len(objs))
        return real(node, objs, **kw)

    monkeypatch.setattr(ingest, "ingest", counted)
    report = bulk.import_paths(sqlite_node, [path], batch=100)
    assert report.resumed == 1
    assert (report.stored, report.unchanged, report.failures) == (700, 0, [])
    assert sum(calls) == 700  # resumed where it stopped: the first 300 were not read again
    assert count_rows(sqlite_node) - before == 1000
    again = bulk.import_paths(sqlite_node, [path], batch=100)
    assert (again.skipped, again.stored) == (1, 0)
    fresh = bulk.import_paths(sqlite_node, [path], batch=100, resume=False)
    assert (fresh.stored, fresh.unchanged) == (0, 1000)


def test_a_changed_file_is_read_afresh(sqlite_node: Node, tmp_path: Path) -> None:
    path = write_ndjson(tmp_path / "o.ndjson", 10)
    assert importer.import_paths(sqlite_node, [path]).stored == 10
    with path.open("ab") as f:
        f.write(orjson.dumps(indicator(10)) + b"\n")
    report = importer.import_paths(sqlite_node, [path])
    assert (report.stored, report.unchanged, report.skipped) == (1, 10, 0)


def test_broken_lines_and_files_are_reported_not_fatal(sqlite_node: Node, tmp_path: Path) -> None:
    good = write_ndjson(tmp_path / "a.ndjson", 3)
    with good.open("ab") as f:
        f.write(b"{not json\n")
    (tmp_path / "b.json").write_bytes(b'{"type": "bundle", "objects": [')
    (tmp_path / "c.json").write_bytes(b'{"duvel": 1}')
    report = importer.import_paths(sqlite_node, [tmp_path])
    assert report.stored == 3
    reasons = " | ".join(f.reason for f in report.failures)
    assert "not JSON" in reasons and "nor MISP events" in reasons and len(report.failures) == 3
    # A file that failed whole is not marked done: the next run reports it again.
    assert len(importer.import_paths(sqlite_node, [tmp_path]).failures) == 2


def test_sniff_tells_the_formats_apart() -> None:
    assert bulk.sniff(b'{"response": [{"Event": {') == ("misp", None)
    assert bulk.sniff(b'[{"Event": {"uuid"') == ("misp", None)
    assert bulk.sniff(b'{"type": "bundle", "spec_version": "2.0", "objects": [{') == ("stix", "2.0")
    assert bulk.sniff(b'{"objects": [{"type"') == ("stix", None)
    assert bulk.sniff(b'[{"type": "indicator"') == ("stix", None)


def test_exports_stream_page_by_page(
    sqlite_node: Node, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    importer.import_paths(sqlite_node, [write_ndjson(tmp_path / "o.ndjson", 25)])
    monkeypatch.setattr(export, "PAGE", 10)
    pages = [0]
    real = taxii.page

    def counted(*a: Any, **k: Any) -> Any:
        pages[0] += 1
        return real(*a, **k)

    monkeypatch.setattr(taxii, "page", counted)
    chunks = export.ndjson_chunks(sqlite_node, sqlite_node.home_party)
    first = next(chunks)
    assert pages[0] == 1  # one page read for the first object: nothing more is held in memory
    lines = [first, *chunks]
    assert sum(1 for c in lines for _ in c.splitlines()) >= 25 and pages[0] >= 3
    bundle = b"".join(export.bundle_chunks(sqlite_node, sqlite_node.home_party))
    assert len(orjson.loads(bundle)["objects"]) >= 25


def test_the_cli_imports_resumably_and_exports_misp(tmp_path: Path) -> None:
    """``kizuna import`` (progress, summary, --restart) and ``kizuna export --format misp``."""
    from click.testing import CliRunner

    from kizuna.cli.main import cli

    def run(*args: str) -> Any:
        result = CliRunner().invoke(cli, ["--home", str(tmp_path / "node"), *args])
        assert result.exit_code == 0, result.output
        return result

    run("init", "--party-name", "CERT-EU", "--jurisdiction", "EU", "--kind", "csirt")
    path = write_ndjson(tmp_path / "o.ndjson", 30)
    assert "30 stored" in run("import", str(path)).output
    assert "already imported" in run("import", str(path)).output
    assert "30 unchanged" in run("import", "--restart", str(path)).output
    out = tmp_path / "out.misp.json"
    run("export", "--to", "CERT-EU", "--format", "misp", "--out", str(out))
    events = orjson.loads(out.read_bytes())["response"]
    values = {a["value"] for e in events for a in e["Event"].get("Attribute", ())}
    assert "10.0.0.7" in values
