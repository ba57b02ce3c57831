"""The documentation says what the code does: settings, and the commands the README shows."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from kizuna.cli.main import cli
from kizuna.core.settings import SETTINGS

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda s: s.name)
def test_every_setting_is_documented_with_its_default(setting: object) -> None:
    page = (ROOT / "docs" / "settings.md").read_text()
    name, default = setting.name, setting.default  # type: ignore[attr-defined]
    shown = "(empty)" if default == "" else str(default)
    assert f"| `{name}` | `{shown}` |" in page


def test_the_settings_page_lists_no_setting_that_does_not_exist() -> None:
    page = (ROOT / "docs" / "settings.md").read_text()
    documented = set(re.findall(r"^\| `([a-z_]+)` \|", page, re.MULTILINE))
    assert documented == {s.name for s in SETTINGS}


def _readme_commands() -> list[list[str]]:
    text = (ROOT / "README.md").read_text()
    found = []
    for line in re.findall(r"kizuna ([a-z][a-z -]+?)(?= [A-Z\"-]|`|\s*#|$)", text, re.MULTILINE):
        words = [w for w in line.split() if re.fullmatch(r"[a-z]+(?:-[a-z]+)*", w)]
        if words:
            found.append(words)
    return found


def test_every_command_the_readme_shows_exists() -> None:
    runner = CliRunner()
    commands = _readme_commands()
    assert len(commands) > 10
    for words in commands:
        # Walk down the command groups as far as the words name subcommands.
        group = cli
        path: list[str] = []
        for w in words:
            sub = getattr(group, "commands", {}).get(w)
            if sub is None:
                break
            path.append(w)
            group = sub
        assert path, f"README mentions `kizuna {' '.join(words)}`, which is no command"
        result = runner.invoke(cli, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)


def test_docs_are_self_contained_and_state_every_rule() -> None:
    """docs/ cites no design document outside the repository, and docs/policy.md states each
    rule 0-9 under the code the gate's refusals carry."""
    from kizuna.core.policy import RULE_NAMES

    for page in sorted((ROOT / "docs").glob("*.md")):
        assert "DESIGN" not in page.read_text(), page.name
    policy = (ROOT / "docs" / "policy.md").read_text()
    for number, name in RULE_NAMES.items():
        assert f"| `rule-{number}-{name}` | **" in policy, (number, name)
