#![no_main]
//! PEM private keys: PKCS#8, encrypted PKCS#8 (with a fixed passphrase), PKCS#1.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = sd_core::pki::private_key::from_pem(text, None);
    let _ = sd_core::pki::private_key::from_pem(text, Some(b"fuzz"));
});
