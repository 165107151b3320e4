"""What a process costs, read from /proc: CPU seconds and resident memory."""

import os
from pathlib import Path

_TICKS = os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The direct children of a process (a gunicorn master's workers)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def cpu_seconds(pids: list[int]) -> float:
    """User plus system CPU time used so far by these processes (not their children)."""
    total = 0
    for pid in pids:
        try:
            # The command name may hold spaces: fields are counted after its ")".
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / _TICKS


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """CPU seconds used so far by each of these processes."""
    return {pid: cpu_seconds([pid]) for pid in pids}


def memory_mib(pid: int) -> dict[str, float]:
    """Resident memory of one process, in MiB: RSS counts every page it maps, shared or
    not; PSS shares each page among the processes mapping it; USS is its own pages only,
    what one more such process would cost."""
    found = {}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _colon, rest = line.partition(":")
            if name in ("Rss", "Pss", "Private_Clean", "Private_Dirty"):
                found[name] = int(rest.split()[0]) / 1024
    except OSError:
        return {"rss": 0.0, "pss": 0.0, "uss": 0.0}
    return {
        "rss": found.get("Rss", 0.0),
        "pss": found.get("Pss", 0.0),
        "uss": found.get("Private_Clean", 0.0) + found.get("Private_Dirty", 0.0),
    }


def machine_busy_seconds() -> float:
    """CPU seconds all cores spent on anything but idling, since boot."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / _TICKS  # guest time is already inside user time


class CpuMeter:
    """CPU used during a measurement by the server, the rest of our stack, and everyone.

    `elsewhere` is what the machine spent on other work (other people's tests on a
    shared machine): the noise under the figures.
    """

    def __init__(self, server_pids: list[int], stack_pids: list[int]):
        self.server_pids, self.stack_pids = server_pids, stack_pids
        self._start = self._read()

    def _read(self) -> tuple[float, float, float]:
        return (
            cpu_seconds(self.server_pids),
            cpu_seconds(self.stack_pids),
            machine_busy_seconds(),
        )

    def stop(self, client_cpu: float) -> tuple[float, float, float]:
        """(server CPU seconds, the rest of our stack's, CPU seconds spent elsewhere)."""
        server, stack, busy = (
            end - start for end, start in zip(self._read(), self._start, strict=True)
        )
        return server, stack, max(0.0, busy - server - stack - client_cpu)
