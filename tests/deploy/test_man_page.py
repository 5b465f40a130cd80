# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""man/ccapm-trace.8: renders cleanly, matches --help and the metric
families, and `make install` installs it."""

import os
import re
import stat
import sys
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import deploy_support as support  # noqa: E402


def long_options(text):
    return set(re.findall(r"(?<![\w-])--([a-z][a-z-]+)", text))


class ManPageTest(unittest.TestCase):
    def setUp(self):
        with open(support.MAN_PAGE) as page:
            self.source = page.read()
        groff = support.require_tool(self, "groff")
        result = support.run([groff, "-man", "-Tutf8", "-ww", "-rLL=80n", support.MAN_PAGE],
                             check=False, env=dict(os.environ, LC_ALL="C.UTF-8"))
        self.render_status = result.returncode
        self.render_warnings = result.stderr
        # Plain text: drop overstrike bold and underline and join hyphens.
        self.text = re.sub(r".\x08", "", result.stdout).replace("\u2010", "-")

    def section(self, name):
        match = re.search(r"^\.SH " + name + r"\n(.*?)(?=^\.SH |\Z)", self.source,
                          re.MULTILINE | re.DOTALL)
        self.assertIsNotNone(match, f"section {name} missing")
        return match.group(1)

    def test_renders_without_warnings(self):
        self.assertEqual(self.render_status, 0)
        self.assertEqual(self.render_warnings, "")

    def test_name_section_for_whatis(self):
        lexgrog = support.require_tool(self, "lexgrog")
        result = support.run([lexgrog, support.MAN_PAGE])
        self.assertIn('"ccapm-trace - ', result.stdout)

    def test_version_matches_makefile(self):
        with open(os.path.join(support.REPO, "Makefile")) as makefile:
            version = re.search(r"^VERSION := (\S+)$", makefile.read(), re.MULTILINE).group(1)
        title = re.search(r'^\.TH CCAPM-TRACE 8 \S+ "ccapm-trace ([^"]+)"', self.source,
                          re.MULTILINE)
        self.assertIsNotNone(title, ".TH line missing or malformed")
        self.assertEqual(title.group(1), version)

    def test_options_match_help(self):
        binary = support.require_binary(self)
        help_text = support.run([binary, "--help"]).stdout
        options = self.section("OPTIONS").replace("\\-", "-")
        self.assertEqual(long_options(help_text), long_options(options))
        for short in ("-v", "-V", "-h"):
            with self.subTest(option=short):
                self.assertIn(short, help_text)
                self.assertRegex(options, r"\.BR " + short + r" ")

    def test_defaults_match_help(self):
        binary = support.require_binary(self)
        help_text = " ".join(support.run([binary, "--help"]).stdout.split())
        text = " ".join(self.text.split())
        self.assertIn("(default: /var/lib/prometheus/node-exporter)", help_text)
        self.assertIn("Default: /var/lib/prometheus/node-exporter", text)
        for option, default in (("--interval", "15"), ("--retention", "300")):
            with self.subTest(option=option):
                self.assertRegex(help_text, re.escape(option) + r" SECONDS .*?\(default: "
                                 + default + r"\)")
                self.assertRegex(text, re.escape(option) + r" seconds .*?Default: "
                                 + default + r"\.")

    def test_every_metric_family_documented(self):
        metrics = self.section("METRICS").replace("\\-", "-")
        for family in support.FAMILIES:
            with self.subTest(family=family):
                self.assertRegex(metrics, r"\.B " + family + r"(\{|\n)")

    def test_exit_statuses_match_help(self):
        binary = support.require_binary(self)
        help_text = support.run([binary, "--help"]).stdout
        statuses = set(re.findall(r"^\s+(\d)\s+\S", help_text.split("Exit status:")[1],
                                  re.MULTILINE))
        documented = set(re.findall(r"^\.B (\d)$", self.section("EXIT STATUS"), re.MULTILINE))
        self.assertEqual(statuses, {"0", "1", "2"})
        self.assertEqual(documented, statuses)

    def test_make_install_installs_man_page(self):
        support.require_binary(self)
        root = support.make_tempdir(self, "ccapm-man-")
        support.run(["make", "--no-print-directory", "install", f"DESTDIR={root}",
                     "PREFIX=/usr"], cwd=support.REPO)
        installed = os.path.join(root, "usr", "share", "man", "man8", "ccapm-trace.8")
        self.assertTrue(os.path.isfile(installed), f"{installed} not installed")
        with open(installed) as page:
            self.assertEqual(page.read(), self.source)
        self.assertEqual(stat.S_IMODE(os.stat(installed).st_mode), 0o644)

    def test_make_uninstall_removes_man_page(self):
        support.require_binary(self)
        root = support.make_tempdir(self, "ccapm-man-")
        support.run(["make", "--no-print-directory", "install", f"DESTDIR={root}"],
                    cwd=support.REPO)
        support.run(["make", "--no-print-directory", "uninstall", f"DESTDIR={root}"],
                    cwd=support.REPO)
        leftovers = [os.path.join(directory, name)
                     for directory, _, names in os.walk(root) for name in names]
        self.assertEqual(leftovers, [])


if __name__ == "__main__":
    unittest.main()
