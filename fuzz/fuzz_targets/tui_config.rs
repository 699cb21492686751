//! libFuzzer's entry for sixfive_fuzz::tui_config (see fuzz/README.md).
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| sixfive_fuzz::tui_config(data));
