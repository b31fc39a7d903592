#![no_main]
//! SD file parsing, and what parsing allows: re-serialising and listing thumbprints.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = sd_core::sd_file::SecurityDomain::parse(data) {
        let again =
            sd_core::sd_file::SecurityDomain::parse(sd.to_json().as_bytes()).expect("our output parses");
        assert_eq!(again, sd);
        let _ = sd.thumbprints();
    }
});
