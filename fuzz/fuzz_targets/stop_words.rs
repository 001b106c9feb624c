//! The stop-word reader (`--stop-words` of text corpora) on a file holding arbitrary
//! bytes (plain, or gzip when they start with its magic), applied to a small text corpus:
//! a corpus or an error, never a panic.
#![no_main]

use gasket_datasets::{CorpusFormat, TextOptions, read_corpus_bytes};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("gasket-fuzz-stop-words-{}", std::process::id()));
    std::fs::write(&path, data).expect("the temporary folder is writable");
    let options = TextOptions {
        stop_words: Some(path),
        ..TextOptions::default()
    };
    let _ = read_corpus_bytes(
        "fuzz.input",
        b"The cat sat on the mat\nand the dog sat too\n",
        CorpusFormat::Text,
        &options,
    );
});
