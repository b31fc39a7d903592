#![no_main]
//! SGX attestation evidence (the exchange certificate's extension): the
//! bounds-checked decoder, and the PCK chain and platform readers behind it.
use libfuzzer_sys::fuzz_target;
use sd_core::attestation::evidence;

fuzz_target!(|data: &[u8]| {
    if let Ok(ev) = evidence::parse(data) {
        let _ = ev.enclave.is_debug();
        let _ = ev.pck_chain_pem.len();
    }
});
