//! The Ldac corpus reader on arbitrary bytes: a corpus or an error, never a panic.
#![no_main]

use gasket_datasets::{CorpusFormat, TextOptions, read_corpus_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = read_corpus_bytes(
        "fuzz.input",
        data,
        CorpusFormat::Ldac,
        &TextOptions::default(),
    );
});
