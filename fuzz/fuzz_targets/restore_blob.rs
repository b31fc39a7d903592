#![no_main]
//! Restore blob parsing (what the emulator reads on upload).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(blob) = sd_core::azure::restore_blob::RestoreBlob::parse(data) {
        let again =
            sd_core::azure::restore_blob::RestoreBlob::parse(blob.to_json().unwrap().as_bytes()).expect("our output parses");
        assert_eq!(again, blob);
    }
});
