//! Containers for secret bytes: zeroized on drop, never shown by `Debug`.

use std::fmt;
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Secret bytes of any length (share plaintexts, EncData plaintexts, CEKs).
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Takes ownership of `bytes`; they are wiped when this value is dropped.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }
    /// Copies `bytes` into a new secret.
    pub fn from_slice(bytes: &[u8]) -> Self {
        SecretBytes(bytes.to_vec())
    }
    /// The secret bytes. Keep the borrow short.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
    /// Number of bytes.
    pub fn len(&self) -> usize {
        self.0.len()
    }
    /// True when there are no bytes.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<Zeroizing<Vec<u8>>> for SecretBytes {
    fn from(mut z: Zeroizing<Vec<u8>>) -> Self {
        SecretBytes(std::mem::take(&mut *z))
    }
}

impl fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SecretBytes([redacted; {} bytes])", self.0.len())
    }
}

/// The 32-byte security-domain master key.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct MasterKey([u8; MasterKey::LEN]);

impl MasterKey {
    /// Length of an Azure security-domain master key.
    pub const LEN: usize = 32;

    /// Wraps 32 secret bytes.
    pub fn from_bytes(bytes: [u8; Self::LEN]) -> Self {
        MasterKey(bytes)
    }
    /// Copies from a slice that must be exactly 32 bytes long.
    pub fn from_slice(bytes: &[u8]) -> Option<Self> {
        let arr: [u8; Self::LEN] = bytes.try_into().ok()?;
        Some(MasterKey(arr))
    }
    /// Draws a fresh random master key.
    pub fn generate<R: rand_core::TryCryptoRng + ?Sized>(rng: &mut R) -> Result<Self, crate::Error> {
        let mut k = [0u8; Self::LEN];
        rng.try_fill_bytes(&mut k).map_err(|_| crate::Error::Rng)?;
        Ok(MasterKey(k))
    }
    /// The key bytes. Keep the borrow short.
    pub fn expose(&self) -> &[u8; Self::LEN] {
        &self.0
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_bytes() {
        let s = SecretBytes::from_slice(b"\x41\x42\x43hunter2");
        let shown = format!("{s:?}");
        assert!(!shown.contains("hunter2") && !shown.contains("65"), "{shown}");
        let m = MasterKey::from_bytes([0xAB; 32]);
        let shown = format!("{m:?}");
        assert!(!shown.contains("171") && !shown.to_lowercase().contains("ab, "), "{shown}");
    }
}
