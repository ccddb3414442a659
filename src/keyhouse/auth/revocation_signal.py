"""The embedded default's revocation counter: eight bytes in a file every local process maps.

The server checks it before trusting its credential cache, on every verification, so the
check must cost a memory read rather than a system call (a `stat()` of the file cost ~5 µs),
and it must never miss a change: a file's change time can stay the same across two writes
within one clock tick, a counter cannot. A revoking process, the server or a CLI command,
adds one under an exclusive lock; the mapping is shared, so every process sees the new value
as soon as the write is done.
"""

import fcntl
import mmap
import os
import struct
from pathlib import Path

COUNTER = struct.Struct("<Q")


class RevocationSignal:
    """A counter of revocations committed by any process on this machine."""

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            if os.fstat(descriptor).st_size < COUNTER.size:
                os.ftruncate(descriptor, COUNTER.size)
            # Unlock explicitly: the mapping keeps a duplicate of the descriptor, and with it
            # the lock, for as long as this object lives.
            fcntl.flock(descriptor, fcntl.LOCK_UN)
            self._map = mmap.mmap(descriptor, COUNTER.size)
        finally:
            os.close(descriptor)

    def read(self) -> int:
        """The number of revocations signalled so far."""
        count: int = COUNTER.unpack_from(self._map)[0]
        return count

    def bump(self) -> int:
        """Signal one more revocation to every process; the count before it."""
        descriptor = os.open(self._path, os.O_RDWR)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            before = self.read()
            COUNTER.pack_into(self._map, 0, before + 1)
            return before
        finally:
            os.close(descriptor)
