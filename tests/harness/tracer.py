# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Start build/ccapm-trace, read its textfile and stop it."""

import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .build import TRACER
from .prom import Metrics

TEXTFILE_NAME = "ccapm.prom"
# The spec requires the first textfile within 2 s of start.
READY_TIMEOUT_S = 2.0
STOP_TIMEOUT_S = 2.0


class Tracer:
    """One ccapm-trace process writing into its own temp textfile dir.

    wrapper is a command prefix (for example unshare or setpriv) that ends
    by exec'ing the tracer.
    """

    def __init__(self, interval_s=1, retention_s=None, args=(), wrapper=(), textfile_dir=None):
        self.interval_s = interval_s
        self._own_dirs = []
        if textfile_dir is None:
            textfile_dir = self._make_dir("ccapm-textfile-")
        self.textfile_dir = Path(textfile_dir)
        self.path = self.textfile_dir / TEXTFILE_NAME
        self.stderr_path = Path(self._make_dir("ccapm-tracer-log-")) / "stderr"
        # If the test process dies without cleanup, the tracer gets SIGTERM too.
        self.command = ["setpriv", "--pdeathsig", "TERM", "--", *wrapper, str(TRACER),
                        "--textfile-dir", str(self.textfile_dir)]
        if interval_s is not None:
            self.command += ["--interval", str(interval_s)]
        if retention_s is not None:
            self.command += ["--retention", str(retention_s)]
        self.command += list(args)
        self.process = None
        self.started_at = None

    def _make_dir(self, prefix):
        path = tempfile.mkdtemp(prefix=prefix)
        self._own_dirs.append(path)
        return path

    def start(self):
        """Start the tracer and return once ccapm.prom exists.

        Raises AssertionError when the file is not there within 2 s or the
        tracer exits first.
        """
        with open(self.stderr_path, "wb") as stderr:
            self.started_at = time.monotonic()
            self.process = subprocess.Popen(
                self.command, stdin=subprocess.DEVNULL, stdout=stderr, stderr=stderr
            )
        deadline = self.started_at + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self.path.exists():
                return self
            if self.process.poll() is not None:
                raise AssertionError(
                    f"ccapm-trace exited with {self.process.returncode} before writing "
                    f"{self.path}:\n{self.stderr()}"
                )
            time.sleep(0.02)
        raise AssertionError(
            f"{self.path} did not appear within {READY_TIMEOUT_S} s of start:\n{self.stderr()}"
        )

    def stderr(self):
        try:
            return self.stderr_path.read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def assert_running(self):
        if self.process.poll() is not None:
            raise AssertionError(
                f"ccapm-trace exited with {self.process.returncode}:\n{self.stderr()}"
            )

    def read(self):
        """Parse the current textfile."""
        return Metrics(self.path.read_text())

    def _file_id(self):
        try:
            st = os.stat(self.path)
        except FileNotFoundError:
            return None
        return (st.st_ino, st.st_mtime_ns)

    def settle(self, session_filter, timeout_s=20.0):
        """Wait until the samples of the chosen sessions stop changing.

        session_filter(metrics) returns the session_ids to watch, so other
        sessions on the machine cannot keep the wait going. Settled means:
        unchanged for two intervals and a half, with the file rewritten at
        least once in that time. Returns the last Metrics.
        """
        quiet_s = 2.5 * self.interval_s
        deadline = time.monotonic() + timeout_s
        last_samples = None
        last_change = time.monotonic()
        file_id_at_change = None
        n_changes = 0
        while time.monotonic() < deadline:
            self.assert_running()
            file_id = self._file_id()
            metrics = self.read()
            samples = metrics.samples_of_sessions(session_filter(metrics))
            now = time.monotonic()
            if samples != last_samples:
                last_samples = samples
                last_change = now
                file_id_at_change = file_id
                n_changes += 1
            elif now - last_change >= quiet_s and file_id != file_id_at_change:
                return metrics
            time.sleep(0.1)
        watched = "\n".join(f"  {key[0]}{dict(key[1])} {value}" for key, value in sorted(last_samples.items()))
        raise AssertionError(
            f"the watched series did not settle within {timeout_s} s ({n_changes} changes seen, "
            f"file rewritten since the last: {self._file_id() != file_id_at_change}); "
            f"watched series:\n{watched}"
        )

    def wait_for(self, condition, timeout_s=10.0, what="condition"):
        """Poll the textfile until condition(metrics) is true; return those metrics."""
        deadline = time.monotonic() + timeout_s
        metrics = None
        while time.monotonic() < deadline:
            self.assert_running()
            metrics = self.read()
            if condition(metrics):
                return metrics
            time.sleep(0.1)
        raise AssertionError(
            f"timed out after {timeout_s} s waiting for {what}; last content:\n"
            f"{metrics.text if metrics else ''}"
        )

    def stop(self, sig=signal.SIGTERM, timeout_s=STOP_TIMEOUT_S):
        """Send sig and wait for the exit. Returns (exit code, seconds taken).

        Kills the tracer and raises AssertionError when it has not exited
        within timeout_s.
        """
        if self.process.poll() is not None:
            return self.process.returncode, 0.0
        sent_at = time.monotonic()
        self.process.send_signal(sig)
        try:
            code = self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise AssertionError(
                f"ccapm-trace still running {timeout_s} s after signal {sig}:\n{self.stderr()}"
            ) from None
        return code, time.monotonic() - sent_at

    def close(self):
        """Stop the tracer if it runs and remove its temp dirs."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for path in self._own_dirs:
            subprocess.run(["rm", "-rf", "--one-file-system", path], check=False)
