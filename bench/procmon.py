"""Wall time and peak memory of a command and all its descendants (Python, the jsii node processes, ...).

Memory is the resident set size summed over the whole process tree, sampled
every few milliseconds (psutil when installed, else /proc), so a short spike
between two samples can be missed; the largest single process's exact peak
(VmHWM) is reported as well.
"""

from __future__ import annotations

import importlib
import subprocess
import tempfile
import threading
import time
from collections.abc import Mapping, Sequence
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any


def _optional(name: str) -> Any:
    try:
        return importlib.import_module(name)
    except ImportError:
        return None


psutil: Any = _optional("psutil")  # optional: not a project dependency

SAMPLE_INTERVAL_S = 0.01
PROC = Path("/proc")


@dataclass(frozen=True)
class Sample:
    """One run of one command."""

    wall_s: float
    peak_rss_mb: float  # sum over the process tree, sampled
    peak_single_mb: float  # largest VmHWM of any one process of the tree
    processes: int  # distinct processes seen in the tree


class CommandFailedError(RuntimeError):
    pass


def _read_kib(pid: int, field: str) -> int:
    try:
        for line in (PROC / str(pid) / "status").read_text().splitlines():
            if line.startswith(field):
                return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in (PROC / str(pid) / "task").iterdir():
            found.extend(int(child) for child in (task / "children").read_text().split())
    except OSError:
        pass
    return found


def _tree(root: int) -> list[int]:
    pids, pending = [], [root]
    while pending:
        pid = pending.pop()
        pids.append(pid)
        pending.extend(_children(pid))
    return pids


class _TreeSampler(threading.Thread):
    def __init__(self, root: int) -> None:
        super().__init__(daemon=True)
        self.root = root
        self.stop = threading.Event()
        self.peak_kib = 0
        self.hwm_kib: dict[int, int] = {}

    def run(self) -> None:
        while not self.stop.is_set():
            self._sample()
            self.stop.wait(SAMPLE_INTERVAL_S)

    def _sample(self) -> None:
        total = 0
        if psutil is not None:
            try:
                root = psutil.Process(self.root)
                processes = [root, *root.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    rss = process.memory_info().rss // 1024
                except psutil.Error:
                    continue
                total += rss
                self.hwm_kib[process.pid] = max(self.hwm_kib.get(process.pid, 0), _read_kib(process.pid, "VmHWM:") or rss)
        else:
            for pid in _tree(self.root):
                total += _read_kib(pid, "VmRSS:")
                self.hwm_kib[pid] = max(self.hwm_kib.get(pid, 0), _read_kib(pid, "VmHWM:"))
        self.peak_kib = max(self.peak_kib, total)


@dataclass(frozen=True)
class Outcome:
    sample: Sample
    returncode: int
    output_tail: str  # end of stdout and stderr


def run(
    command: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout_s: float = 3600, stdout_file: Path | None = None
) -> Outcome:
    """Run `command` to completion (killed after `timeout_s`), sampling its process tree.

    With `stdout_file`, the command's whole stdout goes there (a document to parse) and the tail is its stderr.
    """
    with tempfile.TemporaryFile() as output, ExitStack() as stack:
        stdout: IO[bytes] = stack.enter_context(stdout_file.open("wb")) if stdout_file is not None else output
        stderr = output if stdout_file is not None else subprocess.STDOUT
        started = time.perf_counter()
        process = subprocess.Popen(list(command), cwd=cwd, env=dict(env), stdout=stdout, stderr=stderr)
        sampler = _TreeSampler(process.pid)
        sampler.start()
        try:
            returncode = process.wait(timeout=timeout_s)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
            wall = time.perf_counter() - started
            sampler.stop.set()
            sampler.join()
        output.seek(0)
        tail = output.read().decode(errors="replace")[-3000:]
    sample = Sample(
        wall_s=wall,
        peak_rss_mb=sampler.peak_kib / 1024,
        peak_single_mb=max(sampler.hwm_kib.values(), default=0) / 1024,
        processes=len(sampler.hwm_kib),
    )
    return Outcome(sample=sample, returncode=returncode, output_tail=tail)


def measure(command: Sequence[str], *, env: Mapping[str, str], cwd: Path, timeout_s: float = 1800) -> Sample:
    """Like `run`, but a non-zero exit raises CommandFailedError with the end of the command's output."""
    outcome = run(command, env=env, cwd=cwd, timeout_s=timeout_s)
    if outcome.returncode != 0:
        raise CommandFailedError(f"{' '.join(command)} exited {outcome.returncode}:\n{outcome.output_tail}")
    return outcome.sample
