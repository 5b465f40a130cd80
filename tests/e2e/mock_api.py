# SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
"""Mock of the Anthropic Messages API that plays scripted agent turns.

Claude Code sends the whole conversation with every POST /v1/messages. The
mock finds the latest user prompt (a user message without tool_result
blocks), reads a marker of the form

    ccapm-e2e script=NAME workdir=/abs/dir port=PORT

from it, and replies with turn N of script NAME, where N is the number of
assistant messages after that prompt. Requests without tools (titles,
summaries, quota checks) get a short text reply. Every request is logged
as one JSON line, so tests can see what the CLI asked for.

Run it as a program (see --help). It binds to 127.0.0.1 only and writes the
port it got to --port-file once it accepts connections.
"""

import argparse
import http.server
import json
import os
import re
import sys
import threading
import uuid

MARKER = re.compile(r"ccapm-e2e script=(\S+) workdir=(\S+) port=(\d+)")

# The body the Bash tool call fetches from the mock, so the command has a
# connect of its own that tests can count.
PING_BODY = b"pong\n"


def bash(command, description):
    return {"type": "tool_use", "name": "Bash",
            "input": {"command": command, "description": description}}


def text(words):
    return {"type": "text", "text": words}


def tools_script(workdir, port):
    """Return the turns of the tool script: Bash, Write, Edit, final text.

    Tests count the effects in the work directory. The Bash call makes one
    directory and writes one file, Write creates notes.txt and Edit
    rewrites it. The Bash call also fetches /ping from the mock with curl.
    """
    command = (f"mkdir out && echo hello > out/hello.txt && ls out"
               f" && curl -sS -o /dev/null http://127.0.0.1:{port}/ping"
               f" && cat out/hello.txt")
    return [
        [text("Running a few commands."),
         bash(command, "Make a directory, write a file, fetch /ping")],
        [{"type": "tool_use", "name": "Write",
          "input": {"file_path": f"{workdir}/notes.txt",
                    "content": "first line\nsecond line\n"}}],
        [{"type": "tool_use", "name": "Edit",
          "input": {"file_path": f"{workdir}/notes.txt",
                    "old_string": "second line",
                    "new_string": "edited line"}}],
        [text("Done: ran the commands, wrote notes.txt and edited it.")],
    ]


def text_script(workdir, port):
    """Return the turns of the text-only script: one text reply, no tools."""
    return [[text("Hello from the mock. No tools are needed for this.")]]


def search_script(workdir, port):
    """Return the turns of the search script: Grep, Glob, one Bash file.

    In the native CLI, Grep and Glob re-execute the agent binary as rg or
    bfs. The Bash call writes one file, so the session has a file operation
    that tests can tell apart from the tool script's.
    """
    return [
        [{"type": "tool_use", "name": "Grep",
          "input": {"pattern": "needle", "path": workdir}}],
        [{"type": "tool_use", "name": "Glob",
          "input": {"pattern": "**/*.txt", "path": workdir}}],
        [bash("echo found > found.txt", "Write found.txt")],
        [text("Search finished.")],
    ]


def resume_script(workdir, port):
    """Return the turns of the resume script: one Bash file write."""
    return [
        [bash("echo again > again.txt", "Write again.txt")],
        [text("Wrote again.txt.")],
    ]


def wait_script(workdir, port):
    """Return the turns of the wait script, for a session the tracer joins.

    The Bash call waits until the test creates the file go in the work
    directory, then writes late.txt, so its file operation happens after
    the tracer has started.
    """
    command = ("while [ ! -e go ]; do sleep 0.1; done;"
               " echo late > late.txt")
    return [
        [bash(command, "Wait for go, then write late.txt")],
        [text("Wrote late.txt.")],
    ]


SCRIPTS = {
    "tools": tools_script,
    "text": text_script,
    "search": search_script,
    "resume": resume_script,
    "wait": wait_script,
}


def sse(event, data):
    return f"event: {event}\ndata: {json.dumps(data)}\n\n"


def stream_body(model, blocks):
    """Return the SSE text for one assistant message made of blocks.

    The event order follows the Messages API streaming format: message_start,
    then per block content_block_start, deltas and content_block_stop, then
    message_delta with the stop reason and message_stop.
    """
    stop_reason = "end_turn"
    if any(b["type"] == "tool_use" for b in blocks):
        stop_reason = "tool_use"
    message = {
        "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message",
        "role": "assistant", "model": model, "content": [],
        "stop_reason": None, "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 1,
                  "cache_creation_input_tokens": 0,
                  "cache_read_input_tokens": 0},
    }
    out = [sse("message_start", {"type": "message_start", "message": message})]
    for index, block in enumerate(blocks):
        if block["type"] == "text":
            start = {"type": "text", "text": ""}
            delta = {"type": "text_delta", "text": block["text"]}
        else:
            start = {"type": "tool_use", "id": f"toolu_{uuid.uuid4().hex[:24]}",
                     "name": block["name"], "input": {}}
            delta = {"type": "input_json_delta",
                     "partial_json": json.dumps(block["input"])}
        out.append(sse("content_block_start", {
            "type": "content_block_start", "index": index,
            "content_block": start}))
        out.append(sse("content_block_delta", {
            "type": "content_block_delta", "index": index, "delta": delta}))
        out.append(sse("content_block_stop", {
            "type": "content_block_stop", "index": index}))
    out.append(sse("message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": 12}}))
    out.append(sse("message_stop", {"type": "message_stop"}))
    return "".join(out).encode()


def json_body(model, blocks):
    """Return a non-streaming Messages API response for blocks."""
    content = []
    for block in blocks:
        if block["type"] == "text":
            content.append({"type": "text", "text": block["text"]})
        else:
            content.append({"type": "tool_use",
                            "id": f"toolu_{uuid.uuid4().hex[:24]}",
                            "name": block["name"], "input": block["input"]})
    stop_reason = "end_turn"
    if any(b["type"] == "tool_use" for b in blocks):
        stop_reason = "tool_use"
    return json.dumps({
        "id": f"msg_{uuid.uuid4().hex[:24]}", "type": "message",
        "role": "assistant", "model": model, "content": content,
        "stop_reason": stop_reason, "stop_sequence": None,
        "usage": {"input_tokens": 25, "output_tokens": 12},
    }).encode()


def block_texts(content):
    if isinstance(content, str):
        return [content]
    return [b.get("text", "") for b in content if b.get("type") == "text"]


def has_tool_result(content):
    return isinstance(content, list) and any(
        b.get("type") == "tool_result" for b in content)


def find_turn(messages):
    """Return (script name, workdir, port, turn index) or None.

    The prompt is the latest user message without tool_result blocks that
    carries the marker; the turn index counts assistant messages after it.
    """
    for i in range(len(messages) - 1, -1, -1):
        message = messages[i]
        if message.get("role") != "user":
            continue
        if has_tool_result(message.get("content")):
            continue
        for words in block_texts(message.get("content", "")):
            match = MARKER.search(words)
            if match:
                turn = sum(1 for m in messages[i + 1:]
                           if m.get("role") == "assistant")
                return match.group(1), match.group(2), int(match.group(3)), turn
    return None


def choose_blocks(request):
    """Return (blocks, note) for the reply to a Messages API request."""
    if not request.get("tools"):
        return [text("ok")], "no tools"
    found = find_turn(request.get("messages", []))
    if found is None:
        return [text("No ccapm-e2e marker in the prompt.")], "no marker"
    name, workdir, port, turn = found
    if name not in SCRIPTS:
        return [text(f"Unknown script {name}.")], "unknown script"
    turns = SCRIPTS[name](workdir, port)
    if turn >= len(turns):
        return [text("The script has ended.")], f"{name} past end"
    return turns[turn], f"{name} turn {turn}"


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):
        pass

    def record(self, entry):
        entry["method"] = self.command
        entry["path"] = self.path
        entry["host"] = self.headers.get("Host")
        with self.server.log_lock:
            self.server.log.write(json.dumps(entry) + "\n")
            self.server.log.flush()

    def send(self, status, content_type, body):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/ping":
            self.record({"note": "ping"})
            self.send(200, "text/plain", PING_BODY)
            return
        self.record({"note": "not found"})
        self.send(404, "application/json", b'{"type":"error"}')

    def do_HEAD(self):
        self.record({"note": "head"})
        self.send(200, "text/plain", b"")

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        raw = self.rfile.read(length)
        path = self.path.split("?", 1)[0]
        if path == "/v1/messages/count_tokens":
            self.record({"note": "count_tokens"})
            self.send(200, "application/json", b'{"input_tokens": 100}')
            return
        if path != "/v1/messages":
            self.record({"note": "not found"})
            self.send(404, "application/json", b'{"type":"error"}')
            return
        try:
            request = json.loads(raw)
        except ValueError as error:
            self.record({"note": f"invalid JSON: {error}"})
            self.send(400, "application/json", b'{"type":"error"}')
            return
        blocks, note = choose_blocks(request)
        model = request.get("model", "claude-mock")
        self.record({"note": note, "stream": bool(request.get("stream")),
                     "model": model, "tools": len(request.get("tools") or []),
                     "messages": len(request.get("messages") or []),
                     "reply": [b.get("name", "text") for b in blocks]})
        if request.get("stream"):
            self.send(200, "text/event-stream", stream_body(model, blocks))
        else:
            self.send(200, "application/json", json_body(model, blocks))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0,
                        help="TCP port on 127.0.0.1 (default: any free one)")
    parser.add_argument("--port-file", required=True,
                        help="file the bound port is written to when ready")
    parser.add_argument("--log", required=True,
                        help="file that receives one JSON line per request")
    args = parser.parse_args()

    server = http.server.ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    server.log = open(args.log, "a", encoding="utf-8")
    server.log_lock = threading.Lock()

    temp = args.port_file + ".tmp"
    with open(temp, "w", encoding="utf-8") as f:
        f.write(f"{server.server_address[1]}\n")
    os.rename(temp, args.port_file)

    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.log.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
