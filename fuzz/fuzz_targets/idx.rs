//! `read_idx_bytes` on arbitrary bytes: examples or an error, never a panic.
#![no_main]

use gasket_datasets::read_idx_bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_idx_bytes("fuzz.input", data);
});
