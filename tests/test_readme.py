"""The README stays true: its workflow diagrams are exactly what the tables produce."""

from __future__ import annotations

from pathlib import Path

from assist.workflow import MACHINES

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def test_readme_diagrams_match_the_workflow_tables() -> None:
    for machine in MACHINES:
        assert f"```mermaid\n{machine.mermaid()}\n```" in README, (
            f"README's {machine.name} diagram is stale: paste `python -m assist.workflow`"
        )
