//! Hex for people and logs: file hashes, measurements, fingerprints. Never
//! used for secrets.

/// Hex encoding of a SHA-256 digest of `data`, lower case; how we print file hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex_lower(&sha2::Sha256::digest(data))
}

/// Lower-case hex of arbitrary bytes.
pub fn hex_lower(data: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(data.len() * 2);
    for b in data {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 15) as usize] as char);
    }
    out
}
