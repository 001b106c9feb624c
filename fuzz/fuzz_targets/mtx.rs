//! The Mtx graph reader on arbitrary bytes (plain, or gzip when they start with its
//! magic): it returns edges or an error, never panics.
#![no_main]

use gasket_datasets::{Format, read_graph_bytes};
use gasket_engine::SingleComm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_graph_bytes("fuzz.input", data, Format::Mtx, &SingleComm);
});
