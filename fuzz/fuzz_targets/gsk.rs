//! The binary graph reader (`.gsk`) on a file of arbitrary bytes, read as one rank and as
//! the second of three: edges or an error, never a panic or an allocation the file's
//! length does not justify.
#![no_main]

use gasket_datasets::{Format, read_graph};
use gasket_engine::ThreadComm;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("gasket-fuzz-{}.gsk", std::process::id()));
    std::fs::write(&path, data).expect("the temporary folder is writable");
    let _ = read_graph(&path, Format::Gsk, &gasket_engine::SingleComm);
    let _ = ThreadComm::run(3, |comm| read_graph(&path, Format::Gsk, &comm));
});
