//! Fuzzes the knowledge parser: any text must load or give located problems, never panic.
#![no_main]

use std::path::PathBuf;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Err(problems) = qabot::Knowledge::from_sources(&[(PathBuf::from("f.toml"), text.to_string())]) {
        for p in &problems.0 {
            assert!(p.line >= 1 && p.column >= 1);
        }
    }
});
