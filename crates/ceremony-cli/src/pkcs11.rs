//! Custodian keys on hardware tokens, through PKCS#11 (smart cards, YubiKeys,
//! HSMs; SoftHSM2 for rehearsals), named by an RFC 7512 URI such as
//! `pkcs11:token=custodian-a;object=sd-recovery?module-path=/usr/lib/softhsm/libsofthsm2.so`.
//!
//! The private key never leaves the token: decryption and signatures happen
//! on it. The PIN comes from the terminal (no echo) or from `pin-source=file:…`
//! in the URI — never from an argument or the environment (`pin-value` is refused).
//! Tokens without OAEP-SHA-256 (Debian's SoftHSM2 2.6.1, many cards) get the
//! raw RSA operation (`CKM_RSA_X_509`) on the token and the OAEP decoding on
//! the host, in constant time (`sd_core::primitives::rsa_key::oaep_sha256_decode`).

use std::path::PathBuf;

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::rsa::{PkcsMgfType, PkcsOaepParams, PkcsOaepSource, PkcsPssParams};
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, CertificateType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::slot::Slot;
use cryptoki::types::AuthPin;
use sd_core::pki::cert::Certificate;
use sd_core::primitives::crypto_error::CryptoError;
use sd_core::{Error, RsaKey};
use zeroize::Zeroizing;

use crate::error::{CliError, CliResult};

/// A parsed `pkcs11:` URI (the attributes hsm-ceremony uses).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkcs11Uri {
    /// The URI as given (it holds no secret).
    pub text: String,
    /// `token=`: the token label.
    pub token: String,
    /// `object=`: the key's label.
    pub object: Option<String>,
    /// `id=`: the key's CKA_ID.
    pub id: Option<Vec<u8>>,
    /// `module-path=`: the PKCS#11 library.
    pub module_path: PathBuf,
    /// `pin-source=file:…`: where to read the PIN from.
    pub pin_file: Option<PathBuf>,
}

fn percent_decode(s: &str) -> Result<Vec<u8>, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s.get(i + 1..i + 3).ok_or("a % escape is cut short")?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| format!("bad % escape %{hex}"))?);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(out)
}

impl Pkcs11Uri {
    /// True for a string that names a token key rather than a key file.
    pub fn is_uri(s: &str) -> bool {
        s.starts_with("pkcs11:")
    }

    /// Parses an RFC 7512 URI; `token`, `module-path` and `object` or `id` are required.
    pub fn parse(text: &str) -> Result<Self, String> {
        let rest = text.strip_prefix("pkcs11:").ok_or("a PKCS#11 URI starts with pkcs11:")?;
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (mut token, mut object, mut id, mut module_path, mut pin_file) = (None, None, None, None, None);
        let text_attr = |v: &str| -> Result<String, String> {
            String::from_utf8(percent_decode(v)?).map_err(|_| "an attribute is not UTF-8".to_owned())
        };
        for attr in path.split(';').filter(|a| !a.is_empty()) {
            let (k, v) = attr.split_once('=').ok_or_else(|| format!("attribute {attr:?} has no ="))?;
            match k {
                "token" => token = Some(text_attr(v)?),
                "object" => object = Some(text_attr(v)?),
                "id" => id = Some(percent_decode(v)?),
                "type" if v == "private" => {}
                "type" => return Err(format!("type={v}: a custodian key is a private key")),
                // Other path attributes (manufacturer, model, serial, slot-*) narrow nothing we need.
                _ => {}
            }
        }
        for attr in query.split('&').filter(|a| !a.is_empty()) {
            let (k, v) = attr.split_once('=').ok_or_else(|| format!("attribute {attr:?} has no ="))?;
            match k {
                "module-path" => module_path = Some(PathBuf::from(text_attr(v)?)),
                "pin-source" => {
                    let src = text_attr(v)?;
                    let file = src.strip_prefix("file:").ok_or("pin-source must be file:PATH")?;
                    pin_file = Some(PathBuf::from(file.trim_start_matches("//")));
                }
                "pin-value" => {
                    return Err("pin-value is refused: a PIN never goes on the command line".into());
                }
                _ => {}
            }
        }
        let token = token.ok_or("the URI needs token=LABEL")?;
        if object.is_none() && id.is_none() {
            return Err("the URI needs object=LABEL or id=…".into());
        }
        let module_path = module_path.ok_or("the URI needs ?module-path=/path/to/the/pkcs11/library.so")?;
        Ok(Pkcs11Uri { text: text.to_owned(), token, object, id, module_path, pin_file })
    }

    fn key_template(&self, class: ObjectClass) -> Vec<Attribute> {
        let mut t = vec![Attribute::Class(class), Attribute::KeyType(KeyType::RSA)];
        if let Some(o) = &self.object {
            t.push(Attribute::Label(o.as_bytes().to_vec()));
        }
        if let Some(id) = &self.id {
            t.push(Attribute::Id(id.clone()));
        }
        t
    }
}

/// An open, logged-in session on the token holding one custodian key.
pub struct Pkcs11Key {
    uri: Pkcs11Uri,
    session: Session,
    key: ObjectHandle,
    id: Vec<u8>,
    public: rsa::PublicKey,
    mechanisms: Vec<MechanismType>,
    // Keeps the library loaded for as long as the session lives.
    _ctx: Pkcs11,
}

fn ck(uri: &Pkcs11Uri, what: &str, e: CkError) -> CliError {
    CliError::general(format!("{}: {what}: {e}", uri.text))
        .hint("check that the token is inserted and that module-path is its module (`pkcs11-tool --module PATH --list-slots`)")
}

fn read_pin(uri: &Pkcs11Uri) -> CliResult<AuthPin> {
    let pin = match &uri.pin_file {
        Some(f) => {
            let mut p = crate::passphrase::from_file(f)?;
            String::from_utf8(std::mem::take(&mut *p)).map_err(|_| {
                CliError::file(f, "the PIN is not UTF-8").hint("write the PIN as plain text, one line")
            })?
        }
        None => rpassword::prompt_password(format!("PIN for token {}: ", uri.token)).map_err(|e| {
            CliError::general(format!("cannot read the PIN from the terminal ({e})"))
                .hint("run in a terminal, or add pin-source=file:PATH to the URI")
        })?,
    };
    Ok(AuthPin::from(pin))
}

impl Pkcs11Key {
    fn connect(uri: &Pkcs11Uri, rw: bool) -> CliResult<(Pkcs11, Session, Slot)> {
        if !uri.module_path.is_file() {
            return Err(CliError::file(&uri.module_path, "PKCS#11 module not found")
                .hint("check module-path in the URI (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)"));
        }
        let ctx = Pkcs11::new(&uri.module_path).map_err(|e| {
            CliError::file(&uri.module_path, format!("cannot load the PKCS#11 module: {e}"))
                .hint("check that module-path names the token's PKCS#11 library for this machine")
        })?;
        match ctx.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(ck(uri, "initialising the module", e)),
        }
        let slots = ctx.get_slots_with_token().map_err(|e| ck(uri, "listing slots", e))?;
        let slot = slots
            .into_iter()
            .find(|s| ctx.get_token_info(*s).is_ok_and(|t| t.label().trim_end() == uri.token))
            .ok_or_else(|| {
                CliError::general(format!("{}: token {:?} is not present", uri.text, uri.token))
                    .hint("insert the token, or check token= in the URI")
            })?;
        let session = if rw { ctx.open_rw_session(slot) } else { ctx.open_ro_session(slot) }
            .map_err(|e| ck(uri, "opening a session", e))?;
        let pin = read_pin(uri)?;
        match session.login(UserType::User, Some(&pin)) {
            Ok(()) | Err(CkError::Pkcs11(RvError::UserAlreadyLoggedIn, _)) => {}
            Err(CkError::Pkcs11(RvError::PinIncorrect, _)) => {
                let info = ctx.get_token_info(slot).ok();
                // PKCS#11 gives no count, only these two flags: say which, and that.
                let tries = match info {
                    Some(i) if i.user_pin_final_try() => " — ONE try is left before the PIN locks",
                    Some(i) if i.user_pin_count_low() => {
                        " — the token says few tries are left (PKCS#11 tokens do not say how many)"
                    }
                    _ => "",
                };
                return Err(CliError::general(format!(
                    "{}: wrong PIN for token {:?}{tries}",
                    uri.text, uri.token
                ))
                .hint("check the PIN before trying again: when the tries run out the PIN locks, and only the token's security officer can unlock it"));
            }
            Err(CkError::Pkcs11(RvError::PinLocked, _)) => {
                return Err(CliError::general(format!(
                    "{}: the PIN of token {:?} is locked",
                    uri.text, uri.token
                ))
                .hint("the token's security officer must unlock it"));
            }
            Err(e) => return Err(ck(uri, "logging in", e)),
        }
        Ok((ctx, session, slot))
    }

    fn finish(
        uri: Pkcs11Uri,
        ctx: Pkcs11,
        session: Session,
        slot: Slot,
        key: ObjectHandle,
    ) -> CliResult<Self> {
        let attrs = session
            .get_attributes(key, &[AttributeType::Modulus, AttributeType::PublicExponent, AttributeType::Id])
            .map_err(|e| ck(&uri, "reading the key", e))?;
        let (mut n, mut e, mut id) = (None, None, Vec::new());
        for a in attrs {
            match a {
                Attribute::Modulus(v) => n = Some(v),
                Attribute::PublicExponent(v) => e = Some(v),
                Attribute::Id(v) => id = v,
                _ => {}
            }
        }
        let (Some(n), Some(e)) = (n, e) else {
            return Err(CliError::general(format!("{}: the key has no RSA modulus/exponent", uri.text))
                .hint("custodian keys are RSA: name an RSA key with object= or id="));
        };
        let public = rsa::PublicKey::new(
            rsa::BoxedUint::from_be_slice_vartime(&n),
            rsa::BoxedUint::from_be_slice_vartime(&e),
        )
        .map_err(|err| {
            CliError::general(format!("{}: not a usable RSA key ({err})", uri.text))
                .hint("custodian keys are RSA-2048 or larger: name another key with object= or id=")
        })?;
        let mechanisms = ctx.get_mechanism_list(slot).map_err(|e| ck(&uri, "listing mechanisms", e))?;
        Ok(Pkcs11Key { uri, session, key, id, public, mechanisms, _ctx: ctx })
    }

    /// Opens the private key the URI names, asking for (or reading) the PIN.
    pub fn open(uri: &Pkcs11Uri) -> CliResult<Self> {
        let (ctx, session, slot) = Self::connect(uri, false)?;
        let mut found = session
            .find_objects(&uri.key_template(ObjectClass::PRIVATE_KEY))
            .map_err(|e| ck(uri, "searching for the key", e))?;
        let key = match (found.pop(), found.is_empty()) {
            (Some(k), true) => k,
            (Some(_), false) => {
                return Err(CliError::general(format!("{}: several keys match", uri.text))
                    .hint("add id=HEX to the URI (`pkcs11-tool --list-objects` shows each key's ID)"));
            }
            (None, _) => {
                return Err(CliError::general(format!(
                    "{}: no private key with this object/id on token {:?}",
                    uri.text, uri.token
                ))
                .hint("check object= (or id=) in the URI"));
            }
        };
        Self::finish(uri.clone(), ctx, session, slot, key)
    }

    /// Generates an RSA key pair on the token (private key sensitive and not
    /// extractable), labelled with the URI's object and a fresh random id.
    pub fn generate(uri: &Pkcs11Uri, bits: usize) -> CliResult<Self> {
        let (ctx, session, slot) = Self::connect(uri, true)?;
        let label = uri.object.clone().ok_or_else(|| {
            CliError::general(format!("{}: generating a key needs object=LABEL", uri.text))
                .hint("add object=NAME to the URI, e.g. the custodian's name")
        })?;
        if !session
            .find_objects(&uri.key_template(ObjectClass::PRIVATE_KEY))
            .map_err(|e| ck(uri, "searching", e))?
            .is_empty()
        {
            return Err(CliError::general(format!(
                "{}: the token already holds a key with this label; refusing to add another",
                uri.text
            ))
            .hint("choose another object= label; the key already there may hold a share"));
        }
        let mut id = vec![0u8; 16];
        getrandom::fill(&mut id).map_err(|_| {
            // no hint: the operating system's RNG failing leaves nothing to do but stop.
            CliError::general("the system random number generator failed")
        })?;
        let public_template = vec![
            Attribute::Token(true),
            Attribute::Private(false),
            Attribute::Verify(true),
            Attribute::Encrypt(true),
            Attribute::ModulusBits((bits as u64).into()),
            Attribute::PublicExponent(vec![1, 0, 1]),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        let private_template = vec![
            Attribute::Token(true),
            Attribute::Private(true),
            Attribute::Sensitive(true),
            Attribute::Extractable(false),
            Attribute::Decrypt(true),
            Attribute::Sign(true),
            Attribute::Label(label.as_bytes().to_vec()),
            Attribute::Id(id.clone()),
        ];
        let (_, private) = session
            .generate_key_pair(&Mechanism::RsaPkcsKeyPairGen, &public_template, &private_template)
            .map_err(|e| ck(uri, "generating the key pair on the token", e))?;
        Self::finish(uri.clone(), ctx, session, slot, private)
    }

    /// Stores `cert` on the token next to the key (same CKA_ID and label).
    pub fn store_certificate(&self, cert: &Certificate) -> CliResult {
        use der::Encode;
        let subject = cert.x509().tbs_certificate().subject().to_der().map_err(|e| {
            // no hint: our own certificate failing to encode is a bug to report.
            CliError::general(format!("{}: cannot encode the certificate's subject: {e}", self.uri.text))
        })?;
        let mut template = vec![
            Attribute::Class(ObjectClass::CERTIFICATE),
            Attribute::CertificateType(CertificateType::X_509),
            Attribute::Token(true),
            Attribute::Id(self.id.clone()),
            Attribute::Value(cert.der().to_vec()),
            Attribute::Subject(subject),
        ];
        if let Some(o) = &self.uri.object {
            template.push(Attribute::Label(o.as_bytes().to_vec()));
        }
        self.session
            .create_object(&template)
            .map_err(|e| ck(&self.uri, "storing the certificate on the token", e))?;
        Ok(())
    }

    /// The certificate stored next to the key (same CKA_ID), if any.
    pub fn certificate(&self) -> CliResult<Option<Certificate>> {
        let found = self
            .session
            .find_objects(&[Attribute::Class(ObjectClass::CERTIFICATE), Attribute::Id(self.id.clone())])
            .map_err(|e| ck(&self.uri, "searching for the certificate", e))?;
        let Some(handle) = found.first() else {
            return Ok(None);
        };
        let attrs = self
            .session
            .get_attributes(*handle, &[AttributeType::Value])
            .map_err(|e| ck(&self.uri, "reading the certificate", e))?;
        for a in attrs {
            if let Attribute::Value(der) = a {
                let cert = Certificate::from_der(&der).map_err(|e| {
                    CliError::general(format!("{}: the certificate on the token: {e}", self.uri.text))
                        .hint("the token's certificate is damaged or not one keyholder init stored; do not use this key")
                })?;
                return Ok(Some(cert));
            }
        }
        Ok(None)
    }

    fn supports(&self, m: MechanismType) -> bool {
        self.mechanisms.contains(&m)
    }

    fn key_len(&self) -> usize {
        use rsa::traits::PublicKeyParts;
        self.public.size()
    }
}

fn token_err(e: CkError) -> Error {
    match e {
        CkError::Pkcs11(RvError::EncryptedDataInvalid | RvError::EncryptedDataLenRange, _) => {
            Error::KeyUnwrap
        }
        other => Error::Crypto(CryptoError::Token(other.to_string())),
    }
}

impl RsaKey for Pkcs11Key {
    fn public_key(&self) -> rsa::PublicKey {
        self.public.clone()
    }

    fn decrypt_oaep_sha256(&self, ciphertext: &[u8]) -> Result<Zeroizing<Vec<u8>>, Error> {
        if ciphertext.len() != self.key_len() {
            return Err(Error::KeyUnwrap);
        }
        if self.supports(MechanismType::RSA_PKCS_OAEP) {
            let params =
                PkcsOaepParams::new(MechanismType::SHA256, PkcsMgfType::MGF1_SHA256, PkcsOaepSource::empty());
            match self.session.decrypt(&Mechanism::RsaPkcsOaep(params), self.key, ciphertext) {
                Ok(plain) => return Ok(Zeroizing::new(plain)),
                // The token has OAEP but not with SHA-256 (SoftHSM2 2.6.1): fall back.
                Err(CkError::Pkcs11(
                    RvError::ArgumentsBad | RvError::MechanismParamInvalid | RvError::MechanismInvalid,
                    _,
                )) => {}
                Err(e) => return Err(token_err(e)),
            }
        }
        if !self.supports(MechanismType::RSA_X_509) {
            return Err(Error::Crypto(CryptoError::TokenMechanisms(self.uri.token.clone())));
        }
        let em = Zeroizing::new(
            self.session.decrypt(&Mechanism::RsaX509, self.key, ciphertext).map_err(token_err)?,
        );
        sd_core::primitives::rsa_key::oaep_sha256_decode(&em, self.key_len())
    }

    fn sign_pss_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        let params = PkcsPssParams {
            hash_alg: MechanismType::SHA256,
            mgf: PkcsMgfType::MGF1_SHA256,
            s_len: 32u64.into(),
        };
        if self.supports(MechanismType::SHA256_RSA_PKCS_PSS) {
            return self
                .session
                .sign(&Mechanism::Sha256RsaPkcsPss(params), self.key, message)
                .map_err(token_err);
        }
        use sha2::Digest;
        let digest = sha2::Sha256::digest(message);
        self.session.sign(&Mechanism::RsaPkcsPss(params), self.key, &digest).map_err(token_err)
    }

    fn sign_pkcs1v15_sha256(&self, message: &[u8]) -> Result<Vec<u8>, Error> {
        self.session.sign(&Mechanism::Sha256RsaPkcs, self.key, message).map_err(token_err)
    }
}

/// The PKCS#11 module path of SoftHSM2 on Debian, for help texts.
pub const SOFTHSM2_MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parsing() {
        let u = Pkcs11Uri::parse("pkcs11:token=custodian%20a;object=sd-recovery;id=%01%ff?module-path=/usr/lib/x.so&pin-source=file:/tmp/pin").unwrap();
        assert_eq!(u.token, "custodian a");
        assert_eq!(u.object.as_deref(), Some("sd-recovery"));
        assert_eq!(u.id, Some(vec![1, 255]));
        assert_eq!(u.module_path, PathBuf::from("/usr/lib/x.so"));
        assert_eq!(u.pin_file, Some(PathBuf::from("/tmp/pin")));
        for bad in [
            "pkcs11:object=x?module-path=/m.so",
            "pkcs11:token=t?module-path=/m.so",
            "pkcs11:token=t;object=x",
            "pkcs11:token=t;object=x?module-path=/m.so&pin-value=1234",
            "pkcs11:token=t;object=x;type=public?module-path=/m.so",
            "pkcs11:token=%zz;object=x?module-path=/m.so",
        ] {
            assert!(Pkcs11Uri::parse(bad).is_err(), "{bad}");
        }
        assert!(Pkcs11Uri::is_uri("pkcs11:token=a") && !Pkcs11Uri::is_uri("alice.key"));
    }
}
