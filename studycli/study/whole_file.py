"""A database file read whole into memory, for a read that SQLite cannot lock: another
user's file, or one in a folder this user cannot write, read with no -wal file to go through
(`read_only._open_for_reading`). SQLite reads such a file as `immutable`, taking no lock, so
its owner's checkpoint, writing pages into it during the read, showed the reader a torn file
("database disk image is malformed ... run the command again": 4 in 7,200 reads of a loop
beside an owner rating and checkpointing in a loop; none in 6,000 through the copy). A copy
read twice alike is a file no write was tearing (a checkpoint writes its pages in order: one
that tore the first read differs in the second); the command's queries then read the copy,
which nothing changes.
"""

from __future__ import annotations

import io
import os
import sqlite3
import time
from pathlib import Path

from . import busy

# Larger files are read as `immutable` as before: reading one twice at every command costs
# more than the rare torn read it saves. A 58 MiB file (about 70,000 reviews) took 0.2-0.9 s
# to open so on the busy 2-core box (0.3 ms as `immutable`), and twice its size in memory
# (the bytes read, and SQLite's copy of them); a 170 KB one 0.5 ms (0.3). 16 MiB holds about
# 19,000 reviews: a few years of one learner's.
AT_MOST = 16 << 20
TRIES = 5  # reads of a file that keeps changing before it is read as `immutable` instead
AGAIN = 0.02  # seconds between them: a checkpoint of a few hundred pages is done in less


def read_settled(path: Path, timeout: float) -> sqlite3.Connection | None:
    """A read-only connection to a copy in memory of the database file at `path`, which has
    read its schema; None where the file is larger than `AT_MOST`, cannot be read here (SQLite
    then says why), or changed between every two reads of `TRIES`."""
    for attempt in range(TRIES):
        if attempt:
            time.sleep(AGAIN)
        try:
            with open(path, "rb", buffering=0) as file:
                size = os.fstat(file.fileno()).st_size
                if size > AT_MOST:
                    return None
                data = _read(file, size)
                if len(data) > size:  # (grown since its size was read)
                    continue
                file.seek(0)
                alike = _reads_alike(file, data)
        except OSError:
            return None
        if alike:
            return _in_memory(data, timeout)
    return None


def _read(file: io.FileIO, size: int) -> bytearray:
    """The file's bytes, up to one past `size` (one file grown since shows so)."""
    data = bytearray(size + 1)
    with memoryview(data) as view:
        read = 0
        while read <= size and (got := file.readinto(view[read:])):
            read += got
    del data[read:]
    return data


def _reads_alike(file: io.FileIO, data: bytearray) -> bool:
    """Whether the file, read again from its start, holds `data` and no more."""
    done = 0
    while chunk := file.read(1 << 20):
        if data[done : done + len(chunk)] != chunk:
            return False
        done += len(chunk)
    return done == len(data)


def _in_memory(data: bytearray, timeout: float) -> sqlite3.Connection:
    """`data`, a database file, as a read-only database in memory. Its header's WAL mark
    (bytes 18 and 19: 2) is set back to a rollback journal's (1): SQLite opens no database
    in memory in WAL mode. An empty file is an empty database, as SQLite reads it (given no
    bytes, deserialize raised MemoryError)."""
    if data[18:20] == b"\x02\x02":
        data[18:20] = b"\x01\x01"
    conn = sqlite3.connect(":memory:", isolation_level=None, timeout=timeout)
    try:
        if data:
            conn.deserialize(data)
        conn.execute("PRAGMA query_only = ON")
        busy.when_readable(conn, timeout)
    except BaseException:
        conn.close()
        raise
    return conn
