//! libFuzzer's entry for sixfive_fuzz::http_body (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sixfive_fuzz::http_body(data));
