#!/usr/bin/env python3
"""Generates the sites lab: snmpsim data for N simulated Teltonika RUTX routers, the sixfive
inventory that polls them, and the lists the peers read.

    gen.py DIR N PROCS CONCURRENCY

Site n (1..N) is `site-NNNN` at fd00:5e::1:<n hex>, with v2c community `site-NNNN`.
snmpsim process k (0..PROCS-1) serves the sites n with (n - 1) % PROCS == k (listed in
DIR/addresses-p<k>.txt); its data dir DIR/data/p<k> holds one site-NNNN.snmprec per site.
snmpsim picks the data file by community. (snmpsim 1.2.2 can also pick it by transport
endpoint, which would let every site share one community, but with pysnmp 7 its overrides
of `handleMgmtOperation` are never called: pysnmp renamed the method, so every request
falls back to the community's file.)

Writes: DIR/data/p<k>/*.snmprec, DIR/communities/site-NNNN (the community, for the
inventory's community_file), DIR/addresses-p<k>.txt, DIR/sites.txt (id address
community, one site a line), DIR/addresses.txt, DIR/inventory.yaml, DIR/expected.txt (shell
assignments).
"""
import ipaddress
import os
import sys

d = sys.argv[1]
n_sites, procs, concurrency = (int(a) for a in sys.argv[2:5])
MODEM = "1.3.6.1.4.1.48690.2.2.1"


def address(n):
    return ipaddress.IPv6Address(f"fd00:5e::1:{n:x}")


def octets_index(addr):
    """ipAddressTable index for an IPv6 address: 2.16.<16 bytes>."""
    return "2.16." + ".".join(str(b) for b in addr.packed)


def records(n):
    """The snmprec lines of site n: (oid, tag, value); tags are snmpsim's ASN.1 type numbers
    (2 Integer, 4 OctetString, 4x hex OctetString, 6 OID, 65 Counter32, 66 Gauge32,
    67 TimeTicks, 70 Counter64)."""
    sid = f"site-{n:04d}"
    addr = address(n)
    # Radio values spread over the grading bands, deterministic per site: RSRP -72 .. -107 dBm,
    # RSRQ -6 .. -17 dB, SINR 24 .. -2 dB, so the states come out as a mix.
    rsrp = -72 - (n * 7) % 36
    rsrq = -6 - (n * 5) % 12
    sinr = 24 - (n * 3) % 27
    rssi = rsrp + 20
    uptime = 360000 + n * 977  # TimeTicks (1/100 s)
    in_octets = 10_000_000_000 + n * 1_234_567
    out_octets = 2_000_000_000 + n * 345_678
    mac = f"001e42{n >> 16 & 0xff:02x}{n >> 8 & 0xff:02x}{n & 0xff:02x}"
    link_local = ipaddress.IPv6Address(f"fe80::21e:42ff:fe{n >> 16 & 0xff:02x}:{n & 0xffff:04x}")
    loopback6 = ipaddress.IPv6Address("::1")
    r = [
        # SNMPv2-MIB system group
        ("1.3.6.1.2.1.1.1.0", "4", "Teltonika RUTX50 5G router, RUTOS RUTX_R_00.07.06.10"),
        ("1.3.6.1.2.1.1.2.0", "6", "1.3.6.1.4.1.48690"),
        ("1.3.6.1.2.1.1.3.0", "67", str(uptime)),
        ("1.3.6.1.2.1.1.4.0", "4", "noc@danang.example.test"),
        ("1.3.6.1.2.1.1.5.0", "4", sid),
        ("1.3.6.1.2.1.1.6.0", "4", f"Da Nang bench cabinet {n}"),
        ("1.3.6.1.2.1.1.7.0", "2", "72"),
        # IF-MIB ifNumber and ifTable: lo (1) and wwan0 (2)
        ("1.3.6.1.2.1.2.1.0", "2", "2"),
    ]
    ifs = [
        # index, descr, type, mtu, speed, phys, in/out octets (32-bit), in/out errors
        (1, "lo", 24, 65536, 10_000_000, "", 123456, 123456, 0, 0),
        (2, "wwan0", 6, 1500, 0, mac, in_octets % 2**32, out_octets % 2**32, n % 7, n % 3),
    ]
    for idx, descr, iftype, mtu, speed, phys, ino, outo, ine, oute in ifs:
        r += [
            (f"1.3.6.1.2.1.2.2.1.1.{idx}", "2", str(idx)),
            (f"1.3.6.1.2.1.2.2.1.2.{idx}", "4", descr),
            (f"1.3.6.1.2.1.2.2.1.3.{idx}", "2", str(iftype)),
            (f"1.3.6.1.2.1.2.2.1.4.{idx}", "2", str(mtu)),
            (f"1.3.6.1.2.1.2.2.1.5.{idx}", "66", str(speed)),
            (f"1.3.6.1.2.1.2.2.1.6.{idx}", "4x", phys),
            (f"1.3.6.1.2.1.2.2.1.7.{idx}", "2", "1"),
            (f"1.3.6.1.2.1.2.2.1.8.{idx}", "2", "1"),
            (f"1.3.6.1.2.1.2.2.1.10.{idx}", "65", str(ino)),
            (f"1.3.6.1.2.1.2.2.1.13.{idx}", "65", "0"),
            (f"1.3.6.1.2.1.2.2.1.14.{idx}", "65", str(ine)),
            (f"1.3.6.1.2.1.2.2.1.16.{idx}", "65", str(outo)),
            (f"1.3.6.1.2.1.2.2.1.19.{idx}", "65", "0"),
            (f"1.3.6.1.2.1.2.2.1.20.{idx}", "65", str(oute)),
            # ifXTable: ifName, ifHCInOctets, ifHCOutOctets, ifHighSpeed, ifAlias
            (f"1.3.6.1.2.1.31.1.1.1.1.{idx}", "4", descr),
            (f"1.3.6.1.2.1.31.1.1.1.6.{idx}", "70", str(in_octets if idx == 2 else 123456)),
            (f"1.3.6.1.2.1.31.1.1.1.10.{idx}", "70", str(out_octets if idx == 2 else 123456)),
            (f"1.3.6.1.2.1.31.1.1.1.15.{idx}", "66", str(speed // 1_000_000)),
            (f"1.3.6.1.2.1.31.1.1.1.18.{idx}", "4", "mobile uplink" if idx == 2 else ""),
        ]
    # IP-MIB ipAddressTable (1.3.6.1.2.1.4.34.1): 127.0.0.1 and ::1 on lo, the site's ULA and
    # its link-local address on wwan0. Columns: 3 ifIndex, 4 type (1 unicast), 5 prefix
    # (RowPointer), 6 origin (2 manual, 6 linklayer), 7 status (1 preferred).
    prefix_table = "1.3.6.1.2.1.4.32.1.5"  # ipAddressPrefixOrigin, a RowPointer's target

    def prefix(ifidx, net):
        """RowPointer to ipAddressPrefixTable: ifIndex.type.len.<bytes>.prefixlen."""
        kind, size = (2, 16) if net.version == 6 else (1, 4)
        octets = ".".join(str(b) for b in net.network_address.packed)
        return f"{prefix_table}.{ifidx}.{kind}.{size}.{octets}.{net.prefixlen}"

    rows = [
        ("1.4.127.0.0.1", 1, prefix(1, ipaddress.ip_network("127.0.0.0/8")), 2),
        (octets_index(loopback6), 1, prefix(1, ipaddress.ip_network("::1/128")), 2),
        (octets_index(addr), 2, prefix(2, ipaddress.ip_network(f"{addr}/64", strict=False)), 2),
        (octets_index(link_local), 2, prefix(2, ipaddress.ip_network("fe80::/64")), 6),
    ]
    for index, ifidx, prefix, origin in rows:
        r += [
            (f"1.3.6.1.2.1.4.34.1.3.{index}", "2", str(ifidx)),
            (f"1.3.6.1.2.1.4.34.1.4.{index}", "2", "1"),
            (f"1.3.6.1.2.1.4.34.1.5.{index}", "6", prefix),
            (f"1.3.6.1.2.1.4.34.1.6.{index}", "2", str(origin)),
            (f"1.3.6.1.2.1.4.34.1.7.{index}", "2", "1"),
        ]
    # Teltonika modem table (RUTOS 7), row 1: 23 columns like a real RUTX50's.
    modem = {
        1: ("2", "1"),                                   # mIndex
        2: ("4", "2c7c:0800"),                           # mDescr (USB id)
        3: ("4", f"86{n:013d}"),                         # mImei
        4: ("4", "RG501Q-EU"),                           # mModel
        5: ("4", "Quectel"),                             # mManufacturer
        6: ("4", "RG501QEUAAR12A08M4G"),                 # mRevision
        7: ("4", f"MPY{n:08d}"),                         # mSerial
        8: ("4", f"45204{n:010d}"),                      # mIMSI
        9: ("4", "inserted"),                            # mSimState
        10: ("4", "READY"),                              # mPinState
        11: ("4", "Registered, home"),                   # mNetState
        12: ("2", str(rssi)),                            # mSignal (RSSI dBm)
        13: ("4", "Viettel"),                            # mOperator
        14: ("4", "45204"),                              # mOperatorNumber
        15: ("4", "Connected"),                          # mConnectionState
        16: ("4", "5G-SA"),                              # mNetworkType
        17: ("2", str(380 + n % 90)),                    # mTemperature (0.1 C)
        18: ("4", f"{0x1A2B000 + n:X}"),                 # mCellID
        19: ("4", str(sinr)),                            # mSINR
        20: ("4", str(rsrp)),                            # mRSRP
        21: ("4", str(rsrq)),                            # mRSRQ
        22: ("70", str(out_octets)),                     # mSent
        23: ("70", str(in_octets)),                      # mReceived
    }
    for col, (tag, value) in modem.items():
        r.append((f"{MODEM}.{col}.1", tag, value))
    # Around the modem table, as on a real RUTX: device info before it, the modem count, and
    # GPS after it (so a walk of the table ends by leaving the subtree, not at endOfMibView).
    r += [
        ("1.3.6.1.4.1.48690.1.1.0", "4", f"11{n:08d}"),          # serial
        ("1.3.6.1.4.1.48690.1.2.0", "4", "RUTX50"),              # router name
        ("1.3.6.1.4.1.48690.1.3.0", "4", "RUTX50000000"),        # product code
        ("1.3.6.1.4.1.48690.1.4.0", "4", "0012"),                # batch
        ("1.3.6.1.4.1.48690.1.5.0", "4", "0202"),                # hardware revision
        ("1.3.6.1.4.1.48690.1.6.0", "4", "RUTX_R_00.07.06.10"),  # firmware
        ("1.3.6.1.4.1.48690.2.1.0", "2", "1"),                   # modem count
        ("1.3.6.1.4.1.48690.2.3.0", "66", str(86400 + n)),       # connection uptime (s)
        ("1.3.6.1.4.1.48690.3.1.0", "4", f"16.{600 + n % 100:04d}"),   # GPS latitude
        ("1.3.6.1.4.1.48690.3.2.0", "4", f"108.{2000 + n % 300:04d}"),  # GPS longitude
        ("1.3.6.1.4.1.48690.3.3.0", "4", "0"),                   # GPS accuracy
    ]
    r.sort(key=lambda rec: tuple(int(x) for x in rec[0].split(".")))
    return r


def snmprec(recs):
    return "".join(f"{oid}|{tag}|{value}\n" for oid, tag, value in recs)


def community(n):
    return f"site-{n:04d}"


# Sites are dealt round-robin: site n goes to process (n - 1) % PROCS. A poller that works
# through the sites in order with C in flight then keeps every process (and both cores)
# busy; contiguous slices would put all C in-flight sites on one process.
procs = min(procs, n_sites)
os.makedirs(f"{d}/communities", exist_ok=True)
for k in range(procs):
    pdir = f"{d}/data/p{k}"
    os.makedirs(pdir, exist_ok=True)
    mine = range(k + 1, n_sites + 1, procs)
    for n in mine:
        open(f"{pdir}/{community(n)}.snmprec", "w").write(snmprec(records(n)))
        open(f"{d}/communities/site-{n:04d}", "w").write(community(n) + "\n")
    open(f"{d}/addresses-p{k}.txt", "w").write("".join(f"{address(n)}\n" for n in mine))

open(f"{d}/sites.txt", "w").write(
    "".join(f"site-{n:04d} {address(n)} {community(n)}\n" for n in range(1, n_sites + 1)))
open(f"{d}/addresses.txt", "w").write("".join(f"{address(n)}\n" for n in range(1, n_sites + 1)))

inv = [f"""# The sites benchmark's inventory (bench/sites-lab/gen.py): {n_sites} simulated
# Teltonika RUTX routers, each on its own ULA with its own v2c community, served by snmpsim
# in namespace sfb-sites-agent.
# scan.rate is raised from the default 500/s so the rate limit is not what is measured.
version: 1
scan:
  scope: [fd00:5e::/48]
  concurrency: {concurrency}
  per_host: 2
  rate: 20000/s
  timeouts: {{ snmp: 2s }}
agencies:
  - {{ id: bench, name: Bench sites }}
sites:
"""]
for n in range(1, n_sites + 1):
    inv.append(
        f"  - {{ id: site-{n:04d}, name: Bench site {n}, agency: bench, address: {address(n)}, "
        f"profile: teltonika-rutx, "
        f"snmp: {{ version: 2c, community_file: communities/site-{n:04d} }} }}\n"
    )
open(f"{d}/inventory.yaml", "w").writelines(inv)
open(f"{d}/expected.txt", "w").write(
    f"sites={n_sites}\nprocs={procs}\nrecords_per_site={len(records(1))}\n"
)
