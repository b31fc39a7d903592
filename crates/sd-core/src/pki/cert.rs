//! X.509 certificates: parsing (PEM or DER), thumbprints, RSA public keys, and
//! the self-signed certificates hsm-ceremony makes for custodians and operators.

use super::certificate_error::{CertificateError, PssProblem};
use std::str::FromStr;
use std::time::Duration;

use der::{Decode, Encode, EncodePem, pem::LineEnding};
use rand_core::TryCryptoRng;
use sha2::{Digest, Sha256};
use spki::{DecodePublicKey, SubjectPublicKeyInfoRef};
use x509_cert::builder::profile::BuilderProfile;
use x509_cert::builder::{Builder, CertificateBuilder};
use x509_cert::certificate::TbsCertificate;
use x509_cert::ext::pkix::name::GeneralName;
use x509_cert::ext::pkix::{
    BasicConstraints, ExtendedKeyUsage, KeyUsage, KeyUsages, SubjectAltName, SubjectKeyIdentifier,
};
use x509_cert::ext::{Extension, ToExtension};
use x509_cert::name::Name;
use x509_cert::serial_number::SerialNumber;
use x509_cert::time::{Time, Validity};

use crate::{Error, primitives::b64};

/// Smallest RSA modulus we (and Azure's clients) accept, in bits.
pub const MIN_RSA_BITS: usize = 2048;

/// A parsed X.509 certificate with its exact DER bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct Certificate {
    der: Vec<u8>,
    parsed: x509_cert::Certificate,
}

impl std::fmt::Debug for Certificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Certificate({}, x5t#S256={})", self.subject(), self.x5t_s256())
    }
}

impl Certificate {
    /// What the issuer signed (the TBSCertificate's DER) and the signature.
    fn signed_parts<S: for<'a> TryFrom<&'a [u8]>>(&self) -> Result<(Vec<u8>, S), Error> {
        let tbs = self
            .parsed
            .tbs_certificate()
            .to_der()
            .map_err(|e| Error::Certificate(CertificateError::encoding("", e)))?;
        let sig = self
            .parsed
            .signature()
            .as_bytes()
            .and_then(|b| S::try_from(b).ok())
            .ok_or(Error::Certificate(CertificateError::MalformedSignature))?;
        Ok((tbs, sig))
    }

    /// Parses DER bytes.
    ///
    /// A self-issued certificate (issuer = subject, as every custodian
    /// certificate and Azure's exchange keys are) must carry a valid
    /// self-signature when it is signed with RSA PKCS#1 v1.5: nobody vouches
    /// for these certificates, but a damaged one is caught here instead of
    /// silently wrapping a domain to a corrupted key.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        let parsed = x509_cert::Certificate::from_der(der)
            .map_err(|e| Error::Certificate(CertificateError::NotDer(e.to_string())))?;
        let cert = Certificate { der: der.to_vec(), parsed };
        cert.check_self_signature()?;
        Ok(cert)
    }

    fn check_self_signature(&self) -> Result<(), Error> {
        use const_oid::db::rfc5912::{
            SHA_1_WITH_RSA_ENCRYPTION, SHA_256_WITH_RSA_ENCRYPTION, SHA_384_WITH_RSA_ENCRYPTION,
            SHA_512_WITH_RSA_ENCRYPTION,
        };
        use rsa::pkcs1v15::{Signature, VerifyingKey};
        use signature::Verifier;
        let tbs_cert = self.parsed.tbs_certificate();
        if tbs_cert.issuer() != tbs_cert.subject() {
            return Ok(());
        }
        let oid = self.parsed.signature_algorithm().oid;
        if oid != tbs_cert.signature().oid {
            return Err(Error::Certificate(CertificateError::AlgorithmMismatch));
        }
        if oid == const_oid::db::rfc5912::ID_RSASSA_PSS {
            return self.check_pss_self_signature();
        }
        let known = [
            SHA_256_WITH_RSA_ENCRYPTION,
            SHA_384_WITH_RSA_ENCRYPTION,
            SHA_512_WITH_RSA_ENCRYPTION,
            SHA_1_WITH_RSA_ENCRYPTION,
        ];
        if !known.contains(&oid) {
            // Not RSA (an ECDSA CA of an attestation chain is checked where it is used).
            return Ok(());
        }
        let key = self
            .rsa_public_key_any_size()
            .map_err(|_| Error::Certificate(CertificateError::RsaSignedNonRsaKey))?;
        let (tbs, sig): (_, Signature) = self.signed_parts()?;
        let ok = match oid {
            o if o == SHA_256_WITH_RSA_ENCRYPTION => {
                VerifyingKey::<Sha256>::new(key).verify(&tbs, &sig).is_ok()
            }
            o if o == SHA_384_WITH_RSA_ENCRYPTION => {
                VerifyingKey::<sha2::Sha384>::new(key).verify(&tbs, &sig).is_ok()
            }
            o if o == SHA_512_WITH_RSA_ENCRYPTION => {
                VerifyingKey::<sha2::Sha512>::new(key).verify(&tbs, &sig).is_ok()
            }
            _ => VerifyingKey::<sha1::Sha1>::new(key).verify(&tbs, &sig).is_ok(),
        };
        if ok { Ok(()) } else { Err(Error::Certificate(CertificateError::SelfSignature { pss: false })) }
    }

    /// The self-signature of a certificate signed with RSASSA-PSS: the hash,
    /// the MGF1 hash and the salt length come from its parameters.
    fn check_pss_self_signature(&self) -> Result<(), Error> {
        use const_oid::db::rfc5912::{ID_MGF_1, ID_SHA_256, ID_SHA_384, ID_SHA_512};
        use rsa::pss::{Signature, VerifyingKey};
        use signature::Verifier;
        let bad = |p: PssProblem| Err(Error::Certificate(CertificateError::Pss(p)));
        let alg = self.parsed.signature_algorithm();
        let Some(params) = alg.parameters.as_ref() else {
            return bad(PssProblem::NoParameters);
        };
        let der = params.to_der().map_err(|e| Error::Certificate(CertificateError::encoding("", e)))?;
        let Ok(pss) = rsa::pkcs1::RsaPssParams::<der::Any>::from_der(&der) else {
            return bad(PssProblem::MalformedParameters);
        };
        let hash = pss.hash.oid;
        let mgf_hash = pss.mask_gen.parameters.as_ref().map(|h| h.oid);
        if pss.mask_gen.oid != ID_MGF_1 || mgf_hash != Some(hash) {
            return bad(PssProblem::OtherMask);
        }
        let key = self.rsa_public_key_any_size()?;
        let (tbs, sig): (_, Signature) = self.signed_parts()?;
        let salt = usize::from(pss.salt_len);
        let ok = match hash {
            h if h == ID_SHA_256 => {
                VerifyingKey::<Sha256>::new_with_salt_len(key, salt).verify(&tbs, &sig).is_ok()
            }
            h if h == ID_SHA_384 => {
                VerifyingKey::<sha2::Sha384>::new_with_salt_len(key, salt).verify(&tbs, &sig).is_ok()
            }
            h if h == ID_SHA_512 => {
                VerifyingKey::<sha2::Sha512>::new_with_salt_len(key, salt).verify(&tbs, &sig).is_ok()
            }
            _ => return bad(PssProblem::OtherHash),
        };
        if ok { Ok(()) } else { Err(Error::Certificate(CertificateError::SelfSignature { pss: true })) }
    }

    /// Fails unless the certificate is self-issued (and so, when RSA-signed,
    /// carries a self-signature [`Certificate::from_der`] verified). Custodian,
    /// operator and combiner certificates, and Azure's exchange keys, all are:
    /// one that is not has been damaged or is not what it claims to be.
    pub fn require_self_signed(&self) -> Result<(), Error> {
        let tbs = self.parsed.tbs_certificate();
        if tbs.issuer() == tbs.subject() {
            Ok(())
        } else {
            Err(Error::Certificate(CertificateError::NotSelfSigned {
                issuer: tbs.issuer().to_string(),
                subject: tbs.subject().to_string(),
            }))
        }
    }

    fn rsa_public_key_any_size(&self) -> Result<rsa::PublicKey, Error> {
        let spki = self
            .parsed
            .tbs_certificate()
            .subject_public_key_info()
            .to_der()
            .map_err(|e| Error::Certificate(CertificateError::encoding("", e)))?;
        rsa::PublicKey::from_public_key_der(&spki).map_err(|_| Error::Certificate(CertificateError::NotRsa))
    }

    /// Parses a PEM certificate (the first `CERTIFICATE` block), or DER if the
    /// input has no PEM armour. Accepts any line length (Azure writes 65).
    pub fn from_pem_or_der(data: &[u8]) -> Result<Self, Error> {
        const BEGIN: &str = "-----BEGIN CERTIFICATE-----";
        const END: &str = "-----END CERTIFICATE-----";
        let Ok(text) = std::str::from_utf8(data) else {
            return Self::from_der(data);
        };
        // Another ceremony file (a key, a bundle, an SD file) where a certificate belongs: say which.
        crate::artifact::require(data, crate::artifact::ArtifactKind::Certificate)?;
        let Some(start) = text.find(BEGIN) else {
            if text.trim_start().starts_with("-----BEGIN") {
                return Err(Error::Certificate(CertificateError::PemNotCertificate));
            }
            return Self::from_der(data);
        };
        let body = &text[start + BEGIN.len()..];
        let end = body.find(END).ok_or(Error::Certificate(CertificateError::PemNoEnd))?;
        let rest = &body[end + END.len()..];
        if !rest.chars().all(|c| c.is_ascii_whitespace()) {
            return Err(Error::Certificate(CertificateError::PemTrailingData));
        }
        let b64_text: String = body[..end].chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = b64::std_decode(&b64_text, "PEM certificate body")?;
        Self::from_der(&der)
    }

    /// Exact DER encoding.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// SHA-256 of the DER encoding.
    pub fn sha256(&self) -> [u8; 32] {
        Sha256::digest(&self.der).into()
    }

    /// `x5t#S256`: base64url(SHA-256(DER)); Azure's `x5t_256`.
    pub fn x5t_s256(&self) -> String {
        b64::url_encode(&self.sha256())
    }

    /// `x5t`: base64url(SHA-1(DER)); sent by Azure's clients, never used to match.
    pub fn x5t_sha1(&self) -> String {
        b64::url_encode(&sha1::Sha1::digest(&self.der))
    }

    /// The subject as an RFC 4514 string.
    pub fn subject(&self) -> String {
        self.parsed.tbs_certificate().subject().to_string()
    }

    /// notBefore as seconds since the Unix epoch.
    pub fn not_before_unix(&self) -> u64 {
        self.parsed.tbs_certificate().validity().not_before.to_unix_duration().as_secs()
    }

    /// notAfter as seconds since the Unix epoch.
    pub fn not_after_unix(&self) -> u64 {
        self.parsed.tbs_certificate().validity().not_after.to_unix_duration().as_secs()
    }

    /// The RSA public key; errors for other key types or keys under 2048 bits.
    pub fn rsa_public_key(&self) -> Result<rsa::PublicKey, Error> {
        use rsa::traits::PublicKeyParts;
        let key = self.rsa_public_key_any_size()?;
        let bits = key.size() * 8;
        if bits < MIN_RSA_BITS {
            return Err(Error::Certificate(CertificateError::KeyTooSmall { bits, min: MIN_RSA_BITS }));
        }
        Ok(key)
    }

    /// PEM with 64-character lines and a final newline (what OpenSSL writes).
    pub fn to_pem(&self) -> String {
        self.parsed.to_pem(LineEnding::LF).unwrap_or_else(|_| pem_with_line_length(&self.der, 64, true))
    }

    /// PEM exactly as az `init-recovery` writes the exchange key: 65-character
    /// lines and no trailing newline.
    pub fn to_pem_azure(&self) -> String {
        pem_with_line_length(&self.der, 65, false)
    }

    /// The underlying parsed certificate.
    pub fn x509(&self) -> &x509_cert::Certificate {
        &self.parsed
    }
}

fn pem_with_line_length(der: &[u8], width: usize, final_newline: bool) -> String {
    let body = b64::std_encode(der);
    let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
    for chunk in body.as_bytes().chunks(width) {
        out.push_str(std::str::from_utf8(chunk).unwrap_or_default());
        out.push('\n');
    }
    out.push_str("-----END CERTIFICATE-----");
    if final_newline {
        out.push('\n');
    }
    out
}

/// A thumbprint in a form people can read aloud and compare: the SHA-256 in
/// upper-case hex, in groups of four.
pub fn readable_fingerprint(sha256: &[u8; 32]) -> String {
    crate::primitives::hex::hex_lower(sha256)
        .to_uppercase()
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap_or_default())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The one certificate profile everything here is built with: issued by
/// `issuer` (self-issued when `None`), basicConstraints from `ca`, the given
/// keyUsage, SKI; for a TLS server also the subjectAltName and
/// extendedKeyUsage serverAuth that rustls requires; then `extra` extensions.
pub struct Profile {
    subject: Name,
    issuer: Option<Name>,
    ca: bool,
    usage: KeyUsage,
    server_names: Vec<GeneralName>,
    extra: Vec<Extension>,
}

impl Profile {
    /// A self-issued end-entity certificate for CN=`common_name`.
    fn self_issued(
        common_name: &str,
        usage: KeyUsage,
        server_names: Vec<GeneralName>,
        extra: Vec<Extension>,
    ) -> Result<Profile, Error> {
        let subject = Name::from_str(&format!("CN={common_name}"))
            .map_err(|e| Error::Certificate(CertificateError::encoding("subject", e)))?;
        Ok(Profile { subject, issuer: None, ca: false, usage, server_names, extra })
    }

    /// A certificate for `subject` issued by `issuer` (a CA when `ca`), with
    /// `usage` and the `extra` extensions: what a test platform's chain is made of.
    pub fn issued(subject: Name, issuer: Name, ca: bool, usage: KeyUsage, extra: Vec<Extension>) -> Profile {
        Profile { subject, issuer: Some(issuer), ca, usage, server_names: Vec::new(), extra }
    }

    /// digitalSignature + keyEncipherment: custodian, operator, combiner and TLS certificates.
    fn usage_signing() -> KeyUsage {
        KeyUsage(KeyUsages::DigitalSignature | KeyUsages::KeyEncipherment)
    }
}

impl BuilderProfile for Profile {
    fn get_issuer(&self, subject: &Name) -> Name {
        self.issuer.clone().unwrap_or_else(|| subject.clone())
    }
    fn get_subject(&self) -> Name {
        self.subject.clone()
    }
    fn build_extensions(
        &self,
        spk: SubjectPublicKeyInfoRef<'_>,
        _issuer_spk: SubjectPublicKeyInfoRef<'_>,
        tbs: &TbsCertificate,
    ) -> x509_cert::builder::Result<Vec<Extension>> {
        let mut exts: Vec<Extension> = Vec::new();
        let ski = SubjectKeyIdentifier::try_from(spk)?;
        exts.push(
            BasicConstraints { ca: self.ca, path_len_constraint: None }.to_extension(tbs.subject(), &exts)?,
        );
        exts.push(self.usage.to_extension(tbs.subject(), &exts)?);
        exts.push(ski.to_extension(tbs.subject(), &exts)?);
        if !self.server_names.is_empty() {
            exts.push(SubjectAltName(self.server_names.clone()).to_extension(tbs.subject(), &exts)?);
            exts.push(
                ExtendedKeyUsage(vec![const_oid::db::rfc5280::ID_KP_SERVER_AUTH])
                    .to_extension(tbs.subject(), &exts)?,
            );
        }
        exts.extend(self.extra.iter().cloned());
        Ok(exts)
    }
}

/// A random, positive 16-byte serial number of fixed DER length.
pub fn random_serial<R: TryCryptoRng + ?Sized>(rng: &mut R) -> Result<SerialNumber, Error> {
    let mut serial = [0u8; 16];
    rng.try_fill_bytes(&mut serial).map_err(|_| Error::Rng)?;
    serial[0] &= 0x7f; // positive
    serial[0] |= 0x01; // no leading zero byte, so the DER length is fixed
    SerialNumber::new(&serial).map_err(|e| Error::Certificate(CertificateError::encoding("serial", e)))
}

/// How far back a new certificate's validity starts, so that a machine whose
/// clock is somewhat behind still accepts it.
pub const CLOCK_SKEW_SECS: u64 = 3600;

/// The `not_before` for a certificate made at `now`: [`CLOCK_SKEW_SECS`]
/// earlier (never before the epoch, whatever the clock says).
pub fn backdated(now: u64) -> u64 {
    now.saturating_sub(CLOCK_SKEW_SECS)
}

/// A certificate validity from `not_before_unix`, `days` long.
pub fn validity(not_before_unix: u64, days: u32) -> Result<Validity, Error> {
    let time = |secs: u64| -> Result<Time, Error> {
        der::DateTime::from_unix_duration(Duration::from_secs(secs))
            .map(Time::from)
            .map_err(|e| Error::Certificate(CertificateError::encoding("validity", e)))
    };
    Ok(Validity::new(time(not_before_unix)?, time(not_before_unix + u64::from(days) * 86_400)?))
}

/// Checks that a common name is safe to put in a certificate and a file name.
pub fn validate_common_name(name: &str) -> Result<(), Error> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        && !name.starts_with('.');
    if ok { Ok(()) } else { Err(Error::Certificate(CertificateError::BadName(name.to_owned()))) }
}

/// Makes a self-signed X.509 v3 certificate (sha256WithRSAEncryption) for `key`
/// with subject CN=`common_name`, valid from `not_before_unix` for `days` days.
pub fn self_signed<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &(impl crate::RsaKey + ?Sized),
    common_name: &str,
    not_before_unix: u64,
    days: u32,
) -> Result<Certificate, Error> {
    validate_common_name(common_name)?;
    let profile = Profile::self_issued(common_name, Profile::usage_signing(), Vec::new(), Vec::new())?;
    build_self_signed(rng, key, profile, not_before_unix, days)
}

/// The SubjectPublicKeyInfo (DER) of an RSA public key, as a certificate carries it.
pub fn spki_der(key: &rsa::PublicKey) -> Result<Vec<u8>, Error> {
    spki::SubjectPublicKeyInfoOwned::from_key(key)
        .and_then(|s| s.to_der().map_err(Into::into))
        .map_err(|e| Error::Certificate(CertificateError::encoding("public key", e)))
}

/// An exchange-key certificate shaped like a Managed HSM's: self-signed,
/// CN = `NAME.managedhsm.azure.net`, CA:FALSE, keyUsage keyEncipherment, and
/// the given extensions (the attestation evidence).
pub fn exchange_certificate<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &(impl crate::RsaKey + ?Sized),
    hsm_name: &str,
    extensions: Vec<Extension>,
    not_before_unix: u64,
    days: u32,
) -> Result<Certificate, Error> {
    validate_common_name(hsm_name)?;
    let cn = format!("{hsm_name}{}", crate::hsm_name::HSM_DNS_SUFFIX);
    let profile =
        Profile::self_issued(&cn, KeyUsage(KeyUsages::KeyEncipherment.into()), Vec::new(), extensions)?;
    build_self_signed(rng, key, profile, not_before_unix, days)
}

/// A self-signed TLS server certificate for `dns_names` and `ips` (the
/// emulator's: `localhost`, `127.0.0.1`), which a client can pin as its only root.
pub fn self_signed_server<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &rsa::PrivateKey,
    dns_names: &[&str],
    ips: &[std::net::IpAddr],
    not_before_unix: u64,
    days: u32,
) -> Result<Certificate, Error> {
    let mut names = Vec::new();
    for d in dns_names {
        let ia5 = der::asn1::Ia5String::new(d)
            .map_err(|e| Error::Certificate(CertificateError::encoding(&format!("DNS name {d:?}"), e)))?;
        names.push(GeneralName::DnsName(ia5));
    }
    for ip in ips {
        let bytes = match ip {
            std::net::IpAddr::V4(v4) => v4.octets().to_vec(),
            std::net::IpAddr::V6(v6) => v6.octets().to_vec(),
        };
        let os = der::asn1::OctetString::new(bytes)
            .map_err(|e| Error::Certificate(CertificateError::encoding("IP address", e)))?;
        names.push(GeneralName::IpAddress(os));
    }
    let cn = dns_names.first().copied().unwrap_or("localhost");
    let profile = Profile::self_issued(cn, Profile::usage_signing(), names, Vec::new())?;
    build_self_signed(rng, key, profile, not_before_unix, days)
}

/// Signs a certificate of `profile` with `key` itself.
fn build_self_signed<R: TryCryptoRng + ?Sized>(
    rng: &mut R,
    key: &(impl crate::RsaKey + ?Sized),
    profile: Profile,
    not_before_unix: u64,
    days: u32,
) -> Result<Certificate, Error> {
    if days == 0 {
        return Err(Error::Certificate(CertificateError::ZeroDays));
    }
    let validity = validity(not_before_unix, days)?;
    let serial = random_serial(rng)?;
    let public = key.public_key();
    let spki = spki::SubjectPublicKeyInfoOwned::from_key(&public)
        .map_err(|e| Error::Certificate(CertificateError::encoding("public key", e)))?;
    let builder = CertificateBuilder::new(profile, serial, validity, spki)
        .map_err(|e| Error::Certificate(CertificateError::encoding("", e)))?;
    let signer = CertSigner { key, public: rsa::pkcs1v15::VerifyingKey::<Sha256>::new(public) };
    let cert = builder
        .build::<_, rsa::pkcs1v15::Signature>(&signer)
        .map_err(|e| Error::Certificate(CertificateError::encoding("signing", e)))?;
    let der = cert.to_der().map_err(|e| Error::Certificate(CertificateError::encoding("encoding", e)))?;
    Certificate::from_der(&der)
}

/// True when `cert` holds the public half of `key`.
pub fn key_matches(cert: &Certificate, key: &(impl crate::RsaKey + ?Sized)) -> bool {
    cert.rsa_public_key().is_ok_and(|p| crate::primitives::rsa_key::is_pair(key, &p))
}

/// Adapts any [`crate::RsaKey`] to the signer the X.509 builder wants
/// (sha256WithRSAEncryption), so certificates can be signed on a token.
struct CertSigner<'a, K: ?Sized> {
    key: &'a K,
    public: rsa::pkcs1v15::VerifyingKey<Sha256>,
}

impl<K: crate::RsaKey + ?Sized> signature::Keypair for CertSigner<'_, K> {
    type VerifyingKey = rsa::pkcs1v15::VerifyingKey<Sha256>;
    fn verifying_key(&self) -> Self::VerifyingKey {
        self.public.clone()
    }
}

impl<K: ?Sized> spki::SignatureAlgorithmIdentifier for CertSigner<'_, K> {
    type Params = der::AnyRef<'static>;
    const SIGNATURE_ALGORITHM_IDENTIFIER: spki::AlgorithmIdentifierRef<'static> =
        spki::AlgorithmIdentifierRef {
            oid: const_oid::db::rfc5912::SHA_256_WITH_RSA_ENCRYPTION,
            parameters: Some(der::AnyRef::NULL),
        };
}

impl<K: crate::RsaKey + ?Sized> signature::Signer<rsa::pkcs1v15::Signature> for CertSigner<'_, K> {
    fn try_sign(&self, msg: &[u8]) -> signature::Result<rsa::pkcs1v15::Signature> {
        let sig = self.key.sign_pkcs1v15_sha256(msg).map_err(signature::Error::from_source)?;
        rsa::pkcs1v15::Signature::try_from(sig.as_slice())
    }
}
