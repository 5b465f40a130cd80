# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The phases of the benchmark. Each runs workloads under tracers and returns
plain dicts, which report.py prints and run.py stores as JSON."""

import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import time

import measure
import runner
import tracers

# Time after a workload ends before the tracer's CPU time is read, so that
# ccapm-trace has consumed what is left in the ring buffer.
DRAIN_S = 0.2
SPAWN_TIMEOUT_S = 600
QUIET_SAMPLE_S = 0.5
# Room for every event of the largest micro workload while ccapm-trace is stopped.
STOPPED_RING_BYTES = 1 << 26
QUIET_POLL_S = 2
PID_MAX_PATH = "/proc/sys/kernel/pid_max"
# The counter of sessions the kernel's sessions map had no room for, under
# the name it had in each version of ccapm-trace, newest last.
SESSION_LIMIT_METRICS = ("ccapm_sessions_untracked_total", "ccapm_session_table_full_total")

# Scale runs time write_metrics() (session expiry, collection and the
# textfile write) in the copy of ccapm-trace under test with a uprobe.
WRITE_PROBE_SCRIPT = r"""
BEGIN { printf("ready\n"); }
uprobe:BINARY:write_metrics { @start[tid] = nsecs; }
uretprobe:BINARY:write_metrics
/@start[tid]/
{
	printf("write_metrics pid=%d end_ns=%lld ns=%lld\n", pid, nsecs, nsecs - @start[tid]);
	delete(@start[tid]);
}
"""


def log(message):
    print(message, file=sys.stderr, flush=True)


def own_counts(textfile_samples, agent_pid):
    """Return what ccapm-trace counted for the session(s) of agent_pid."""
    ids = measure.session_ids_of(textfile_samples, agent_pid)
    counts = {"commands": 0, "writes": 0, "connects": 0}
    for session_id in ids:
        counts["commands"] += measure.sum_samples(textfile_samples, "ccapm_commands_total",
                                                  session_id=session_id)
        counts["writes"] += measure.sum_samples(textfile_samples, "ccapm_file_ops_total",
                                                session_id=session_id, op="write")
        counts["connects"] += measure.sum_samples(textfile_samples,
                                                  "ccapm_network_connects_total",
                                                  session_id=session_id)
    return {k: int(v) for k, v in counts.items()}


def run_once(paths, tracer, workload, tracked, workdir, during=None):
    """Run workload once under a freshly started tracer.

    during, if given, is called with the started tracer and a function that
    runs the workload. It must return that function's result. The profile
    phase wraps the run in it.
    """
    if workload.prepare:
        workload.prepare()
    run_dir = tempfile.mkdtemp(prefix=f"{tracer.name}-", dir=workdir)
    tracer.start(run_dir)
    try:
        if during:
            result = during(tracer, lambda: workload.run(paths, tracked))
        else:
            result = workload.run(paths, tracked)
        time.sleep(DRAIN_S)
        tracer.measure()
    except BaseException:
        tracer.kill()
        raise
    sample = tracer.stop()
    shutil.rmtree(run_dir, ignore_errors=True)
    return result, sample


def make_record(phase, workload, mode, config, rep, result, sample):
    record = {
        "phase": phase, "workload": workload.name, "mode": mode, "config": config,
        "rep": rep, "seconds": result.seconds, "iterations": result.iterations,
        "ready_s": sample.ready_s, "cpu_s": sample.cpu_s, "wall_s": sample.wall_s,
        "peak_rss_kib": sample.peak_rss_kib, "events": sample.events, "lost": sample.lost,
        "expected": workload.expected if mode == "tracked" else None, "counted": None,
    }
    if sample.textfile is not None and result.agent_pid:
        record["counted"] = own_counts(sample.textfile, result.agent_pid)
    return record


def wait_quiet(max_wait_s):
    """Wait up to max_wait_s for a quiet machine: no tracing programs of other
    processes attached and at least QUIET_IDLE of the CPUs idle. Returns
    what it saw last, which goes into each record of the repetition."""
    deadline = time.monotonic() + max_wait_s
    while True:
        foreign = measure.foreign_tracing_progs()
        idle = measure.cpu_idle_fraction(QUIET_SAMPLE_S)
        if (not foreign and idle >= measure.QUIET_IDLE) or time.monotonic() >= deadline:
            break
        time.sleep(QUIET_POLL_S)
    if max_wait_s and (foreign or idle < measure.QUIET_IDLE):
        log(f"  machine not quiet after {max_wait_s} s: {100 * idle:.0f}% idle, "
            f"{len(foreign)} foreign tracing programs; going on")
    return {"foreign_progs": len(foreign), "idle": idle}


def run_grid(paths, workloads, config_names, reps, workdir, errors, quiet_wait_s=0):
    """Run every workload, untracked and tracked, under every configuration,
    reps times, with the configurations alternating inside each repetition.
    A tracer that fails to start or stop is appended to errors."""
    records = []
    for workload in workloads:
        for mode in ("untracked", "tracked"):
            for rep in range(reps):
                quiet = wait_quiet(quiet_wait_s)
                for name in config_names:
                    tracer = tracers.ALL[name](paths)
                    try:
                        result, sample = run_once(paths, tracer, workload,
                                                  mode == "tracked", workdir)
                    except tracers.TracerError as e:
                        # The repetition goes on without this configuration,
                        # and the report lists the error.
                        log(f"  {workload.name} {mode} rep {rep + 1} {name}: {e}")
                        errors.append(f"{workload.name} {mode} rep {rep + 1} {name}: {e}")
                        continue
                    record = make_record("grid", workload, mode, name, rep, result, sample)
                    record.update(quiet)
                    records.append(record)
                    log(f"  {workload.name:<10} {mode:<9} rep {rep + 1}/{reps} {name:<9} "
                        f"{result.seconds:8.3f} s")
    return records


def profile_run(tracer, run_workload):
    """Run the workload with BPF run-time statistics on and keep the per-program
    differences on the tracer."""
    prog_ids, _ = measure.bpf_object_ids(tracer.proc.pid)
    with measure.RunTimeStats():
        before = measure.prog_stats(prog_ids)
        result = run_workload()
        after = measure.prog_stats(prog_ids)
    tracer.prog_deltas = {
        after[i][0]: (after[i][1] - before[i][1], after[i][2] - before[i][2])
        for i in after if i in before
    }
    return result


def profile_run_stopped(tracer, run_workload):
    """Like profile_run, with the tracer stopped (SIGSTOP) during the workload,
    so that no wakeup reaches it and it caches no directory verdicts."""
    os.kill(tracer.proc.pid, signal.SIGSTOP)
    try:
        return profile_run(tracer, run_workload)
    finally:
        os.kill(tracer.proc.pid, signal.SIGCONT)


def run_profile(paths, workloads, workdir):
    """Measure run_cnt and run_time_ns of each BPF program of the floor,
    ccapm-trace and the bpftrace script during each workload. Tracked runs
    add ccapm-stopped: ccapm-trace with a 64 MiB ring buffer, stopped while
    the workload runs, which shows the cost of an event without a consumer."""
    rows = []
    for workload in workloads:
        for mode in ("untracked", "tracked"):
            configs = [("floor", profile_run), ("ccapm", profile_run), ("bpftrace", profile_run)]
            if mode == "tracked":
                configs.append(("ccapm-stopped", profile_run_stopped))
            for name, during in configs:
                if name == "ccapm-stopped":
                    tracer = tracers.Ccapm(paths, ["--ringbuf-bytes", str(STOPPED_RING_BYTES)])
                else:
                    tracer = tracers.ALL[name](paths)
                result, _ = run_once(paths, tracer, workload, mode == "tracked", workdir,
                                     during=during)
                rows.append({"workload": workload.name, "mode": mode, "config": name,
                             "iterations": result.iterations, "progs": tracer.prog_deltas})
                log(f"  profile {workload.name:<10} {mode:<9} {name}")
    return rows


def run_storm(paths, loops_list, total_execs, workdir):
    """Run the exec storm at each number of parallel loops, tracked, without a
    tracer and under ccapm-trace, and return rates and losses."""
    rows = []
    for loops in loops_list:
        iterations = max(1, total_execs // loops)
        workload = runner.Workload(
            f"exec-storm-{loops}", [paths.exec_loop, "-p", str(loops), "-n", str(iterations)],
            expected={"commands": loops * iterations + 1})
        for name in ("none", "ccapm"):
            result, sample = run_once(paths, tracers.ALL[name](paths), workload, True, workdir)
            record = make_record("storm", workload, "tracked", name, 0, result, sample)
            record["loops"] = loops
            record["rate_per_s"] = result.iterations / result.seconds
            rows.append(record)
            log(f"  storm {loops:>3} loops {name:<6} {record['rate_per_s']:8.0f} execs/s "
                f"lost {sample.lost}")
    return rows


def run_small_ring(paths, workloads, ring_bytes, workdir):
    """Run tracked workloads under ccapm-trace with a small ring buffer. Every
    action must be either counted or in ccapm_events_lost_total."""
    rows = []
    for workload in workloads:
        tracer = tracers.Ccapm(paths, ["--ringbuf-bytes", str(ring_bytes)])
        result, sample = run_once(paths, tracer, workload, True, workdir)
        record = make_record("small-ring", workload, "tracked", "ccapm", 0, result, sample)
        record["ring_bytes"] = ring_bytes
        rows.append(record)
        log(f"  small ring {workload.name}: lost {sample.lost}")
    return rows


def run_steady(paths, rate_per_s, seconds, kinds, data_dir, workdir):
    """Pace tracked workloads at rate_per_s actions per second and measure the
    CPU share of ccapm-trace."""
    count = str(rate_per_s * seconds)
    rate = str(rate_per_s)
    commands = {
        "file-write": ([paths.file_loop, "-r", rate, "-n", count, "-d", data_dir, "write"],
                       {"commands": 1, "writes": rate_per_s * seconds + 1}),
        "connect": ([paths.connect_loop, "-r", rate, "-n", count],
                    {"commands": 1, "connects": rate_per_s * seconds}),
        "exec": ([paths.exec_loop, "-r", rate, "-n", count],
                 {"commands": rate_per_s * seconds + 1}),
    }
    rows = []
    for kind in kinds:
        argv, expected = commands[kind]
        workload = runner.Workload(f"steady-{kind}", argv, expected=expected)
        result, sample = run_once(paths, tracers.Ccapm(paths), workload, True, workdir)
        record = make_record("steady", workload, "tracked", "ccapm", 0, result, sample)
        record["rate_per_s"] = rate_per_s
        record["cpu_percent"] = 100.0 * sample.cpu_s / sample.wall_s
        rows.append(record)
        log(f"  steady {kind}: {record['cpu_percent']:.2f}% of a core")
    return rows


def run_wakeup(paths, rate_per_s, count, workdir):
    """Compare the cost of a ring buffer record submitted with adaptive
    wakeups against one submitted with BPF_RB_NO_WAKEUP and read on a timer,
    in the kernel and in the consumer, for execs paced at rate_per_s."""
    workload = runner.Workload(f"exec-{rate_per_s}", [paths.exec_loop, "-r", str(rate_per_s),
                                                      "-n", str(count)])
    rows = []
    for mode in ("adaptive", "batched"):
        tracer = tracers.Wakeup(paths, mode)
        result, sample = run_once(paths, tracer, workload, False, workdir, during=profile_run)
        runs, run_time_ns = tracer.prog_deltas.get("handle_exec", (0, 0))
        rows.append({"mode": mode, "rate_per_s": rate_per_s, "execs": result.iterations,
                     "records": sample.events, "bpf_runs": runs,
                     "bpf_ns_per_run": run_time_ns / runs if runs else None,
                     "consumer_us_per_record": (sample.cpu_ns / 1000 / sample.events
                                                if sample.events else None)})
        log(f"  wakeup {mode}: {runs} runs, {run_time_ns} ns in BPF")
    return rows


class WriteProbe:
    """bpftrace timing every write_metrics() call of the ccapm-trace copy."""

    def __init__(self, paths, workdir):
        self.paths = paths
        self.workdir = workdir

    def __enter__(self):
        script = os.path.join(self.workdir, "write_metrics.bt")
        with open(script, "w") as f:
            f.write(WRITE_PROBE_SCRIPT.replace("BINARY", self.paths.ccapm))
        self.out_path = os.path.join(self.workdir, "write_metrics.out")
        self.err = open(os.path.join(self.workdir, "write_metrics.err"), "w")
        with open(self.out_path, "w") as out:
            self.proc = subprocess.Popen(["bpftrace", script], stdout=out, stderr=self.err,
                                         stdin=subprocess.DEVNULL)
        deadline = time.monotonic() + tracers.READY_TIMEOUT_S
        while "ready" not in self.lines():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise tracers.TracerError("the write_metrics uprobe did not attach; see "
                                          f"{self.err.name}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait()
        self.err.close()

    def lines(self):
        with open(self.out_path) as f:
            return f.read().splitlines()

    def durations_ms(self, pid, start_ns, end_ns):
        """Return the durations of the calls by pid that ended in [start_ns, end_ns]."""
        found = []
        for line in self.lines():
            if not line.startswith("write_metrics "):
                continue
            fields = dict(item.split("=") for item in line.split()[1:])
            if int(fields["pid"]) == pid and start_ns <= int(fields["end_ns"]) <= end_ns:
                found.append(int(fields["ns"]) / 1e6)
        return found


def read_line(proc, timeout_s):
    """Return the next stdout line of proc, or raise after timeout_s."""
    with selectors.DefaultSelector() as sel:
        sel.register(proc.stdout, selectors.EVENT_READ)
        if not sel.select(timeout_s):
            raise runner.WorkloadError(f"no output from {proc.args[0]} within {timeout_s} s")
    return proc.stdout.readline()


def measure_idle_window(tracer, window_s):
    """Measure ccapm-trace's CPU time, memory, maps and textfile over window_s."""
    cpu_start_ns = measure.cpu_ns(tracer.proc.pid)
    window_start_ns = time.monotonic_ns()
    time.sleep(window_s)
    window_end_ns = time.monotonic_ns()
    _, map_ids = measure.bpf_object_ids(tracer.proc.pid)
    return {
        "cpu_ns": measure.cpu_ns(tracer.proc.pid) - cpu_start_ns,
        "start_ns": window_start_ns, "end_ns": window_end_ns,
        "memory": measure.memory_kib(tracer.proc.pid),
        "maps": measure.map_memlock_bytes(map_ids),
        "samples": measure.parse_textfile(tracer.textfile),
        "textfile_bytes": os.path.getsize(tracer.textfile),
    }


def run_sessions_step(paths, probe, sessions, children, writes, window_s, workdir):
    """Hold sessions * (children + 1) processes in sessions under ccapm-trace
    and measure the textfile rewrites and memory while they are idle."""
    tracer = tracers.Ccapm(paths, ["--interval", "1"])
    run_dir = tempfile.mkdtemp(prefix="scale-", dir=workdir)
    tracer.start(run_dir)
    spawner = subprocess.Popen(
        [paths.spawn_sessions, "-s", str(sessions), "-k", str(children), "-w", str(writes),
         "-d", run_dir, paths.claude],
        stdout=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
    try:
        started = time.monotonic()
        line = read_line(spawner, SPAWN_TIMEOUT_S)
        if not line.startswith("ready"):
            raise runner.WorkloadError(f"spawn_sessions failed: status {spawner.wait()}")
        spawn_s = time.monotonic() - started
        # One rewrite after every session is known, then the measured window.
        time.sleep(1.5)
        window = measure_idle_window(tracer, window_s)
    except BaseException:
        tracer.kill()
        raise
    finally:
        if spawner.poll() is None:
            spawner.send_signal(signal.SIGTERM)
        spawner.wait()
    tracer.measure()
    tracer.stop()
    shutil.rmtree(run_dir, ignore_errors=True)

    durations = probe.durations_ms(tracer.proc.pid, window["start_ns"], window["end_ns"])
    samples = window["samples"]
    session_limit_metric, sessions_untracked = measure.first_metric(samples,
                                                                    SESSION_LIMIT_METRICS)
    return {
        "sessions": sessions, "processes": sessions * (children + 1),
        "spawn_s": spawn_s, "rewrites": len(durations),
        "write_ms_median": measure.median(durations),
        "write_ms_max": max(durations) if durations else float("nan"),
        "idle_cpu_percent": 100.0 * window["cpu_ns"] / (window["end_ns"] - window["start_ns"]),
        "cpu_ms_per_rewrite": (window["cpu_ns"] / 1e6 / len(durations) if durations
                               else float("nan")),
        "rss_kib": window["memory"].get("VmRSS"), "peak_rss_kib": window["memory"].get("VmHWM"),
        "map_bytes": sum(window["maps"].values()), "maps": window["maps"],
        "textfile_bytes": window["textfile_bytes"],
        "sessions_in_textfile": sum(1 for n, _, _ in samples if n == "ccapm_session_info"),
        "sessions_active": int(measure.sum_samples(samples, "ccapm_sessions_active")),
        "processes_untracked": int(measure.sum_samples(samples,
                                                       "ccapm_processes_untracked_total")),
        "sessions_untracked": (int(sessions_untracked) if session_limit_metric is not None
                               else None),
        "session_limit_metric": session_limit_metric,
        "lost": int(measure.sum_samples(samples, "ccapm_events_lost_total")),
    }


def run_scale(paths, steps, window_s, workdir, writes=10, pid_max=None):
    """Run each (sessions, children) step, in which each agent opens a file
    for writing writes times. With pid_max set, raise kernel.pid_max to at
    least pid_max for the steps and restore it after."""
    rows = []
    old_pid_max = None
    if pid_max:
        with open(PID_MAX_PATH) as f:
            old_pid_max = int(f.read())
        if old_pid_max < pid_max:
            log(f"  raising kernel.pid_max from {old_pid_max} to {pid_max} for this phase")
            with open(PID_MAX_PATH, "w") as f:
                f.write(str(pid_max))
    try:
        with WriteProbe(paths, workdir) as probe:
            for sessions, children in steps:
                row = run_sessions_step(paths, probe, sessions, children, writes, window_s,
                                        workdir)
                rows.append(row)
                log(f"  scale {sessions} sessions, {row['processes']} processes: "
                    f"write {row['write_ms_median']:.2f} ms, RSS {row['rss_kib']} KiB")
    finally:
        if old_pid_max is not None and old_pid_max < pid_max:
            with open(PID_MAX_PATH, "w") as f:
                f.write(str(old_pid_max))
            log(f"  restored kernel.pid_max to {old_pid_max}")
    return rows
