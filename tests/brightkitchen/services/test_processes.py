"""stop_process on real child processes: one that handles the signal, one that ignores it."""

import signal
import subprocess
import sys

from brightkitchen.services.processes import stop_process

_STUBBORN = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def test_a_process_that_handles_the_signal_stops_by_itself() -> None:
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert stop_process(process, sig=signal.SIGINT, timeout_s=10) is False
    assert process.returncode != 0  # KeyboardInterrupt ended it
    assert stop_process(process) is False  # already ended: nothing to do


def test_a_process_that_ignores_the_signal_is_killed() -> None:
    process = subprocess.Popen([sys.executable, "-c", _STUBBORN], stdout=subprocess.PIPE)
    assert process.stdout is not None
    assert process.stdout.readline() == b"ready\n"
    assert stop_process(process, timeout_s=0.5) is True
    assert process.returncode == -signal.SIGKILL
    process.stdout.close()
