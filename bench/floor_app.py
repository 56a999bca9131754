"""The framework's floor: a minimal two-command Typer app that prints one Rich line.

`bench/startup.py` runs it side by side with studycli's commands; a command that does no more
than this app costs 1.0x.

    python bench/floor_app.py hello
"""

import typer
from rich.console import Console

app = typer.Typer()


@app.command()
def hello(name: str = "world") -> None:
    """Print one Rich line."""
    Console().print(f"[bold]hello[/] {name}")


@app.command()
def bye() -> None:
    """Print another."""
    Console().print("bye")


if __name__ == "__main__":
    app()
