"""Mermaid diagrams of the dialogs, drawn from the same declarations the engine runs."""
from __future__ import annotations

import sys

from transitions.extensions import GraphMachine

from dialogs.registry import dialog_class


def mermaid(name: str) -> str:
    dialog = dialog_class(name)

    class Model:  # GraphMachine draws for a model; any will do
        pass

    machine = GraphMachine(
        model=Model(),
        states=dialog.states,
        transitions=dialog.transitions,
        initial=dialog.initial,
        auto_transitions=False,
        graph_engine="mermaid",
        title=name,
    )
    graph = machine.models[0].get_graph().draw(None)
    # Drop the styling of "the current state": a diagram of the declaration has none.
    graph = "\n".join(line for line in graph.splitlines() if not line.lstrip().startswith(("classDef", "Class ")))
    ends = "".join(f"  {state} --> [*]\n" for state in dialog.states if state in dialog.final)
    return graph.rstrip("\n") + "\n" + ends


def markdown(name: str) -> str:
    module_doc = sys.modules[dialog_class(name).__module__].__doc__ or ""
    doc = " ".join(line for line in module_doc.split("\n") if line.strip()).split(" Diagram:")[0].strip()
    return f"# Dialog `{name}`\n\n{doc}\n\n```mermaid\n{mermaid(name)}```\n"
