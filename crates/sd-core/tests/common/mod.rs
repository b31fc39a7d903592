//! Where Azure's test vectors are, for the tests that read them.

use std::path::PathBuf;

/// `../shared/vectors` beside the checkout, or `HSM_CEREMONY_VECTORS`.
pub fn vectors() -> PathBuf {
    let dir = std::env::var_os("HSM_CEREMONY_VECTORS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors"));
    assert!(
        dir.join("azure-cli").is_dir(),
        "test vectors not found at {} (set HSM_CEREMONY_VECTORS)",
        dir.display()
    );
    dir
}

/// A vector file's bytes.
pub fn read(rel: &str) -> Vec<u8> {
    let p = vectors().join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}
