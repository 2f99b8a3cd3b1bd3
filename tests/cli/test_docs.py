"""Every command, and every bundled API's resources and settings, are documented in the README
(sqlite-utils' practice)."""

from pathlib import Path

import pytest

from fleetlake.cli import cli
from fleetlake.sources import BUNDLED

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_command_has_help_with_an_example_and_is_in_the_readme():
    assert sorted(cli.commands) == ["check", "checks", "demo", "emulate", "model", "report", "resources", "run"]
    for name, command in cli.commands.items():
        assert "Example:" in (command.help or ""), name
        assert f"fleetlake {name}" in README, name


@pytest.mark.parametrize("api", BUNDLED, ids=lambda api: api.name)
def test_every_resource_and_setting_of_each_api_is_in_its_readme_section(api):
    # the API's own section: from its heading to the next API's
    heading = README.index(f"\n## {api.title}")
    section = README[heading : README.index("\n## ", heading + 1)]
    for table in api.resource_descriptions():
        assert f"| `{table}` |" in section, table
    for setting in (*api.secret_settings, *api.url_settings):
        assert f"`{setting}`" in section, setting
    assert f"[sources.{api.section}]" in section


def test_readme_states_the_two_commands():
    assert "uv run fleetlake demo" in README
    assert "uv run pytest" in README
    assert "uv run pytest" in (Path(__file__).parents[2] / ".ci" / "run").read_text()
