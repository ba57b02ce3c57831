"""The ``kizuna`` command through click's CliRunner: help, the node's life cycle, and errors.

Every error a user can cause prints ``error: ...`` (or click's usage message) and exits non-zero,
never with a traceback.
"""

from __future__ import annotations

import gc
import re
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import orjson
import pytest
from click.testing import CliRunner, Result

from kizuna.cli.main import cli
from kizuna.services import tokens
from kizuna.services.node import open_node
from shared_data import require_shared_data

CLEAR = "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"
IDENTITY = re.compile(r"identity--[0-9a-f-]{36}")


def run(*args: str, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(cli, list(args), env=env, catch_exceptions=True)
    assert "Traceback" not in result.output
    if result.exception is not None:
        assert isinstance(result.exception, SystemExit), repr(result.exception)
    return result


def flat(text: str) -> str:
    """Output with rich's line wrapping undone."""
    return " ".join(text.split())


def failed(result: Result, *words: str) -> None:
    """A kizuna error: ``error: ...`` on stderr, exit code 1, each word in the message."""
    assert result.exit_code == 1, result.output
    assert result.stderr.startswith("error: "), result.stderr
    for w in words:
        assert w in flat(result.stderr), (w, result.stderr)


def indicator(n: int, **extra: Any) -> dict[str, Any]:
    return {
        "type": "indicator",
        "spec_version": "2.1",
        "id": f"indicator--{uuid.uuid5(uuid.NAMESPACE_URL, f'cli/{n}')}",
        "created": "2026-01-01T00:00:00.000Z",
        "modified": "2026-01-01T00:00:00.000Z",
        "pattern": f"[ipv4-addr:value = '192.0.2.{n % 250}']",
        "pattern_type": "stix",
        "valid_from": "2026-01-01T00:00:00Z",
        "object_marking_refs": [CLEAR],
        **extra,
    }


# --- help --------------------------------------------------------------------------------------


def all_commands(
    group: click.Group = cli, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    yield path, group
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            yield from all_commands(command, (*path, name))
        else:
            yield (*path, name), command


COMMANDS = list(all_commands())


@pytest.mark.parametrize(
    ("path", "command"), COMMANDS, ids=[" ".join(p) or "kizuna" for p, _ in COMMANDS]
)
def test_every_command_has_useful_help(path: tuple[str, ...], command: click.Command) -> None:
    result = run(*path, "--help")
    assert result.exit_code == 0, result.output
    assert result.output.startswith("Usage: ")
    summary = (command.help or command.short_help or "").strip()
    assert len(summary) >= 10, f"{' '.join(path)} needs a help text"
    assert summary.split("\n")[0].strip()[:30] in flat(result.output)
    for param in command.params:
        if isinstance(param, click.Option) and not param.hidden:
            assert param.help, f"option {param.opts} of {' '.join(path)} needs help"
            assert param.opts[-1] in result.output


def test_the_commands_the_issue_asks_for_exist() -> None:
    names = {" ".join(p) for p, _ in COMMANDS}
    wanted = {"init", "party add", "party list", "token create", "token revoke", "serve",
              "import", "export", "db upgrade", "settings"}  # fmt: skip
    assert wanted <= names


def test_version() -> None:
    result = run("--version")
    assert result.exit_code == 0 and "kizuna" in result.output


# --- errors without a node ---------------------------------------------------------------------

NEEDS_A_NODE = [
    ("party", "list"),
    ("party", "add", "BSI", "--jurisdiction", "DE", "--kind", "government"),
    ("token", "create", "BSI"),
    ("token", "list"),
    ("token", "revoke", "abc"),
    ("export", "--to", "BSI"),
    ("settings",),
    ("settings", "default_tlp", "red"),
    ("db", "upgrade"),
]


@pytest.mark.parametrize("args", NEEDS_A_NODE, ids=[" ".join(a[:2]) for a in NEEDS_A_NODE])
def test_commands_without_a_node_say_so(tmp_path: Path, args: tuple[str, ...]) -> None:
    empty = tmp_path / "nothing-here"
    result = run("--home", str(empty), *args)
    failed(result, "kizuna init")


def test_import_without_a_node_says_so(tmp_path: Path) -> None:
    f = tmp_path / "b.json"
    f.write_bytes(
        orjson.dumps({"type": "bundle", "id": "bundle--" + str(uuid.uuid4()), "objects": []})
    )
    failed(run("--home", str(tmp_path / "none"), "import", str(f)), "kizuna init")


# --- a node's life through the CLI, on each backend ------------------------------------------


@pytest.fixture
def home(tmp_path: Path, database_url: str | None) -> Iterator[list[str]]:
    """``--home`` (and ``--database-url``) of a node made with ``kizuna init``."""
    args = ["--home", str(tmp_path / "node")]
    if database_url:
        args += ["--database-url", database_url]
    result = run(*args, "init", "--party-name", "CERT-EU", "--jurisdiction", "EU",
                 "--kind", "csirt", "--scheme", "EU")  # fmt: skip
    assert result.exit_code == 0, result.output
    assert IDENTITY.fullmatch(result.stdout.strip())
    yield args


def init_again(home: list[str]) -> tuple[Result, list[warnings.WarningMessage]]:
    """``kizuna init`` where a node is; with what the garbage collector warned of after it."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        result = run(*home, "init", "--party-name", "X", "--jurisdiction", "EU", "--kind", "csirt")
        gc.collect()
    return result, [w for w in caught if issubclass(w.category, ResourceWarning)]


def test_init_refuses_a_second_node_and_bad_values(home: list[str], tmp_path: Path) -> None:
    again, _ = init_again(home)
    failed(again, "already")
    bad = run("--home", str(tmp_path / "other"), "init", "--party-name", "X",
              "--jurisdiction", "Narnia", "--kind", "csirt")  # fmt: skip
    failed(bad, "NARNIA", "ISO 3166")
    usage = run("--home", str(tmp_path / "third"), "init", "--party-name", "X",
                "--jurisdiction", "EU", "--kind", "spy")  # fmt: skip
    assert usage.exit_code == 2 and "spy" in usage.output


def test_a_refused_init_leaves_no_connection_open(
    home: list[str], database_url: str | None
) -> None:
    if database_url is None:
        pytest.skip("only psycopg warns of a connection left open; sqlite3 does not (3.11)")
    _, leaks = init_again(home)
    assert leaks == []


def test_parties_and_tokens(home: list[str], database_url: str | None) -> None:
    added = run(*home, "party", "add", "BSI", "--jurisdiction", "DE", "--kind", "government",
                "--scheme", "DE")  # fmt: skip
    assert added.exit_code == 0, added.output
    bsi_id = added.stdout.strip()
    assert IDENTITY.fullmatch(bsi_id)
    failed(run(*home, "party", "add", "bsi", "--jurisdiction", "DE", "--kind", "csirt"), "exists")
    listed = run(*home, "party", "list")
    assert listed.exit_code == 0 and "BSI" in listed.stdout and "CERT-EU" in listed.stdout

    created = run(*home, "token", "create", "BSI")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert token.startswith("kz_")
    node = open_node(Path(home[1]), database_url=database_url)
    try:
        assert tokens.authenticate(node, token, "BSI").id == bsi_id
        token_id = token.split("_")[1]
        shown = run(*home, "token", "list", "BSI")
        assert token_id in shown.stdout and token.split("_", 2)[2] not in shown.output
        revoked = run(*home, "token", "revoke", token_id)
        assert revoked.exit_code == 0 and token_id in revoked.stdout
        with pytest.raises(Exception, match="revoked"):
            tokens.authenticate(node, token)
    finally:
        node.close()
    failed(run(*home, "token", "create", "Nobody"), "Nobody")
    failed(run(*home, "token", "revoke", "feedfacecafe"), "feedfacecafe")
    for args in ((), ("BSI", "--monitoring")):
        usage = run(*home, "token", "create", *args)
        assert usage.exit_code == 2 and "--monitoring" in usage.output


def test_a_monitoring_token_reads_metrics_only(home: list[str], database_url: str | None) -> None:
    created = run(*home, "token", "create", "--monitoring")
    assert created.exit_code == 0, created.output
    token = created.stdout.strip()
    assert "/metrics" in created.stderr
    assert "monitoring" in run(*home, "token", "list").stdout
    node = open_node(Path(home[1]), database_url=database_url)
    try:
        tokens.may_read_metrics(node, token)  # no error: it may
        with pytest.raises(Exception, match="monitoring token may read /metrics"):
            tokens.authenticate(node, token)
    finally:
        node.close()
    failed(run(*home, "export", "--to", "Nobody"), "Nobody")


def test_import_and_export(home: list[str], tmp_path: Path) -> None:
    run(*home, "party", "add", "BSI", "--jurisdiction", "DE", "--kind", "government")
    objs = [indicator(n) for n in range(5)]
    bundle = tmp_path / "in" / "bundle.json"
    bundle.parent.mkdir()
    bundle.write_bytes(orjson.dumps({"type": "bundle", "id": f"bundle--{uuid.uuid4()}",
                                     "objects": objs[:3]}))  # fmt: skip
    (tmp_path / "in" / "more.ndjson").write_bytes(
        b"\n".join(orjson.dumps(o) for o in objs[2:]) + b"\n"
    )
    result = run(*home, "import", "--quiet", str(tmp_path / "in"))
    assert result.exit_code == 0, result.output
    assert "2 files" in result.stdout and "5 stored" in result.stdout
    assert "1 unchanged" in result.stdout and "0 failed" in result.stdout

    out = tmp_path / "out.json"
    exported = run(*home, "export", "--to", "BSI", "--out", str(out))
    assert exported.exit_code == 0, exported.output
    got = orjson.loads(out.read_bytes())
    assert got["type"] == "bundle"
    indicators = [o for o in got["objects"] if o["type"] == "indicator"]
    by_id = sorted(objs, key=lambda o: o["id"])  # exported in date_added order
    assert sorted(indicators, key=lambda o: o["id"]) == by_id
    ndjson = run(*home, "export", "--to", "BSI", "--format", "ndjson")
    lines = [orjson.loads(line) for line in ndjson.stdout_bytes.splitlines()]
    assert sorted((o for o in lines if o["type"] == "indicator"), key=lambda o: o["id"]) == by_id


def test_import_reports_each_failure_with_its_reason(home: list[str], tmp_path: Path) -> None:
    broken = indicator(1)
    del broken["pattern"]
    f = tmp_path / "mixed.ndjson"
    f.write_bytes(orjson.dumps(indicator(0)) + b"\n{not json\n" + orjson.dumps(broken) + b"\n")
    result = run(*home, "import", "--quiet", str(f))
    assert result.exit_code == 1
    text = flat(result.stdout)
    assert "1 stored" in text and "2 failed" in text
    assert "is not JSON" in text
    assert f'{broken["id"]} : required property "pattern" is missing' in text


def test_import_refuses_esets_malformed_event(home: list[str]) -> None:
    folder = require_shared_data("misp", "eset-malware-ioc")
    malformed = folder / "pypi_backdoor" / "malicious_pypi_packages.misp-event.json"
    if not malformed.exists():
        pytest.skip(f"{malformed} is not in this copy of the data")
    result = run(*home, "import", "--quiet", str(malformed))
    assert result.exit_code == 1
    text = flat(result.stdout)
    assert "0 stored" in text and "1 failed" in text
    assert "not JSON" in text and malformed.name in text


def test_settings(home: list[str]) -> None:
    listed = run(*home, "settings")
    assert listed.exit_code == 0
    assert "max_content_length" in listed.stdout and "default_tlp" in listed.stdout
    assert run(*home, "settings", "default_tlp", "TLP:RED").stdout.strip() == "default_tlp = red"
    assert run(*home, "settings", "default_tlp").stdout.strip() == "default_tlp = red"
    assert run(*home, "settings", "default_tlp", "--reset").stdout.strip() == "default_tlp = amber"
    failed(run(*home, "settings", "default_tlp", "purple"), "purple")
    failed(run(*home, "settings", "max_content_length", "0"), "max_content_length")
    failed(run(*home, "settings", "colour", "blue"), "colour")
    failed(run(*home, "settings", "colour"), "colour")


def test_db_upgrade_is_idempotent(home: list[str]) -> None:
    result = run(*home, "db", "upgrade")
    assert result.exit_code == 0, result.output
    assert "already at" in result.stdout


def test_kizuna_home_from_the_environment(tmp_path: Path) -> None:
    env = {"KIZUNA_HOME": str(tmp_path / "from-env")}
    made = run("init", "--party-name", "RIA", "--jurisdiction", "EE", "--kind", "government",
               env=env)  # fmt: skip
    assert made.exit_code == 0, made.output
    listed = run("party", "list", env=env)
    assert listed.exit_code == 0 and "RIA" in listed.stdout
