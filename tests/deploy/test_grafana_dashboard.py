# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Static checks of deploy/grafana/ccapm-dashboard.json. test_live_stack
runs every query of it against a real Prometheus."""

import json
import os
import re
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as support  # noqa: E402

# Metric names a panel may read: the tracer's families and node_exporter's
# textfile mtime.
KNOWN_METRICS = set(support.FAMILIES) | {"node_textfile_mtime_seconds"}


class GrafanaDashboardTest(unittest.TestCase):
    def setUp(self):
        with open(support.DASHBOARD) as dashboard:
            self.dashboard = json.load(dashboard)
        self.targets = list(support.dashboard_targets(self.dashboard))
        self.variables = {variable["name"]: variable
                          for variable in self.dashboard["templating"]["list"]}

    def test_has_title_and_uid(self):
        self.assertTrue(self.dashboard.get("title"))
        self.assertRegex(self.dashboard.get("uid", ""), r"^[a-zA-Z0-9_-]{1,40}$")

    def test_panel_ids_unique(self):
        ids = [panel["id"] for panel in self.dashboard["panels"]]
        self.assertEqual(len(ids), len(set(ids)))

    def test_panels_fit_the_grid(self):
        for panel in self.dashboard["panels"]:
            with self.subTest(panel=panel["title"]):
                grid = panel["gridPos"]
                self.assertGreaterEqual(grid["x"], 0)
                self.assertLessEqual(grid["x"] + grid["w"], 24)
                self.assertGreater(grid["h"], 0)

    def test_host_and_session_variables(self):
        host = self.variables.get("host")
        session = self.variables.get("session")
        self.assertIsNotNone(host)
        self.assertIsNotNone(session)
        self.assertEqual(host["definition"], "label_values(ccapm_sessions_active, instance)")
        self.assertIn("$host", session["definition"])
        self.assertIn("session_id", session["definition"])
        for variable in (host, session):
            self.assertTrue(variable["multi"])
            self.assertTrue(variable["includeAll"])
            self.assertEqual(variable["allValue"], ".*")

    def test_datasource_is_a_variable(self):
        self.assertEqual(self.variables["datasource"]["type"], "datasource")
        self.assertEqual(self.variables["datasource"]["query"], "prometheus")
        for panel, target in self.targets:
            with self.subTest(panel=panel["title"], ref=target["refId"]):
                self.assertEqual(panel["datasource"]["uid"], "${datasource}")
                self.assertEqual(target["datasource"]["uid"], "${datasource}")

    def test_required_panels_present(self):
        titles = {panel["title"] for panel in self.dashboard["panels"]}
        for title in ("Active sessions", "Actions per minute by session",
                      "Commands per minute", "File operations per minute",
                      "Network connects per minute", "Top sessions", "Lost events"):
            self.assertIn(title, titles)

    def test_every_panel_has_a_query(self):
        for panel in self.dashboard["panels"]:
            with self.subTest(panel=panel["title"]):
                self.assertTrue(panel.get("targets"))
                for target in panel["targets"]:
                    self.assertTrue(target["expr"].strip())

    def test_queries_read_known_metrics(self):
        for panel, target in self.targets:
            names = set(re.findall(r"\b(ccapm_[a-z_]+|node_[a-z_]+)\b", target["expr"]))
            with self.subTest(panel=panel["title"], ref=target["refId"]):
                self.assertTrue(names)
                self.assertLessEqual(names, KNOWN_METRICS)

    def test_session_queries_filter_by_variables(self):
        for panel, target in self.targets:
            with self.subTest(panel=panel["title"], ref=target["refId"]):
                self.assertIn('instance=~"$host"', target["expr"])
                if "session_id" in target["expr"] or "per_minute" in target["expr"]:
                    self.assertIn('session_id=~"$session"', target["expr"])


if __name__ == "__main__":
    unittest.main()
