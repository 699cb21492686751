#!/usr/bin/env python3
"""snmpsim's own capacity: SNMP requests per second that the simulated sites answer.

    capacity.py SITES_TXT [SECONDS] [IN_FLIGHT]

Keeps IN_FLIGHT requests (default 64, like the bench's concurrency) in flight over the
sites of SITES_TXT (`id address community` lines), one connected UDP socket per site and at
most one request per site at a time, for SECONDS (default 5). The requests cycle through
the poll's own mix: a GET of sysDescr, sysObjectID, sysUpTime and sysName, a GETBULK
(max-repetitions 10) of ifName, and a GETBULK of the modem table. Replies are counted, not
decoded; a request unanswered after 2 s is counted lost and sent again. The client only
copies bytes (pre-encoded requests), so nearly all the CPU it measures is snmpsim's.
Prints `requests N answered N lost N seconds S rate R/s`.
"""
import random
import resource
import select
import socket
import sys
import time

from ber import integer, oid, tlv

sites = [line.split() for line in open(sys.argv[1]) if line.strip()]
seconds = float(sys.argv[2]) if len(sys.argv) > 2 else 5.0
in_flight = int(sys.argv[3]) if len(sys.argv) > 3 else 64


def message(community, pdu_tag, oids, second=0, third=0, request_id=1):
    varbinds = b"".join(tlv(0x30, oid(o) + b"\x05\x00") for o in oids)
    pdu = tlv(pdu_tag, integer(request_id) + integer(second) + integer(third) + tlv(0x30, varbinds))
    return tlv(0x30, integer(1) + tlv(0x04, community.encode()) + pdu)


def requests(community):
    system = ["1.3.6.1.2.1.1.1.0", "1.3.6.1.2.1.1.2.0", "1.3.6.1.2.1.1.3.0", "1.3.6.1.2.1.1.5.0"]
    return [
        message(community, 0xA0, system),                                   # GET
        message(community, 0xA5, ["1.3.6.1.2.1.31.1.1.1.1"], 0, 10),        # GETBULK ifName
        message(community, 0xA5, ["1.3.6.1.4.1.48690.2.2.1"], 0, 10),       # GETBULK modem
    ]


soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, len(sites) + 64)), hard))
poll = select.poll()
by_fd = {}
for sid, addr, community in sites:
    s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    s.setblocking(False)
    s.connect((addr, 161))
    poll.register(s, select.POLLIN)
    by_fd[s.fileno()] = [s, requests(community), 0, None]  # socket, mix, next, sent at

idle = list(by_fd)
random.Random(1).shuffle(idle)  # spread the load over all snmpsim processes
busy = {}
sent = answered = lost = 0
start = time.monotonic()
end = start + seconds


def send(fd, now):
    global sent
    entry = by_fd[fd]
    entry[0].send(entry[1][entry[2] % 3])
    entry[2] += 1
    busy[fd] = now
    sent += 1


now = start
while len(busy) < in_flight and idle:
    send(idle.pop(0), now)
while now < end:
    for fd, _ in poll.poll(100):
        by_fd[fd][0].recv(65536)
        if fd in busy:
            del busy[fd]
            answered += 1
            idle.append(fd)
    now = time.monotonic()
    for fd, at in list(busy.items()):
        if now - at > 2.0:
            del busy[fd]
            lost += 1
            idle.append(fd)
    while len(busy) < in_flight and idle and now < end:
        send(idle.pop(0), now)
took = time.monotonic() - start
print(f"requests {sent} answered {answered} lost {lost} seconds {took:.2f} rate {answered / took:.0f}/s")
