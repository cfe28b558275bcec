"""The diagrams under docs/dialogs/ are the machines the engine runs (regenerate with the CLI)."""
from pathlib import Path

import pytest

from bot.cli import main
from dialogs.base import DIALOGS
from dialogs.registry import dialog_class
from dialogs.graph import markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "dialogs"
dialog_class("menu")  # registers every dialog


@pytest.mark.parametrize("name", sorted(DIALOGS))
def test_committed_diagram_matches_the_machine(name):
    committed = (DOCS / f"{name}.md").read_text()
    assert committed == markdown(name), f"run: paincoach dialogs graph {name} --markdown > docs/dialogs/{name}.md"


def test_every_transition_is_drawn():
    text = markdown("onboarding")
    assert "consent --> declined: declined" in text and "story_good_day --> done: told" in text
    assert "done --> [*]" in text


def test_graph_command_prints_mermaid(capsys):
    assert main(["dialogs", "graph", "timezone"]) == 0
    assert "stateDiagram-v2" in capsys.readouterr().out
    assert main(["dialogs", "graph", "nope"]) == 2
