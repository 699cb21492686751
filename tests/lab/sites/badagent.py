#!/usr/bin/env python3
"""Misbehaving SNMPv2c agents for the sites lab; the community selects the behaviour.

Usage: badagent.py [--port 161] [--pidfile FILE] [--user nobody] [--max-binds 4]
                   [--delay 0.9] [--bad-walk COMMUNITY] [--too-big COMMUNITY]
                   [--slow COMMUNITY] ADDR [ADDR ...]

One process listens on every ADDR and answers every given community on each of them.

bad-walk: GET of the system group (sysDescr, sysObjectID, sysUpTime, sysName) is answered
correctly. GETNEXT and GETBULK under mib-2 (1.3.6.1.2.1: IF-MIB, IP-MIB, ...) answer every
variable with the very OID that was asked for, so a walk never advances: a correct walker
must stop with an error (net-snmp: "OID not increasing"). Elsewhere they answer
endOfMibView.

too-big: a correct agent over a small MIB (system group, IF-MIB for ifIndex 1 `lo` and 2
`wwan0`, ipAddressIfIndex for fd00:5d:22::1 and fe80::1 on ifIndex 2): GET, GETNEXT and
GETBULK walk properly, in increasing OID order, endOfMibView past the end. But a GETBULK
whose answer would hold more than --max-binds varbinds (non-repeaters + max-repetitions x
repeaters) gets error-status tooBig, error-index 0 and no varbinds (RFC 3416 4.2.1), so a
walker must ask for fewer repetitions. The default 4 refuses even one row of the poller's 6
interface columns (max-repetitions 1), so it must also split the columns; a single-column
walk passes at 4 repetitions or fewer.

slow: a correct agent like too-big (sysName `slow`), but with 300 interfaces `eth1` to
`eth300` plus ifIndex 301 `wwan0` (fd00:5d:23::1 and fe80::1), no size limit, and every
answer sent --delay seconds after its request: a poll that walks the interfaces 10 rows at
a time takes ~30 s. Answers wait in a queue, so the other agents stay fast meanwhile.

Each request's type, max-repetitions and varbind count go to the log (stderr).

Other communities and SNMP versions get no answer, like net-snmp.
Needs pysnmp and pyasn1 (installed with snmpsim, see README.md).
"""

import argparse
import bisect
import heapq
import ipaddress
import itertools
import os
import pwd
import select
import signal
import socket
import sys
import time

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
MIB2 = (1, 3, 6, 1, 2, 1)
MAX_ROWS = 10  # bad-walk: repetitions per GETBULK answer, whatever was asked
STARTED = time.monotonic()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def oid_of(text):
    return tuple(int(x) for x in text.split("."))


def system_group(name):
    """The system-group scalars of the agent called NAME (sysUpTime counts from start)."""
    return {
        oid_of("1.3.6.1.2.1.1.1.0"): v2c.OctetString(f"sixfive lab {name} agent"),
        oid_of("1.3.6.1.2.1.1.2.0"): v2c.ObjectIdentifier("1.3.6.1.4.1.8072.3.2.10"),
        oid_of("1.3.6.1.2.1.1.3.0"): v2c.TimeTicks(int((time.monotonic() - STARTED) * 100)),
        oid_of("1.3.6.1.2.1.1.5.0"): v2c.OctetString(name),
    }


def small_mib(agent, ifnames, wan6):
    """A correct agent's whole MIB, sorted by OID: a list of (oid, value). Interfaces get
    ifIndex 1, 2, ... in the order of IFNAMES; the last one (the uplink) holds WAN6."""
    mib = system_group(agent)
    for i, name in enumerate(ifnames, 1):
        octets = 5_000_000_000 if i == len(ifnames) else 0
        mib[oid_of(f"1.3.6.1.2.1.2.2.1.8.{i}")] = v2c.Integer(1)  # ifOperStatus up
        mib[oid_of(f"1.3.6.1.2.1.2.2.1.14.{i}")] = v2c.Counter32(0)  # ifInErrors
        mib[oid_of(f"1.3.6.1.2.1.2.2.1.20.{i}")] = v2c.Counter32(0)  # ifOutErrors
        mib[oid_of(f"1.3.6.1.2.1.31.1.1.1.1.{i}")] = v2c.OctetString(name)  # ifName
        mib[oid_of(f"1.3.6.1.2.1.31.1.1.1.6.{i}")] = v2c.Counter64(octets)  # ifHCInOctets
        mib[oid_of(f"1.3.6.1.2.1.31.1.1.1.10.{i}")] = v2c.Counter64(octets // 4)  # ...Out
    for addr in (wan6, "fe80::1"):  # ipAddressIfIndex.ipv6(2).16.<bytes> = the uplink
        index = tuple(ipaddress.ip_address(addr).packed)
        mib[oid_of("1.3.6.1.2.1.4.34.1.3.2.16") + index] = v2c.Integer(len(ifnames))
    return sorted(mib.items())


def too_big_mib():
    return small_mib("too-big", ["lo", "wwan0"], "fd00:5d:22::1")


def slow_mib():
    return small_mib("slow", [f"eth{i}" for i in range(1, 301)] + ["wwan0"], "fd00:5d:23::1")


def bad_next(oid):
    """bad-walk's broken successor: the same OID again under mib-2, else the end."""
    if oid[: len(MIB2)] == MIB2:
        return oid, v2c.Integer(1)
    return oid, v2c.EndOfMibView()


def answer(pdu, mode, max_binds):
    """(response PDU or None for PDUs an agent does not answer, a line for the log)."""
    oids = [tuple(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)]
    if mode == "too-big":
        mib = too_big_mib()
    elif mode == "slow":
        mib = slow_mib()
    else:
        mib = sorted(system_group("bad-walk").items())
    keys = [oid for oid, _ in mib]

    def get(oid):
        value = dict(mib).get(oid)
        return oid, v2c.NoSuchObject() if value is None else value

    def next_of(oid):
        if mode == "bad-walk":
            return bad_next(oid)
        i = bisect.bisect_right(keys, oid)  # the first OID after oid
        return mib[i] if i < len(mib) else (oid, v2c.EndOfMibView())

    response = v2c.apiPDU.get_response(pdu)
    binds = []
    if pdu.isSameTypeWith(v2c.GetRequestPDU()):
        what = f"GET {len(oids)} varbinds"
        binds = [get(oid) for oid in oids]
    elif pdu.isSameTypeWith(v2c.GetNextRequestPDU()):
        what = f"GETNEXT {len(oids)} varbinds"
        binds = [next_of(oid) for oid in oids]
    elif pdu.isSameTypeWith(v2c.GetBulkRequestPDU()):
        plain = max(0, int(v2c.apiBulkPDU.get_non_repeaters(pdu)))
        reps = max(0, int(v2c.apiBulkPDU.get_max_repetitions(pdu)))
        cursors = list(oids[plain:])
        what = f"GETBULK max-repetitions {reps}, {len(oids)} varbinds"
        what += f" ({plain} non-repeaters)" if plain else ""
        if mode == "bad-walk":
            reps = max(1, min(reps, MAX_ROWS))
        elif mode == "too-big" and len(oids[:plain]) + reps * len(cursors) > max_binds:
            v2c.apiPDU.set_error_status(response, 1)  # tooBig, error-index 0, no varbinds
            v2c.apiPDU.set_error_index(response, 0)
            v2c.apiPDU.set_varbinds(response, [])
            return response, what + " -> tooBig"
        binds = [next_of(oid) for oid in oids[:plain]]
        for _ in range(reps if cursors else 0):  # row by row: each repeater advances once
            row = [next_of(oid) for oid in cursors]
            cursors = [oid for oid, _ in row]
            binds += row
    else:
        return None, "ignored a PDU that is not GET, GETNEXT or GETBULK"
    v2c.apiPDU.set_varbinds(response, binds)
    return response, f"{what} -> {len(binds)} varbinds"


def serve(socks, modes, max_binds, delay):
    sequence = itertools.count()  # orders answers due at the same time
    queue = []  # slow's answers: (when to send, sequence, socket, datagram, peer)
    while True:
        while queue and queue[0][0] <= time.monotonic():
            _, _, sock, data, peer = heapq.heappop(queue)
            try:
                sock.sendto(data, peer)
            except OSError as exc:
                log(f"could not answer [{peer[0]}]: {exc}")
        wait = max(0.0, queue[0][0] - time.monotonic()) if queue else None
        for sock in select.select(socks, [], [], wait)[0]:
            data, peer = sock.recvfrom(65535)
            try:
                msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
                if int(msg["version"]) != api.SNMP_VERSION_2C:
                    continue
                mode = modes.get(bytes(v2c.apiMessage.get_community(msg)))
                if mode is None:
                    continue
                response, what = answer(v2c.apiMessage.get_pdu(msg), mode, max_binds)
            except Exception as exc:  # v1, v3 or garbage: ignored, as an agent would
                log(f"ignored a datagram from {peer[0]}: {exc.__class__.__name__}")
                continue
            if mode == "slow" and response is not None:
                what += f", sent in {delay} s"
            log(f"{mode} [{sock.getsockname()[0]}] from [{peer[0]}]: {what}")
            if response is None:
                continue
            out = v2c.apiMessage.get_response(msg)
            v2c.apiMessage.set_pdu(out, response)
            if mode == "slow":  # answered later, from the queue, without blocking the rest
                when = time.monotonic() + delay
                heapq.heappush(queue, (when, next(sequence), sock, encoder.encode(out), peer))
                continue
            sock.sendto(encoder.encode(out), peer)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=161)
    p.add_argument("--pidfile")
    p.add_argument("--user", default="nobody", help="whom to run as once bound (if root)")
    p.add_argument("--max-binds", type=int, default=4, help="too-big: GETBULK answer size")
    p.add_argument("--bad-walk", metavar="COMMUNITY", help="the bad-walk agent's community")
    p.add_argument("--too-big", metavar="COMMUNITY", help="the too-big agent's community")
    p.add_argument("--slow", metavar="COMMUNITY", help="the slow agent's community")
    p.add_argument("--delay", type=float, default=0.9, help="slow: seconds before answering")
    p.add_argument("addr", nargs="+")
    args = p.parse_args()
    given = (("bad-walk", args.bad_walk), ("too-big", args.too_big), ("slow", args.slow))
    modes = {community.encode(): mode for mode, community in given if community}
    if not modes:
        p.error("give --bad-walk, --too-big or --slow (any of them)")

    socks = []
    for addr in (a.strip("[]") for a in args.addr):
        family = socket.AF_INET6 if ":" in addr else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_DGRAM)
        sock.bind((addr, args.port))
        socks.append(sock)
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    # The ports are bound: nothing else needs root.
    if os.getuid() == 0:
        user = pwd.getpwnam(args.user)
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    where = ", ".join(f"[{s.getsockname()[0]}]:{args.port}" for s in socks)
    log(f"listening on {where} as {pwd.getpwuid(os.getuid()).pw_name}: "
        f"{', '.join(sorted(modes.values()))}; too-big: at most {args.max_binds} varbinds; "
        f"slow: answers after {args.delay} s")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(socks, modes, args.max_binds, args.delay)


if __name__ == "__main__":
    main()
