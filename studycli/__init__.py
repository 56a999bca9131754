"""studycli: spaced-repetition study in the terminal, with answers that execute."""

__version__ = "0.1.0"
