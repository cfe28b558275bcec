"""docs/architecture.md stays true: every path it names exists."""
from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs/architecture.md").read_text(encoding="utf-8")


def named_paths() -> list[str]:
    """Backticked names with a slash (a module, a folder, a file), as written in the doc."""
    return sorted({p for p in re.findall(r"`([\w./-]+/[\w./-]*)`", DOC) if not p.startswith("/")})


def test_the_doc_names_paths_at_all():
    assert len(named_paths()) > 20
    assert "`tests/test_architecture.py`" in DOC


def test_every_path_in_the_architecture_doc_exists():
    missing = [p for p in named_paths() if not (ROOT / p).exists()]
    assert missing == []


def test_every_top_level_package_is_in_the_layer_picture_and_the_contract():
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    packages = {p.name for p in ROOT.iterdir() if (p / "__init__.py").exists() and p.name != "tests"}
    assert packages == set(config["root_packages"])
    for package in packages:
        assert f"{package}/" in DOC, package


def test_every_dialog_is_in_the_independence_contract():
    import tomllib

    from dialogs.base import DIALOGS
    from dialogs.registry import dialog_class

    dialog_class("menu")  # (importing the registry registers every dialog)
    contracts = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]["contracts"]
    [independence] = [c for c in contracts if c["type"] == "independence"]
    assert set(independence["modules"]) == {cls.__module__ for cls in DIALOGS.values()}
