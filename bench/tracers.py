# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The benchmark's configurations: no tracer, the floor, ccapm-trace and peers.

Each tracer is started before a workload and stopped after it. start()
returns once the tracer is ready (its programs are attached), measure()
takes CPU time and memory while it still runs, and stop() stops it with
SIGINT and reads what it counted.
"""

import os
import signal
import subprocess
import time

import measure

READY_TIMEOUT_S = 30
STOP_TIMEOUT_S = 15
POLL_S = 0.002

# Counts the successful syscalls that ccapm-trace classifies, and the execs,
# for processes below an exec of a program named claude, keyed by the
# agent's pid. The x86_64 numbers are open 2, connect 42, rename 82, mkdir
# 83, rmdir 84, creat 85, unlink 87, openat 257, mkdirat 258, unlinkat 263,
# renameat 264, renameat2 316 and openat2 437. Like ccapm-trace, it checks
# the syscall number before the membership lookup.
BPFTRACE_SCRIPT = r"""
BEGIN { printf("ready\n"); }

tracepoint:sched:sched_process_exec
{
	if (@agent[pid]) {
		@commands[@agent[pid]] = count();
	} else if (comm == "claude") {
		@agent[pid] = pid;
	}
}

tracepoint:sched:sched_process_fork
/@agent[pid]/
{
	@agent[args->child_pid] = @agent[pid];
}

tracepoint:sched:sched_process_exit
/@agent[tid]/
{
	delete(@agent[tid]);
}

tracepoint:raw_syscalls:sys_exit
/(args->id == 2 || args->id == 42 || args->id == 82 || args->id == 83 ||
  args->id == 84 || args->id == 85 || args->id == 87 || args->id == 257 ||
  args->id == 258 || args->id == 263 || args->id == 264 || args->id == 316 ||
  args->id == 437) && args->ret >= 0 && @agent[pid]/
{
	@syscalls[@agent[pid], args->id] = count();
}

END { clear(@agent); }
"""


class TracerError(RuntimeError):
    pass


class Sample:
    """Measurements of one tracer run, None where a tracer has no such figure."""

    def __init__(self):
        self.ready_s = None
        self.cpu_s = None
        self.cpu_ns = None
        self.wall_s = None
        self.peak_rss_kib = None
        self.events = None
        self.lost = None
        self.textfile = None


class NoTracer:
    name = "none"

    def __init__(self, paths):
        self.paths = paths

    def start(self, workdir):
        self.sample = Sample()

    def measure(self):
        pass

    def stop(self):
        return self.sample


class ProcessTracer:
    """A tracer that runs as one process writing stdout and stderr to files."""

    name = None

    def __init__(self, paths):
        self.paths = paths
        self.proc = None

    def command(self, workdir):
        raise NotImplementedError

    def is_ready(self):
        raise NotImplementedError

    def count_events(self):
        return None

    def start(self, workdir):
        self.workdir = workdir
        self.sample = Sample()
        self.out_path = os.path.join(workdir, f"{self.name}.out")
        self.err_path = os.path.join(workdir, f"{self.name}.err")
        with open(self.out_path, "w") as out, open(self.err_path, "w") as err:
            start = time.monotonic()
            self.proc = subprocess.Popen(self.command(workdir), stdout=out, stderr=err,
                                         stdin=subprocess.DEVNULL)
        while not self.is_ready():
            if self.proc.poll() is not None:
                raise TracerError(f"{self.name} exited with status {self.proc.returncode} "
                                  f"before it was ready: {self.stderr_tail()}")
            if time.monotonic() - start > READY_TIMEOUT_S:
                self.kill()
                raise TracerError(f"{self.name} not ready after {READY_TIMEOUT_S} s")
            time.sleep(POLL_S)
        self.sample.ready_s = time.monotonic() - start
        self.ready_at = time.monotonic()
        self.cpu_at_ready = measure.cpu_seconds(self.proc.pid)

    def measure(self):
        """Take CPU time since ready and peak RSS, before the tracer stops."""
        self.sample.cpu_s = measure.cpu_seconds(self.proc.pid) - self.cpu_at_ready
        self.sample.wall_s = time.monotonic() - self.ready_at
        self.sample.peak_rss_kib = measure.memory_kib(self.proc.pid).get("VmHWM")

    def stop(self):
        """Stop with SIGINT, sent twice at most, and count what was traced."""
        status = None
        for _ in range(2):
            self.proc.send_signal(signal.SIGINT)
            try:
                status = self.proc.wait(STOP_TIMEOUT_S)
                break
            except subprocess.TimeoutExpired:
                continue
        if status is None:
            self.kill()
            raise TracerError(f"{self.name} (pid {self.proc.pid}) did not stop within "
                              f"{STOP_TIMEOUT_S} s of each of two SIGINTs: killed")
        if status != 0:
            raise TracerError(f"{self.name} exited with status {status} after SIGINT: "
                              f"{self.stderr_tail()}")
        self.sample.events = self.count_events()
        return self.sample

    def kill(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_tail(self):
        with open(self.err_path) as f:
            return " | ".join(f.read().strip().splitlines()[-3:])

    def stdout_lines(self):
        with open(self.out_path) as f:
            return f.read().splitlines()


class Floor(ProcessTracer):
    name = "floor"

    def command(self, workdir):
        return [self.paths.floor]

    def is_ready(self):
        return "ready" in self.stdout_lines()


class Wakeup(ProcessTracer):
    """The ring buffer wakeup experiment (bench/wakeup.c) in one of its modes."""

    name = "wakeup"

    def __init__(self, paths, mode):
        super().__init__(paths)
        self.mode = mode

    def command(self, workdir):
        return [self.paths.wakeup, self.mode]

    def is_ready(self):
        return "ready" in self.stdout_lines()

    def measure(self):
        super().measure()
        self.sample.cpu_ns = measure.cpu_ns(self.proc.pid) - self.cpu_ns_at_ready

    def start(self, workdir):
        super().start(workdir)
        self.cpu_ns_at_ready = measure.cpu_ns(self.proc.pid)

    def count_events(self):
        for line in self.stdout_lines():
            if line.startswith("records "):
                return int(line.split()[1])
        return None


class Ccapm(ProcessTracer):
    """ccapm-trace with its defaults, writing into a fresh textfile directory."""

    name = "ccapm"

    def __init__(self, paths, extra_args=()):
        super().__init__(paths)
        self.extra_args = list(extra_args)

    def command(self, workdir):
        self.textfile_dir = os.path.join(workdir, "textfile")
        self.textfile = os.path.join(self.textfile_dir, "ccapm.prom")
        return [self.paths.ccapm, "--textfile-dir", self.textfile_dir, *self.extra_args]

    def is_ready(self):
        return os.path.exists(self.textfile)

    def count_events(self):
        """Return the actions counted over all sessions; keeps the samples and losses."""
        samples = measure.parse_textfile(self.textfile)
        self.sample.textfile = samples
        self.sample.lost = int(measure.sum_samples(samples, "ccapm_events_lost_total"))
        return int(sum(measure.sum_samples(samples, name) for name in
                       ("ccapm_commands_total", "ccapm_file_ops_total",
                        "ccapm_network_connects_total")))


class Bpftrace(ProcessTracer):
    name = "bpftrace"

    def command(self, workdir):
        script = os.path.join(workdir, "count.bt")
        with open(script, "w") as f:
            f.write(BPFTRACE_SCRIPT)
        return ["bpftrace", script]

    def is_ready(self):
        return "ready" in self.stdout_lines()

    def count_events(self):
        """Sum the counts that bpftrace prints at exit, "@map[keys]: N"."""
        total = 0
        for line in self.stdout_lines():
            if line.startswith(("@commands[", "@syscalls[")):
                total += int(line.rsplit(":", 1)[1])
        return total


class Snoop(ProcessTracer):
    """A libbpf-tools snoop tool, one output line per event after a header line.

    stdbuf -oL makes the output line-buffered, as on a terminal, so the
    header line shows when the tool is ready.
    """

    def command(self, workdir):
        return ["stdbuf", "-oL", self.name]

    def is_ready(self):
        return len(self.stdout_lines()) >= 1

    def count_events(self):
        return len(self.stdout_lines()) - 1


class Execsnoop(Snoop):
    name = "execsnoop"


class Opensnoop(Snoop):
    name = "opensnoop"


ALL = {cls.name: cls for cls in (NoTracer, Floor, Ccapm, Bpftrace, Execsnoop, Opensnoop)}
