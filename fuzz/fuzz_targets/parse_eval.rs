//! Arbitrary bytes as a stack file: parse, evaluate, format. Must never panic or abort.
//! The work runs on a 64 MiB stack: far below the CLI's 1 GiB, so that an input of a few KB
//! needing more is reported (as an abort libFuzzer records) rather than hidden.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let text = text.to_string();
        let worker = std::thread::Builder::new().stack_size(64 << 20).spawn(move || infra_lang::robustness::exercise(&text));
        if let Ok(w) = worker {
            // A panic in the worker is a finding: hand it back to libFuzzer.
            if let Err(panic) = w.join() {
                std::panic::resume_unwind(panic);
            }
        }
    }
});
