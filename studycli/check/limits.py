"""The limits of `studycli check`: its default time and memory for a check (a learner's own
check has its limits in settings), the size of a file it may write, and how much of a check's
output and message is kept.

A module of its own, importing nothing, so that the CLI can show them in its help without
loading the runner, and the runner's modules (`runner`, `child`, `crash_report`, `fork_server`)
share them without importing one another for them.
"""

# Seconds one checker may run on one candidate where no learner's limit caps it (`verify`
# given no learner_timeout; `studycli check` gives one)
DEFAULT_TIMEOUT = 60.0
DEFAULT_MEMORY_MB = 4096  # memory cap of that run
# Seconds past a learner's limit a check may run before it is stopped (`plan._limit`), whatever
# a run's timeout: a correct answer fails the card past the limit anyway (`verdict`), and a
# checker that hangs is then reported in seconds, not after the whole DEFAULT_TIMEOUT for each
# of the card's correct answers; a wrong answer that hangs (a loop left in it) proves nothing
# of its mistake (`outcome_reading`), as a learner's attempt of it is stopped at their limit
# too. (The stop counts from the check's start, its module's import included; the limit from
# the checker's call: hence a margin of a few seconds.) `studycli check --timeout` takes no
# more than this past check_timeout's default, and that is its default.
LEARNER_MARGIN = 5.0

# The size no file a check writes may grow past (RLIMIT_FSIZE, `contain.enter`; each file: a
# check that writes many files is still bounded by its time limit alone). A check's data lives
# in its memory; no shipped card's check writes a file at all, and what torch may write for one
# (the compiler's cache, a saved tensor read back) takes a few MB. An attempt writing in a loop
# stops here instead of filling the disk, where the review database could then not commit.
FILE_SIZE_LIMIT_MB = 1024

OUTPUT_LIMIT = 2000  # bytes of a check's output kept (its tail, as the failure panel shows it)
# Bytes of the tail of a check that ended without a report read for its crash dump, which is
# tidied, then cut to OUTPUT_LIMIT (`crash_report._crash_dump`): faulthandler writes at most
# 100 frames
DUMP_LIMIT = 64 * 1024
MESSAGE_LIMIT = 20000  # characters of a failure message kept
# Bytes a check's report may take (its message, cut to MESSAGE_LIMIT, and its traceback take
# well under a megabyte): one said to be longer is none (`fork_server._Zygote._drain`)
REPORT_LIMIT = 16 * 1024 * 1024
# Bytes a worker's reply to the command may take: a report (`REPORT_LIMIT`) with the tail of the
# check's output and its crash dump beside it (`DUMP_LIMIT` characters, 4 bytes each at most).
# One said to be longer is not read (`protocol.read_reply`): the worker is taken to be gone.
REPLY_LIMIT = REPORT_LIMIT + 1024 * 1024
