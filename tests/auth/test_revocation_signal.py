"""The embedded default's revocation counter, shared by every process through one mapped file."""

import subprocess
import sys
from pathlib import Path

from keyhouse.auth.revocation_signal import RevocationSignal

BUMP_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
from keyhouse.auth.revocation_signal import RevocationSignal
signal = RevocationSignal(Path(sys.argv[1]))
for _ in range(int(sys.argv[2])):
    signal.bump()
"""


def _bump_elsewhere(path: Path, times: int) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-c", BUMP_IN_ANOTHER_PROCESS, str(path), str(times)])


def test_every_revocation_of_every_process_is_counted_and_seen_at_once(tmp_path: Path) -> None:
    path = tmp_path / "keyhouse.db.revocations"
    server = RevocationSignal(path)
    assert server.read() == 0
    # Two revokers at once, each bumping many times within the same clock tick.
    revokers = [_bump_elsewhere(path, 500), _bump_elsewhere(path, 500)]
    assert [revoker.wait(timeout=60) for revoker in revokers] == [0, 0]
    assert server.read() == 1000
    assert server.bump() == 1000
    assert RevocationSignal(path).read() == 1001
