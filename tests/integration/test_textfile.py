# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The textfile itself: ready within 2 s, well-formed, atomic, and promtool-clean."""

import os
import shutil
import signal
import subprocess
import threading
import time

from harness import TEXTFILE_NAME, FormatError, Metrics, TracerTestCase, new_uuid

FAMILIES = {
    "ccapm_commands_total": "counter",
    "ccapm_file_ops_total": "counter",
    "ccapm_network_connects_total": "counter",
    "ccapm_commands_per_minute": "gauge",
    "ccapm_file_ops_per_minute": "gauge",
    "ccapm_network_connects_per_minute": "gauge",
    "ccapm_actions_per_minute": "gauge",
    "ccapm_session_info": "gauge",
    "ccapm_sessions_active": "gauge",
    "ccapm_events_lost_total": "counter",
}


def promtool_check(text):
    """Run promtool check metrics on text and return the CompletedProcess."""
    return subprocess.run(
        ["promtool", "check", "metrics"], input=text, capture_output=True, text=True, timeout=30
    )


class TextfileTests(TracerTestCase):
    shared_tracer = False

    def test_ready_within_2s_without_sessions(self):
        # start_tracer() asserts the 2 s limit itself.
        tracer = self.start_tracer(interval_s=1)
        metrics = tracer.read()
        for name, kind in FAMILIES.items():
            with self.subTest(family=name):
                self.assertEqual(metrics.types.get(name), kind)
                self.assertTrue(metrics.help.get(name), f"HELP text of {name}")
        self.assertIsNotNone(metrics.get("ccapm_sessions_active"))
        self.assertIsNotNone(metrics.get("ccapm_events_lost_total"))

    def test_created_textfile_dir(self):
        parent = self.sandbox.root / "textfile"
        tracer = self.start_tracer(interval_s=1, textfile_dir=parent / "a" / "b")
        self.assertTrue(tracer.path.is_file())

    def test_promtool_check_metrics_clean(self):
        if not shutil.which("promtool"):
            self.fail("promtool not found: install the prometheus package "
                      "(scripts/install-packages test)")
        tracer = self.start_tracer(interval_s=1)
        self.assertEqual(promtool_check(tracer.path.read_text()).returncode, 0)
        listeners = self.sandbox.listen()
        ids = [new_uuid(), new_uuid()]
        for session_id in ids:
            self.run_workload(
                [
                    f"transcript={session_id}",
                    "exec=/bin/true",
                    f"creat={self.sandbox.work / session_id}",
                    f"connect=ipv6,::1,{listeners.ipv6_port}",
                ]
            )
        go = self.sandbox.fifo("go")
        ready = self.sandbox.fifo("ready")
        unlabelled = self.sandbox.start(self.claude, ["exec=/bin/true", f"signal={ready}", f"wait={go}"])
        ready.wait(processes=[unlabelled])
        metrics = self.settle([*ids, f"pid-{unlabelled.pid}"])
        self.assertEqual(self.sandbox.sessions(metrics), {*ids, f"pid-{unlabelled.pid}"})
        result = promtool_check(metrics.text)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertEqual(result.stdout + result.stderr, "", "promtool lint findings")
        go.release()
        self.finish(unlabelled)

    def test_cwd_label_escaped(self):
        tracer = self.start_tracer(interval_s=1)
        odd_dir = self.sandbox.work / 'quote " backslash \\ newline \n end'
        odd_dir.mkdir()
        session_id = new_uuid()
        self.run_workload([f"transcript={session_id}", "exec=/bin/true"], cwd=odd_dir)
        metrics = self.settle([session_id])
        self.assertEqual(metrics.session_info()[session_id]["cwd"], str(odd_dir))
        self.assertCounts(metrics, session_id, commands=1)
        if shutil.which("promtool"):
            result = promtool_check(tracer.path.read_text())
            self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_invalid_utf8_cwd_replaced(self):
        """The text format must be UTF-8, and a log line must stay one line."""
        tracer = self.start_tracer(interval_s=1, args=["-v"])
        odd_dir = self.sandbox.work / os.fsdecode(b"bad \xff\xfe newline \n end")
        odd_dir.mkdir()
        session_id = new_uuid()
        self.run_workload([f"transcript={session_id}", "exec=/bin/true"], cwd=odd_dir)
        metrics = self.settle([session_id])
        expected_cwd = f"{self.sandbox.work}/bad \ufffd\ufffd newline \n end"
        self.assertEqual(metrics.session_info()[session_id]["cwd"], expected_cwd)
        self.assertCounts(metrics, session_id, commands=1)
        result = promtool_check(tracer.path.read_text())
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        logged = f"cwd {self.sandbox.work}/bad \\xff\\xfe newline \\x0a end, id"
        self.assertIn(logged, tracer.stderr())

    def test_file_replaced_atomically(self):
        """Every read returns a whole file while sessions keep changing it."""
        tracer = self.start_tracer(interval_s=1)
        stop = threading.Event()
        reads = []
        errors = []
        inodes = set()

        def read_loop():
            while not stop.is_set():
                try:
                    with open(tracer.path) as f:
                        inodes.add(os.fstat(f.fileno()).st_ino)
                        text = f.read()
                    metrics = Metrics(text)
                except (OSError, FormatError) as e:
                    errors.append(repr(e))
                    continue
                reads.append(metrics)
                if "ccapm_events_lost_total" not in metrics.types:
                    errors.append("a read lacks the last family:\n" + text)

        reader = threading.Thread(target=read_loop)
        reader.start()
        try:
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                self.run_workload(
                    [f"transcript={new_uuid()}", f"threads=4,10,{self.sandbox.work}"]
                )
        finally:
            stop.set()
            reader.join()
        self.assertEqual(errors, [])
        self.assertGreater(len(reads), 20)
        self.assertGreaterEqual(len(inodes), 3, "each write must replace the file")
        leftovers = sorted(set(os.listdir(tracer.textfile_dir)) - {TEXTFILE_NAME})
        self.assertTrue(all(name.startswith(".") for name in leftovers), leftovers)

    def test_counts_with_tracefs_hidden(self):
        """The tracer needs no tracefs: hide it in a private mount namespace."""
        hide = "; ".join(
            f"mount -t tmpfs tmpfs {path}"
            for path in ("/sys/kernel/tracing", "/sys/kernel/debug")
            if os.path.isdir(path)
        )
        wrapper = ["unshare", "--mount", "--propagation", "private", "--",
                   "sh", "-c", f"{hide} && exec \"$@\"", "sh"]
        tracer = self.start_tracer(interval_s=1, wrapper=wrapper, args=["-v"])
        session_id, _, metrics = self.run_session(
            ["exec=/bin/true", f"mkdir={self.sandbox.work / 'a'}"]
        )
        self.assertCounts(metrics, session_id, commands=1, mkdir=1)
        self.assertIn("tracefs", tracer.stderr(), "-v must say whether tracefs is used")


class EventsLostTests(TracerTestCase):
    """A ring buffer too small for a burst counts what it drops."""

    tracer_options = {"interval_s": 1, "args": ["--ringbuf-bytes", "4096"]}

    def test_dropped_events_counted(self):
        threads, files_per_thread = 8, 200
        performed = threads * files_per_thread
        session_id = new_uuid()
        # A stopped reader drains nothing, so the burst must overflow 4 KiB.
        # The session's first events still fit, so its writes are attributed.
        self.tracer.process.send_signal(signal.SIGSTOP)
        try:
            self.run_workload(
                [f"transcript={session_id}",
                 f"threads={threads},{files_per_thread},{self.sandbox.work}"]
            )
        finally:
            self.tracer.process.send_signal(signal.SIGCONT)
        metrics = self.settle([session_id])
        counted = metrics.counts(session_id)["write"]
        lost = metrics.get("ccapm_events_lost_total")
        self.assertGreater(lost, 0, "a 4 KiB ring buffer cannot hold the burst")
        self.assertLessEqual(counted, performed)
        # Events of other sessions on the machine may be lost too, hence >=.
        self.assertGreaterEqual(counted + lost, performed)
