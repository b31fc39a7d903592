#![no_main]
//! Transfer-key responses (`GET /securitydomain/upload`).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sd_core::azure::transfer_key::parse_response(data);
});
