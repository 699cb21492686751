//! sixfive's probes: what it asks of hosts (DNS, TCP, ICMPv6, HTTP, TLS, SMTP) and of 5G
//! routers (SNMP), and how the answers grade a host or a site. It reads the inventory and
//! writes results through the store; it never draws anything.

/// Device profiles this build ships, by the name an inventory's `profile:` uses.
pub const SHIPPED_PROFILES: &[&str] = &[
    "generic",
    "teltonika-rutx",
    "teltonika-rutm",
    "cisco-cellular",
    "peplink",
    "mikrotik",
];
