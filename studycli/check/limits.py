"""The default limits of `studycli check` (a learner's own check has its limits in settings).

A module of its own, importing nothing, so that the CLI can show them in its help without
loading the runner.
"""

DEFAULT_TIMEOUT = 60.0  # seconds one checker may run on one candidate
DEFAULT_MEMORY_MB = 4096  # memory cap of that run
