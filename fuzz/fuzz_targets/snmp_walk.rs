//! libFuzzer's entry for sixfive_fuzz::snmp_walk (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sixfive_fuzz::snmp_walk(data));
