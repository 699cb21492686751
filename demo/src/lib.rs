//! The demo city behind `sixfive demo`: the example Da Nang inventory served in-process by
//! DNS, HTTP(S), SMTP and SNMP servers that carry the faults real cities have, so the whole
//! product can be shown on a fresh machine without sending a packet beyond it.

pub mod city;
pub mod dns;
pub mod example;
pub mod namespace;
pub mod plan;
pub mod smtp;
pub mod snmp;
pub mod web;
