"""Benchmark probe: with BENCH_PROBE_LOG set, every Python process started with this folder on
PYTHONPATH appends one JSON line at exit: its argv, wall time since the process started, peak
resident memory and CPU time. The harness (`benchmarks/run.py`) puts it on the PYTHONPATH of
`make pipeline`, so each stage DVC runs is measured where it runs, with no change to the code.
Without BENCH_PROBE_LOG it does nothing.
"""

import os

_LOG = os.environ.get("BENCH_PROBE_LOG")

if _LOG:
    import atexit
    import json
    import resource
    import sys
    import time

    _HZ = os.sysconf("SC_CLK_TCK")
    _T_IMPORT = time.monotonic()

    def _started_seconds_ago() -> float | None:
        """Age of this process from /proc (10 ms resolution), including interpreter start-up."""
        try:
            with open("/proc/self/stat") as fh:
                start_ticks = int(fh.read().rsplit(")", 1)[1].split()[19])
            with open("/proc/uptime") as fh:
                uptime = float(fh.read().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        return uptime - start_ticks / _HZ

    def _record() -> None:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        age = _started_seconds_ago()
        line = json.dumps(
            {
                "argv": sys.argv,
                "pid": os.getpid(),
                "ppid": os.getppid(),
                "wall_s": age if age is not None else time.monotonic() - _T_IMPORT,
                "maxrss_kib": usage.ru_maxrss,
                "user_s": usage.ru_utime,
                "sys_s": usage.ru_stime,
                "end": time.time(),
            }
        )
        fd = os.open(_LOG, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (line + "\n").encode())
        finally:
            os.close(fd)

    atexit.register(_record)
