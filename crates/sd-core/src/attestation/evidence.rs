//! The SGX attestation evidence a Managed HSM puts into its exchange
//! certificate (extension 1.2.840.113556.10.1.1), in Open Enclave's format:
//! a 16-byte header, then an Intel SGX ECDSA quote, version 3.
//!
//! This module only decodes (and, for the emulator, encodes) the bytes; every
//! read is bounds-checked, so no input can make it panic. What the values
//! mean is decided by [`super::VerifiedExchangeKey`].

use std::fmt;

/// The extension's OID (Open Enclave's `X509_OID_FOR_QUOTE_STRING`).
pub const EVIDENCE_OID: &str = "1.2.840.113556.10.1.1";

/// Size of an SGX report body.
pub const REPORT_BODY_LEN: usize = 384;
/// Size of the quote header.
pub const QUOTE_HEADER_LEN: usize = 48;
const OE_VERSION: u32 = 1;
const OE_REPORT_TYPE_SGX_REMOTE: u32 = 2;
const QUOTE_VERSION: u16 = 3;
const ATT_KEY_TYPE_P256: u16 = 2;
/// Certification data type 5: the PCK certificate chain, PEM.
pub const CERT_DATA_PCK_CHAIN: u16 = 5;

/// The SGX `DEBUG` attribute flag.
pub const ATTRIBUTE_DEBUG: u64 = 0x2;

/// Why evidence could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceError {
    /// A field runs past the end.
    Truncated {
        /// The field.
        what: &'static str,
        /// Its size.
        needs: usize,
        /// Where it starts.
        offset: usize,
        /// What is left.
        remaining: usize,
    },
    /// A field holds another value than the format allows.
    Unexpected {
        /// The field.
        what: &'static str,
        /// What it holds.
        found: u64,
        /// What it must hold, as the format names it ("3", "2 (ECDSA P-256)").
        expected: String,
    },
    /// A length field disagrees with the bytes that follow.
    Length {
        /// The length field.
        what: &'static str,
        /// What it says.
        says: u64,
        /// What follows.
        follow: usize,
    },
    /// Bytes after the certification data.
    Trailing(usize),
    /// The PCK certificate chain is not text.
    ChainNotText,
}

impl fmt::Display for EvidenceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            EvidenceError::Truncated { what, needs, offset, remaining } => {
                write!(f, "truncated: {what} needs {needs} bytes at offset {offset}, {remaining} remain")
            }
            EvidenceError::Unexpected { what, found, expected } => {
                write!(f, "{what} {found}, expected {expected}")
            }
            EvidenceError::Length { what, says, follow } => {
                write!(f, "{what} says {says} bytes, {follow} follow")
            }
            EvidenceError::Trailing(n) => write!(f, "{n} unexpected bytes after the certification data"),
            EvidenceError::ChainNotText => f.write_str("the PCK certificate chain is not text"),
        }
    }
}

/// A field that holds `found` where the format allows only `expected`.
fn unexpected(what: &'static str, found: impl Into<u64>, expected: impl fmt::Display) -> EvidenceError {
    EvidenceError::Unexpected { what, found: found.into(), expected: expected.to_string() }
}

/// Refuses a field that does not hold the one value this format allows.
fn must_be(what: &'static str, found: u64, expected: u64, meaning: &str) -> Result<(), EvidenceError> {
    match (found == expected, meaning) {
        (true, _) => Ok(()),
        (false, "") => Err(unexpected(what, found, expected)),
        (false, _) => Err(unexpected(what, found, format!("{expected} ({meaning})"))),
    }
}

/// A bounds-checked little-endian reader.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], EvidenceError> {
        let end =
            self.pos.checked_add(n).filter(|&e| e <= self.data.len()).ok_or(EvidenceError::Truncated {
                what,
                needs: n,
                offset: self.pos,
                remaining: self.data.len() - self.pos,
            })?;
        let out = &self.data[self.pos..end];
        self.pos = end;
        Ok(out)
    }
    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], EvidenceError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N, what)?);
        Ok(a)
    }
    fn u16(&mut self, what: &'static str) -> Result<u16, EvidenceError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }
    fn u32(&mut self, what: &'static str) -> Result<u32, EvidenceError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }
    fn u64(&mut self, what: &'static str) -> Result<u64, EvidenceError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }
    /// A u16 field that must hold `expected` (named `meaning` in the message, when given).
    fn u16_is(&mut self, what: &'static str, expected: u16, meaning: &str) -> Result<(), EvidenceError> {
        let found = self.u16(what)?;
        must_be(what, found.into(), expected.into(), meaning)
    }

    /// A u32 field that must hold `expected` (named `meaning` in the message, when given).
    fn u32_is(&mut self, what: &'static str, expected: u32, meaning: &str) -> Result<(), EvidenceError> {
        let found = self.u32(what)?;
        must_be(what, found.into(), expected.into(), meaning)
    }

    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }
}

/// An SGX report body: who the enclave is and what it vouches for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportBody {
    /// The raw 384 bytes (what the QE report signature covers).
    pub raw: [u8; REPORT_BODY_LEN],
    /// CPU security version.
    pub cpu_svn: [u8; 16],
    /// Attribute flags (bit 1: DEBUG).
    pub attributes_flags: u64,
    /// Attribute XFRM.
    pub attributes_xfrm: u64,
    /// MISCSELECT.
    pub misc_select: u32,
    /// The enclave's measurement.
    pub mr_enclave: [u8; 32],
    /// The hash of the enclave signer's key.
    pub mr_signer: [u8; 32],
    /// Product ID.
    pub isv_prod_id: u16,
    /// Security version.
    pub isv_svn: u16,
    /// 64 bytes the enclave chose to bind into the report.
    pub report_data: [u8; 64],
}

impl ReportBody {
    fn parse(raw: [u8; REPORT_BODY_LEN]) -> ReportBody {
        let at = |o: usize, n: usize| &raw[o..o + n];
        let u16_at = |o: usize| u16::from_le_bytes([raw[o], raw[o + 1]]);
        let u64_at = |o: usize| {
            let mut b = [0u8; 8];
            b.copy_from_slice(at(o, 8));
            u64::from_le_bytes(b)
        };
        let arr32 = |o: usize| {
            let mut b = [0u8; 32];
            b.copy_from_slice(at(o, 32));
            b
        };
        let mut cpu_svn = [0u8; 16];
        cpu_svn.copy_from_slice(at(0, 16));
        let mut report_data = [0u8; 64];
        report_data.copy_from_slice(at(320, 64));
        ReportBody {
            cpu_svn,
            misc_select: u32::from_le_bytes([raw[16], raw[17], raw[18], raw[19]]),
            attributes_flags: u64_at(48),
            attributes_xfrm: u64_at(56),
            mr_enclave: arr32(64),
            mr_signer: arr32(128),
            isv_prod_id: u16_at(256),
            isv_svn: u16_at(258),
            report_data,
            raw,
        }
    }

    /// True when the enclave runs in debug mode (its memory is readable).
    pub fn is_debug(&self) -> bool {
        self.attributes_flags & ATTRIBUTE_DEBUG != 0
    }
}

/// Decoded SGX evidence.
#[derive(Debug, Clone)]
pub struct Evidence {
    /// The quote's header and the enclave's report body: what the enclave
    /// report signature covers (quote bytes 0..432).
    pub signed_quote: Vec<u8>,
    /// QE security version (from the quote header).
    pub qe_svn: u16,
    /// PCE security version (from the quote header).
    pub pce_svn: u16,
    /// The enclave's report.
    pub enclave: ReportBody,
    /// The enclave report signature, r ‖ s.
    pub enclave_signature: [u8; 64],
    /// The attestation key (P-256 x ‖ y) that signed the enclave report.
    pub attestation_key: [u8; 64],
    /// The Quoting Enclave's report.
    pub qe: ReportBody,
    /// The QE report signature by the PCK key, r ‖ s.
    pub qe_signature: [u8; 64],
    /// QE authentication data (bound into the QE report with the attestation key).
    pub qe_auth_data: Vec<u8>,
    /// The PCK certificate chain as PEM text (leaf first).
    pub pck_chain_pem: String,
}

/// Decodes evidence: Open Enclave header, then the quote; every length is
/// checked against what is there, and nothing may follow.
pub fn parse(bytes: &[u8]) -> Result<Evidence, EvidenceError> {
    let mut r = Reader { data: bytes, pos: 0 };
    r.u32_is("Open Enclave header version", OE_VERSION, "")?;
    r.u32_is("report type", OE_REPORT_TYPE_SGX_REMOTE, "remote SGX")?;
    let size = r.u64("report size")?;
    if size != r.remaining() as u64 {
        return Err(EvidenceError::Length { what: "report size", says: size, follow: r.remaining() });
    }
    let quote_start = r.pos;
    r.u16_is("quote version", QUOTE_VERSION, "")?;
    r.u16_is("attestation key type", ATT_KEY_TYPE_P256, "ECDSA P-256")?;
    r.u32_is("TEE type", 0, "SGX")?;
    let qe_svn = r.u16("QE SVN")?;
    let pce_svn = r.u16("PCE SVN")?;
    r.take(16 + 20, "QE vendor ID and user data")?;
    let enclave = ReportBody::parse(r.array("enclave report body")?);
    let signed_quote = bytes[quote_start..r.pos].to_vec();
    let sig_len = r.u32("signature data length")? as usize;
    if sig_len != r.remaining() {
        return Err(EvidenceError::Length {
            what: "signature data length",
            says: sig_len as u64,
            follow: r.remaining(),
        });
    }
    let enclave_signature = r.array("enclave report signature")?;
    let attestation_key = r.array("attestation key")?;
    let qe = ReportBody::parse(r.array("QE report body")?);
    let qe_signature = r.array("QE report signature")?;
    let auth_len = r.u16("QE authentication data size")? as usize;
    let qe_auth_data = r.take(auth_len, "QE authentication data")?.to_vec();
    r.u16_is("certification data type", CERT_DATA_PCK_CHAIN, "PCK chain")?;
    let cert_len = r.u32("certification data size")? as usize;
    let cert_data = r.take(cert_len, "certification data")?;
    if r.remaining() != 0 {
        return Err(EvidenceError::Trailing(r.remaining()));
    }
    // The chain is PEM text, NUL-terminated as the quoting library writes it.
    let text = cert_data.strip_suffix(&[0]).unwrap_or(cert_data);
    let pck_chain_pem = String::from_utf8(text.to_vec()).map_err(|_| EvidenceError::ChainNotText)?;
    Ok(Evidence {
        signed_quote,
        qe_svn,
        pce_svn,
        enclave,
        enclave_signature,
        attestation_key,
        qe,
        qe_signature,
        qe_auth_data,
        pck_chain_pem,
    })
}

/// What [`encode`] needs to lay out evidence (the emulator's, under a test root).
pub struct EvidenceParts<'a> {
    /// QE SVN and PCE SVN for the quote header.
    pub qe_svn: u16,
    /// PCE SVN.
    pub pce_svn: u16,
    /// The enclave report body.
    pub enclave: &'a [u8; REPORT_BODY_LEN],
    /// Signs the quote header ‖ enclave body (what the attestation key signs).
    pub sign_quote: &'a dyn Fn(&[u8]) -> [u8; 64],
    /// The attestation key, x ‖ y.
    pub attestation_key: [u8; 64],
    /// The QE report body.
    pub qe: &'a [u8; REPORT_BODY_LEN],
    /// The QE report signature.
    pub qe_signature: [u8; 64],
    /// QE authentication data.
    pub qe_auth_data: &'a [u8],
    /// The PCK chain, PEM.
    pub pck_chain_pem: &'a str,
}

/// Lays out evidence exactly as [`parse`] reads it.
pub fn encode(p: &EvidenceParts<'_>) -> Vec<u8> {
    let mut quote = Vec::new();
    quote.extend_from_slice(&QUOTE_VERSION.to_le_bytes());
    quote.extend_from_slice(&ATT_KEY_TYPE_P256.to_le_bytes());
    quote.extend_from_slice(&0u32.to_le_bytes());
    quote.extend_from_slice(&p.qe_svn.to_le_bytes());
    quote.extend_from_slice(&p.pce_svn.to_le_bytes());
    quote.extend_from_slice(&[0u8; 36]);
    quote.extend_from_slice(p.enclave);
    let enclave_signature = (p.sign_quote)(&quote);
    let mut cert_data = p.pck_chain_pem.as_bytes().to_vec();
    cert_data.push(0);
    let mut sig = Vec::new();
    sig.extend_from_slice(&enclave_signature);
    sig.extend_from_slice(&p.attestation_key);
    sig.extend_from_slice(p.qe);
    sig.extend_from_slice(&p.qe_signature);
    sig.extend_from_slice(&(p.qe_auth_data.len() as u16).to_le_bytes());
    sig.extend_from_slice(p.qe_auth_data);
    sig.extend_from_slice(&CERT_DATA_PCK_CHAIN.to_le_bytes());
    sig.extend_from_slice(&(cert_data.len() as u32).to_le_bytes());
    sig.extend_from_slice(&cert_data);
    quote.extend_from_slice(&(sig.len() as u32).to_le_bytes());
    quote.extend_from_slice(&sig);
    let mut out = Vec::new();
    out.extend_from_slice(&OE_VERSION.to_le_bytes());
    out.extend_from_slice(&OE_REPORT_TYPE_SGX_REMOTE.to_le_bytes());
    out.extend_from_slice(&(quote.len() as u64).to_le_bytes());
    out.extend_from_slice(&quote);
    out
}

/// A report body with the given identity and report data (the rest zero),
/// laid out as SGX does.
pub fn report_body(
    mr_enclave: &[u8; 32],
    mr_signer: &[u8; 32],
    isv_prod_id: u16,
    isv_svn: u16,
    attributes_flags: u64,
    report_data: &[u8; 64],
) -> [u8; REPORT_BODY_LEN] {
    let mut b = [0u8; REPORT_BODY_LEN];
    b[48..56].copy_from_slice(&attributes_flags.to_le_bytes());
    b[56..64].copy_from_slice(&0x7u64.to_le_bytes());
    b[64..96].copy_from_slice(mr_enclave);
    b[128..160].copy_from_slice(mr_signer);
    b[256..258].copy_from_slice(&isv_prod_id.to_le_bytes());
    b[258..260].copy_from_slice(&isv_svn.to_le_bytes());
    b[320..384].copy_from_slice(report_data);
    b
}
