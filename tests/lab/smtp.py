#!/usr/bin/env python3
"""Minimal SMTP listener for the sixfive network lab.

Usage: smtp.py [--port 25] [--pidfile FILE] ADDR=NAME [ADDR=NAME ...]

Listens on ADDR:port for each pair and greets with `220 NAME ESMTP sixfive-lab`.
EHLO answers `250-NAME` / `250 PIPELINING`, QUIT answers 221 and closes. Enough of
MAIL/RCPT/DATA is there for a client that goes further, but nothing is delivered.
"""

import argparse
import asyncio
import os
import signal
import sys

IDLE_TIMEOUT = 60


def log(msg):
    print(msg, file=sys.stderr, flush=True)


async def session(name, reader, writer):
    peer = writer.get_extra_info("peername")
    log(f"{name}: connection from {peer}")

    async def send(line):
        writer.write(line.encode() + b"\r\n")
        await writer.drain()

    try:
        await send(f"220 {name} ESMTP sixfive-lab")
        in_data = False
        while True:
            raw = await asyncio.wait_for(reader.readline(), IDLE_TIMEOUT)
            if not raw:
                break
            line = raw.decode("latin-1").rstrip("\r\n")
            if in_data:
                if line == ".":
                    in_data = False
                    await send("250 2.0.0 Ok: discarded by sixfive-lab")
                continue
            verb = line.split(" ", 1)[0].upper()
            if verb == "EHLO":
                await send(f"250-{name}")
                await send("250 PIPELINING")
            elif verb == "HELO":
                await send(f"250 {name}")
            elif verb == "QUIT":
                await send(f"221 2.0.0 {name} closing connection")
                break
            elif verb in ("NOOP", "RSET"):
                await send("250 2.0.0 Ok")
            elif verb in ("MAIL", "RCPT"):
                await send("250 2.1.0 Ok")
            elif verb == "DATA":
                in_data = True
                await send("354 End data with <CR><LF>.<CR><LF>")
            elif verb == "STARTTLS":
                await send("454 4.7.0 TLS not available")
            else:
                await send("500 5.5.2 Command not recognized")
    except (asyncio.TimeoutError, ConnectionError):
        pass
    finally:
        try:
            writer.close()
            await writer.wait_closed()
        except Exception:
            pass


async def main(args):
    servers = []
    for pair in args.listen:
        addr, sep, name = pair.partition("=")
        if not sep or not addr or not name:
            raise SystemExit(f"smtp.py: bad listen pair {pair!r}, want ADDR=NAME")
        addr = addr.strip("[]")

        def handler(r, w, name=name):
            return session(name, r, w)

        servers.append(await asyncio.start_server(handler, host=addr, port=args.port))
        log(f"listening on [{addr}]:{args.port} as {name}")
    await serve_until_stopped(servers, args.pidfile)


async def serve_until_stopped(servers, pidfile):
    """Writes PIDFILE (when given), serves until SIGTERM or SIGINT, then closes SERVERS and
    removes it. The lab's asyncio listeners (this one, hold.py) end so."""
    if pidfile:
        with open(pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()
    for s in servers:
        s.close()
    if pidfile:
        try:
            os.unlink(pidfile)
        except OSError:
            pass


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--pidfile")
    p.add_argument("listen", nargs="+", metavar="ADDR=NAME")
    asyncio.run(main(p.parse_args()))
