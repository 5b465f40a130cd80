# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Parse the Prometheus text exposition format that ccapm-trace writes."""

import re

NAME_RE = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
LABEL_NAME_RE = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")
ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}

FILE_OPS = ("write", "rename", "delete", "mkdir")
FAMILIES = ("ipv4", "ipv6", "unix")


class FormatError(ValueError):
    """A line of the textfile is not valid exposition format."""


def _parse_labels(line, pos):
    """Parse '{a="x",b="y"}' starting at line[pos] == '{'.

    Returns the labels as a dict and the position just past the '}'.
    """
    labels = {}
    pos += 1
    while True:
        if line.startswith("}", pos):
            return labels, pos + 1
        match = LABEL_NAME_RE.match(line, pos)
        if not match:
            raise FormatError(f"invalid label name at column {pos}: {line!r}")
        name = match.group(0)
        pos = match.end()
        if not line.startswith('="', pos):
            raise FormatError(f"expected '=\"' after label {name}: {line!r}")
        pos += 2
        value = []
        while True:
            if pos >= len(line):
                raise FormatError(f"unterminated value of label {name}: {line!r}")
            char = line[pos]
            if char == '"':
                pos += 1
                break
            if char == "\\":
                escaped = line[pos + 1 : pos + 2]
                if escaped not in ESCAPES:
                    raise FormatError(f"invalid escape in label {name}: {line!r}")
                value.append(ESCAPES[escaped])
                pos += 2
                continue
            value.append(char)
            pos += 1
        if name in labels:
            raise FormatError(f"label {name} given twice: {line!r}")
        labels[name] = "".join(value)
        if line.startswith(",", pos):
            pos += 1


def _parse_value(text, line):
    try:
        return float(text)
    except ValueError:
        raise FormatError(f"invalid sample value {text!r}: {line!r}") from None


class Metrics:
    """The samples, HELP and TYPE lines of one textfile."""

    def __init__(self, text):
        self.text = text
        self.samples = {}  # (name, ((label, value), ...)) -> float
        self.help = {}
        self.types = {}
        if text and not text.endswith("\n"):
            raise FormatError("the file does not end with a newline")
        for line in text.splitlines():
            self._parse_line(line)

    def _parse_line(self, line):
        if not line:
            return
        if line.startswith("#"):
            parts = line.split(" ", 3)
            if len(parts) >= 3 and parts[1] == "HELP":
                self.help[parts[2]] = parts[3] if len(parts) > 3 else ""
            elif len(parts) >= 4 and parts[1] == "TYPE":
                self.types[parts[2]] = parts[3]
            return
        match = NAME_RE.match(line)
        if not match:
            raise FormatError(f"invalid metric name: {line!r}")
        name = match.group(0)
        pos = match.end()
        labels = {}
        if line.startswith("{", pos):
            labels, pos = _parse_labels(line, pos)
        fields = line[pos:].split()
        if not fields or len(fields) > 2:
            raise FormatError(f"expected a value and an optional timestamp: {line!r}")
        key = (name, tuple(sorted(labels.items())))
        if key in self.samples:
            raise FormatError(f"duplicate sample: {line!r}")
        self.samples[key] = _parse_value(fields[0], line)

    def get(self, name, **labels):
        """Return the value of one sample, or None when it is absent."""
        return self.samples.get((name, tuple(sorted(labels.items()))))

    def series(self, name):
        """Return (labels, value) for every sample of a metric."""
        return [(dict(labels), value) for (n, labels), value in self.samples.items() if n == name]

    def session_ids(self):
        """Return every session_id that any sample carries."""
        ids = set()
        for (_, labels), _ in self.samples.items():
            for label, value in labels:
                if label == "session_id":
                    ids.add(value)
        return ids

    def session_info(self):
        """Return the ccapm_session_info labels, keyed by session_id."""
        return {labels["session_id"]: labels for labels, _ in self.series("ccapm_session_info")}

    def samples_of_sessions(self, session_ids):
        """Return the samples whose session_id is in session_ids, for comparing snapshots."""
        selected = {}
        for key, value in self.samples.items():
            labels = dict(key[1])
            if labels.get("session_id") in session_ids:
                selected[key] = value
        return selected

    def counts(self, session_id):
        """Return the counter totals of one session, with 0 for absent series.

        Keys: commands, the file ops (write, rename, delete, mkdir) and the
        connect families (ipv4, ipv6, unix).
        """
        counts = {"commands": self.get("ccapm_commands_total", session_id=session_id) or 0}
        for op in FILE_OPS:
            counts[op] = self.get("ccapm_file_ops_total", session_id=session_id, op=op) or 0
        for family in FAMILIES:
            counts[family] = (
                self.get("ccapm_network_connects_total", session_id=session_id, family=family)
                or 0
            )
        return {key: int(value) for key, value in counts.items()}

    def rates(self, session_id):
        """Return the per-minute gauges of one session, with None for absent series."""
        names = ("commands", "file_ops", "network_connects", "actions")
        return {
            name: self.get(f"ccapm_{name}_per_minute", session_id=session_id) for name in names
        }


def expected_counts(**counts):
    """Return a counts() dict with the given keys set and every other key 0."""
    result = {key: 0 for key in ("commands",) + FILE_OPS + FAMILIES}
    for key, value in counts.items():
        if key not in result:
            raise KeyError(f"unknown count {key!r}: use one of {sorted(result)}")
        result[key] = value
    return result
