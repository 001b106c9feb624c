//! The binary graph reader (`.gsk`) on a file of arbitrary bytes: edge lists read as one
//! rank and as the second of three, and the whole graph as stored (with and without
//! weights): a graph or an error, never a panic or an allocation the file's length does
//! not justify.
#![no_main]

use gasket_datasets::{Format, GraphInput, read_graph};
use gasket_engine::{GraphSource, SingleComm, ThreadComm};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("gasket-fuzz-{}.gsk", std::process::id()));
    std::fs::write(&path, data).expect("the temporary folder is writable");
    let _ = read_graph(&path, Format::Gsk, &SingleComm);
    let _ = ThreadComm::run(3, |comm| read_graph(&path, Format::Gsk, &comm));
    let input = GraphInput::File {
        path,
        format: Format::Gsk,
    };
    let _ = GraphSource::<()>::read_built(&input, &SingleComm);
    let _ = GraphSource::<f64>::read_built(&input, &SingleComm);
});
