"""Stopping a child process: first the signal it handles, then SIGKILL when it does not exit."""

import signal
import subprocess


def stop_process(
    process: subprocess.Popen[bytes] | subprocess.Popen[str],
    *,
    sig: signal.Signals = signal.SIGTERM,
    timeout_s: float = 10.0,
) -> bool:
    """Send sig and wait up to timeout_s, then kill and reap; nothing when it has already ended.
    True when it had to be killed."""
    if process.poll() is not None:
        return False
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()
        return True
    return False
