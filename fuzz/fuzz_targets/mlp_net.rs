//! The MLP network file reader (`gasket mlp --net`) on arbitrary bytes: a network or an
//! error, never a panic. The file is read as UTF-8 text, so other bytes stop at the read.
#![no_main]

use gasket_apps::mlp::Net;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Net::parse("fuzz.input", text);
    }
});
