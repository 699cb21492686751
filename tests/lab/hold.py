#!/usr/bin/env python3
"""A web listener for the sixfive network lab that holds every request for a while and
logs how many connections it has open at once: the per-address limit (scan.per_host),
measured at the peer by tests/scope.rs.

Usage: hold.py [--port 80] [--hold 0.3] --log FILE [--pidfile FILE] ADDR [ADDR ...]

Every connection appends `open ADDR N` to FILE when it is accepted, N being the
connections to ADDR open at that moment (this one included), and `close ADDR N` when it
ends. A request is answered HOLD seconds after it arrived, with a small 200 page; a client
that closes first (a bare TCP connect) ends its connection at once, so N counts only
clients still waiting.
"""

import argparse
import asyncio
import os
import signal

PAGE = b"<html><body><h1>hold</h1></body></html>\n"


async def session(address, reader, writer, state):
    state.open[address] = state.open.get(address, 0) + 1
    state.write(f"open {address} {state.open[address]}")
    try:
        request = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        await asyncio.sleep(state.hold)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nConnection: close\r\n"
            + f"Content-Length: {len(PAGE)}\r\n\r\n".encode()
            + (b"" if request.startswith(b"HEAD ") else PAGE)
        )
        await writer.drain()
    except (asyncio.IncompleteReadError, asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        state.open[address] -= 1
        state.write(f"close {address} {state.open[address]}")
        writer.close()
        try:
            await writer.wait_closed()
        except ConnectionError:
            pass


class State:
    def __init__(self, log, hold):
        self.open = {}
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
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=80)
    p.add_argument("--hold", type=float, default=0.3)
    p.add_argument("--log", required=True)
    p.add_argument("--pidfile")
    p.add_argument("addresses", nargs="+", metavar="ADDR")
    asyncio.run(main(p.parse_args()))
