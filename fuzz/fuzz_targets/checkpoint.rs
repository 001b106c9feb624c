//! Choosing a checkpoint to resume from, on a checkpoint folder whose manifest and data
//! files are arbitrary bytes (the input split in three by its first two bytes): a chosen
//! checkpoint or an error, never a panic.
#![no_main]

use gasket_engine::checkpoint::newest_complete;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let [a, b, rest @ ..] = data else {
        return;
    };
    let first = (*a as usize).min(rest.len());
    let second = (first + *b as usize).min(rest.len());
    let root = std::env::temp_dir().join(format!("gasket-fuzz-checkpoint-{}", std::process::id()));
    let step = root.join("step-0000000001");
    std::fs::create_dir_all(&step).expect("the temporary folder is writable");
    std::fs::write(step.join("MANIFEST"), &rest[..first]).expect("writable");
    std::fs::write(step.join("global.bin"), &rest[first..second]).expect("writable");
    std::fs::write(step.join("part-00000.bin"), &rest[second..]).expect("writable");
    let _ = newest_complete(&root);
});
