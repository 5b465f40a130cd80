# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Paths of the built programs, and the build of the workload binary."""

import os
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
BUILD = REPO / "build"
# CCAPM_TRACE points the tests at another build, for example a deliberately broken one.
TRACER = Path(os.environ.get("CCAPM_TRACE", BUILD / "ccapm-trace")).resolve()
WORKLOAD_SOURCE = REPO / "tests" / "workload" / "workload.c"
WORKLOAD = BUILD / "tests" / "workload"
WORKLOAD_CFLAGS = ["-O2", "-g", "-Wall", "-Wextra", "-Werror", "-D_GNU_SOURCE", "-pthread"]


def build_workload():
    """Compile the workload into build/tests/ unless it is newer than its source.

    Raises RuntimeError with the compiler output when the build fails.
    """
    if WORKLOAD.exists() and WORKLOAD.stat().st_mtime >= WORKLOAD_SOURCE.stat().st_mtime:
        return WORKLOAD
    WORKLOAD.parent.mkdir(parents=True, exist_ok=True)
    temp = WORKLOAD.with_name(f".workload.{os.getpid()}")
    command = [os.environ.get("CC", "gcc"), *WORKLOAD_CFLAGS, str(WORKLOAD_SOURCE), "-o", str(temp)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        temp.unlink(missing_ok=True)
        raise RuntimeError(f"failed to build the workload: {' '.join(command)}\n{result.stderr}")
    temp.rename(WORKLOAD)
    return WORKLOAD
