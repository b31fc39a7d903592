//! Hex for people and logs: file hashes, measurements, fingerprints. Never
//! used for secrets.

/// Hex encoding of a SHA-256 digest of `data`, lower case; how we print file hashes.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex_lower(&sha2::Sha256::digest(data))
}

/// The bytes of hex text (either case, surrounding spaces ignored), or
/// none when it is not whole hex digit pairs.
pub fn parse(text: &str) -> Option<Vec<u8>> {
    let t = text.trim();
    if !t.len().is_multiple_of(2) || !t.is_ascii() {
        return None;
    }
    (0..t.len()).step_by(2).map(|i| u8::from_str_radix(&t[i..i + 2], 16).ok()).collect()
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
