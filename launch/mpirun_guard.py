#!/usr/bin/env python3
"""Runs an mpirun command and makes sure it ends once secura-dist's watchdog has aborted the job.

    python3 launch/mpirun_guard.py [--grace SECONDS] -- mpirun ARGS...

The watchdog (--collective-timeout) prints "... did not complete within T s ..." and calls MPI_Abort, and
mpirun then normally exits with the abort's status (75). One case it cannot end by itself: when a whole host
is frozen (its Open MPI daemon stopped, or the machine hung with its network stack still answering), mpirun
waits for that daemon to confirm the abort, forever. This wrapper forwards the command's standard output and
error line by line, and once a line carries the watchdog's message it gives mpirun --grace seconds
(default 30) to end; then it terminates mpirun (SIGTERM, SIGKILL 5 s later) and exits 75 itself, so a batch
system can requeue the job. Otherwise it exits with mpirun's own status. Standard library only.
"""
import os
import signal
import subprocess
import sys
import threading
import time

WATCHDOG = "did not complete within"
REQUEUE_EXIT = 75


def forward(stream, sink, seen):
    for raw in iter(stream.readline, b""):
        sink.buffer.write(raw)
        sink.flush()
        if WATCHDOG.encode() in raw and seen[0] is None:
            seen[0] = time.monotonic()
    stream.close()


def main(argv):
    grace = 30.0
    if argv[:1] == ["--grace"]:
        try:
            grace = float(argv[1])
        except (IndexError, ValueError):
            sys.exit("mpirun_guard: --grace needs a number of seconds")
        argv = argv[2:]
    if argv[:1] == ["--"]:
        argv = argv[1:]
    if not argv:
        sys.exit("usage: mpirun_guard.py [--grace SECONDS] -- mpirun ARGS...")
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    # Signals to the wrapper (Slurm's scancel, Ctrl-C) go on to mpirun, which cleans up its job.
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, lambda s, _f: child.send_signal(s))
    seen = [None]
    readers = [threading.Thread(target=forward, args=(child.stdout, sys.stdout, seen), daemon=True),
               threading.Thread(target=forward, args=(child.stderr, sys.stderr, seen), daemon=True)]
    for r in readers:
        r.start()
    while child.poll() is None:
        if seen[0] is not None and time.monotonic() - seen[0] > grace:
            sys.stderr.write(f"mpirun_guard: the watchdog aborted the job {grace:.0f} s ago and mpirun is still "
                             f"waiting (a frozen host's daemon?): terminating it; exit {REQUEUE_EXIT}\n")
            sys.stderr.flush()
            try:
                os.killpg(child.pid, signal.SIGTERM)
                child.wait(timeout=5)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
            except ProcessLookupError:
                pass
            for r in readers:
                r.join(timeout=2)
            return REQUEUE_EXIT
        time.sleep(0.2)
    for r in readers:
        r.join(timeout=5)
    return child.returncode if child.returncode >= 0 else 128 - child.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
