"""Every command and every TiDB resource is documented in the README (sqlite-utils' practice)."""

from pathlib import Path

from fleetlake.cli import cli
from fleetlake.sources.tidb_cloud.source import resource_descriptions

README = (Path(__file__).parents[2] / "README.md").read_text()


def test_every_command_has_help_with_an_example_and_is_in_the_readme():
    assert sorted(cli.commands) == ["check", "demo", "emulate", "resources", "run"]
    for name, command in cli.commands.items():
        assert "Example:" in (command.help or ""), name
        assert f"fleetlake {name}" in README, name


def test_every_tidb_resource_is_in_the_readme_table():
    for table in resource_descriptions():
        assert f"| `{table}` |" in README, table


def test_readme_states_the_two_commands():
    assert "uv run fleetlake demo" in README
    assert "uv run pytest" in README
    assert "uv run pytest" in (Path(__file__).parents[2] / ".ci" / "run").read_text()
