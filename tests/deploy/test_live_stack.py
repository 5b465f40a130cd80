# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""The tracer, Debian's prometheus-node-exporter and Debian's prometheus on
loopback ports, with a fake agent that runs a known workload.

One stack serves every test in this file: the tracer rewrites its textfile
every second, node_exporter serves that directory, and Prometheus scrapes
node_exporter every second and evaluates deploy/prometheus/ccapm-rules.yml.
The stack is built once, in setUpClass, because Prometheus needs samples
from before and after the workload."""

import json
import os
import re
import shutil
import sys
import tempfile
import time
import unittest
import uuid

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as support  # noqa: E402

# Each server gets this long to respond to its first request.
STARTUP_TIMEOUT_S = 30
# Prometheus scrapes every second, and a slow machine needs more time.
SCRAPE_TIMEOUT_S = 20


@unittest.skipIf(support.live_skip_reason(), support.live_skip_reason())
class LiveStackTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for tool in ("prometheus", "prometheus-node-exporter"):
            if shutil.which(tool) is None:
                raise AssertionError(f"{tool} not found: run scripts/install-packages test")
        if not os.access(support.BINARY, os.X_OK):
            raise AssertionError(f"{support.BINARY} not found: run make first")
        cls.workdir = tempfile.mkdtemp(prefix="ccapm-stack-")
        cls.addClassCleanup(shutil.rmtree, cls.workdir, ignore_errors=True)
        cls.textfile_dir = os.path.join(cls.workdir, "textfile")
        os.makedirs(cls.textfile_dir)

        cls.start_tracer()
        cls.start_node_exporter()
        cls.start_prometheus()
        cls.run_fake_agent()

    @classmethod
    def start_tracer(cls):
        cls.tracer = support.class_process(
            cls, [support.BINARY, "--textfile-dir", cls.textfile_dir, "--interval", "1", "-v"],
            os.path.join(cls.workdir, "tracer.log"))
        support.wait_for_textfile(cls.textfile_dir, cls.tracer)

    @classmethod
    def start_node_exporter(cls):
        cls.node_port = support.free_port()
        cls.instance = f"127.0.0.1:{cls.node_port}"
        cls.node_exporter = support.class_process(
            cls, ["prometheus-node-exporter", f"--web.listen-address={cls.instance}",
                  "--collector.disable-defaults", "--collector.textfile",
                  f"--collector.textfile.directory={cls.textfile_dir}"],
            os.path.join(cls.workdir, "node-exporter.log"))
        support.wait_until(lambda: support.http_get(f"http://{cls.instance}/metrics"),
                           STARTUP_TIMEOUT_S, message="node_exporter to serve /metrics")

    @classmethod
    def start_prometheus(cls):
        cls.prometheus_port = support.free_port()
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [support.RULES],
            "scrape_configs": [{"job_name": "node",
                                "static_configs": [{"targets": [cls.instance]}]}],
        }
        # JSON is valid YAML, which Prometheus reads.
        config_path = os.path.join(cls.workdir, "prometheus.yml")
        with open(config_path, "w") as config_file:
            json.dump(config, config_file)
        cls.prometheus = support.class_process(
            cls, ["prometheus", f"--config.file={config_path}",
                  f"--storage.tsdb.path={os.path.join(cls.workdir, 'tsdb')}",
                  f"--web.listen-address=127.0.0.1:{cls.prometheus_port}"],
            os.path.join(cls.workdir, "prometheus.log"))
        cls.api = support.PrometheusApi(cls.prometheus_port)
        support.wait_until(
            lambda: support.http_get(f"http://127.0.0.1:{cls.prometheus_port}/-/ready"),
            STARTUP_TIMEOUT_S, message="Prometheus to become ready")

    @classmethod
    def run_fake_agent(cls):
        """Start the agent, wait until Prometheus has scraped its counters
        at 0, run the workload, and wait until Prometheus has its result."""
        cls.session_id = str(uuid.uuid4())
        agent_root = os.path.join(cls.workdir, "agent")
        os.makedirs(agent_root)
        cls.agent = support.FakeAgent(cls.addClassCleanup, agent_root, cls.session_id)
        cls.agent_pid = cls.agent.start()
        commands = f'ccapm_commands_total{{session_id="{cls.session_id}"}}'
        support.wait_until(lambda: cls.api.scalar_of(commands) == 0, SCRAPE_TIMEOUT_S,
                           message=f"Prometheus to see {commands} at 0")
        cls.agent.run_workload()
        support.wait_until(lambda: cls.api.scalar_of(commands) == support.FakeAgent.COMMANDS,
                           SCRAPE_TIMEOUT_S,
                           message=f"Prometheus to see {commands} at {support.FakeAgent.COMMANDS}")
        # Rules run every second, so wait for two rounds with the new samples.
        time.sleep(2)

    def scrape_node_exporter(self):
        text = support.http_get(f"http://{self.instance}/metrics")
        return support.parse_exposition(text)

    # --- node_exporter ------------------------------------------------------

    def test_node_exporter_serves_session_counters(self):
        samples, _, _ = self.scrape_node_exporter()
        session = {"session_id": self.session_id}
        expected = {
            ("ccapm_commands_total", ()): support.FakeAgent.COMMANDS,
            ("ccapm_file_ops_total", (("op", "write"),)): support.FakeAgent.FILE_WRITES,
            ("ccapm_file_ops_total", (("op", "rename"),)): 0,
            ("ccapm_file_ops_total", (("op", "delete"),)): 0,
            ("ccapm_file_ops_total", (("op", "mkdir"),)): 0,
            ("ccapm_network_connects_total", (("family", "ipv4"),)): 0,
            ("ccapm_network_connects_total", (("family", "ipv6"),)): 0,
            ("ccapm_network_connects_total", (("family", "unix"),)): 0,
        }
        for (name, labels), value in expected.items():
            with self.subTest(metric=name, labels=labels):
                self.assertEqual(support.sample_value(samples, name, **session, **dict(labels)),
                                 value)

    def test_node_exporter_serves_per_minute_gauges(self):
        samples, _, _ = self.scrape_node_exporter()
        session = {"session_id": self.session_id}
        commands, writes = support.FakeAgent.COMMANDS, support.FakeAgent.FILE_WRITES
        for name, value in (("ccapm_commands_per_minute", commands),
                            ("ccapm_file_ops_per_minute", writes),
                            ("ccapm_network_connects_per_minute", 0),
                            ("ccapm_actions_per_minute", commands + writes)):
            with self.subTest(metric=name):
                self.assertEqual(support.sample_value(samples, name, **session), value)

    def test_node_exporter_serves_session_info(self):
        samples, _, _ = self.scrape_node_exporter()
        info = support.find_samples(samples, "ccapm_session_info", session_id=self.session_id)
        self.assertEqual(len(info), 1, info)
        labels, value = info[0]
        self.assertEqual(value, 1)
        self.assertEqual(labels["pid"], str(self.agent_pid))
        self.assertEqual(labels["user"], "root")
        self.assertEqual(labels["cwd"], self.agent.work)

    def test_node_exporter_serves_host_counters(self):
        samples, _, _ = self.scrape_node_exporter()
        self.assertGreaterEqual(support.sample_value(samples, "ccapm_sessions_active"), 1)
        for name in ("ccapm_events_lost_total", "ccapm_processes_untracked_total",
                     "ccapm_session_table_full_total"):
            with self.subTest(metric=name):
                self.assertEqual(support.sample_value(samples, name), 0)

    def test_node_exporter_keeps_help_and_type(self):
        _, helps, types = self.scrape_node_exporter()
        for name, kind in support.FAMILIES.items():
            with self.subTest(family=name):
                self.assertEqual(types.get(name), kind)
                self.assertTrue(helps.get(name))

    def test_node_exporter_reads_textfile_without_error(self):
        samples, _, _ = self.scrape_node_exporter()
        self.assertEqual(support.sample_value(samples, "node_textfile_scrape_error"), 0)
        mtime = support.find_samples(samples, "node_textfile_mtime_seconds")
        self.assertEqual([labels["file"] for labels, _ in mtime],
                         [os.path.join(self.textfile_dir, "ccapm.prom")])
        self.assertLess(time.time() - mtime[0][1], 10)

    # --- Prometheus -----------------------------------------------------------

    def test_prometheus_target_up(self):
        self.assertEqual(self.api.scalar_of(f'up{{job="node", instance="{self.instance}"}}'), 1)

    def test_prometheus_sees_session_commands(self):
        result = self.api.vector(f'ccapm_commands_total{{session_id="{self.session_id}"}}')
        self.assertEqual(len(result), 1, result)
        self.assertEqual(result[0]["metric"]["instance"], self.instance)
        self.assertEqual(result[0]["metric"]["job"], "node")
        self.assertEqual(float(result[0]["value"][1]), support.FakeAgent.COMMANDS)

    def test_prometheus_increase_over_one_minute(self):
        """increase(...[1m]) at the last sample returns exactly the workload.

        The first sample in the window is 0, so Prometheus extrapolates
        nothing before it, and at the last sample's time nothing after it."""
        selector = f'ccapm_commands_total{{session_id="{self.session_id}"}}'
        last_sample_s = self.api.scalar_of(f"timestamp({selector})")
        self.assertIsNotNone(last_sample_s)
        first_in_window = self.api.scalar_of(f"min_over_time({selector}[1m])", at=last_sample_s)
        self.assertEqual(first_in_window, 0, "the window must start before the workload")
        increase = self.api.scalar_of(f"increase({selector}[1m])", at=last_sample_s)
        self.assertEqual(increase, support.FakeAgent.COMMANDS)

    def test_prometheus_per_minute_gauge(self):
        value = self.api.scalar_of(f'ccapm_actions_per_minute{{session_id="{self.session_id}"}}')
        self.assertEqual(value, support.FakeAgent.COMMANDS + support.FakeAgent.FILE_WRITES)

    def test_rules_load_and_evaluate(self):
        response = self.api.get("/api/v1/rules")
        self.assertEqual(response["status"], "success")
        rules = [rule for group in response["data"]["groups"] for rule in group["rules"]]
        with open(support.RULES) as rules_file:
            declared = re.findall(r"^\s*- (?:alert|record): (\S+)", rules_file.read(), re.MULTILINE)
        self.assertEqual(sorted(rule["name"] for rule in rules), sorted(declared))
        for rule in rules:
            with self.subTest(rule=rule["name"]):
                self.assertEqual(rule["health"], "ok", rule.get("lastError"))

    def test_recording_rules_count_the_session(self):
        actions = support.FakeAgent.COMMANDS + support.FakeAgent.FILE_WRITES
        host = self.api.scalar_of(
            f'instance:ccapm_actions_per_minute:sum{{instance="{self.instance}"}}')
        self.assertGreaterEqual(host, actions)
        user_selector = f'{{instance="{self.instance}", user="root"}}'
        user = self.api.scalar_of(f"instance_user:ccapm_commands_per_minute:sum{user_selector}")
        self.assertGreaterEqual(user, support.FakeAgent.COMMANDS)

    def test_quiet_session_raises_no_alert(self):
        """Neither the fake agent's session nor a fresh textfile raises an
        alert. Other processes on the machine may raise their own."""
        response = self.api.get("/api/v1/alerts")
        self.assertEqual(response["status"], "success")
        ours = [alert for alert in response["data"]["alerts"]
                if alert["labels"].get("instance") == self.instance
                and (alert["labels"].get("session_id") == self.session_id
                     or alert["labels"]["alertname"] == "CcapmTextfileStale")]
        self.assertEqual(ours, [])

    # --- Grafana dashboard ----------------------------------------------------

    def dashboard(self):
        with open(support.DASHBOARD) as dashboard:
            return json.load(dashboard)

    def test_dashboard_queries_succeed(self):
        """Every panel query, with the variables on All and on this host and
        session, runs as an instant and a range query without error and
        returns data."""
        selections = [
            (".*", ".*"),
            (support.grafana_regex_escape(self.instance),
             support.grafana_regex_escape(self.session_id)),
        ]
        now = time.time()
        for panel, target in support.dashboard_targets(self.dashboard()):
            for host, session in selections:
                expr = support.expand_dashboard_query(target["expr"], host, session,
                                                      range_s=3600, rate_interval_s=60)
                with self.subTest(panel=panel["title"], ref=target["refId"], host=host):
                    self.assertNotIn("$", expr, "a variable was left unexpanded")
                    instant = self.api.query(expr, at=now)
                    self.assertEqual(instant["status"], "success", instant)
                    self.assertTrue(instant["data"]["result"], f"no data for {expr}")
                    ranged = self.api.query_range(expr, now - 60, now, 5)
                    self.assertEqual(ranged["status"], "success", ranged)
                    self.assertTrue(ranged["data"]["result"], f"no data for {expr}")

    def test_dashboard_variables_list_host_and_session(self):
        variables = {variable["name"]: variable
                     for variable in self.dashboard()["templating"]["list"]}
        expected = {"host": self.instance, "session": self.session_id}
        for name, want in expected.items():
            definition = variables[name]["definition"]
            self.assertTrue(definition.startswith("label_values(") and definition.endswith(")"))
            selector, label = definition[len("label_values("):-1].rsplit(",", 1)
            selector = support.expand_dashboard_query(selector, ".*", ".*", 3600, 60)
            with self.subTest(variable=name):
                response = self.api.get(f"/api/v1/label/{label.strip()}/values",
                                        **{"match[]": selector})
                self.assertEqual(response["status"], "success", response)
                self.assertIn(want, response["data"])


if __name__ == "__main__":
    unittest.main()
