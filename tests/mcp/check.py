"""`apicall mcp` driven by the official MCP Python SDK (`mcp` on PyPI), a client nobody here wrote.

Serves the seed (examples/calls.yaml) over stdio and over streamable HTTP, each to a client of
the initialize handshake ("legacy") and one of protocol 2026-07-28 (no handshake), and for each:
lists the tools, calls the lookup against a local stand-in CRM, calls the order lookup, and
sends arguments that do not fit. The CRM key goes in through --var-env and must come back
nowhere. Over stdio, a slow call of a second file's is called with a progress callback, which
hears its `messages:` lines in order.

Usage: python check.py APICALL CALLS_YAML
"""

import asyncio
import http.server
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

from mcp import Client, StdioServerParameters
from mcp.client.stdio import stdio_client

SECRET = "sk-mcp-check-7f3a"
PHONE = "+15551234567"
MODES = ["legacy", "2026-07-28"]
# A call with lines to say while it runs; its order `SLOW-1` answers after 0.6 s.
SPOKEN = """\
api_calls:
  - name: order_status
    description: Fetch an order's status when the customer reads out its number
    url: https://orders.example.com/orders/{{collected.order_id}}
    method: GET
    parameters:
      - { name: order_id, type: string, required: true }
    messages:
      start: "Looking up order {{collected.order_id}}."
      delayed: { after_ms: 200, say: "Still looking." }
    response_variables:
      - { path: order.status, variable: order_status }
"""


class Crm(http.server.BaseHTTPRequestHandler):
    """The seed's CRM and order API: the caller by phone (with the key), an order by number."""

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/api/customers":
            if self.headers.get("Authorization") != f"Bearer {SECRET}":
                return self.answer(401, {"error": "bad key"})
            if query.get("phone") != [PHONE]:
                return self.answer(404, {"error": "unknown caller"})
            return self.answer(
                200, {"customer": {"name": "Ada Lovelace", "tier": "gold", "last_order": "A-1042"}}
            )
        if url.path.startswith("/orders/"):
            order = urllib.parse.unquote(url.path[len("/orders/") :])
            if order == "SLOW-1":
                time.sleep(0.6)
            return self.answer(200, {"order": {"status": f"shipped {order}"}})
        return self.answer(404, {})

    def answer(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def serve_crm():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Crm)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return f"http://127.0.0.1:{server.server_address[1]}"


def arguments(yaml, crm, *extra):
    return [
        "mcp", yaml,
        "--var", f"caller_phone={PHONE}",
        "--var-env", "api_key=MCP_CHECK_CRM_KEY",
        "--base-url", crm,
        *extra,
    ]  # fmt: skip


def text_of(result):
    return "".join(block.text for block in result.content if block.type == "text")


async def exercise(client, where):
    """The checks one connected client runs; returns what it was sent, to search for the key."""
    seen = []
    tools = {tool.name: tool for tool in (await client.list_tools()).tools}
    assert {"lookup_customer", "order_status"} <= set(tools), f"{where}: tools {sorted(tools)}"
    order_tool = tools["order_status"]
    assert order_tool.input_schema["required"] == ["order_id"], order_tool.input_schema
    assert order_tool.output_schema["properties"]["order_status"], order_tool.output_schema
    assert tools["lookup_customer"].description.startswith("Look up customer")
    seen.append(json.dumps([tool.model_dump(mode="json") for tool in tools.values()]))

    customer = await client.call_tool("lookup_customer", {})
    expected = {"customer_name": "Ada Lovelace", "tier": "gold", "last_order": "A-1042"}
    assert not customer.is_error, f"{where}: {text_of(customer)}"
    assert customer.structured_content == expected, f"{where}: {customer.structured_content}"
    assert json.loads(text_of(customer)) == expected, f"{where}: {text_of(customer)}"
    seen.append(text_of(customer))

    order = await client.call_tool("order_status", {"order_id": "A-1042"})
    assert not order.is_error, f"{where}: {text_of(order)}"
    assert order.structured_content == {"order_status": "shipped A-1042"}, order.structured_content

    wrong = await client.call_tool("order_status", {"order_id": 1042})
    assert wrong.is_error, f"{where}: {text_of(wrong)}"
    assert json.loads(text_of(wrong)) == {
        "error": "invalid arguments",
        "problems": ["`order_id` must be a string"],
    }, f"{where}: {text_of(wrong)}"
    seen.append(text_of(wrong))
    return seen


async def over_stdio(apicall, yaml, crm, mode, log):
    server = StdioServerParameters(
        command=apicall,
        args=arguments(yaml, crm),
        env={"MCP_CHECK_CRM_KEY": SECRET, "RUST_LOG": "debug"},
    )
    with tempfile.TemporaryFile("w+") as stderr:
        async with Client(stdio_client(server, errlog=stderr), mode=mode) as client:
            seen = await exercise(client, f"stdio, {mode}")
        stderr.seek(0)
        log.append(stderr.read())
    return seen


async def progress(apicall, crm, mode):
    """A call's `messages:` reach a progress callback, numbered from 1, before its result."""
    with tempfile.TemporaryDirectory() as directory:
        yaml = os.path.join(directory, "spoken.yaml")
        with open(yaml, "w") as file:
            file.write(SPOKEN)
        server = StdioServerParameters(command=apicall, args=["mcp", yaml, "--base-url", crm])
        async with Client(stdio_client(server), mode=mode) as client:
            said = []

            async def heard(progress, total, message):
                said.append((progress, message))

            order = await client.call_tool(
                "order_status", {"order_id": "SLOW-1"}, progress_callback=heard
            )
            assert not order.is_error, f"progress, {mode}: {text_of(order)}"
            assert order.structured_content == {"order_status": "shipped SLOW-1"}
            expected = [(1.0, "Looking up order SLOW-1."), (2.0, "Still looking.")]
            assert said == expected, f"progress, {mode}: {said}"


async def over_http(apicall, yaml, crm, log):
    process = subprocess.Popen(
        [apicall, *arguments(yaml, crm, "--http", "127.0.0.1:0")],
        env={**os.environ, "MCP_CHECK_CRM_KEY": SECRET, "RUST_LOG": "debug"},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = None
        while url is None:
            line = process.stderr.readline()
            assert line, "apicall mcp --http exited without saying where it listens"
            log.append(line)
            if " at http://" in line:
                url = line.split(" at ", 1)[1].strip()
        threading.Thread(target=lambda: log.extend(process.stderr), daemon=True).start()
        seen = []
        for mode in MODES:
            async with Client(url, mode=mode) as client:
                seen += await exercise(client, f"http, {mode}")
        return seen
    finally:
        process.terminate()
        stdout, _ = process.communicate(timeout=10)
        assert stdout == "", f"--http wrote to stdout: {stdout!r}"


async def main(apicall, yaml):
    crm = serve_crm()
    seen, log = [], []
    for mode in MODES:
        seen += await over_stdio(apicall, yaml, crm, mode, log)
        await progress(apicall, crm, mode)
    seen += await over_http(apicall, yaml, crm, log)
    assert SECRET not in "\n".join(seen + log), "the CRM key was sent to a client or logged"
    print(
        f"mcp-check: stdio and streamable HTTP, {' and '.join(MODES)} clients: all behaved,"
        " progress included"
    )


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2]))
