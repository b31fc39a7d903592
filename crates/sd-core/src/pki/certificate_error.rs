//! Why a certificate cannot be read, trusted as what it claims to be, or
//! made: one variant per problem, so callers (and tests) match on what went
//! wrong instead of on words.

use std::fmt;

/// A certificate problem ([`crate::Error::Certificate`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateError {
    /// Not a DER X.509 certificate (the parser's explanation).
    NotDer(String),
    /// A PEM block of another kind than `CERTIFICATE`.
    PemNotCertificate,
    /// A PEM certificate without its END line.
    PemNoEnd,
    /// Something after the certificate's END line.
    PemTrailingData,
    /// The signature algorithm outside and inside the signed part differ.
    AlgorithmMismatch,
    /// Signed with RSA, but the public key is not RSA.
    RsaSignedNonRsaKey,
    /// The signature bits are not a signature.
    MalformedSignature,
    /// An RSASSA-PSS signature this crate does not take.
    Pss(PssProblem),
    /// The self-signature does not verify.
    SelfSignature {
        /// Whether it is an RSASSA-PSS signature.
        pss: bool,
    },
    /// Not self-issued, where only self-signed certificates are expected.
    NotSelfSigned {
        /// The issuer's name.
        issuer: String,
        /// The subject's name.
        subject: String,
    },
    /// The public key is not RSA.
    NotRsa,
    /// The RSA key is smaller than the least this crate takes.
    KeyTooSmall {
        /// Its size.
        bits: usize,
        /// The least size taken ([`super::cert::MIN_RSA_BITS`]).
        min: usize,
    },
    /// A name that cannot be a certificate's common name and a file name.
    BadName(String),
    /// A certificate must be valid for at least one day.
    ZeroDays,
    /// An attestation root file is not PEM text.
    RootNotText,
    /// An attestation root file holds this many certificates, not one.
    RootCount(usize),
    /// An attestation root is not self-signed with ECDSA P-256.
    RootNotEcdsa,
    /// A PEM chain or its key cannot be read (the reader's explanation).
    Chain(String),
    /// A pinned value is not 64 hex digits.
    NotHex(String),
    /// Encoding or building a certificate failed at `step` (the library's
    /// words): impossible with what this crate makes, so a bug if seen.
    Encoding {
        /// What was being done ("signing", "validity"...), or empty.
        step: String,
        /// The library's explanation.
        detail: String,
    },
}

/// What is wrong with an RSASSA-PSS signature's parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PssProblem {
    /// None are given.
    NoParameters,
    /// They cannot be read.
    MalformedParameters,
    /// The mask generation is not MGF1 over the signature's hash.
    OtherMask,
    /// The hash is not SHA-256, SHA-384 or SHA-512.
    OtherHash,
}

impl CertificateError {
    /// An encoding step that failed, with the library's error.
    pub fn encoding(step: &str, detail: impl fmt::Display) -> CertificateError {
        CertificateError::Encoding { step: step.to_owned(), detail: detail.to_string() }
    }
}

impl fmt::Display for CertificateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use CertificateError::*;
        match self {
            NotDer(d) => write!(f, "not a DER X.509 certificate ({d})"),
            PemNotCertificate => f.write_str("PEM block is not a CERTIFICATE"),
            PemNoEnd => f.write_str("PEM certificate has no END line"),
            PemTrailingData => f.write_str("unexpected data after the certificate's END line"),
            AlgorithmMismatch => f.write_str("the outer and inner signature algorithms differ"),
            RsaSignedNonRsaKey => f.write_str("signed with RSA but the public key is not RSA: damaged"),
            MalformedSignature => f.write_str("malformed signature"),
            Pss(PssProblem::NoParameters) => f.write_str("an RSASSA-PSS signature without parameters"),
            Pss(PssProblem::MalformedParameters) => f.write_str("malformed RSASSA-PSS parameters"),
            Pss(PssProblem::OtherMask) => {
                f.write_str("RSASSA-PSS with a mask generation other than MGF1 over the same hash")
            }
            Pss(PssProblem::OtherHash) => {
                f.write_str("RSASSA-PSS with a hash other than SHA-256, SHA-384 or SHA-512")
            }
            SelfSignature { pss } => write!(
                f,
                "the {}self-signature does not verify: the certificate is damaged or altered",
                if *pss { "RSASSA-PSS " } else { "" }
            ),
            NotSelfSigned { issuer, subject } => write!(
                f,
                "is not self-signed (issued by {issuer} to {subject}); custodian certificates and Azure \
                 exchange keys are self-signed, so this one is damaged or not what it claims"
            ),
            NotRsa => f.write_str("the public key is not an RSA key"),
            KeyTooSmall { bits, min } => write!(f, "the RSA key is {bits} bits; at least {min} are required"),
            BadName(name) => write!(
                f,
                "name {name:?} must be 1-64 characters of A-Z a-z 0-9 - _ . and not start with a dot"
            ),
            ZeroDays => f.write_str("validity must be at least one day"),
            RootNotText => f.write_str("the root is not PEM text"),
            RootCount(n) => write!(f, "{n} certificates; an attestation root file holds one"),
            RootNotEcdsa => f.write_str("the attestation root is not self-signed with ECDSA P-256"),
            Chain(d) => f.write_str(d),
            NotHex(t) => write!(f, "{t:?} is not 64 hex digits"),
            Encoding { step, detail } if step.is_empty() => f.write_str(detail),
            Encoding { step, detail } => write!(f, "{step}: {detail}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Error;
    use crate::pki::cert::Certificate;

    /// What went wrong is a value a caller can match on; the words stay the ones people read.
    #[test]
    fn problems_are_told_apart_by_kind() {
        let pem = |body: &str| format!("-----BEGIN CERTIFICATE-----\n{body}");
        assert!(matches!(
            Certificate::from_pem_or_der(b"\x30\x03\x02\x01"),
            Err(Error::Certificate(CertificateError::NotDer(_)))
        ));
        assert_eq!(
            Certificate::from_pem_or_der(pem("MIIB").as_bytes()).unwrap_err(),
            Error::Certificate(CertificateError::PemNoEnd)
        );
        assert_eq!(
            Certificate::from_pem_or_der(b"-----BEGIN PUBLIC KEY-----\n").unwrap_err(),
            Error::Certificate(CertificateError::PemNotCertificate)
        );
        assert_eq!(
            CertificateError::KeyTooSmall { bits: 1024, min: 2048 }.to_string(),
            "the RSA key is 1024 bits; at least 2048 are required"
        );
        assert_eq!(
            CertificateError::SelfSignature { pss: true }.to_string(),
            "the RSASSA-PSS self-signature does not verify: the certificate is damaged or altered"
        );
    }
}
