#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Measure the overhead of ccapm-trace against the hook floor and its peers.

Runs each workload untracked and tracked (below a fake agent named claude)
with no tracer, the floor (bench/floor.bpf.c), ccapm-trace, a bpftrace
script and libbpf-tools' execsnoop and opensnoop, alternating the
configurations inside each repetition. Then it profiles the BPF programs,
finds the max exec rate, forces a small ring buffer, paces 1,000 events/s,
and scales sessions and processes. Prints markdown tables, one "ratio"
line per workload and mode, and one "target" line per target; the full
results go to a JSON file. Needs root, bpftrace, libbpf-tools and tracefs
(mounted here if missing). Build first with `make bench-build`.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(BENCH_DIR)
sys.path[:0] = [BENCH_DIR, os.path.join(REPO, "tests")]

import measure  # noqa: E402
import phases  # noqa: E402
import report  # noqa: E402
import runner  # noqa: E402
from harness.case import agent_ancestor  # noqa: E402  (the test suites' own check)

TRACEFS = "/sys/kernel/tracing"
SHM = "/dev/shm"
CONFIGS = ("none", "floor", "ccapm", "bpftrace", "execsnoop", "opensnoop")
PHASES = ("grid", "profile", "wakeup", "storm", "small-ring", "steady", "scale", "limits")
# ccapm-trace's map sizes (bpf/maps.h): procs 32768, sessions 8192.
PROCS_MAP_ENTRIES = 32768
SESSIONS_MAP_ENTRIES = 8192


class Size:
    """How much each phase does; FULL for `make bench`, SMOKE for the test."""

    def __init__(self, **values):
        self.__dict__.update(values)


FULL = Size(
    reps=5, build_reps=3,
    file_iterations=100000, connect_iterations=20000, exec_iterations=2000,
    storm_loops=4, storm_iterations=500,
    build_modules=80, build_functions=40,
    workloads=("file-write", "file-read", "connect", "exec", "exec-storm", "build"),
    profile_workloads=("file-write", "file-read", "connect", "exec", "build"),
    wakeup_execs=3000,
    storm_loops_list=(1, 2, 4, 8, 16), storm_total=6000,
    small_ring_file_iterations=100000,
    steady_seconds=30, steady_kinds=("file-write", "connect", "exec"),
    scale_steps=((1, 0), (10, 0), (100, 0), (100, 99)), scale_window_s=5,
    # Past each map's limit: 200 sessions more than the sessions map has
    # room for, and 34 agents with 999 children each (34,000 processes), more
    # than the procs map has room for, which needs kernel.pid_max above 32768.
    limit_steps=((SESSIONS_MAP_ENTRIES + 200, 0), (34, 999)), limit_pid_max=65536,
    quiet_wait_s=15,
)

SMOKE = Size(
    reps=1, build_reps=1,
    file_iterations=3000, connect_iterations=500, exec_iterations=50,
    storm_loops=2, storm_iterations=25,
    build_modules=3, build_functions=8,
    workloads=("file-write", "build"),
    profile_workloads=("file-write",),
    wakeup_execs=100,
    storm_loops_list=(2,), storm_total=200,
    small_ring_file_iterations=20000,
    steady_seconds=2, steady_kinds=("file-write",),
    scale_steps=((10, 9),), scale_window_s=2,
    limit_steps=(), limit_pid_max=None,
    quiet_wait_s=0,
)


def parse_args():
    """Parse the command line into (args, size, configs, skipped phases)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true",
                        help="short configuration for the test suite, under a minute")
    parser.add_argument("--reps", type=int, help="repetitions of each micro workload")
    parser.add_argument("--workloads", help="comma-separated subset of the grid workloads")
    parser.add_argument("--configs", help=f"comma-separated subset of {','.join(CONFIGS)}")
    parser.add_argument("--skip", default="", help=f"comma-separated phases to skip: "
                        f"{','.join(PHASES)}")
    parser.add_argument("--json", default=os.path.join(REPO, "build", "bench", "results.json"),
                        help="where to write all results (default: %(default)s)")
    parser.add_argument("--quiet-wait", type=float, metavar="SECONDS",
                        help="before each repetition, wait up to SECONDS for no foreign "
                        "tracing programs and idle CPUs (default: 15, 0 with --smoke)")
    parser.add_argument("--keep", action="store_true", help="keep the temp directory")
    args = parser.parse_args()

    size = SMOKE if args.smoke else FULL
    if args.reps:
        size.reps = size.build_reps = args.reps
    if args.quiet_wait is not None:
        size.quiet_wait_s = args.quiet_wait
    if args.workloads:
        size.workloads = tuple(args.workloads.split(","))
    configs = tuple(args.configs.split(",")) if args.configs else CONFIGS
    if "none" not in configs:
        configs = ("none",) + configs
    skip = set(filter(None, args.skip.split(",")))

    for name, known, given in (("workload", FULL.workloads, size.workloads),
                               ("configuration", CONFIGS, configs), ("phase", PHASES, skip)):
        unknown = set(given) - set(known)
        if unknown:
            parser.error(f"unknown {name} {', '.join(sorted(unknown))}: use {', '.join(known)}")
    return args, size, configs, skip


def preflight(paths):
    """Exit with a message naming the fix unless everything the benchmark needs is here."""
    if os.geteuid() != 0:
        sys.exit("bench: must run as root: it loads BPF programs (sudo make bench)")
    ancestor = agent_ancestor()
    if ancestor:
        sys.exit(f"bench: running inside the Claude Code agent {ancestor}, so every workload "
                 "would be tracked: run the benchmark from a shell outside Claude Code")
    missing = paths.missing()
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}: run `make bench-build` first")
    for tool in ("bpftrace", "execsnoop", "opensnoop", "bpftool", "stdbuf", "make", "gcc"):
        if not shutil.which(tool):
            sys.exit(f"bench: {tool} not found: run `scripts/install-packages build bench`")
    if not os.path.ismount(TRACEFS):
        # bpftrace and libbpf-tools' tracepoint programs look up tracepoints in tracefs.
        subprocess.run(["mount", "-t", "tracefs", "nodev", TRACEFS], check=True)
        phases.log(f"bench: mounted tracefs at {TRACEFS}")


def machine_info():
    def read_first(path, prefix):
        with open(path) as f:
            for line in f:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip()
        return "?"

    def command(*argv):
        try:
            return subprocess.run(argv, capture_output=True, text=True,
                                  cwd=REPO).stdout.strip()
        except OSError:
            return "?"

    mem_kib = int(read_first("/proc/meminfo", "MemTotal").split()[0])
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"),
        "cpu": read_first("/proc/cpuinfo", "model name"),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "ram_gib": round(mem_kib / 1024 / 1024, 1),
        "commit": command("git", "rev-parse", "--short", "HEAD"),
        "worktree_changes": bool(command("git", "status", "--porcelain", "--untracked-files=no")),
        "bpftrace": command("bpftrace", "--version"),
        "libbpf_tools": command("dpkg-query", "-W", "-f=${Version}", "libbpf-tools"),
        "foreign_tracing_progs_at_start": measure.foreign_tracing_progs(),
    }


def print_machine(info):
    print("## Machine\n")
    for key, value in info.items():
        print(f"- {key}: {value}")
    if info["foreign_tracing_progs_at_start"]:
        print("\nNOTE: tracing programs of other processes were attached at start; they add "
              "to every configuration, the no-tracer runs included.")


def data_dir_parent(workdir):
    """Return where the file loops write: tmpfs if /dev/shm is one, so that the
    loops measure syscalls and not the disk. On ext4 a file truncated and
    written again is flushed at close (auto_da_alloc), which made the write
    loop 30 times slower here."""
    with open("/proc/mounts") as f:
        if any(line.split()[1] == SHM and line.split()[2] == "tmpfs" for line in f):
            return SHM
    return workdir


def run_phases(paths, size, configs, skip, data_dir, results):
    workdir = paths.tmp
    workloads = runner.make_workloads(paths, size, workdir, data_dir)
    grid = profile = {}
    storm_best = None
    if "grid" not in skip:
        print("\n## Workloads under each configuration\n")
        phases.log("bench: grid")
        records = []
        for name in size.workloads:
            reps = size.build_reps if name == "build" else size.reps
            records += phases.run_grid(paths, [workloads[name]], configs, reps, workdir,
                                       results["errors"], size.quiet_wait_s)
        results["grid"] = records
        grid = report.summarize_grid(records)
        report.print_grid(grid, configs)
    if "profile" not in skip:
        print("\n## BPF run time per program (run_cnt, run_time_ns)\n")
        phases.log("bench: profile")
        rows = phases.run_profile(paths, [workloads[n] for n in size.profile_workloads],
                                  workdir)
        results["profile"] = rows
        profile = report.print_profile(rows)
    if "wakeup" not in skip:
        print("\n## Ring buffer wakeups: adaptive against BPF_RB_NO_WAKEUP, execs at 1,000/s\n")
        phases.log("bench: wakeup")
        rows = phases.run_wakeup(paths, 1000, size.wakeup_execs, workdir)
        results["wakeup"] = rows
        report.print_wakeup(rows)
    if "storm" not in skip:
        print("\n## Exec storm, tracked\n")
        phases.log("bench: storm")
        rows = phases.run_storm(paths, size.storm_loops_list, size.storm_total, workdir)
        results["storm"] = rows
        storm_best = report.print_storm(rows)
    small_ring = []
    if "small-ring" not in skip:
        print("\n## Ring buffer forced small (--ringbuf-bytes 4096), tracked\n")
        phases.log("bench: small ring buffer")
        loops = storm_best["loops"] if storm_best else 4
        file_write = runner.Workload(
            "file-write", [paths.file_loop, "-n", str(size.small_ring_file_iterations), "-d",
                           data_dir, "write"],
            expected={"commands": 1, "writes": size.small_ring_file_iterations + 1})
        iterations = max(1, size.storm_total // loops)
        storm = runner.Workload(
            f"exec-storm-{loops}", [paths.exec_loop, "-p", str(loops), "-n", str(iterations)],
            expected={"commands": loops * iterations + 1})
        small_ring = phases.run_small_ring(paths, [file_write, storm], 4096, workdir)
        results["small_ring"] = small_ring
        report.print_small_ring(small_ring)
    steady = []
    if "steady" not in skip:
        print("\n## Tracer CPU at a steady 1,000 tracked events/s\n")
        phases.log("bench: steady")
        steady = phases.run_steady(paths, 1000, size.steady_seconds, size.steady_kinds,
                                   data_dir, workdir)
        results["steady"] = steady
        report.print_steady(steady)
    if "scale" not in skip:
        print("\n## Scale: concurrent sessions and processes in sessions\n")
        phases.log("bench: scale")
        rows = phases.run_scale(paths, size.scale_steps, size.scale_window_s, workdir)
        results["scale"] = rows
        report.print_scale(rows)
    if "limits" not in skip and size.limit_steps:
        print(f"\n## Map limits: sessions map {SESSIONS_MAP_ENTRIES}, procs map "
              f"{PROCS_MAP_ENTRIES}\n")
        phases.log("bench: limits")
        rows = phases.run_scale(paths, size.limit_steps, size.scale_window_s, workdir,
                                writes=1, pid_max=size.limit_pid_max)
        results["limits"] = rows
        report.print_scale(rows)

    if results["errors"]:
        print("\n## Errors\n")
        for error in results["errors"]:
            print(f"- {error}")
    print("\n## Targets\n")
    runs = phases_ccapm_runs(results)
    report.print_targets(grid, profile, storm_best, small_ring, steady, runs)


def phases_ccapm_runs(results):
    """Return every ccapm-trace run with the default ring buffer, for the RSS and
    ready targets."""
    return report.ccapm_runs(results.get("grid", []), results.get("storm", []),
                             results.get("steady", []))


def main():
    args, size, configs, skip = parse_args()
    paths = runner.Paths(REPO, tempfile.mkdtemp(prefix="ccapm-bench-"))
    preflight(paths)
    paths.freeze_ccapm()
    info = machine_info()
    results = {"machine": info, "smoke": args.smoke, "configs": configs, "errors": []}
    print("# ccapm-trace benchmark" + (" (smoke configuration)" if args.smoke else "") + "\n")
    print_machine(info)
    data_dir = tempfile.mkdtemp(prefix="ccapm-bench-", dir=data_dir_parent(paths.tmp))
    try:
        run_phases(paths, size, configs, skip, data_dir, results)
    finally:
        results["foreign_tracing_progs_at_end"] = measure.foreign_tracing_progs()
        os.makedirs(os.path.dirname(args.json), exist_ok=True)
        with open(args.json, "w") as f:
            json.dump(results, f, indent=1, default=str)
        phases.log(f"bench: results in {args.json}")
        shutil.rmtree(data_dir, ignore_errors=True)
        if not args.keep:
            shutil.rmtree(paths.tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
