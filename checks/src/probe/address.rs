//! Address classes: how usable an IPv6 address is for a user on the Internet (global
//! unicast, a transition mechanism, or one no IPv6 user can reach), as RFC 6890's special-
//! purpose registries and sixfive's readiness rules say.

use std::net::Ipv6Addr;

use sixfive_inventory::results::Status;

/// How usable an IPv6 address is on the Internet: pass, warn (transition mechanisms) or
/// fail (never reachable by an IPv6 user), with the reason.
pub fn classify(address: Ipv6Addr, internal: bool) -> (Status, &'static str) {
    let bits = u128::from(address);
    let within = |prefix: u128, len: u32| bits >> (128 - len) == prefix >> (128 - len);
    let table: [(u128, u32, Status, &str); 14] = [
        (0, 128, Status::Fail, "the unspecified address ::"),
        (1, 128, Status::Fail, "the loopback address ::1"),
        (
            0xffff_0000_0000,
            96,
            Status::Fail,
            "an IPv4-mapped address (::ffff:0:0/96)",
        ),
        (
            0x0064_ff9b << 96,
            96,
            Status::Fail,
            "a NAT64 address (64:ff9b::/96): IPv4 behind a translator",
        ),
        (
            0x0064_ff9b_0001 << 80,
            48,
            Status::Fail,
            "a local-use NAT64 address (64:ff9b:1::/48): IPv4 behind a translator",
        ),
        (
            0x0100 << 112,
            64,
            Status::Fail,
            "a discard-only address (100::/64)",
        ),
        (
            0x2001_0db8 << 96,
            32,
            Status::Fail,
            "a documentation address (2001:db8::/32)",
        ),
        (
            0x3fff << 112,
            20,
            Status::Fail,
            "a documentation address (3fff::/20)",
        ),
        (
            0x2001 << 112,
            32,
            Status::Warn,
            "a Teredo address (2001::/32)",
        ),
        (
            0x2002 << 112,
            16,
            Status::Warn,
            "a 6to4 address (2002::/16)",
        ),
        (
            0xfe80 << 112,
            10,
            Status::Fail,
            "a link-local address (fe80::/10)",
        ),
        (
            0xff00 << 112,
            8,
            Status::Fail,
            "a multicast address (ff00::/8)",
        ),
        (
            0xfc00 << 112,
            7,
            Status::Fail,
            "a unique local address (fc00::/7)",
        ),
        (0x2000 << 112, 3, Status::Pass, "global unicast"),
    ];
    match table.iter().find(|(prefix, len, ..)| within(*prefix, *len)) {
        Some((_, 7, _, why)) if internal => (Status::Pass, why),
        Some((_, _, status, why)) => (*status, why),
        None => (Status::Fail, "outside global unicast (2000::/3)"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_class_of_address_is_graded() {
        let cases = [
            ("2a01:4f8::1", false, Status::Pass),
            ("::", false, Status::Fail),
            ("::1", false, Status::Fail),
            ("::ffff:198.18.1.20", false, Status::Fail),
            ("fe80::1", false, Status::Fail),
            ("fd00:1::21", false, Status::Fail),
            ("fd00:1::21", true, Status::Pass),
            ("2001:db8::1", false, Status::Fail),
            ("3fff::1", false, Status::Fail),
            ("100::1", false, Status::Fail),
            ("2001:0:4136:e378::1", false, Status::Warn),
            ("2002:c612:114::1", false, Status::Warn),
            ("64:ff9b::c612:114", false, Status::Fail),
            ("64:ff9b:1::c612:114", false, Status::Fail),
            ("64:ff9b:2::1", false, Status::Fail),
            ("ff02::1", false, Status::Fail),
            ("4000::1", false, Status::Fail),
        ];
        for (address, internal, expected) in cases {
            let (status, why) = classify(address.parse().unwrap(), internal);
            assert_eq!(status, expected, "{address} (internal: {internal}): {why}");
        }
    }
}
