//! The vocabulary reader (`--vocab` of UCI and LDA-C corpora) on a file holding arbitrary
//! bytes (plain, or gzip when they start with its magic): the words or an error, never a
//! panic.
#![no_main]

use gasket_datasets::read_vocab;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let path = std::env::temp_dir().join(format!("gasket-fuzz-vocab-{}", std::process::id()));
    std::fs::write(&path, data).expect("the temporary folder is writable");
    let _ = read_vocab(&path);
});
