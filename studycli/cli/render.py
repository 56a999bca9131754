"""Rich renderings of cards, shared by `show` and `review`. No I/O here: it returns renderables."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.panel import Panel
from rich.syntax import Syntax
from rich.text import Text

from studycli.content import cloze
from studycli.content.card import Card, Kind

KIND_STYLE = {"concept": "cyan", "derivation": "magenta", "coding": "green", "cloze": "blue"}


def header(card: Card) -> Text:
    text = Text()
    text.append(f" {card.kind.value} ", style=f"bold reverse {KIND_STYLE[card.kind.value]}")
    text.append(f"  {card.title}", style="bold")
    text.append(f"   {card.deck} · {card.topic} · {card.id}", style="dim")
    return text


def prompt(card: Card) -> RenderableType:
    """The question; for a cloze card its text with the deletion being asked blanked."""
    text = card.prompt
    if card.kind == Kind.CLOZE:
        text = cloze.blank(text, card.cloze, lambda d: f"**[{d.hint or '...'}]**")
    return Panel(Markdown(text), title="Question", title_align="left", border_style="blue")


def step(card: Card, index: int) -> RenderableType:
    return Panel(
        Markdown(card.steps[index]),
        title=f"Step {index + 1} of {len(card.steps)}",
        title_align="left",
        border_style="magenta",
    )


def answer(card: Card) -> RenderableType:
    """The answer (a cloze card's text with its deletion shown), then the explanation."""
    if card.kind == Kind.CLOZE:
        text = cloze.reveal(card.prompt, card.cloze, lambda hidden: f"**{hidden}**")
    else:
        text = card.answer or "_(no written answer: run the checker)_"
    shown = Panel(Markdown(text), title="Answer", title_align="left", border_style="green")
    if not card.explanation:
        return shown
    why = Panel(Markdown(card.explanation), title="Why", title_align="left", border_style="dim")
    return Group(shown, why)


def code(source: str, title: str) -> RenderableType:
    return Panel(
        Syntax(source, "python", theme="ansi_dark", line_numbers=False, word_wrap=True),
        title=title,
        title_align="left",
        border_style="dim",
    )


def full(card: Card, *, with_answer: bool, starter: str | None = None) -> RenderableType:
    """The whole card: header, prompt, starter; with the answer, steps and answer too."""
    parts: list[RenderableType] = [header(card), prompt(card)]
    if starter is not None:
        parts.append(code(starter, "Starter"))
    if with_answer:
        parts += [step(card, i) for i in range(len(card.steps))]
        parts.append(answer(card))
        if card.solution is not None:
            parts.append(
                Text(
                    f"reference: solutions/{card.solution.module}.py :: {card.solution.function}",
                    style="dim",
                )
            )
    if card.requires:
        parts.append(Text("requires: " + ", ".join(card.requires), style="dim"))
    return Group(*parts)
