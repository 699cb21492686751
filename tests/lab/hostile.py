#!/usr/bin/env python3
"""Hostile peers for tests/hostile.rs: DNS, SNMP, TLS and SMTP servers that misbehave on
purpose, so the scanner's deadlines, memory bound and error reports can be asserted.
Python 3 stdlib only; DNS and SNMP bytes are crafted by hand (SNMP's BER with the
bench's encoders, bench/sites-lab/ber.py).

Usage: hostile.py MODE [options]   (the test starts it with `ip netns exec` in its own
namespace; it prints `ready` on stdout once every socket listens)

dns --listen ADDR [--listen ADDR ...] --behaviour B [--spoof-from ADDR] --zone NAME=V6,V4 ...
    Answers the zone hostile.test (SOA, NS ns.hostile.test at the first listen address,
    AAAA and A of each NAME, NODATA for the rest of the zone, NXDOMAIN elsewhere) on UDP
    and TCP port 53, as behaviour B says:
      zone       correctly
      truncate   every UDP answer empty with TC set; TCP connections accepted, never answered
      oversized  every UDP answer 1,400 AAAA records (~62 KB, far past the 1,232 bytes the
                 query's EDNS allows), without TC; TCP the same
      many       every UDP answer empty with TC set; over TCP 1,400 AAAA records (fd00:67::/64)
      malformed  every answer the query's id, QR set, counts that promise records, then junk
      wrong-id   correct answers under another query id
      spoofed    correct answers, sent from --spoof-from rather than the address asked

snmp --listen ADDR [--listen ADDR ...]
    An SNMPv2c agent on UDP port 161; the community picks the behaviour:
      wrong-id   correct answers (system group, one uplink `wwan0`) under another request id
      garbage    random bytes for every request
      loop       system group right; every walk runs .1, .2, then back to .1
      endless    system group right; every walk's next OID is one past the one asked, for ever
      huge       system group with a 60,000-byte sysDescr; walks answer 8,000-byte
                 strings, for ever
    Other communities and versions get no answer.

tls-chain --listen ADDR ... --port P --chain FILE --key FILE
    TLS on P sending the certificate chain in FILE (the test writes hundreds of certificates).

tls-stall --listen ADDR ... --port P
    Reads the ClientHello, sends the first half of a ServerHello record, then says nothing.

smtp-drip --listen ADDR ... [--port 25]
    Sends `220 drip.hostile.test ESMTP` one byte a second.
"""

import argparse
import os
import random
import socket
import ssl
import struct
import sys
import threading
import time

# The BER encoders the bench's SNMP scripts share (bench/sites-lab/ber.py), not a copy.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "../../bench/sites-lab"))
from ber import integer as ber_int, oid as ber_oid, tlv  # noqa: E402

ZONE = "hostile.test"


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def family(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def udp_socket(addr, port):
    s = socket.socket(family(addr), socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    return s


def tcp_listener(addr, port):
    s = socket.socket(family(addr), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, port))
    s.listen(64)
    return s


def spawn(target, *args):
    threading.Thread(target=target, args=args, daemon=True).start()


def serve_tcp(listener, session):
    """Accepts for ever, one thread per connection."""
    while True:
        conn, _ = listener.accept()
        spawn(session, conn)


# --- DNS -------------------------------------------------------------------------------


def encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def parse_question(msg):
    """(id, rd, qname, qtype, end of the question) of a query, or None."""
    if len(msg) < 12:
        return None
    qid, flags, qdcount = struct.unpack("!HHH", msg[:6])
    if qdcount != 1:
        return None
    labels, i = [], 12
    while i < len(msg) and msg[i] != 0:
        n = msg[i]
        if n > 63:
            return None
        labels.append(msg[i + 1 : i + 1 + n].decode("latin-1"))
        i += 1 + n
    if i + 5 > len(msg):
        return None
    qtype = struct.unpack("!H", msg[i + 1 : i + 3])[0]
    return qid, flags & 0x0100, ".".join(labels).lower(), qtype, i + 5


def rr(name, rtype, data, ttl=60):
    return encode_name(name) + struct.pack("!HHIH", rtype, 1, ttl, len(data)) + data


A, NS, SOA, AAAA = 1, 2, 6, 28


class Zone:
    def __init__(self, hosts, ns_v6):
        self.hosts = hosts  # name -> (v6, v4)
        self.hosts["ns." + ZONE] = (ns_v6, None)

    def soa(self):
        data = encode_name("ns." + ZONE) + encode_name("hostmaster." + ZONE)
        return rr(ZONE, SOA, data + struct.pack("!IIIII", 1, 3600, 600, 86400, 60))

    def answer(self, qname, qtype):
        """(rcode, answers, authorities) for one question."""
        if qname != ZONE and not qname.endswith("." + ZONE):
            return 3, [], []
        answers = []
        if qname == ZONE and qtype == SOA:
            answers.append(self.soa())
        elif qname == ZONE and qtype == NS:
            answers.append(rr(ZONE, NS, encode_name("ns." + ZONE)))
        elif qname in self.hosts:
            v6, v4 = self.hosts[qname]
            if qtype == AAAA and v6:
                answers.append(rr(qname, AAAA, socket.inet_pton(socket.AF_INET6, v6)))
            if qtype == A and v4:
                answers.append(rr(qname, A, socket.inet_pton(socket.AF_INET, v4)))
        elif qname != ZONE:
            return 3, [], [self.soa()]
        return 0, answers, ([] if answers else [self.soa()])


def dns_message(qid, rd, query, rcode=0, answers=(), authorities=(), tc=False):
    flags = 0x8400 | rd | 0x0080 | rcode | (0x0200 if tc else 0)  # QR AA RA
    head = struct.pack("!HHHHHH", qid, flags, 1, len(answers), len(authorities), 0)
    return head + query + b"".join(answers) + b"".join(authorities)


def dns_reply(behaviour, zone, msg, tcp):
    """The bytes to send back for the query MSG (over TCP if TCP), or None to stay silent."""
    q = parse_question(msg)
    if q is None:
        return None
    qid, rd, qname, qtype, end = q
    question = msg[12:end]
    if behaviour == "malformed":
        # Counts that promise 3 answers and 1 authority, then bytes that are no records.
        head = struct.pack("!HHHHHH", qid, 0x8580, 1, 3, 1, 0)
        return head + question + bytes([0xC0, 0xFF, 0x3F]) + os.urandom(29)
    if behaviour == "truncate" or (behaviour == "many" and not tcp):
        return dns_message(qid, rd, question, tc=True)
    if behaviour in ("oversized", "many"):
        v6 = [socket.inet_pton(socket.AF_INET6, f"fd00:67::{i:x}") for i in range(1, 1401)]
        return dns_message(qid, rd, question, answers=[rr(qname, AAAA, a) for a in v6])
    rcode, answers, authorities = zone.answer(qname, qtype)
    if behaviour == "wrong-id":
        qid ^= 0x5A5A
    return dns_message(qid, rd, question, rcode, answers, authorities)


def dns(args):
    hosts = {}
    for pair in args.zone:
        name, _, addrs = pair.partition("=")
        v6, _, v4 = addrs.partition(",")
        hosts[name.lower()] = (v6 or None, v4 or None)
    zone = Zone(hosts, next((a for a in args.listen if ":" in a), None))
    spoof = {}
    for addr in args.spoof_from or []:
        spoof[family(addr)] = udp_socket(addr, 0)

    def udp(sock):
        while True:
            msg, peer = sock.recvfrom(65535)
            reply = dns_reply(args.behaviour, zone, msg, False)
            if reply is not None:
                out = spoof.get(sock.family, sock) if args.behaviour == "spoofed" else sock
                try:
                    out.sendto(reply, peer)
                except OSError as e:
                    log(f"dns: cannot answer {peer}: {e}")

    def tcp(conn):
        with conn:
            while True:
                head = conn.recv(2)
                if len(head) < 2:
                    return
                (n,) = struct.unpack("!H", head)
                msg = b""
                while len(msg) < n:
                    chunk = conn.recv(n - len(msg))
                    if not chunk:
                        return
                    msg += chunk
                if args.behaviour == "truncate":
                    time.sleep(3600)  # accepted, never answered
                    return
                reply = dns_reply(args.behaviour, zone, msg, True)
                if reply is None:
                    return
                reply = reply[:65535]
                conn.sendall(struct.pack("!H", len(reply)) + reply)

    for addr in args.listen:
        spawn(udp, udp_socket(addr, 53))
        spawn(serve_tcp, tcp_listener(addr, 53), tcp)


# --- SNMP (BER read here, written with ber.py) ------------------------------------------------------------------


def ber_read(data, i):
    """(tag, body, next index) of the TLV at I."""
    tag = data[i]
    n = data[i + 1]
    i += 2
    if n & 0x80:
        k = n & 0x7F
        n = int.from_bytes(data[i : i + k], "big")
        i += k
    return tag, data[i : i + n], i + n


def ber_items(body):
    items, i = [], 0
    while i < len(body):
        tag, value, i = ber_read(body, i)
        items.append((tag, value))
    return items


def oid_arcs(body):
    arcs = [body[0] // 40, body[0] % 40]
    n = 0
    for b in body[1:]:
        n = (n << 7) | (b & 0x7F)
        if not b & 0x80:
            arcs.append(n)
            n = 0
    return tuple(arcs)


OCTETS, OID, TICKS, END_OF_MIB = 0x04, 0x06, 0x43, 0x82
MIB2 = (1, 3, 6, 1, 2, 1)
MARK = 7700
SYSTEM = {
    (1, 3, 6, 1, 2, 1, 1, 1, 0): "descr",
    (1, 3, 6, 1, 2, 1, 1, 2, 0): "object",
    (1, 3, 6, 1, 2, 1, 1, 3, 0): "uptime",
    (1, 3, 6, 1, 2, 1, 1, 5, 0): "name",
}
SMALL_MIB = {  # one uplink, ifIndex 1, for the agent that is right but for its ids
    (1, 3, 6, 1, 2, 1, 2, 2, 1, 8, 1): ber_int(1),
    (1, 3, 6, 1, 2, 1, 31, 1, 1, 1, 1, 1): tlv(OCTETS, b"wwan0"),
}


def system_value(what, behaviour):
    if what == "uptime":
        return ber_int(123456, TICKS)
    if what == "object":
        return ber_oid((1, 3, 6, 1, 4, 1, 8072, 3, 2, 10))
    if behaviour == "huge" and what == "descr":
        return tlv(OCTETS, b"H" * 60000)
    return tlv(OCTETS, f"hostile {behaviour}".encode())


def next_binding(behaviour, oid):
    """The binding a walk gets after OID."""
    if behaviour == "wrong-id":
        later = sorted(o for o in SMALL_MIB if o > oid)
        return (later[0], SMALL_MIB[later[0]]) if later else (oid, tlv(END_OF_MIB, b""))
    if oid[: len(MIB2)] != MIB2:
        return oid, tlv(END_OF_MIB, b"")
    # Rows hang under the column as MARK.N; no column the poller walks ends in MARK.
    if len(oid) < 2 or oid[-2] != MARK:
        row = oid + (MARK, 1)
    elif behaviour == "loop":
        row = oid[:-1] + (2 if oid[-1] == 1 else 1,)  # .1, .2, back to .1
    else:
        row = oid[:-1] + (oid[-1] + 1,)
    if behaviour == "huge":
        return row, tlv(OCTETS, b"V" * 8000)
    return row, ber_int(7)


def snmp_reply(msg):
    """The answer to one datagram, or None."""
    try:
        _, message, _ = ber_read(msg, 0)
        (_, version), (_, community), (pdu_tag, pdu) = ber_items(message)
        behaviour = community.decode()
        if int.from_bytes(version, "big") != 1:
            return None
        (_, request_id), (_, first), (_, second), (_, binds) = ber_items(pdu)
    except (IndexError, ValueError, UnicodeDecodeError):
        return None
    if behaviour == "garbage":
        return os.urandom(random.randint(1, 400))
    if behaviour not in ("wrong-id", "loop", "endless", "huge"):
        return None
    oids = [oid_arcs(ber_items(vb)[0][1]) for _, vb in ber_items(binds)]
    out = []
    if pdu_tag == 0xA0:  # GET
        for oid in oids:
            what = SYSTEM.get(oid)
            value = system_value(what, behaviour) if what else SMALL_MIB.get(oid, tlv(0x80, b""))
            out.append((oid, value))
    elif pdu_tag == 0xA1:  # GETNEXT
        out = [next_binding(behaviour, oid) for oid in oids]
    elif pdu_tag == 0xA5:  # GETBULK: non-repeaters, then rows of the rest
        plain = int.from_bytes(first, "big")
        reps = max(1, int.from_bytes(second, "big"))
        out = [next_binding(behaviour, oid) for oid in oids[:plain]]
        cursors = oids[plain:]
        for _ in range(reps):
            row = [next_binding(behaviour, oid) for oid in cursors]
            out += row
            cursors = [oid for oid, _ in row]
    else:
        return None
    rid = int.from_bytes(request_id, "big", signed=True)
    if behaviour == "wrong-id":
        rid = rid + 1 if rid < 2**31 - 1 else 0
    binds = b"".join(tlv(0x30, ber_oid(oid) + value) for oid, value in out)
    body = ber_int(rid) + ber_int(0) + ber_int(0) + tlv(0x30, binds)
    reply = tlv(0x30, ber_int(1) + tlv(OCTETS, community) + tlv(0xA2, body))
    # UDP carries at most 65,507 bytes: past that, the answer is tooBig (RFC 3416 4.2.1).
    if len(reply) > 65000:
        body = ber_int(rid) + ber_int(1) + ber_int(0) + tlv(0x30, b"")
        reply = tlv(0x30, ber_int(1) + tlv(OCTETS, community) + tlv(0xA2, body))
    return reply


def snmp(args):
    def serve(sock):
        while True:
            msg, peer = sock.recvfrom(65535)
            reply = snmp_reply(msg)
            if reply is not None:
                sock.sendto(reply, peer)

    for addr in args.listen:
        spawn(serve, udp_socket(addr, 161))


# --- TLS and SMTP ------------------------------------------------------------------------


def tls_chain(args):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.chain, args.key)

    def session(conn):
        try:
            with context.wrap_socket(conn, server_side=True) as tls:
                tls.recv(1024)
        except (OSError, ssl.SSLError) as e:
            log(f"tls-chain: {e}")

    for addr in args.listen:
        spawn(serve_tcp, tcp_listener(addr, args.port), session)


def tls_stall(args):
    def session(conn):
        with conn:
            conn.recv(65535)  # the ClientHello
            # A handshake record header promising 90 bytes, and only 40 of them.
            conn.sendall(b"\x16\x03\x03\x00\x5a\x02\x00\x00\x56\x03\x03" + os.urandom(35))
            time.sleep(3600)

    for addr in args.listen:
        spawn(serve_tcp, tcp_listener(addr, args.port), session)


def smtp_drip(args):
    def session(conn):
        with conn:
            try:
                for byte in b"220 drip.hostile.test ESMTP\r\n":
                    conn.sendall(bytes([byte]))
                    time.sleep(1)
                time.sleep(3600)
            except OSError:
                pass

    for addr in args.listen:
        spawn(serve_tcp, tcp_listener(addr, args.port), session)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("mode", choices=["dns", "snmp", "tls-chain", "tls-stall", "smtp-drip"])
    p.add_argument("--listen", action="append", required=True)
    p.add_argument("--behaviour", default="zone")
    p.add_argument("--spoof-from", action="append")
    p.add_argument("--zone", action="append", default=[])
    p.add_argument("--port", type=int, default=25)
    p.add_argument("--chain")
    p.add_argument("--key")
    args = p.parse_args()
    {"dns": dns, "snmp": snmp, "tls-chain": tls_chain, "tls-stall": tls_stall,
     "smtp-drip": smtp_drip}[args.mode](args)
    print("ready", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
