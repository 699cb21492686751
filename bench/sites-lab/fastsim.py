#!/usr/bin/env python3
"""A small, fast SNMPv2c responder over snmpsim's own data files: the bench's second
simulator (SIM=fast), for when snmpsim (about 2 to 3 ms of CPU per request) would be what a
benchmark measures.

    fastsim.py SITES_TXT DATA_DIR K PROCS

Serves the sites n (1-based line n of SITES_TXT: `id address community`) with
(n - 1) % PROCS == K, each on its own UDP socket bound to [address]:161, so replies leave
from the address the request went to. Site data is DATA_DIR/<community>.snmprec, the same
files snmpsim serves (tags 2, 4, 4x, 6, 65, 66, 67, 70). Answers GET, GETNEXT and GETBULK
for version 2c and the site's own community, as snmpsim does; anything else is dropped
(no SNMPv3, no SET, no traps). GET of a missing OID gives noSuchInstance (as snmpsim does),
reading past the last OID endOfMibView. A GETBULK answer holds at most 64 varbinds
(snmpsim's default cap).
Every answer is built from varbinds encoded once at start: the responder only looks OIDs up
(bisect) and copies bytes.
"""
import bisect
import os
import pwd
import grp
import select
import socket
import sys

from ber import integer, oid, tlv

MAX_VARBINDS = 64


def enc_value(tag, text):
    if tag == "2":
        return integer(int(text))
    if tag == "4":
        return tlv(0x04, text.encode())
    if tag == "4x":
        return tlv(0x04, bytes.fromhex(text))
    if tag == "6":
        return oid(text)
    unsigned = {"64": 0x40, "65": 0x41, "66": 0x42, "67": 0x43, "70": 0x46}
    if tag == "64":
        return tlv(0x40, bytes(int(x) for x in text.split(".")))
    if tag in unsigned:
        return integer(int(text), unsigned[tag], signed=False)
    raise ValueError(f"unsupported snmprec tag {tag}")


class Site:
    def __init__(self, community, path):
        self.community = community.encode()
        rows = []
        for line in open(path):
            dotted, tag, value = line.rstrip("\n").split("|", 2)
            arcs = tuple(int(x) for x in dotted.split("."))
            rows.append((arcs, tlv(0x30, oid(arcs) + enc_value(tag, value))))
        rows.sort()
        self.oids = [r[0] for r in rows]
        self.varbinds = [r[1] for r in rows]
        self.exact = dict(rows)

    def get(self, arcs):
        vb = self.exact.get(arcs)
        return vb if vb is not None else tlv(0x30, oid(arcs) + b"\x81\x00")

    def next_index(self, arcs):
        return bisect.bisect_right(self.oids, arcs)


# --- minimal BER reading -----------------------------------------------------------------
def read_tlv(buf, i):
    tag = buf[i]
    n = buf[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(buf[i:i + k], "big")
        i += k
    return tag, i, i + n  # tag, body start, body end


def read_int(buf, i):
    tag, s, e = read_tlv(buf, i)
    return int.from_bytes(buf[s:e], "big", signed=True), e


def dec_oid(body):
    arcs = [body[0] // 40, body[0] % 40]
    a = 0
    for b in body[1:]:
        a = (a << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(a)
            a = 0
    return tuple(arcs)


def answer(site, buf):
    """The response datagram for request `buf`, or None to drop it."""
    try:
        tag, s, e = read_tlv(buf, 0)
        if tag != 0x30:
            return None
        version, i = read_int(buf, s)
        if version != 1:
            return None
        tag, cs, ce = read_tlv(buf, i)
        if tag != 0x04 or buf[cs:ce] != site.community:
            return None
        pdu, ps, pe = read_tlv(buf, ce)
        if pdu not in (0xA0, 0xA1, 0xA5):
            return None
        tag, rs, re_ = read_tlv(buf, ps)
        request_id = buf[ps:re_]
        second, i = read_int(buf, re_)
        third, i = read_int(buf, i)
        tag, vs, ve = read_tlv(buf, i)
        oids = []
        i = vs
        while i < ve:
            tag, bs, be = read_tlv(buf, i)
            tag, os_, oe = read_tlv(buf, bs)
            oids.append(dec_oid(buf[os_:oe]))
            i = be
    except (IndexError, ValueError):
        return None

    out = []
    n_oids, vbs = len(site.oids), site.varbinds
    if pdu == 0xA0:
        out = [site.get(o) for o in oids]
    else:
        if pdu == 0xA1:
            non_repeaters, reps = len(oids), 0
        else:
            non_repeaters, reps = max(0, min(second, len(oids))), max(0, third)
        for o in oids[:non_repeaters]:
            j = site.next_index(o)
            out.append(vbs[j] if j < n_oids else tlv(0x30, oid(o) + b"\x82\x00"))
        repeaters = oids[non_repeaters:]
        if repeaters and reps:
            cursor = [site.next_index(o) for o in repeaters]
            last = list(repeaters)
            for _ in range(reps):
                if len(out) + len(repeaters) > MAX_VARBINDS or all(c >= n_oids for c in cursor):
                    break
                for k, j in enumerate(cursor):
                    if j < n_oids:
                        out.append(vbs[j])
                        last[k] = site.oids[j]
                        cursor[k] = j + 1
                    else:
                        out.append(tlv(0x30, oid(last[k]) + b"\x82\x00"))
    body = request_id + b"\x02\x01\x00\x02\x01\x00" + tlv(0x30, b"".join(out))
    return tlv(0x30, b"\x02\x01\x01" + tlv(0x04, site.community) + tlv(0xA2, body))


def main():
    sites_txt, data_dir, k, procs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    lines = [line.split() for line in open(sites_txt) if line.strip()]
    by_fd = {}
    poll = select.epoll()
    for n, (sid, addr, community) in enumerate(lines, start=1):
        if (n - 1) % procs != k:
            continue
        site = Site(community, os.path.join(data_dir, f"{community}.snmprec"))
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        sock.bind((addr, 161))
        sock.setblocking(False)
        by_fd[sock.fileno()] = (sock, site)
        poll.register(sock.fileno(), select.EPOLLIN)
    # Bound (port 161): drop root like snmpsim does.
    if os.getuid() == 0:
        os.setgroups([])
        os.setgid(grp.getgrnam("nogroup").gr_gid)
        os.setuid(pwd.getpwnam("nobody").pw_uid)
    print(f"fastsim p{k}: {len(by_fd)} sites", flush=True)
    while True:
        for fd, _ in poll.poll():
            sock, site = by_fd[fd]
            while True:
                try:
                    buf, peer = sock.recvfrom(65536)
                except BlockingIOError:
                    break
                reply = answer(site, buf)
                if reply is not None:
                    try:
                        sock.sendto(reply, peer)
                    except OSError:
                        pass


if __name__ == "__main__":
    main()
