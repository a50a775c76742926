//! Arbitrary bytes as a stack file: parse, evaluate, format. Must never panic or abort.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        infra_lang::robustness::exercise(text);
    }
});
