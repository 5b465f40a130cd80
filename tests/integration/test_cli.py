# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Command-line errors, start-up failures and stopping by signal."""

import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import unittest
from pathlib import Path

from harness import TEXTFILE_NAME, TRACER, TracerTestCase, new_uuid, require_integration_environment

HELP_HINT = "Try 'ccapm-trace --help'."
# Failures before tracing starts must be quick: no BPF load, no waiting.
EARLY_EXIT_TIMEOUT_S = 10


def run_tracer(args, wrapper=(), timeout_s=EARLY_EXIT_TIMEOUT_S):
    """Run the tracer to completion and return the CompletedProcess."""
    return subprocess.run(
        [*wrapper, str(TRACER), *args],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout_s,
    )


class OptionErrorTests(unittest.TestCase):
    """Invalid command lines exit 2 with one error line naming the value."""

    @classmethod
    def setUpClass(cls):
        # Option parsing needs no privileges, so these tests run as any user.
        if not TRACER.exists():
            raise AssertionError(f"{TRACER} not found: run make first")

    def setUp(self):
        self.textfile_dir = tempfile.mkdtemp(prefix="ccapm-cli-")
        self.addCleanup(shutil.rmtree, self.textfile_dir, ignore_errors=True)

    def assert_usage_error(self, args, *expected_words):
        result = run_tracer(["--textfile-dir", self.textfile_dir, *args])
        self.assertEqual(result.returncode, 2, f"exit status for {args}: {result.stderr}")
        lines = result.stderr.splitlines()
        self.assertTrue(lines, f"no error message for {args}")
        # The error is one line. The only other line allowed is the --help hint.
        self.assertIn(lines[1:], ([], [HELP_HINT]), f"stderr for {args}")
        for word in expected_words:
            self.assertIn(word, lines[0], f"error line for {args}")
        self.assertEqual(result.stdout, "", f"stdout for {args}")
        self.assertFalse(os.listdir(self.textfile_dir), f"a file was written for {args}")

    def test_invalid_interval_values(self):
        for value in ["0", "abc", "3601", "5x", "", "-1", "1.5", " 5", "99999999999999999999"]:
            with self.subTest(value=value):
                self.assert_usage_error(["--interval", value], "--interval", f"'{value}'")

    def test_invalid_retention_values(self):
        for value in ["abc", "-1", "604801", "10s", "", "1e3"]:
            with self.subTest(value=value):
                self.assert_usage_error(["--retention", value], "--retention", f"'{value}'")

    def test_equals_form_checked_too(self):
        self.assert_usage_error(["--interval=0"], "--interval", "'0'")

    def test_missing_option_value(self):
        for option in ["--interval", "--retention", "--textfile-dir"]:
            with self.subTest(option=option):
                result = run_tracer([option])
                self.assertEqual(result.returncode, 2, result.stderr)
                self.assertIn(option, result.stderr.splitlines()[0])

    def test_unknown_option(self):
        self.assert_usage_error(["--bogus"], "--bogus")

    def test_unexpected_argument(self):
        self.assert_usage_error(["stray"], "stray")

    def test_help_and_version(self):
        for option in ["-h", "--help"]:
            with self.subTest(option=option):
                result = run_tracer([option])
                self.assertEqual(result.returncode, 0)
                self.assertIn("--textfile-dir", result.stdout)
        for option in ["-V", "--version"]:
            with self.subTest(option=option):
                result = run_tracer([option])
                self.assertEqual(result.returncode, 0)
                self.assertRegex(result.stdout, r"^ccapm-trace \d+\.\d+\.\d+")


class StartFailureTests(unittest.TestCase):
    """Start-up failures exit non-zero with one clear line and load no BPF first."""

    @classmethod
    def setUpClass(cls):
        require_integration_environment()

    def setUp(self):
        self.root = Path(tempfile.mkdtemp(prefix="ccapm-cli-"))
        os.chmod(self.root, 0o755)
        self.addCleanup(shutil.rmtree, self.root, ignore_errors=True)

    def assert_start_error(self, result, *expected_words):
        self.assertEqual(result.returncode, 1, f"exit status: {result.stderr}")
        lines = result.stderr.splitlines()
        self.assertEqual(len(lines), 1, f"expected one error line: {result.stderr!r}")
        for word in expected_words:
            self.assertIn(word, lines[0])

    def run_without_bpf(self, args, wrapper=()):
        """Run the tracer under strace and assert it made no bpf() call."""
        if not shutil.which("strace"):
            self.skipTest("strace not found: install it (scripts/install-packages test)")
        log = self.root / "strace.log"
        result = run_tracer(
            args, wrapper=[*wrapper, "strace", "-f", "-qq", "-e", "trace=bpf", "-o", str(log)]
        )
        calls = log.read_text() if log.exists() else ""
        self.assertNotIn("bpf(", calls, "the directory must be checked before BPF loads")
        return result

    def test_textfile_dir_is_a_file(self):
        path = self.root / "file"
        path.write_text("")
        result = self.run_without_bpf(["--textfile-dir", str(path)])
        self.assert_start_error(result, str(path), "not a directory")

    def test_textfile_is_a_directory(self):
        (self.root / "ccapm.prom").mkdir()
        result = self.run_without_bpf(["--textfile-dir", str(self.root)])
        self.assert_start_error(result, str(self.root / "ccapm.prom"), "is a directory")

    def test_textfile_dir_under_a_file(self):
        path = self.root / "file"
        path.write_text("")
        result = self.run_without_bpf(["--textfile-dir", str(path / "sub")])
        self.assert_start_error(result, str(path / "sub"), "Not a directory")

    def test_textfile_dir_not_writable(self):
        # Root ignores permission bits, so a read-only mount makes the directory unwritable.
        target = self.root / "read-only"
        target.mkdir()
        wrapper = ["unshare", "--mount", "--propagation", "private", "--",
                   "sh", "-c", f"mount -t tmpfs -o ro tmpfs '{target}' && exec \"$@\"", "sh"]
        result = self.run_without_bpf(["--textfile-dir", str(target)], wrapper)
        self.assert_start_error(result, str(target), "not writable")

    def test_textfile_dir_cannot_be_created(self):
        target = self.root / "read-only"
        target.mkdir()
        missing = target / "new"
        wrapper = ["unshare", "--mount", "--propagation", "private", "--",
                   "sh", "-c", f"mount -t tmpfs -o ro tmpfs '{target}' && exec \"$@\"", "sh"]
        result = self.run_without_bpf(["--textfile-dir", str(missing)], wrapper)
        self.assert_start_error(result, str(missing))

    def test_unprivileged_user(self):
        nobody = pwd.getpwnam("nobody")
        textfile_dir = self.root / "out"
        textfile_dir.mkdir()
        os.chown(textfile_dir, nobody.pw_uid, nobody.pw_gid)
        wrapper = ["setpriv", f"--reuid={nobody.pw_uid}", f"--regid={nobody.pw_gid}",
                   "--clear-groups", "--"]
        result = run_tracer(["--textfile-dir", str(textfile_dir)], wrapper)
        self.assert_start_error(result, "root", "CAP_BPF")

    def test_root_without_bpf_capabilities(self):
        dropped = "-bpf,-perfmon,-sys_admin"
        wrapper = ["setpriv", f"--bounding-set={dropped}", f"--inh-caps={dropped}", "--"]
        result = run_tracer(["--textfile-dir", str(self.root / "out")], wrapper)
        self.assert_start_error(result, "CAP_BPF")

    def test_no_kernel_btf(self):
        release = os.uname().release
        for fallback in (f"/boot/vmlinux-{release}", f"/lib/modules/{release}/vmlinux-{release}",
                         f"/lib/modules/{release}/build/vmlinux"):
            if os.path.exists(fallback):
                self.skipTest(f"libbpf would fall back to {fallback}, so BTF cannot be hidden")
        wrapper = ["unshare", "--mount", "--propagation", "private", "--",
                   "sh", "-c", "mount -t tmpfs tmpfs /sys/kernel/btf && exec \"$@\"", "sh"]
        result = run_tracer(["--textfile-dir", str(self.root / "out")], wrapper)
        self.assert_start_error(result, "BTF")


class SignalTests(TracerTestCase):
    """SIGINT, SIGTERM and SIGHUP write a final file and exit 0 within 2 s."""

    shared_tracer = False

    def check_stop(self, sig):
        # A long interval, so only the signal can write the agent's counts.
        tracer = self.start_tracer(interval_s=3600)
        session_id = new_uuid()
        self.run_workload([f"transcript={session_id}", f"mkdir={self.sandbox.work / 'a'}",
                           "exec=/bin/true"])
        self.assertNotIn(session_id, tracer.read().session_ids(), "written before the signal")
        code, took_s = tracer.stop(sig)
        self.assertEqual(code, 0, tracer.stderr())
        self.assertLess(took_s, 2.0)
        metrics = tracer.read()
        self.assertCounts(metrics, session_id, commands=1, mkdir=1)
        self.assertEqual(os.listdir(tracer.textfile_dir), [TEXTFILE_NAME], "files left behind")

    def test_sigint_writes_final_file(self):
        self.check_stop(signal.SIGINT)

    def test_sigterm_writes_final_file(self):
        self.check_stop(signal.SIGTERM)

    def test_sighup_writes_final_file(self):
        self.check_stop(signal.SIGHUP)

    def test_stops_while_agent_runs(self):
        tracer = self.start_tracer(interval_s=1)
        go = self.sandbox.fifo("go")
        ready = self.sandbox.fifo("ready")
        agent = self.sandbox.start(self.claude, [f"signal={ready}", f"wait={go}"])
        ready.wait(processes=[agent])
        code, took_s = tracer.stop(signal.SIGTERM)
        self.assertEqual(code, 0, tracer.stderr())
        self.assertLess(took_s, 2.0)
        go.release()
        self.finish(agent)


class HiddenProcessTests(TracerTestCase):
    """Processes the start-up scan cannot inspect are reported with a fix."""

    shared_tracer = False

    def test_missing_ptrace_warns_with_fix(self):
        # Without CAP_SYS_PTRACE, root cannot read /proc/PID/exe of processes
        # holding capabilities it lacks, such as this test and its parents.
        wrapper = ["setpriv", "--bounding-set=-sys_ptrace", "--inh-caps=-all", "--"]
        tracer = self.start_tracer(interval_s=1, wrapper=wrapper)
        code, _ = tracer.stop(signal.SIGTERM)
        self.assertEqual(code, 0, tracer.stderr())
        self.assertRegex(tracer.stderr(), r"permission denied reading /proc/PID/exe of \d+ "
                         r"processes.*grant CAP_SYS_PTRACE")

    def test_full_root_gives_no_fix(self):
        tracer = self.start_tracer(interval_s=1)
        code, _ = tracer.stop(signal.SIGTERM)
        self.assertEqual(code, 0, tracer.stderr())
        self.assertNotIn("grant CAP_SYS_PTRACE", tracer.stderr())
