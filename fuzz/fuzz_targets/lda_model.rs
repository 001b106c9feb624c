//! The LDA model reader (`gasket lda --infer`) on arbitrary bytes: a model or an error,
//! never a panic.
#![no_main]

use gasket_apps::lda::model::LdaModel;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = LdaModel::from_reader("fuzz.input", data);
});
