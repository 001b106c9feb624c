//! The partition-file reader (gpmetis format) on arbitrary bytes, for a graph of 16
//! vertices and 1 to 4 parts taken from the first byte: an assignment or an error, never
//! a panic.
#![no_main]

use gasket_partitioning::read_partition_file;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&first, text)) = data.split_first() else {
        return;
    };
    let parts = 1 + (first % 4) as usize;
    let ids: Vec<u64> = (0..16).collect();
    let path = std::env::temp_dir().join(format!("gasket-fuzz-partition-{}", std::process::id()));
    std::fs::write(&path, text).expect("the temporary folder is writable");
    let _ = read_partition_file(&path, &ids, parts);
});
