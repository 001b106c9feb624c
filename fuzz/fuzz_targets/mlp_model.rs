//! The MLP model reader (`gasket mlp --load`) on arbitrary bytes: a network with its
//! parameter blocks or an error, never a panic.
#![no_main]

use gasket_apps::mlp::saved;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = saved::parse("fuzz.input", data);
});
