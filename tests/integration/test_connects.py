# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Connects on loopback and unix sockets that the sandbox listens on."""

from harness import TracerTestCase


class ConnectTests(TracerTestCase):
    def setUp(self):
        super().setUp()
        self.listeners = self.sandbox.listen()

    def test_ipv4_connect(self):
        session_id, _, metrics = self.run_session(
            [f"connect=ipv4,127.0.0.1,{self.listeners.ipv4_port}"]
        )
        self.assertCounts(metrics, session_id, ipv4=1)

    def test_ipv6_connect(self):
        session_id, _, metrics = self.run_session([f"connect=ipv6,::1,{self.listeners.ipv6_port}"])
        self.assertCounts(metrics, session_id, ipv6=1)

    def test_ipv4_mapped_ipv6_counts_as_ipv4(self):
        session_id, _, metrics = self.run_session(
            [f"connect=ipv6,::ffff:127.0.0.1,{self.listeners.ipv4_port}"]
        )
        self.assertCounts(metrics, session_id, ipv4=1)

    def test_unix_connect(self):
        session_id, _, metrics = self.run_session([f"connect=unix,{self.listeners.unix_path}"])
        self.assertCounts(metrics, session_id, unix=1)

    def test_nonblocking_connect_in_progress(self):
        session_id, agent, metrics = self.run_session(
            [
                f"connect=ipv4,127.0.0.1,{self.listeners.ipv4_port},nonblock",
                f"connect=ipv6,::1,{self.listeners.ipv6_port},nonblock",
            ]
        )
        self.assertEqual(
            agent.stdout_text().count("connect: EINPROGRESS"),
            2,
            "both connects must return EINPROGRESS, or this test does not exercise it",
        )
        self.assertCounts(metrics, session_id, ipv4=1, ipv6=1)

    def test_udp_connect_counts(self):
        # connect() on a datagram socket succeeds without traffic, and it still counts.
        session_id, _, metrics = self.run_session(
            [
                f"connect=ipv4,127.0.0.1,{self.listeners.closed_ipv4_port},udp",
                f"connect=ipv6,::1,{self.listeners.closed_ipv6_port},udp",
            ]
        )
        self.assertCounts(metrics, session_id, ipv4=1, ipv6=1)

    def test_failed_connects_not_counted(self):
        session_id, _, metrics = self.run_session(
            [
                f"!connect=ipv4,127.0.0.1,{self.listeners.closed_ipv4_port}",
                f"!connect=ipv6,::1,{self.listeners.closed_ipv6_port}",
                f"!connect=ipv6,::ffff:127.0.0.1,{self.listeners.closed_ipv4_port}",
                f"!connect=unix,{self.sandbox.root / 'no-listener.sock'}",
            ]
        )
        self.assertCounts(metrics, session_id)

    def test_netlink_connect_not_counted(self):
        session_id, _, metrics = self.run_session(["connect=netlink"])
        self.assertCounts(metrics, session_id)

    def test_connects_of_each_family_add_up(self):
        session_id, _, metrics = self.run_session(
            [f"connect=ipv4,127.0.0.1,{self.listeners.ipv4_port}"] * 3
            + [f"connect=ipv6,::1,{self.listeners.ipv6_port}"] * 2
            + [f"connect=unix,{self.listeners.unix_path}"] * 4
        )
        self.assertCounts(metrics, session_id, ipv4=3, ipv6=2, unix=4)
