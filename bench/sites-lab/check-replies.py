#!/usr/bin/env python3
"""Checks that every simulated site answers, from its own address, with its own data.

    check-replies.py SITES_TXT [DEADLINE_S]

For each line `id address community` of SITES_TXT it sends an SNMPv2c GET of sysName.0 from a
*connected* UDP socket: the kernel drops a reply from any other source address, as it does
for sixfive's and net-snmp's clients. A site passes when its reply carries sysName == id.
Requests go out to all sites at once, unanswered ones again every second, until all pass or
DEADLINE_S (default 120) runs out. Prints `replies ok N/N` and exits 0 when all pass.
"""
import resource
import select
import socket
import sys
import time

from ber import tlv

sites = [line.split() for line in open(sys.argv[1]) if line.strip()]
deadline = time.monotonic() + float(sys.argv[2] if len(sys.argv) > 2 else 120)


def get_sysname(community):
    oid = bytes([0x2B, 6, 1, 2, 1, 1, 5, 0])  # 1.3.6.1.2.1.1.5.0
    varbind = tlv(0x30, tlv(0x06, oid) + b"\x05\x00")
    pdu = tlv(0xA0, tlv(0x02, b"\x01") + tlv(0x02, b"\x00") + tlv(0x02, b"\x00") + tlv(0x30, varbind))
    return tlv(0x30, tlv(0x02, b"\x01") + tlv(0x04, community.encode()) + pdu)


soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, len(sites) + 64)), hard))
socks = {}
poll = select.poll()
for sid, addr, community in sites:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect((addr, 161))
    socks[s.fileno()] = (s, sid, community)
    poll.register(s, select.POLLIN)

pending = dict(socks)
wrong = {}
while pending and time.monotonic() < deadline:
    for s, _, community in pending.values():
        try:
            s.send(get_sysname(community))
        except OSError:
            pass
    until = min(time.monotonic() + 1.0, deadline)
    while pending and time.monotonic() < until:
        for fd, _ in poll.poll(max(0.0, until - time.monotonic()) * 1000):
            if fd not in pending:
                socks[fd][0].recv(4096)  # a late duplicate
                continue
            s, sid, _ = pending[fd]
            try:
                data = s.recv(4096)
            except OSError:
                continue
            name = sid.encode()
            if data.endswith(bytes([0x04, len(name)]) + name):
                del pending[fd]
                wrong.pop(sid, None)
            else:
                wrong[sid] = data[-24:]

ok = len(sites) - len(pending)
print(f"replies ok {ok}/{len(sites)}")
for s, sid, _ in list(pending.values())[:10]:
    why = f"wrong data {wrong[sid]!r}" if sid in wrong else "no reply from its own address"
    print(f"  {sid} {s.getpeername()[0]}: {why}", file=sys.stderr)
sys.exit(0 if not pending else 1)
