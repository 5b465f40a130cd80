# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Shared helpers for the Python test suites: the built programs, the
tracer, fake agents in a sandbox and the textfile parser."""

from .build import REPO, TRACER, WORKLOAD, build_workload
from .case import TracerTestCase, require_integration_environment
from .prom import FormatError, Metrics, expected_counts
from .sandbox import Agent, Fifo, Sandbox, Unsupported, new_uuid
from .tracer import TEXTFILE_NAME, Tracer

__all__ = [
    "REPO",
    "TRACER",
    "WORKLOAD",
    "build_workload",
    "TracerTestCase",
    "require_integration_environment",
    "FormatError",
    "Metrics",
    "expected_counts",
    "Agent",
    "Fifo",
    "Sandbox",
    "Unsupported",
    "new_uuid",
    "TEXTFILE_NAME",
    "Tracer",
]
