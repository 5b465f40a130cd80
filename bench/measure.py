# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Readers for /proc, the ccapm textfile and BPF run-time statistics."""

import ctypes
import json
import os
import re
import statistics
import subprocess
import time

CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")

# x86_64 bpf(2) syscall number and the BPF_ENABLE_STATS command, from
# linux/bpf.h (command 32 since Linux 5.8).
SYS_BPF = 321
BPF_ENABLE_STATS = 32
BPF_STATS_RUN_TIME = 0

# A machine counts as quiet when this share of its CPUs is idle. The
# benchmark's own processes are idle between runs.
QUIET_IDLE = 0.9

SAMPLE_RE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)$")
LABEL_RE = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def cpu_seconds(pid):
    """Return utime + stime of process pid, all threads, from /proc/PID/stat."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state), so utime (14) and stime (15) are 11 and 12.
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS_PER_S


def cpu_ns(pid):
    """Return the time all threads of pid spent on a CPU, in ns, from
    /proc/PID/task/*/schedstat, which is finer than /proc/PID/stat's clock ticks."""
    total = 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
            total += int(f.read().split()[0])
    return total


def first_metric(samples, names):
    """Return (name, summed value) of the first of names present in samples,
    or (None, None). Names lists the names a metric had in different versions."""
    present = {name for name, _, _ in samples}
    for name in names:
        if name in present:
            return name, sum_samples(samples, name)
    return None, None


def cpu_idle_fraction(interval_s):
    """Return the share of all CPUs' time spent idle over interval_s, from /proc/stat."""
    def idle_and_total():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return values[3] + values[4], sum(values)  # idle + iowait

    idle_start, total_start = idle_and_total()
    time.sleep(interval_s)
    idle_end, total_end = idle_and_total()
    return (idle_end - idle_start) / max(1, total_end - total_start)


def memory_kib(pid):
    """Return VmRSS and VmHWM (peak RSS) of process pid in KiB."""
    values = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("VmRSS", "VmHWM"):
                values[key] = int(rest.split()[0])
    return values


def bpf_object_ids(pid):
    """Return the ids of the BPF programs and maps that process pid has fds of."""
    progs, maps = set(), set()
    fdinfo = f"/proc/{pid}/fdinfo"
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                text = f.read()
        except OSError:
            continue
        for key, value in re.findall(r"^(prog_id|map_id):\s*(\d+)$", text, re.M):
            (progs if key == "prog_id" else maps).add(int(value))
    return progs, maps


def _bpftool_json(*args):
    out = subprocess.run(["bpftool", "-j", *args], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out)


def prog_stats(ids):
    """Return {id: (name, run_cnt, run_time_ns)} for the given program ids."""
    stats = {}
    for prog in _bpftool_json("prog", "show"):
        if prog["id"] in ids:
            stats[prog["id"]] = (prog.get("name", "?"), prog.get("run_cnt", 0),
                                 prog.get("run_time_ns", 0))
    return stats


def foreign_tracing_progs(own_ids=()):
    """Return "name(id)" of every loaded tracing program not in own_ids."""
    return [f'{p.get("name", "?")}({p["id"]})' for p in _bpftool_json("prog", "show")
            if p.get("type") == "tracing" and p["id"] not in own_ids]


def map_memlock_bytes(ids):
    """Return the summed bytes_memlock of the given map ids, by map name."""
    sizes = {}
    for m in _bpftool_json("map", "show"):
        if m["id"] in ids:
            sizes[m.get("name", "?")] = m.get("bytes_memlock", 0)
    return sizes


class RunTimeStats:
    """Keeps BPF run-time statistics enabled while the context is open.

    Statistics stay on while the fd that BPF_ENABLE_STATS returns is open,
    so they end with this process even if it crashes, unlike the
    kernel.bpf_stats_enabled sysctl.
    """

    def __enter__(self):
        libc = ctypes.CDLL(None, use_errno=True)
        attr = (ctypes.c_uint32 * 4)(BPF_STATS_RUN_TIME, 0, 0, 0)
        self.fd = libc.syscall(SYS_BPF, BPF_ENABLE_STATS, attr, ctypes.sizeof(attr))
        if self.fd < 0:
            err = ctypes.get_errno()
            raise OSError(err, f"failed to enable BPF run-time statistics: {os.strerror(err)}")
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def parse_textfile(path):
    """Return the samples of a Prometheus textfile as (name, labels, value)."""
    samples = []
    with open(path) as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            match = SAMPLE_RE.match(line.strip())
            if not match:
                raise ValueError(f"{path}: unparsable sample line: {line.strip()!r}")
            name, labels, value = match.groups()
            samples.append((name, dict(LABEL_RE.findall(labels or "")), float(value)))
    return samples


def sum_samples(samples, name, **labels):
    """Sum the values of metric name over the samples whose labels match."""
    return sum(value for n, sample_labels, value in samples if n == name and
               all(sample_labels.get(k) == v for k, v in labels.items()))


def session_ids_of(samples, agent_pid):
    """Return the session ids whose ccapm_session_info pid is agent_pid."""
    return {labels["session_id"] for name, labels, _ in samples
            if name == "ccapm_session_info" and labels.get("pid") == str(agent_pid)}


def median(values):
    return statistics.median(values) if values else float("nan")


def spread(values):
    """Return (max - min) / median of values, a rough noise figure."""
    if len(values) < 2:
        return float("nan")
    return (max(values) - min(values)) / statistics.median(values)
