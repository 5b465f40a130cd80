# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Runs the benchmark's smoke configuration (`make bench-smoke`) once.

Checks that the run completes, prints its ratio and target lines and
writes its JSON results, and that its counts add up. Times and ratios are
never asserted, because they depend on the machine and on what else runs
on it.
"""

import json
import os
import re
import subprocess
import tempfile
import unittest

import harness

# The grid workloads of the smoke configuration (SMOKE in bench/run.py).
SMOKE_WORKLOADS = ("file-write", "build")
MODES = ("untracked", "tracked")
RUN_TIMEOUT_S = 900
NUMBER = r"-?\d+\.\d+"


class BenchSmokeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        harness.require_integration_environment()
        cls.tmp = tempfile.TemporaryDirectory(prefix="ccapm-bench-test-")
        cls.json_path = os.path.join(cls.tmp.name, "results.json")
        cls.bench = subprocess.run(
            ["make", "--no-print-directory", "bench-smoke", f"BENCH_ARGS=--json {cls.json_path}"],
            cwd=harness.REPO, capture_output=True, text=True, timeout=RUN_TIMEOUT_S)
        cls.results = None
        if os.path.exists(cls.json_path):
            with open(cls.json_path) as f:
                cls.results = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_smoke_run_exits_zero(self):
        self.assertEqual(self.bench.returncode, 0,
                         f"make bench-smoke failed:\n{self.bench.stderr[-3000:]}")

    def test_prints_ratio_line_per_workload(self):
        for workload in SMOKE_WORKLOADS:
            for mode in MODES:
                with self.subTest(workload=workload, mode=mode):
                    self.assertRegex(
                        self.bench.stdout,
                        rf"(?m)^ratio {workload} {mode}: ccapm {NUMBER}x none, "
                        rf"floor {NUMBER}x none, ccapm overhead ")

    def test_prints_target_summary(self):
        self.assertRegex(self.bench.stdout, r"(?m)^target ready in <= 1 s: ")
        self.assertRegex(self.bench.stdout,
                         r"(?m)^targets: \d+ held, \d+ missed, \d+ not measured$")

    def test_writes_every_phase_result(self):
        self.assertIsNotNone(self.results, f"{self.json_path} not written")
        for phase in ("grid", "profile", "wakeup", "storm", "small_ring", "steady", "scale"):
            with self.subTest(phase=phase):
                self.assertTrue(self.results.get(phase), f"no {phase} results")

    def test_small_ring_accounts_every_action(self):
        self.assertIsNotNone(self.results, f"{self.json_path} not written")
        for row in self.results["small_ring"]:
            with self.subTest(workload=row["workload"]):
                actions = sum(row["expected"].values())
                counted = sum(row["counted"].values())
                self.assertGreaterEqual(counted + row["lost"], actions,
                                        f"{counted} counted + {row['lost']} lost")

    def test_tracked_counts_match_workload(self):
        self.assertIsNotNone(self.results, f"{self.json_path} not written")
        checked = 0
        for record in self.results["grid"]:
            if record["config"] != "ccapm" or not record["expected"] or record["lost"]:
                continue
            with self.subTest(workload=record["workload"], rep=record["rep"]):
                for key, value in record["expected"].items():
                    self.assertEqual(record["counted"][key], value, key)
            checked += 1
        self.assertGreater(checked, 0, "no tracked ccapm-trace run with known counts")


if __name__ == "__main__":
    unittest.main()
