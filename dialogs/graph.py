"""Mermaid diagrams of the dialogs, drawn from the same declarations the engine runs."""
from __future__ import annotations

from transitions.extensions import GraphMachine

from dialogs.base import dialog_class


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
    ends = "".join(f"  {state} --> [*]\n" for state in dialog.states if state in dialog.final)
    return graph.rstrip("\n") + "\n" + ends


def markdown(name: str) -> str:
    doc = (dialog_class(name).__doc__ or "").strip()
    return f"# Dialog `{name}`\n\n{doc}\n\n```mermaid\n{mermaid(name)}```\n"
