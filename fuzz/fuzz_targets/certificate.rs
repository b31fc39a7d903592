#![no_main]
//! Certificates, PEM or DER, and what the tools then ask of them.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cert) = sd_core::pki::cert::Certificate::from_pem_or_der(data) {
        let _ = cert.rsa_public_key();
        let _ = cert.require_self_signed();
        let _ = (cert.subject(), cert.x5t_s256(), cert.to_pem_azure());
    }
});
