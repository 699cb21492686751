#!/usr/bin/env python3
"""A web listener for the sixfive network lab that holds every request for a while and
logs how many it holds at once: the per-address limit (scan.per_host), measured at the
peer by tests/scope.rs.

Usage: hold.py [--port 80] [--hold 0.3] --log FILE [--pidfile FILE] ADDR [ADDR ...]

A request is answered HOLD seconds after it arrived, with a small 200 page. When it has
arrived, `held ADDR N` is appended to FILE, N being the requests to ADDR held at that
moment (this one included), and once answered `answered ADDR N`. Requests, not
connections, are counted: a client waits for its answer, so a held request is a probe in
flight for certain, while a bare connect the client has already closed may still look
open to the listener for a moment.
"""

import argparse
import asyncio

# smtp.py beside it: the lab's asyncio listeners start and stop alike.
from smtp import serve_until_stopped

PAGE = b"<html><body><h1>hold</h1></body></html>\n"


async def session(address, reader, writer, state):
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
        writer.close()
        return
    state.held[address] = state.held.get(address, 0) + 1
    state.write(f"held {address} {state.held[address]}")
    await asyncio.sleep(state.hold)
    # Counted as answered before the answer leaves: the client holds its slot until then.
    state.held[address] -= 1
    state.write(f"answered {address} {state.held[address]}")
    try:
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(PAGE)}\r\n\r\n".encode()
            + (b"" if request.startswith(b"HEAD ") else PAGE)
        )
        await writer.drain()
        writer.close()
        await writer.wait_closed()
    except ConnectionError:
        pass


class State:
    def __init__(self, log, hold):
        self.held = {}
        self.hold = hold
        # Line-buffered: a test reads each line as soon as it is written.
        self.log = open(log, "a", buffering=1)

    def write(self, line):
        self.log.write(line + "\n")


async def main(args):
    state = State(args.log, args.hold)
    servers = []
    for address in args.addresses:
        address = address.strip("[]")

        def handler(r, w, address=address):
            return session(address, r, w, state)

        servers.append(await asyncio.start_server(handler, host=address, port=args.port))
    await serve_until_stopped(servers, args.pidfile)


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--hold", type=float, default=0.3)
    p.add_argument("--log", required=True)
    p.add_argument("--pidfile")
    p.add_argument("addresses", nargs="+", metavar="ADDR")
    asyncio.run(main(p.parse_args()))
