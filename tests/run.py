#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Run every test suite and end with one line CI can read:

    SUMMARY: <n> passed, <n> failed, <n> skipped

The exit status is 1 when any test failed, else 0.

Suites run in this order:
  unit         the cmocka binaries build/tests/test_* (make unit-tests builds them)
  integration  tests/integration/test_*.py, as root against build/ccapm-trace
  e2e, deploy  tests/e2e/ and tests/deploy/, when they contain test_*.py
  <others>     any other tests/<name>/ with test_*.py files, alphabetically

To add a suite, create tests/<name>/ with unittest modules named test_*.py.
They can import the shared helpers with "import harness" (tests/harness/)
and modules beside them by name. Each module is loaded as <name>.<module>,
so no __init__.py is needed. -k PATTERN selects unit binaries and Python
tests whose name contains PATTERN.
"""

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import time
import unittest
from pathlib import Path

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent
UNIT_BINARIES = REPO / "build" / "tests"
UNIT_SOURCES = TESTS / "unit"
FIRST_SUITES = ["integration", "e2e", "deploy"]
NOT_SUITES = {"harness", "unit", "workload", "__pycache__"}
UNIT_TIMEOUT_S = 120
SYSTEM_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"

sys.path.insert(0, str(TESTS))

import harness  # noqa: E402  (needs the sys.path entry above)


class Tally:
    """Passed, failed and skipped counts, with the names behind the last two.

    One name can represent several tests: a class whose setUpClass failed
    counts once for every test in it.
    """

    def __init__(self):
        self.passed = 0
        self.failed = []  # (name, number of tests)
        self.skipped = []  # (name, reason, number of tests)

    def add(self, other):
        self.passed += other.passed
        self.failed += other.failed
        self.skipped += other.skipped

    def fail(self, name, weight=1):
        self.failed.append((name, weight))

    def skip(self, name, reason, weight=1):
        self.skipped.append((name, reason, weight))

    @property
    def n_failed(self):
        return sum(weight for _, weight in self.failed)

    @property
    def n_skipped(self):
        return sum(weight for _, _, weight in self.skipped)


# ---- unit tests (cmocka) ------------------------------------------------------

TAP_RESULT_RE = re.compile(r"^(not ok|ok) \d+(?: - (?P<name>.*?))?(?: # SKIP (?P<skip>.*))?$")


def parse_tap(binary_name, output, tally):
    """Add the results in cmocka's TAP output to tally and return their number.

    cmocka prints skips as "not ok N # SKIP name" and gives no reason, so
    the reason reported is the comment lines that follow, if any.
    """
    results = 0
    pending_skip = None
    for line in output.splitlines():
        if pending_skip and line.startswith("# ") and not line.startswith("# not ok"):
            pending_skip[1].append(line[2:])
            continue
        if pending_skip:
            tally.skip(pending_skip[0], "; ".join(pending_skip[1]) or "skipped by cmocka")
            pending_skip = None
        match = TAP_RESULT_RE.match(line)
        if not match:
            continue
        results += 1
        if match.group("skip") is not None:
            pending_skip = (f"unit/{binary_name}: {match.group('skip').strip()}", [])
            print(f"  skip {binary_name}: {match.group('skip').strip()}")
        elif match.group(1) == "ok":
            tally.passed += 1
            print(f"  ok   {binary_name}: {match.group('name')}")
        else:
            tally.fail(f"unit/{binary_name}: {match.group('name')}")
            print(f"  FAIL {binary_name}: {match.group('name')}")
    if pending_skip:
        tally.skip(pending_skip[0], "; ".join(pending_skip[1]) or "skipped by cmocka")
    return results


def run_unit(pattern):
    tally = Tally()
    print("== unit ==", flush=True)
    expected = sorted(
        p.stem for p in UNIT_SOURCES.glob("test_*.c") if not pattern or pattern in p.stem
    )
    binaries = sorted(
        p.name
        for p in UNIT_BINARIES.glob("test_*")
        if p.is_file() and os.access(p, os.X_OK) and "." not in p.name
    )
    for missing in sorted(set(expected) - set(binaries)):
        print(f"  FAIL {missing}: build/tests/{missing} not built: run make unit-tests")
        tally.fail(f"unit/{missing}: not built")
    env = dict(os.environ, CMOCKA_MESSAGE_OUTPUT="TAP")
    for name in binaries:
        if pattern and pattern not in name:
            continue
        try:
            result = subprocess.run(
                [str(UNIT_BINARIES / name)],
                env=env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=UNIT_TIMEOUT_S,
            )
        except subprocess.TimeoutExpired:
            print(f"  FAIL {name}: still running after {UNIT_TIMEOUT_S} s")
            tally.fail(f"unit/{name}: timed out")
            continue
        failed_before = len(tally.failed)
        results = parse_tap(name, result.stdout, tally)
        if result.returncode != 0 and len(tally.failed) == failed_before:
            # A crash or a failed group setup that TAP does not show as a test.
            print(f"  FAIL {name}: exited with {result.returncode} ({results} results in TAP)")
            tally.fail(f"unit/{name}: exited with {result.returncode}")
        if len(tally.failed) > failed_before:
            print(indent(result.stdout + result.stderr))
    return tally


def indent(text):
    return "\n".join("      " + line for line in text.rstrip().splitlines())


# ---- Python suites (unittest) -------------------------------------------------


def discover_suites():
    """Return the suite directory names, in run order."""
    found = sorted(
        p.name
        for p in TESTS.iterdir()
        if p.is_dir() and p.name not in NOT_SUITES and any(p.glob("test_*.py"))
    )
    return [s for s in FIRST_SUITES if s in found] + [s for s in found if s not in FIRST_SUITES]


def load_suite(name, loader):
    """Import tests/<name>/test_*.py as <name>.<module> and collect their tests.

    The suite's directory goes on sys.path, so its modules can import
    helper modules that sit beside them.
    """
    suite = unittest.TestSuite()
    sys.path.insert(0, str(TESTS / name))
    for path in sorted((TESTS / name).glob("test_*.py")):
        module_name = f"{name}.{path.stem}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        spec.loader.exec_module(module)
        suite.addTest(loader.loadTestsFromModule(module))
    return suite


def iterate_tests(suite):
    for item in suite:
        if isinstance(item, unittest.TestSuite):
            yield from iterate_tests(item)
        else:
            yield item


HOLDER_RE = re.compile(r"^(setUpClass|tearDownClass|setUpModule|tearDownModule) \((?P<scope>[^)]*)\)")


def holder_weight(test, tests_per_scope):
    """Return the number of tests that a class- or module-level result represents.

    unittest reports a skip or error in setUpClass once for the whole
    class; the summary counts every test of that class.
    """
    match = HOLDER_RE.match(str(test))
    if not match or match.group(1).startswith("tearDown"):
        return 1
    return max(1, tests_per_scope.get(match.group("scope"), 1))


def run_python_suite(name, pattern):
    tally = Tally()
    print(f"== {name} ==", flush=True)
    loader = unittest.TestLoader()
    if pattern:
        loader.testNamePatterns = [f"*{pattern}*"]
    try:
        suite = load_suite(name, loader)
    except Exception as e:  # an import error must fail the run, not stop it
        print(f"  FAIL {name}: cannot load the suite: {e!r}")
        tally.fail(f"{name}: cannot load the suite: {e!r}")
        return tally
    tests_per_scope = {}
    for test in iterate_tests(suite):
        cls = type(test)
        for scope in (f"{cls.__module__}.{cls.__qualname__}", cls.__module__):
            tests_per_scope[scope] = tests_per_scope.get(scope, 0) + 1
    runner = unittest.TextTestRunner(stream=sys.stdout, verbosity=2)
    result = runner.run(suite)

    for test, _ in result.failures + result.errors:
        tally.fail(f"{name}: {test}", holder_weight(test, tests_per_scope))
    for test, reason in result.skipped:
        tally.skip(f"{name}: {test}", reason, holder_weight(test, tests_per_scope))
    for test in result.unexpectedSuccesses:
        tally.fail(f"{name}: {test} (unexpected success)")
    # A test counts as passed unless it, or one of its subtests, is listed above.
    not_passed = set()
    for test in [t for t, _ in result.failures + result.errors + result.skipped] + list(
        result.unexpectedSuccesses
    ):
        # Class- and module-level results are no TestCase and were never run as tests.
        if isinstance(test, unittest.TestCase):
            not_passed.add(getattr(test, "test_case", test).id())
    tally.passed += result.testsRun - len(not_passed)
    return tally


# ---- main ---------------------------------------------------------------------


def parse_args():
    parser = argparse.ArgumentParser(
        description="Run the ccapm-trace test suites and print a SUMMARY line."
    )
    parser.add_argument(
        "suites", nargs="*", help="suites to run (default: all): unit, " + ", ".join(discover_suites())
    )
    parser.add_argument("-k", dest="pattern", help="run only tests whose name contains PATTERN")
    return parser.parse_args()


def trust_system_certificates():
    """Make npm, run by the e2e and deploy suites, trust Debian's CA store.

    Node.js trusts only its own CA list, and sudo drops NODE_EXTRA_CA_CERTS
    from the caller's environment. Behind a TLS-inspecting proxy whose CA is
    in the system store, npm then fails with SELF_SIGNED_CERT_IN_CHAIN.
    """
    if "NODE_EXTRA_CA_CERTS" not in os.environ and os.path.isfile(SYSTEM_CA_BUNDLE):
        os.environ["NODE_EXTRA_CA_CERTS"] = SYSTEM_CA_BUNDLE


def main():
    args = parse_args()
    trust_system_certificates()
    known = ["unit"] + discover_suites()
    selected = args.suites or known
    unknown = [s for s in selected if s not in known]
    if unknown:
        print(f"run.py: unknown suite {', '.join(unknown)}: use one of {', '.join(known)}", file=sys.stderr)
        return 2

    started = time.monotonic()
    total = Tally()
    for suite in [s for s in known if s in selected]:
        if suite == "unit":
            total.add(run_unit(args.pattern))
            continue
        if suite == "integration":
            try:
                harness.build_workload()
            except RuntimeError as e:
                print(f"  FAIL {e}")
                total.fail("integration: workload build")
                continue
        total.add(run_python_suite(suite, args.pattern))

    if total.skipped:
        print("\nSkipped:")
        for name, reason, weight in total.skipped:
            print(f"  {name}: {reason}" + (f" ({weight} tests)" if weight > 1 else ""))
    if total.failed:
        print("\nFailed:")
        for name, weight in total.failed:
            print(f"  {name}" + (f" ({weight} tests)" if weight > 1 else ""))
    print(f"\n({time.monotonic() - started:.0f} s)")
    print(f"SUMMARY: {total.passed} passed, {total.n_failed} failed, {total.n_skipped} skipped")
    return 1 if total.n_failed else 0


if __name__ == "__main__":
    sys.exit(main())
