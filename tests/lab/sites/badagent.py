#!/usr/bin/env python3
"""A malformed SNMPv2c agent for the sites lab (the `bad-walk` site).

Usage: badagent.py [--port 161] [--pidfile FILE] [--user nobody] --community NAME ADDR

GET of the system group (sysDescr, sysObjectID, sysUpTime, sysName) is answered
correctly. GETNEXT and GETBULK under mib-2 (1.3.6.1.2.1: IF-MIB, IP-MIB, ...) answer every
variable with the very OID that was asked for, so a walk never advances: a correct walker
must stop with an error (net-snmp: "OID not increasing"). Elsewhere they answer
endOfMibView. Other communities and SNMP versions get no answer, like net-snmp.
Needs pysnmp and pyasn1 (installed with snmpsim, see README.md).
"""

import argparse
import os
import pwd
import signal
import socket
import sys
import time

from pyasn1.codec.ber import decoder, encoder
from pysnmp.proto import api

v2c = api.PROTOCOL_MODULES[api.SNMP_VERSION_2C]
MIB2 = (1, 3, 6, 1, 2, 1)
MAX_ROWS = 10  # repetitions per GETBULK answer, whatever was asked: keeps answers small
STARTED = time.monotonic()


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def system_group(oid):
    """The value of a system-group scalar, or None."""
    uptime = int((time.monotonic() - STARTED) * 100)
    return {
        (1, 3, 6, 1, 2, 1, 1, 1, 0): v2c.OctetString("sixfive lab bad-walk agent"),
        (1, 3, 6, 1, 2, 1, 1, 2, 0): v2c.ObjectIdentifier("1.3.6.1.4.1.8072.3.2.10"),
        (1, 3, 6, 1, 2, 1, 1, 3, 0): v2c.TimeTicks(uptime),
        (1, 3, 6, 1, 2, 1, 1, 5, 0): v2c.OctetString("bad-walk"),
    }.get(oid)


def next_of(oid):
    """The broken successor: the same OID again under mib-2, else the end of the MIB."""
    if oid[: len(MIB2)] == MIB2:
        return oid, v2c.Integer(1)
    return oid, v2c.EndOfMibView()


def answer(pdu):
    """The response PDU for a request PDU, or None for PDUs an agent does not answer."""
    oids = [tuple(oid) for oid, _ in v2c.apiPDU.get_varbinds(pdu)]
    if pdu.isSameTypeWith(v2c.GetRequestPDU()):
        binds = []
        for oid in oids:
            value = system_group(oid)
            binds.append((oid, v2c.NoSuchObject() if value is None else value))
    elif pdu.isSameTypeWith(v2c.GetNextRequestPDU()):
        binds = [next_of(oid) for oid in oids]
    elif pdu.isSameTypeWith(v2c.GetBulkRequestPDU()):
        plain = int(v2c.apiBulkPDU.get_non_repeaters(pdu))
        rows = max(1, min(int(v2c.apiBulkPDU.get_max_repetitions(pdu)), MAX_ROWS))
        binds = [next_of(oid) for oid in oids[:plain]]
        for _ in range(rows if oids[plain:] else 0):
            binds += [next_of(oid) for oid in oids[plain:]]
    else:
        return None
    response = v2c.apiPDU.get_response(pdu)
    v2c.apiPDU.set_varbinds(response, binds)
    return response


def serve(sock, community):
    while True:
        data, peer = sock.recvfrom(65535)
        try:
            msg, _ = decoder.decode(data, asn1Spec=v2c.Message())
            if int(msg["version"]) != api.SNMP_VERSION_2C:
                continue
            if bytes(v2c.apiMessage.get_community(msg)) != community:
                continue
            response = answer(v2c.apiMessage.get_pdu(msg))
        except Exception as exc:  # v1, v3 or garbage: ignored, as an agent would
            log(f"ignored a datagram from {peer[0]}: {exc.__class__.__name__}")
            continue
        if response is None:
            continue
        out = v2c.apiMessage.get_response(msg)
        v2c.apiMessage.set_pdu(out, response)
        sock.sendto(encoder.encode(out), peer)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--port", type=int, default=161)
    p.add_argument("--pidfile")
    p.add_argument("--user", default="nobody", help="whom to run as once bound (if root)")
    p.add_argument("--community", required=True)
    p.add_argument("addr")
    args = p.parse_args()

    addr = args.addr.strip("[]")
    family = socket.AF_INET6 if ":" in addr else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_DGRAM)
    sock.bind((addr, args.port))
    if args.pidfile:
        with open(args.pidfile, "w") as f:
            f.write(f"{os.getpid()}\n")
    # The port is bound: nothing else needs root.
    if os.getuid() == 0:
        user = pwd.getpwnam(args.user)
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)
    log(f"listening on [{addr}]:{args.port} as {pwd.getpwuid(os.getuid()).pw_name}")
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve(sock, args.community.encode())


if __name__ == "__main__":
    main()
