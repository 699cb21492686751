"""The few BER encoders the bench's SNMP scripts share (capacity.py, fastsim.py,
check-replies.py) and the hostile SNMP agents of tests/lab/hostile.py: enough for SNMPv2c
messages, nothing more."""


def length(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def tlv(tag, body):
    return bytes([tag]) + length(len(body)) + body


def oid(arcs):
    """An OBJECT IDENTIFIER from its arcs, or from dotted text."""
    if isinstance(arcs, str):
        arcs = [int(x) for x in arcs.split(".")]
    out = bytearray([arcs[0] * 40 + arcs[1]])
    for a in arcs[2:]:
        enc = [a & 0x7F]
        a >>= 7
        while a:
            enc.append(0x80 | (a & 0x7F))
            a >>= 7
        out += bytes(reversed(enc))
    return tlv(0x06, bytes(out))


def integer(n, tag=0x02, signed=True):
    """An INTEGER, or an unsigned application type (Counter, Gauge, TimeTicks) by `tag`,
    with the leading zero byte BER needs when the high bit is set."""
    return tlv(tag, n.to_bytes(max(1, (n.bit_length() + 8) // 8), "big", signed=signed))
