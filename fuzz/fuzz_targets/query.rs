//! libFuzzer's entry for sixfive_fuzz::query (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sixfive_fuzz::query(data));
