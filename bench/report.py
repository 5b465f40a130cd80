# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Tables, ratio lines and target checks printed from the phases' results.

Ratios are medians of per-repetition ratios: each repetition runs every
configuration back to back, so a time is divided by the no-tracer time of
its own repetition and slow drift of the machine cancels. Overhead is
ratio - 1.
"""

import math

import measure

MIB = 1024.0
# Below this many events, CPU time in 10 ms clock ticks is too coarse to report per event.
MIN_EVENTS_PER_1K = 1000
# The targets of the benchmark page (docs/benchmarks.md).
FLOOR_MULTIPLE_MAX = 1.10
BUILD_UNTRACKED_MAX = 1.02
BUILD_TRACKED_MAX = 1.05
BPFTRACE_SHARE_MAX = 0.5
STEADY_CPU_PERCENT_MAX = 1.0
PEAK_RSS_MIB_MAX = 16.0
READY_S_MAX = 1.0


def fmt(value, spec=".3f", missing="-"):
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, spec)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def summarize_grid(records):
    """Return {(workload, mode): {config: stats}} with per-config medians and ratios."""
    groups = {}
    for r in records:
        groups.setdefault((r["workload"], r["mode"]), []).append(r)
    summary = {}
    for key, runs in groups.items():
        none_by_rep = {r["rep"]: r["seconds"] for r in runs if r["config"] == "none"}
        configs = {}
        for r in runs:
            configs.setdefault(r["config"], []).append(r)
        stats = {}
        for config, rs in configs.items():
            ratios = [r["seconds"] / none_by_rep[r["rep"]] for r in rs if r["rep"] in none_by_rep]
            cpu = [r["cpu_s"] for r in rs if r["cpu_s"] is not None]
            events = [r["events"] for r in rs if r["events"] is not None]
            stats[config] = {
                "median_s": measure.median([r["seconds"] for r in rs]),
                "spread": measure.spread([r["seconds"] for r in rs]),
                "ratio": measure.median(ratios),
                "cpu_ms": 1000 * measure.median(cpu) if cpu else None,
                "cpu_ms_per_1k": (1e6 * sum(cpu) / sum(events)
                                  if cpu and sum(events) >= MIN_EVENTS_PER_1K else None),
                "events": measure.median(events) if events else None,
                "peak_rss_mib": max((r["peak_rss_kib"] for r in rs if r["peak_rss_kib"]),
                                    default=0) / MIB or None,
                "ready_ms": (1000 * measure.median([r["ready_s"] for r in rs])
                             if rs[0]["ready_s"] is not None else None),
                "lost": max((r["lost"] for r in rs if r["lost"] is not None), default=None),
                "counted": rs[-1]["counted"], "expected": rs[-1]["expected"],
                "runs": len(rs),
                "noisy_runs": sum(1 for r in rs if r.get("foreign_progs") or
                                  r.get("idle", 1.0) < measure.QUIET_IDLE),
            }
        for config, s in stats.items():
            s["overhead"] = s["ratio"] - 1
        floor = stats.get("floor", {}).get("overhead")
        bpftrace = stats.get("bpftrace", {}).get("overhead")
        for config, s in stats.items():
            compared = config != "none"
            s["x_floor"] = s["overhead"] / floor if compared and floor and floor > 0 else None
            s["x_bpftrace"] = (s["overhead"] / bpftrace
                               if compared and bpftrace and bpftrace > 0 else None)
        summary[key] = stats
    return summary


def counts_check(stats):
    """Describe whether ccapm-trace counted what the tracked workload did."""
    if not stats.get("expected") or stats.get("counted") is None:
        return "-"
    counted, expected = stats["counted"], stats["expected"]
    wrong = [f"{k} {counted.get(k, 0)}/{v}" for k, v in expected.items() if counted.get(k) != v]
    return "exact" if not wrong else "off: " + ", ".join(wrong)


def print_grid(summary, configs):
    header = ["config", "median s", "spread", "x none", "overhead", "x floor's", "x bpftrace's",
              "CPU ms", "CPU ms/1k ev", "events", "peak RSS MiB", "ready ms", "lost", "counts"]
    for (workload, mode), stats in summary.items():
        rows = []
        for config in configs:
            s = stats.get(config)
            if not s:
                continue
            rows.append([config, fmt(s["median_s"]), fmt(s["spread"], ".1%"),
                         fmt(s["ratio"], ".4f"), fmt(s["overhead"], "+.2%"),
                         fmt(s["x_floor"], ".2f"), fmt(s["x_bpftrace"], ".2f"),
                         fmt(s["cpu_ms"], ".0f"), fmt(s["cpu_ms_per_1k"], ".2f"),
                         fmt(s["events"], ".0f"), fmt(s["peak_rss_mib"], ".1f"),
                         fmt(s["ready_ms"], ".0f"), fmt(s["lost"], "d"),
                         counts_check(s) if config == "ccapm" else "-"])
        print(f"\n### {workload}, {mode}\n")
        print(table(header, rows))
        runs = sum(s["runs"] for s in stats.values())
        noisy = sum(s["noisy_runs"] for s in stats.values())
        if noisy:
            print(f"\nNOTE: {noisy} of {runs} runs began with tracing programs of other "
                  f"processes attached or less than {measure.QUIET_IDLE:.0%} of the CPUs "
                  "idle.")
    print()
    for (workload, mode), stats in summary.items():
        print(ratio_line(workload, mode, stats))


def ratio_line(workload, mode, stats):
    """Format the ratio line of one workload and mode, which the smoke test looks for."""
    ccapm = stats.get("ccapm", {})
    parts = [f"ratio {workload} {mode}: ccapm {fmt(ccapm.get('ratio'), '.4f')}x none"]
    if "floor" in stats:
        parts.append(f"floor {fmt(stats['floor']['ratio'], '.4f')}x none")
        parts.append(f"ccapm overhead {fmt(ccapm.get('x_floor'), '.2f')}x floor's")
    if "bpftrace" in stats:
        parts.append(f"{fmt(ccapm.get('x_bpftrace'), '.2f')}x bpftrace's")
    return ", ".join(parts)


def profile_summary(rows):
    """Return {(workload, mode): {config: {prog: (count, avg_ns)}, config_total: ns/iter}}."""
    out = {}
    for r in rows:
        entry = out.setdefault((r["workload"], r["mode"]), {})
        progs = {name: (cnt, ns / cnt if cnt else 0.0) for name, (cnt, ns) in r["progs"].items()}
        total_ns = sum(ns for _, ns in r["progs"].values())
        # A build has no iterations: its figure is per build.
        entry[r["config"]] = {"progs": progs,
                              "ns_per_iteration": total_ns / (r["iterations"] or 1)}
    return out


def print_profile(rows):
    summary = profile_summary(rows)
    header = ["workload", "mode", "program", "floor runs", "floor ns/run", "ccapm runs",
              "ccapm ns/run", "ccapm / floor"]
    lines = []
    # Per program only for the floor and ccapm-trace, whose programs have the same names.
    for (workload, mode), entry in summary.items():
        floor = entry.get("floor", {}).get("progs", {})
        ccapm = entry.get("ccapm", {}).get("progs", {})
        for prog in sorted(set(floor) | set(ccapm)):
            f_cnt, f_ns = floor.get(prog, (0, 0.0))
            c_cnt, c_ns = ccapm.get(prog, (0, 0.0))
            f_total, c_total = f_cnt * f_ns, c_cnt * c_ns
            lines.append([workload, mode, prog, f_cnt, fmt(f_ns, ".1f"), c_cnt, fmt(c_ns, ".1f"),
                          fmt(c_total / f_total if f_total else None, ".2f")])
    print(table(header, lines))

    print("\nBPF time per workload iteration, all programs of each configuration. "
          "ccapm stopped: ccapm-trace stopped during the workload, so no consumer:\n")
    header = ["workload", "mode", "floor ns", "ccapm ns", "ccapm stopped ns", "bpftrace ns",
              "ccapm / floor", "ccapm / bpftrace"]
    lines = []
    for (workload, mode), entry in summary.items():
        per_iteration = {c: entry.get(c, {}).get("ns_per_iteration")
                         for c in ("floor", "ccapm", "ccapm-stopped", "bpftrace")}
        f_iter, c_iter, s_iter, b_iter = per_iteration.values()
        lines.append([workload, mode, fmt(f_iter, ".0f"), fmt(c_iter, ".0f"), fmt(s_iter, ".0f"),
                      fmt(b_iter, ".0f"),
                      fmt(c_iter / f_iter if c_iter and f_iter else None, ".2f"),
                      fmt(c_iter / b_iter if c_iter and b_iter else None, ".2f")])
    print(table(header, lines))
    return summary


def print_storm(rows):
    header = ["loops", "config", "execs", "seconds", "execs/s", "lost", "commands counted"]
    out = []
    for r in rows:
        counted = r["counted"]["commands"] if r["counted"] else "-"
        out.append([r["loops"], r["config"], r["iterations"], fmt(r["seconds"]),
                    fmt(r["rate_per_s"], ".0f"), fmt(r["lost"], "d"), counted])
    print(table(header, out))
    tracked = [r for r in rows if r["config"] == "ccapm"]
    best = max(tracked, key=lambda r: r["rate_per_s"]) if tracked else None
    if best:
        print(f"\nmax exec rate under ccapm-trace: {best['rate_per_s']:.0f} execs/s with "
              f"{best['loops']} loops, ccapm_events_lost_total {best['lost']}")
    return best


def accounted(r):
    """Return whether every action is either counted or in ccapm_events_lost_total,
    with the number of actions and of counted events."""
    performed = sum(r["expected"].values())
    counted = sum(r["counted"].values()) if r["counted"] else 0
    return counted + (r["lost"] or 0) >= performed, performed, counted


def print_small_ring(rows):
    header = ["workload", "ring bytes", "actions", "counted", "lost (exported)",
              "counted + lost >= actions"]
    out = []
    for r in rows:
        ok, performed, counted = accounted(r)
        out.append([r["workload"], r["ring_bytes"], performed, counted, fmt(r["lost"], "d"),
                    "yes" if ok else "NO"])
    print(table(header, out))


def print_steady(rows):
    header = ["workload", "rate/s", "seconds", "events counted", "tracer CPU s",
              "tracer CPU % of a core", "lost"]
    out = []
    for r in rows:
        counted = sum(r["counted"].values()) if r["counted"] else "-"
        out.append([r["workload"], r["rate_per_s"], fmt(r["seconds"], ".1f"), counted,
                    fmt(r["cpu_s"], ".2f"), fmt(r["cpu_percent"], ".2f"), fmt(r["lost"], "d")])
    print(table(header, out))


def print_wakeup(rows):
    header = ["mode", "execs/s", "records", "BPF ns per run", "consumer CPU us per record"]
    out = [[r["mode"], r["rate_per_s"], fmt(r["records"], "d"), fmt(r["bpf_ns_per_run"], ".0f"),
            fmt(r["consumer_us_per_record"], ".2f")] for r in rows]
    print(table(header, out))


def print_scale(rows):
    """Print one row per scale step. Write times are wall times of write_metrics()."""
    header = ["sessions", "processes", "spawn s", "rewrites", "write ms median",
              "write ms max", "CPU ms per rewrite", "idle CPU %", "RSS MiB", "peak RSS MiB",
              "BPF maps MiB", "textfile KiB", "sessions in file", "processes untracked",
              "sessions untracked", "lost"]
    out = []
    for r in rows:
        out.append([r["sessions"], r["processes"], fmt(r["spawn_s"], ".1f"), r["rewrites"],
                    fmt(r["write_ms_median"], ".2f"), fmt(r["write_ms_max"], ".2f"),
                    fmt(r["cpu_ms_per_rewrite"], ".2f"), fmt(r["idle_cpu_percent"], ".2f"),
                    fmt(r["rss_kib"] / MIB, ".1f"),
                    fmt(r["peak_rss_kib"] / MIB, ".1f"), fmt(r["map_bytes"] / MIB / MIB, ".1f"),
                    fmt(r["textfile_bytes"] / 1024, ".1f"), r["sessions_in_textfile"],
                    r["processes_untracked"], fmt(r["sessions_untracked"], "d"), r["lost"]])
    print(table(header, out))
    names = {r["session_limit_metric"] for r in rows if r.get("session_limit_metric")}
    if names:
        print(f"\nsessions untracked: {', '.join(sorted(names))}")


def target(description, held, measured):
    """Print one target line and return whether it held (None: not measured)."""
    verdict = {True: "held", False: "MISSED", None: "not measured"}[held]
    print(f"target {description}: {verdict} ({measured})")
    return held


def ccapm_runs(*groups):
    return [r for rows in groups for r in rows if r.get("config") == "ccapm"]


def overhead_targets(grid, profile):
    """Check the overhead targets against the floor, the no-tracer build and bpftrace."""
    results = []
    for workload in ("file-write", "file-read"):
        s = grid.get((workload, "untracked"), {})
        if "ccapm" not in s or "floor" not in s:
            continue
        c, f = s["ccapm"]["overhead"], s["floor"]["overhead"]
        bpf = profile.get((workload, "untracked"), {})
        c_ns = bpf.get("ccapm", {}).get("ns_per_iteration")
        f_ns = bpf.get("floor", {}).get("ns_per_iteration")
        in_kernel = (f"; in-kernel BPF time {fmt(c_ns, '.0f')} vs {fmt(f_ns, '.0f')} "
                     f"ns per iteration" if c_ns and f_ns else "")
        results.append(target(
            f"{workload} untracked: ccapm overhead <= {FLOOR_MULTIPLE_MAX}x floor's",
            c <= FLOOR_MULTIPLE_MAX * f if f > 0 else None,
            f"ccapm {c:+.2%}, floor {f:+.2%}{in_kernel}"))

    build_limits = {"untracked": BUILD_UNTRACKED_MAX, "tracked": BUILD_TRACKED_MAX}
    for mode, limit in build_limits.items():
        s = grid.get(("build", mode), {}).get("ccapm")
        if s:
            results.append(target(f"build {mode}: ccapm <= {limit}x no tracer",
                                  s["ratio"] <= limit, f"{s['ratio']:.4f}x"))

    for (workload, mode), s in grid.items():
        if "ccapm" in s and "bpftrace" in s:
            c, b = s["ccapm"]["overhead"], s["bpftrace"]["overhead"]
            held = c <= BPFTRACE_SHARE_MAX * b if b > 0 else None
            bpf = profile.get((workload, mode), {})
            c_ns = bpf.get("ccapm", {}).get("ns_per_iteration")
            b_ns = bpf.get("bpftrace", {}).get("ns_per_iteration")
            in_kernel = (f"; in-kernel BPF time {fmt(c_ns, '.0f')} vs {fmt(b_ns, '.0f')} "
                         f"ns per iteration" if c_ns and b_ns else "")
            results.append(target(f"{workload} {mode}: ccapm overhead <= half of bpftrace's",
                                  held, f"ccapm {c:+.2%}, bpftrace {b:+.2%}{in_kernel}"))
    return results


def loss_targets(storm_best, small_ring):
    """Check zero losses at the max exec rate and exported losses with a small ring."""
    results = []
    if storm_best:
        results.append(target("zero lost events at the max exec rate",
                              storm_best["lost"] == 0,
                              f"{storm_best['rate_per_s']:.0f} execs/s, lost "
                              f"{storm_best['lost']}"))
    if small_ring:
        checks = [(r["workload"], r["lost"] or 0) + accounted(r) for r in small_ring]
        results.append(target(
            "small ring buffer: losses happen, and every action is counted or exported as lost",
            any(lost > 0 for _, lost, *_ in checks) and all(ok for _, _, ok, _, _ in checks),
            "; ".join(f"{w}: {lost} lost, {counted} counted of {performed}"
                      for w, lost, _, performed, counted in checks)))
    return results


def resource_targets(steady, all_ccapm_runs):
    """Check tracer CPU at a steady rate, peak RSS and the time to ready."""
    results = []
    for r in steady:
        results.append(target(f"{r['workload']} at {r['rate_per_s']}/s: tracer CPU <= "
                              f"{STEADY_CPU_PERCENT_MAX}% of a core",
                              r["cpu_percent"] <= STEADY_CPU_PERCENT_MAX,
                              f"{r['cpu_percent']:.2f}%"))

    rss = [r["peak_rss_kib"] / MIB for r in all_ccapm_runs if r.get("peak_rss_kib")]
    if rss:
        results.append(target(f"peak RSS <= {PEAK_RSS_MIB_MAX:.0f} MiB",
                              max(rss) <= PEAK_RSS_MIB_MAX,
                              f"max {max(rss):.1f} MiB over {len(rss)} ccapm-trace runs"))

    ready = [r["ready_s"] for r in all_ccapm_runs if r.get("ready_s") is not None]
    if ready:
        results.append(target(f"ready in <= {READY_S_MAX:.0f} s", max(ready) <= READY_S_MAX,
                              f"median {1000 * measure.median(ready):.0f} ms, max "
                              f"{1000 * max(ready):.0f} ms over {len(ready)} runs"))
    return results


def print_targets(grid, profile, storm_best, small_ring, steady, all_ccapm_runs):
    """Print one line per target and a summary line with the counts."""
    results = (overhead_targets(grid, profile) + loss_targets(storm_best, small_ring) +
               resource_targets(steady, all_ccapm_runs))
    held = sum(1 for r in results if r is True)
    missed = sum(1 for r in results if r is False)
    print(f"\ntargets: {held} held, {missed} missed, "
          f"{len(results) - held - missed} not measured")
