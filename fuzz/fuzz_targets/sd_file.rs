#![no_main]
//! SD file parsing, and what parsing allows: re-serialising and listing thumbprints.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(sd) = sd_core::azure::sd_file::SecurityDomain::parse(data) {
        let json = sd.to_json().unwrap();
        let again = sd_core::azure::sd_file::SecurityDomain::parse(json.as_bytes()).expect("our output parses");
        // The same content: our serialisation is canonical (the file's own
        // bytes, and so its SHA-256, may differ in white space).
        assert_eq!(again.to_json().unwrap(), json);
        assert_eq!(again.thumbprints(), sd.thumbprints());
        let _ = sd.thumbprints();
    }
});
