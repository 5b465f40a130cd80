# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""promtool checks of deploy/prometheus/ccapm-rules.yml and its unit tests."""

import os
import re
import shutil
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as support  # noqa: E402


def alert_names(text):
    return re.findall(r"^\s*- alert: (\S+)\s*$", text, re.MULTILINE)


def record_names(text):
    return re.findall(r"^\s*- record: (\S+)\s*$", text, re.MULTILINE)


def disable_alert(text, name):
    """Return the rules text with alert name's expression replaced by one
    that never returns a series."""
    pattern = re.compile(r"(^\s*- alert: " + re.escape(name) + r"\s*\n\s*expr: )(.*?)"
                         r"(?=^\s*(?:for|labels|annotations):)", re.MULTILINE | re.DOTALL)
    changed, count = pattern.subn(lambda match: match.group(1) + "vector(1) > 2\n", text)
    if count != 1:
        raise AssertionError(f"alert {name}: expected one expression, found {count}")
    return changed


class PrometheusRulesTest(unittest.TestCase):
    def setUp(self):
        self.promtool = support.require_tool(self, "promtool")
        with open(support.RULES) as rules:
            self.rules_text = rules.read()
        with open(support.RULES_TEST) as tests:
            self.tests_text = tests.read()

    def test_check_rules_passes(self):
        result = support.run([self.promtool, "check", "rules", support.RULES], check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)
        self.assertIn("SUCCESS", result.stdout)

    def test_rule_unit_tests_pass(self):
        result = support.run([self.promtool, "test", "rules", support.RULES_TEST], check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)

    def test_required_alerts_present(self):
        alerts = alert_names(self.rules_text)
        for name in ("CcapmAgentRunaway", "CcapmTextfileStale", "CcapmTextfileMissing",
                     "CcapmEventsLost"):
            self.assertIn(name, alerts)

    def test_runaway_threshold_and_duration(self):
        block = self.rules_text[self.rules_text.index("- alert: CcapmAgentRunaway"):]
        self.assertRegex(block, r"expr: >-\n\s*ccapm_actions_per_minute > 300\n")
        self.assertRegex(block, r"\n\s*for: 5m\n")

    def test_stale_alert_reads_textfile_mtime(self):
        block = self.rules_text[self.rules_text.index("- alert: CcapmTextfileStale"):]
        self.assertIn("node_textfile_mtime_seconds", block.split("labels:")[0])

    def test_recording_rules_have_unit_tests(self):
        records = record_names(self.rules_text)
        self.assertTrue(records)
        for name in records:
            with self.subTest(record=name):
                self.assertRegex(self.tests_text, r"- expr: " + re.escape(name) + r"\n")

    def test_every_alert_has_a_firing_test(self):
        """Disabling any one alert must make `promtool test rules` fail."""
        alerts = alert_names(self.rules_text)
        self.assertTrue(alerts)
        workdir = support.make_tempdir(self, "ccapm-rules-")
        rules_dir = os.path.join(workdir, "deploy", "prometheus")
        tests_dir = os.path.join(workdir, "tests", "deploy")
        os.makedirs(rules_dir)
        os.makedirs(tests_dir)
        shutil.copy2(support.RULES_TEST, tests_dir)
        test_copy = os.path.join(tests_dir, os.path.basename(support.RULES_TEST))
        rules_copy = os.path.join(rules_dir, os.path.basename(support.RULES))

        for name in alerts:
            with self.subTest(alert=name):
                with open(rules_copy, "w") as rules:
                    rules.write(disable_alert(self.rules_text, name))
                check = support.run([self.promtool, "check", "rules", rules_copy], check=False)
                self.assertEqual(check.returncode, 0, check.stdout + check.stderr)
                result = support.run([self.promtool, "test", "rules", test_copy], check=False)
                self.assertNotEqual(result.returncode, 0,
                                    f"tests still pass with {name} disabled")
                self.assertIn(name, result.stdout + result.stderr)

        # The copy itself passes, so each failure above came from the change.
        with open(rules_copy, "w") as rules:
            rules.write(self.rules_text)
        result = support.run([self.promtool, "test", "rules", test_copy], check=False)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr)


if __name__ == "__main__":
    unittest.main()
