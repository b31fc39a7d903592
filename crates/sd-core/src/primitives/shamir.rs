//! Shamir secret sharing over GF(257), byte by byte, in Azure's share encoding.
//!
//! Each secret byte s is the constant term of its own polynomial f of degree
//! `required - 1` over the integers mod 257. Custodian k (0-based) gets x = k+1.
//! A share is a little-endian array of u16 words, one per secret byte:
//! `word = (x << 9) | f(x)`, with x in the high 7 bits and f(x) in 0..=256.
//!
//! Unlike Azure's reference tools, combining validates everything it is given:
//! distinct x values, y ≤ 256, equal lengths, results ≤ 255, and every share
//! beyond the quorum must lie on the polynomial the quorum defines.
//!
//! The arithmetic is plain integer arithmetic mod 257; it is meant for an
//! offline machine where timing side channels are not observable by others.

use std::fmt;

use rand_core::TryCryptoRng;
use zeroize::{Zeroize, ZeroizeOnDrop};

use crate::Error;
use crate::primitives::secret::SecretBytes;

const P: u32 = 257;
/// Largest x Azure's encoding allows (7 bits); the reference tools stop at 126 shares.
pub const MAX_X: u8 = 127;

/// One custodian's share: an x coordinate and one y per secret byte.
#[derive(Clone, PartialEq, Eq, Zeroize, ZeroizeOnDrop)]
pub struct Share {
    x: u8,
    ys: Vec<u16>,
}

impl fmt::Debug for Share {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Share {{ x: {}, ys: [redacted; {}] }}", self.x, self.ys.len())
    }
}

impl Share {
    /// Decodes a share plaintext (little-endian u16 words, `x << 9 | y`).
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, Error> {
        if bytes.is_empty() || !bytes.len().is_multiple_of(2) {
            return Err(Error::Shamir(ShamirError::OddLength(bytes.len())));
        }
        let mut x = None;
        let mut ys = Vec::with_capacity(bytes.len() / 2);
        for (i, pair) in bytes.chunks_exact(2).enumerate() {
            let mut word = u16::from_le_bytes([pair[0], pair[1]]);
            let wx = (word >> 9) as u8;
            let y = word & 0x1ff;
            word.zeroize();
            if wx == 0 {
                ys.zeroize();
                return Err(Error::Shamir(ShamirError::ZeroX { word: i }));
            }
            if *x.get_or_insert(wx) != wx {
                ys.zeroize();
                return Err(Error::Shamir(ShamirError::MixedX { word: i, x: wx, first: x.unwrap_or(0) }));
            }
            if u32::from(y) >= P {
                ys.zeroize();
                return Err(Error::Shamir(ShamirError::YOutOfField { word: i, y }));
            }
            ys.push(y);
        }
        Ok(Share { x: x.unwrap_or(0), ys })
    }

    /// Encodes the share as Azure stores it.
    pub fn to_bytes(&self) -> SecretBytes {
        let mut out = Vec::with_capacity(self.ys.len() * 2);
        for &y in &self.ys {
            out.extend_from_slice(&((u16::from(self.x) << 9) | y).to_le_bytes());
        }
        SecretBytes::new(out)
    }

    /// The share's x coordinate (custodian position + 1).
    pub fn x(&self) -> u8 {
        self.x
    }

    /// Number of secret bytes this share covers.
    pub fn len(&self) -> usize {
        self.ys.len()
    }

    /// True for a share of an empty secret (never produced by [`Share::from_bytes`]).
    pub fn is_empty(&self) -> bool {
        self.ys.is_empty()
    }
}

fn pow_mod(mut base: u32, mut exp: u32) -> u32 {
    let mut acc = 1u32;
    base %= P;
    while exp > 0 {
        if exp & 1 == 1 {
            acc = acc * base % P;
        }
        base = base * base % P;
        exp >>= 1;
    }
    acc
}

/// Multiplicative inverse mod 257 (Fermat). `a` must be non-zero mod 257.
fn inv(a: u32) -> u32 {
    pow_mod(a, P - 2)
}

/// Lagrange basis weights for evaluating at `t` from the points `xs`:
/// w_i = Π_{k≠i} (t − x_k) / (x_i − x_k)  (mod 257).
fn lagrange_weights(xs: &[u8], t: u32) -> Vec<u32> {
    xs.iter()
        .enumerate()
        .map(|(i, &xi)| {
            let mut num = 1u32;
            let mut den = 1u32;
            for (k, &xk) in xs.iter().enumerate() {
                if k != i {
                    num = num * ((t + P - u32::from(xk)) % P) % P;
                    den = den * ((u32::from(xi) + P - u32::from(xk)) % P) % P;
                }
            }
            num * inv(den) % P
        })
        .collect()
}

/// Rebuilds the secret from at least `required` shares.
///
/// The first `required` shares define the polynomials; every further share
/// must agree with them, otherwise the error names the disagreeing share by
/// its position in `shares` and its x.
pub fn combine(shares: &[Share], required: usize) -> Result<SecretBytes, Error> {
    if required < 2 {
        return Err(Error::Shamir(ShamirError::QuorumTooSmall(required)));
    }
    if shares.len() < required {
        return Err(Error::Shamir(ShamirError::TooFew { given: shares.len(), required }));
    }
    let len = shares[0].len();
    for (i, s) in shares.iter().enumerate() {
        if s.x == 0 || s.x > MAX_X {
            return Err(Error::Shamir(ShamirError::XOutOfRange { share: i, x: s.x }));
        }
        if s.len() != len {
            return Err(Error::Shamir(ShamirError::UnequalLength { share: i, len: s.len(), first: len }));
        }
        if let Some(j) = shares[..i].iter().position(|o| o.x == s.x) {
            return Err(Error::Shamir(ShamirError::SameShare { first: j, second: i, x: s.x }));
        }
    }
    let (basis, extra) = shares.split_at(required);
    let xs: Vec<u8> = basis.iter().map(Share::x).collect();
    let at_zero = lagrange_weights(&xs, 0);
    let at_extra: Vec<Vec<u32>> = extra.iter().map(|s| lagrange_weights(&xs, u32::from(s.x))).collect();

    let mut secret = Vec::with_capacity(len);
    for j in 0..len {
        let eval = |w: &[u32]| -> u32 {
            basis.iter().zip(w).fold(0u32, |acc, (s, wi)| (acc + u32::from(s.ys[j]) * wi) % P)
        };
        let value = eval(&at_zero);
        if value > 255 {
            secret.zeroize();
            return Err(Error::Shamir(ShamirError::NotAByte { byte: j, value }));
        }
        for (k, w) in at_extra.iter().enumerate() {
            if eval(w) != u32::from(extra[k].ys[j]) {
                secret.zeroize();
                let idx = required + k;
                return Err(Error::Shamir(ShamirError::Inconsistent { share: idx, x: extra[k].x }));
            }
        }
        secret.push(value as u8);
    }
    Ok(SecretBytes::new(secret))
}

/// The share the polynomials through `basis` give position `x`: what a
/// custodian at `x` holds, if the basis is a proven quorum. `basis` must be
/// shares of equal length with distinct x (as [`combine`] checks).
pub fn evaluate(basis: &[Share], x: u8) -> Result<Share, Error> {
    if x == 0 || x > MAX_X {
        return Err(Error::Shamir(ShamirError::XOutOfRange { share: 0, x }));
    }
    let len = basis.first().map_or(0, Share::len);
    if basis.len() < 2 || basis.iter().any(|s| s.len() != len) {
        return Err(Error::Shamir(ShamirError::TooFew { given: basis.len(), required: 2 }));
    }
    let xs: Vec<u8> = basis.iter().map(Share::x).collect();
    let weights = lagrange_weights(&xs, u32::from(x));
    let ys = (0..len)
        .map(|j| {
            basis.iter().zip(&weights).fold(0u32, |acc, (s, w)| (acc + u32::from(s.ys[j]) * w) % P) as u16
        })
        .collect();
    Ok(Share { x, ys })
}

/// Uniform value in `lo..P` by rejection sampling of 16-bit draws.
fn uniform_mod_p<R: TryCryptoRng + ?Sized>(rng: &mut R, lo: u32) -> Result<u32, Error> {
    let span = P - lo;
    // Largest multiple of span that fits in 16 bits: draws at or above it are rejected.
    let limit = (1u32 << 16) / span * span;
    loop {
        let mut b = [0u8; 2];
        rng.try_fill_bytes(&mut b).map_err(|_| Error::Rng)?;
        let v = u32::from(u16::from_le_bytes(b));
        b.zeroize();
        if v < limit {
            return Ok(lo + v % span);
        }
    }
}

/// Splits `secret` into `n` shares (x = 1..=n) of which any `required` rebuild it.
///
/// Every byte gets its own polynomial with fresh coefficients; the leading
/// coefficient is uniform in 1..=256 so the degree is exactly `required - 1`.
pub fn split<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    secret: &[u8],
    n: usize,
    required: usize,
) -> Result<Vec<Share>, Error> {
    if required < 2 || required > n || n > usize::from(MAX_X) {
        return Err(Error::Shamir(ShamirError::CannotSplit { shares: n, required }));
    }
    if secret.is_empty() {
        return Err(Error::Shamir(ShamirError::EmptySecret));
    }
    let mut shares: Vec<Share> =
        (1..=n).map(|x| Share { x: x as u8, ys: Vec::with_capacity(secret.len()) }).collect();
    let mut coeffs = vec![0u32; required];
    for &byte in secret {
        coeffs[0] = u32::from(byte);
        for (d, c) in coeffs.iter_mut().enumerate().skip(1) {
            *c = uniform_mod_p(rng, if d == required - 1 { 1 } else { 0 })?;
        }
        for share in shares.iter_mut() {
            // Horner evaluation at x.
            let x = u32::from(share.x);
            let y = coeffs.iter().rev().fold(0u32, |acc, c| (acc * x + c) % P);
            share.ys.push(y as u16);
        }
    }
    coeffs.zeroize();
    Ok(shares)
}

/// Why shares cannot be read, combined or made ([`Error::Shamir`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShamirError {
    /// A share's bytes are empty or odd in number (each word is two bytes).
    OddLength(usize),
    /// A word of a share has x = 0, which is the secret itself.
    ZeroX {
        /// The word.
        word: usize,
    },
    /// A word's x differs from the share's first word's.
    MixedX {
        /// The word.
        word: usize,
        /// Its x.
        x: u8,
        /// The first word's x.
        first: u8,
    },
    /// A word's y is outside GF(257).
    YOutOfField {
        /// The word.
        word: usize,
        /// Its y.
        y: u16,
    },
    /// A quorum below 2.
    QuorumTooSmall(usize),
    /// Fewer shares than the quorum.
    TooFew {
        /// How many were given.
        given: usize,
        /// The quorum.
        required: usize,
    },
    /// A share's x is outside 1..=127.
    XOutOfRange {
        /// The share's position.
        share: usize,
        /// Its x.
        x: u8,
    },
    /// Shares of different lengths.
    UnequalLength {
        /// The share's position.
        share: usize,
        /// Its length in bytes of secret.
        len: usize,
        /// The first share's.
        first: usize,
    },
    /// The same share twice.
    SameShare {
        /// The first's position.
        first: usize,
        /// The second's position.
        second: usize,
        /// Their x.
        x: u8,
    },
    /// A secret byte reconstructs above 255: the shares do not belong together.
    NotAByte {
        /// The byte's position.
        byte: usize,
        /// What it reconstructs to.
        value: u32,
    },
    /// A share beyond the quorum disagrees with the others.
    Inconsistent {
        /// The share's position.
        share: usize,
        /// Its x.
        x: u8,
    },
    /// No such split (quorum above the share count, or more than 127 shares).
    CannotSplit {
        /// Shares asked for.
        shares: usize,
        /// The quorum.
        required: usize,
    },
    /// Nothing to split.
    EmptySecret,
    /// A share carries another length than the secret it is a share of.
    WrongLength {
        /// The share's length.
        len: usize,
        /// The secret's.
        expected: usize,
    },
}

impl std::fmt::Display for ShamirError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use ShamirError::*;
        match self {
            OddLength(n) => write!(f, "a share must be a non-empty even number of bytes, not {n}"),
            ZeroX { word } => write!(f, "word {word} has x = 0"),
            MixedX { word, x, first } => {
                write!(f, "word {word} has x = {x}, but the share's first word has x = {first}")
            }
            YOutOfField { word, y } => write!(f, "word {word} has y = {y}, above 256"),
            QuorumTooSmall(q) => write!(f, "a quorum must be at least 2, not {q}"),
            TooFew { given, required } => write!(f, "{given} share(s) given, the quorum is {required}"),
            XOutOfRange { share, x } => write!(f, "share {share} has x = {x}, outside 1..=127"),
            UnequalLength { share, len, first } => {
                write!(f, "share {share} covers {len} bytes, share 0 covers {first}")
            }
            SameShare { first, second, x } => write!(
                f,
                "shares {first} and {second} are the same share (x = {x}); the same key or share was given twice"
            ),
            NotAByte { byte, value } => {
                write!(f, "byte {byte} reconstructs to {value}, above 255: the shares do not belong together")
            }
            Inconsistent { share, x } => {
                write!(f, "share {share} (x = {x}) is not consistent with the others")
            }
            CannotSplit { shares, required } => {
                write!(f, "cannot split into {shares} shares with quorum {required}")
            }
            EmptySecret => f.write_str("the secret is empty"),
            WrongLength { len, expected } => {
                write!(f, "the share covers {len} bytes, the master key is {expected}")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct CountingRng(u64);
    impl rand_core::TryRng for CountingRng {
        type Error = core::convert::Infallible;
        fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
            Ok(self.try_next_u64()? as u32)
        }
        fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
            // splitmix64: deterministic, good enough to exercise the code paths.
            self.0 = self.0.wrapping_add(0x9e3779b97f4a7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58476d1ce4e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d049bb133111eb);
            Ok(z ^ (z >> 31))
        }
        fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
            for chunk in dst.chunks_mut(8) {
                let v = self.try_next_u64()?.to_le_bytes();
                chunk.copy_from_slice(&v[..chunk.len()]);
            }
            Ok(())
        }
    }
    impl rand_core::TryCryptoRng for CountingRng {}

    #[test]
    fn rejects_bad_words() {
        // x = 3, y = 0x1a5 (421) is above 256.
        assert!(Share::from_bytes(&[0xa5, 0x07]).is_err());
        // x = 0.
        assert!(Share::from_bytes(&[0x05, 0x00]).is_err());
        // mixed x within one share.
        let w1 = ((1u16 << 9) | 5).to_le_bytes();
        let w2 = ((2u16 << 9) | 5).to_le_bytes();
        assert!(Share::from_bytes(&[w1[0], w1[1], w2[0], w2[1]]).is_err());
        // odd length, empty.
        assert!(Share::from_bytes(&[1, 2, 3]).is_err());
        assert!(Share::from_bytes(&[]).is_err());
        // y = 256 is allowed.
        let w = ((3u16 << 9) | 256).to_le_bytes();
        let s = Share::from_bytes(&w).unwrap();
        assert_eq!((s.x(), s.to_bytes().expose().to_vec()), (3, w.to_vec()));
    }

    #[test]
    fn any_quorum_gives_every_other_share_exactly() {
        let secret: Vec<u8> = (0..=255).collect();
        let shares = split(&mut CountingRng(7), &secret, 5, 3).unwrap();
        for basis in [[0, 1, 2], [4, 2, 0], [1, 3, 4]] {
            let basis: Vec<Share> = basis.iter().map(|&i| shares[i].clone()).collect();
            for s in &shares {
                assert_eq!(evaluate(&basis, s.x()).unwrap(), *s);
            }
        }
        assert!(evaluate(&shares[..3], 0).is_err(), "x = 0 is the secret itself");
        assert!(evaluate(&shares[..1], 2).is_err());
    }

    #[test]
    fn split_then_combine_every_subset() {
        let mut rng = CountingRng(7);
        let secret: Vec<u8> = (0..32).map(|i| (i * 8) as u8).collect();
        let shares = split(&mut rng, &secret, 5, 3).unwrap();
        for a in 0..5 {
            for b in a + 1..5 {
                for c in b + 1..5 {
                    let subset = [shares[a].clone(), shares[b].clone(), shares[c].clone()];
                    assert_eq!(combine(&subset, 3).unwrap().expose(), &secret[..]);
                }
                // Two shares are not enough for quorum 3.
                assert!(combine(&[shares[a].clone(), shares[b].clone()], 3).is_err());
            }
        }
        assert_eq!(combine(&shares, 3).unwrap().expose(), &secret[..]);
    }

    #[test]
    fn duplicate_share_is_named() {
        let mut rng = CountingRng(1);
        let shares = split(&mut rng, &[1, 2, 3], 3, 2).unwrap();
        let err = combine(&[shares[1].clone(), shares[1].clone()], 2).unwrap_err();
        assert!(err.to_string().contains("same share (x = 2)"), "{err}");
    }

    #[test]
    fn inconsistent_extra_share_is_named() {
        let mut rng = CountingRng(2);
        let mut shares = split(&mut rng, &[9; 16], 4, 2).unwrap();
        shares[3].ys[5] = (shares[3].ys[5] + 1) % 257;
        let err = combine(&shares, 2).unwrap_err();
        assert_eq!(err, Error::Shamir(ShamirError::Inconsistent { share: 3, x: 4 }));
        assert_eq!(err.to_string(), "invalid shares: share 3 (x = 4) is not consistent with the others");
    }

    #[test]
    fn unequal_lengths_rejected() {
        let mut rng = CountingRng(3);
        let a = split(&mut rng, &[1, 2, 3], 3, 2).unwrap();
        let b = split(&mut rng, &[1, 2], 3, 2).unwrap();
        assert!(combine(&[a[0].clone(), b[1].clone()], 2).is_err());
    }

    #[test]
    fn leading_coefficient_never_zero() {
        // With quorum 2, a zero slope would make f(x) equal the secret byte at
        // every x. Over many bytes, no byte may have all shares equal to it.
        let mut rng = CountingRng(4);
        let secret = vec![77u8; 4096];
        let shares = split(&mut rng, &secret, 3, 2).unwrap();
        for j in 0..secret.len() {
            assert!(shares.iter().any(|s| s.ys[j] != 77), "byte {j} has a zero leading coefficient");
        }
    }
}
