//! Base64 as the Azure formats use it.
//!
//! JOSE fields use base64url without padding on output; readers must accept
//! both padded and unpadded input because Azure's own readers append `===`.
//! `x5c` uses standard base64 with padding (RFC 7517 §4.7).

use base64ct::{Base64, Base64UrlUnpadded, Encoding};

use crate::Error;

/// base64url, no padding.
pub fn url_encode(data: &[u8]) -> String {
    Base64UrlUnpadded::encode_string(data)
}

/// base64url, padded or not. `what` names the field in the error.
pub fn url_decode(text: &str, what: &'static str) -> Result<Vec<u8>, Error> {
    let trimmed = text.trim_end_matches('=');
    // More than two padding characters is never valid base64.
    if text.len() - trimmed.len() > 2 {
        return Err(Error::Base64 { what });
    }
    Base64UrlUnpadded::decode_vec(trimmed).map_err(|_| Error::Base64 { what })
}

/// Standard base64 with padding (for `x5c`).
pub fn std_encode(data: &[u8]) -> String {
    Base64::encode_string(data)
}

/// Standard base64; padding required, as RFC 7517 specifies for `x5c`.
pub fn std_decode(text: &str, what: &'static str) -> Result<Vec<u8>, Error> {
    Base64::decode_vec(text).map_err(|_| Error::Base64 { what })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_round_trip_and_padding_tolerance() {
        for len in 0..40 {
            let data: Vec<u8> = (0..len as u8).map(|i| i.wrapping_mul(37)).collect();
            let enc = url_encode(&data);
            assert!(!enc.contains('=') && !enc.contains('+') && !enc.contains('/'));
            assert_eq!(url_decode(&enc, "t").unwrap(), data);
            let padded = format!("{enc}{}", "=".repeat((4 - enc.len() % 4) % 4));
            assert_eq!(url_decode(&padded, "t").unwrap(), data);
        }
    }

    #[test]
    fn url_rejects_garbage() {
        assert_eq!(url_decode("ab+c", "field"), Err(Error::Base64 { what: "field" }));
        assert!(url_decode("a", "f").is_err());
        assert!(url_decode("QQ===", "f").is_err());
        assert!(url_decode("Q Q", "f").is_err());
    }

    #[test]
    fn std_round_trip() {
        let data = b"\xfb\xff\x00certificate";
        let enc = std_encode(data);
        assert!(enc.ends_with('='));
        assert_eq!(std_decode(&enc, "x5c").unwrap(), data);
        assert!(std_decode("-_-_", "x5c").is_err());
    }
}
