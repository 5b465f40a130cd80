# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The binaries under test, the workloads and how one workload run is timed."""

import os
import re
import shutil
import subprocess
import time

import project

RESULT_RE = re.compile(r"^iterations=(\d+) elapsed_ns=(\d+)$", re.M)
WORKLOAD_TIMEOUT_S = 600


class Paths:
    """Paths of the built binaries. ccapm-trace is copied into tmp, so that a
    rebuild by someone else during a long run cannot change what is measured."""

    def __init__(self, repo, tmp):
        self.repo = repo
        self.tmp = tmp
        build = os.path.join(repo, "build", "bench")
        self.floor = os.path.join(build, "floor")
        self.wakeup = os.path.join(build, "wakeup")
        self.claude = os.path.join(build, "claude")
        self.file_loop = os.path.join(build, "file_loop")
        self.connect_loop = os.path.join(build, "connect_loop")
        self.exec_loop = os.path.join(build, "exec_loop")
        self.spawn_sessions = os.path.join(build, "spawn_sessions")
        self.ccapm_built = os.path.join(repo, "build", "ccapm-trace")
        self.ccapm = os.path.join(tmp, "bin", "ccapm-trace")

    def missing(self):
        return [p for p in (self.floor, self.wakeup, self.claude, self.file_loop, self.connect_loop,
                            self.exec_loop, self.spawn_sessions, self.ccapm_built)
                if not os.access(p, os.X_OK)]

    def freeze_ccapm(self):
        os.makedirs(os.path.dirname(self.ccapm), exist_ok=True)
        shutil.copy2(self.ccapm_built, self.ccapm)


class WorkloadError(RuntimeError):
    pass


class Result:
    """One workload run: its time and, when tracked, the fake agent's pid."""

    def __init__(self, seconds, iterations, agent_pid):
        self.seconds = seconds
        self.iterations = iterations
        self.agent_pid = agent_pid


class Workload:
    """A command that is timed by its own result line, or by wall time when
    timing is "wall". expected maps the metrics ccapm-trace must count for a
    tracked run to their values. None means they are not known in advance."""

    def __init__(self, name, argv, cwd=None, timing="self", prepare=None, expected=None):
        self.name = name
        self.argv = argv
        self.cwd = cwd
        self.timing = timing
        self.prepare = prepare
        self.expected = expected

    def run(self, paths, tracked):
        argv = ([paths.claude] if tracked else []) + self.argv
        start = time.monotonic()
        proc = subprocess.Popen(argv, cwd=self.cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        try:
            out, err = proc.communicate(timeout=WORKLOAD_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            raise WorkloadError(f"{self.name} did not finish within {WORKLOAD_TIMEOUT_S} s")
        wall_s = time.monotonic() - start
        if proc.returncode != 0:
            raise WorkloadError(f"{self.name} ({' '.join(argv)}) exited with status "
                                f"{proc.returncode}: {err.strip()[-500:]}")
        if self.timing == "wall":
            return Result(wall_s, None, proc.pid if tracked else None)
        match = RESULT_RE.search(out)
        if not match:
            raise WorkloadError(f"{self.name} printed no result line: {out.strip()[-200:]}")
        return Result(int(match.group(2)) / 1e9, int(match.group(1)),
                      proc.pid if tracked else None)


def make_workloads(paths, size, workdir, data_dir):
    """Return the workloads by name, sized by size (a Size from run.py). The
    file loops write into data_dir, and the generated project goes into workdir."""
    project_dir = project.generate(os.path.join(workdir, "project"), size.build_modules,
                                   size.build_functions)
    storm_total = size.storm_loops * size.storm_iterations

    def clean_project():
        subprocess.run(["make", "-s", "clean"], cwd=project_dir, check=True)

    # A tracked run adds the fake agent's exec of the workload: one command.
    # The file loop opens its file for writing once before the timed loop.
    workloads = [
        Workload("file-write", [paths.file_loop, "-n", str(size.file_iterations), "-d",
                                data_dir, "write"],
                 expected={"commands": 1, "writes": size.file_iterations + 1}),
        Workload("file-read", [paths.file_loop, "-n", str(size.file_iterations), "-d",
                               data_dir, "read"],
                 expected={"commands": 1, "writes": 1}),
        Workload("connect", [paths.connect_loop, "-n", str(size.connect_iterations)],
                 expected={"commands": 1, "connects": size.connect_iterations}),
        Workload("exec", [paths.exec_loop, "-n", str(size.exec_iterations)],
                 expected={"commands": size.exec_iterations + 1}),
        Workload("exec-storm", [paths.exec_loop, "-p", str(size.storm_loops), "-n",
                                str(size.storm_iterations)],
                 expected={"commands": storm_total + 1}),
        Workload("build", ["make", "-s", "-j2"], cwd=project_dir, timing="wall",
                 prepare=clean_project),
    ]
    return {w.name: w for w in workloads}
