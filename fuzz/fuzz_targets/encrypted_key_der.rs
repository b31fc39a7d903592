#![no_main]
//! Encrypted PKCS#8 key files, fuzzed at the DER level (the PEM armour is
//! added here, so the fuzzer spends its effort on the structure and the KDF
//! parameters): whatever the parameters say, the caps must refuse them
//! before any work that could exhaust memory or time.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(pem) = der::pem::encode_string("ENCRYPTED PRIVATE KEY", der::pem::LineEnding::LF, data) else { return };
    let _ = sd_core::pki::private_key::from_pem(&pem, Some(b"fuzz"));
});
