#![no_main]
//! Compact JWE parsing and `dir` decryption with a fixed key: any input must be
//! refused cleanly (a forged tag must never verify).
use libfuzzer_sys::fuzz_target;
use sd_core::primitives::secret::SecretBytes;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(jwe) = sd_core::primitives::jwe::CompactJwe::parse(text) {
        assert_eq!(sd_core::primitives::jwe::CompactJwe::parse(&jwe.serialize()).unwrap(), jwe);
        let cek = SecretBytes::new(vec![0x42; 64]);
        let _ = jwe.decrypt_dir(&cek);
    }
});
