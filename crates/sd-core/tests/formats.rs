//! Round trips and refusals of the formats we produce ourselves: Shamir
//! split/combine (property tests), signed bundles, certificates and key files
//! (cross-checked with the `openssl` command), version-1 SD files, and
//! transfer-key responses.

use std::process::Command;

use proptest::prelude::*;
use sd_core::azure::enc_data::DomainSecret;
use sd_core::azure::sd_file::{EncKey, SecurityDomain};
use sd_core::bundle::{self, BundleKind, Signer};
use sd_core::handoff::enrollment::Enrollment;
use sd_core::pki::cert::{self, Certificate};
use sd_core::primitives::secret::{MasterKey, SecretBytes};
use sd_core::time::Timestamp;
use sd_core::{Error, azure::transfer_key, pki::private_key, primitives::b64, primitives::shamir};

fn rng() -> getrandom::SysRng {
    getrandom::SysRng
}

fn keypair(name: &str) -> (rsa::PrivateKey, Certificate) {
    let key = rsa::PrivateKey::new(&mut rng(), 2048).unwrap();
    let cert = cert::self_signed(&mut rng(), &key, name, 1_767_225_600, 365).unwrap();
    (key, cert)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn split_combine_any_quorum(secret in proptest::collection::vec(any::<u8>(), 1..64),
                                n in 3usize..=10, m_seed in any::<usize>(), pick_seed in any::<u64>()) {
        let m = 2 + m_seed % (n - 1);
        let shares = shamir::split(&mut rng(), &secret, n, m).unwrap();
        prop_assert_eq!(shares.len(), n);
        // A pseudo-random subset of exactly m shares, in a pseudo-random order.
        let mut idx: Vec<usize> = (0..n).collect();
        let mut s = pick_seed;
        for i in (1..n).rev() {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            idx.swap(i, (s >> 33) as usize % (i + 1));
        }
        let subset: Vec<_> = idx[..m].iter().map(|&i| shares[i].clone()).collect();
        let rebuilt = shamir::combine(&subset, m).unwrap();
        prop_assert_eq!(rebuilt.expose(), &secret[..]);
        // Every share round-trips through Azure's encoding.
        for sh in &shares {
            let again = shamir::Share::from_bytes(sh.to_bytes().expose()).unwrap();
            prop_assert_eq!(&again, sh);
        }
        // All n shares agree with each other.
        let all = shamir::combine(&shares, m).unwrap();
        prop_assert_eq!(all.expose(), &secret[..]);
        // Fewer than m is refused.
        prop_assert!(shamir::combine(&subset[..m - 1], m).is_err());
    }
}

#[test]
fn bundle_sign_verify_and_refusals() {
    let (key, cert) = keypair("alice");
    let (other_key, other_cert) = keypair("mallory");
    let payload = Enrollment {
        custodian: "alice".into(),
        certificate: cert.to_pem(),
        x5t_s256: cert.x5t_s256(),
        created: Timestamp::from_unix(1_767_225_600),
    };
    let signed =
        bundle::sign(BundleKind::Enrollment, &payload, &[Signer { key: &key, cert: &cert }]).unwrap();
    assert_eq!(bundle::peek_kind(signed.as_bytes()).unwrap(), BundleKind::Enrollment);
    let v = bundle::verify_signatures(signed.as_bytes(), BundleKind::Enrollment).unwrap();
    assert_eq!(v.signers(), std::slice::from_ref(&cert));
    assert_eq!(v.payload_for_display().unwrap(), serde_json::to_value(&payload).unwrap());
    assert_eq!(payload.created.utc(), "2026-01-01T00:00:00Z");
    // One time on the wire, a number; the older {unix, utc} form still reads when the two agree.
    assert_eq!(serde_json::to_value(payload.created).unwrap(), serde_json::json!(1_767_225_600u64));
    let legacy: Timestamp =
        serde_json::from_str(r#"{"unix": 1767225600, "utc": "2026-01-01T00:00:00Z"}"#).unwrap();
    assert_eq!(legacy, payload.created);
    let disagreeing =
        serde_json::from_str::<Timestamp>(r#"{"unix": 1767225600, "utc": "2001-01-01T00:00:00Z"}"#);
    assert!(disagreeing.unwrap_err().to_string().contains("disagree"));
    let e = Enrollment::verify(signed.as_bytes()).unwrap();
    assert_eq!((e.custodian(), e.certificate()), ("alice", &cert));

    // Wrong kind.
    let err = bundle::verify_signatures(signed.as_bytes(), BundleKind::Share).unwrap_err();
    assert_eq!(err.to_string(), "bundle rejected: this is an enrollment bundle, not a share bundle");
    // An enrollment naming another certificate than its signer's proves nothing.
    let forged =
        Enrollment { certificate: other_cert.to_pem(), x5t_s256: other_cert.x5t_s256(), ..payload.clone() };
    let forged = bundle::sign(BundleKind::Enrollment, &forged, &[Signer { key: &key, cert: &cert }]).unwrap();
    let err = Enrollment::verify(forged.as_bytes()).unwrap_err();
    assert_eq!(err.to_string(), "the custodian certificate it carries is not the key that signed it");

    // A key that does not match the certificate cannot sign.
    assert!(
        bundle::sign(BundleKind::Enrollment, &payload, &[Signer { key: &other_key, cert: &cert }]).is_err()
    );

    // Flip one bit at every position of every base64 member: always refused.
    let doc: serde_json::Value = serde_json::from_str(&signed).unwrap();
    let mut cases = 0;
    for member in ["payload", "protected", "signature"] {
        let raw = b64::url_decode(doc[member].as_str().unwrap(), "t").unwrap();
        for i in (0..raw.len()).step_by(7) {
            let mut bad = raw.clone();
            bad[i] ^= 0x04;
            let mut d = doc.clone();
            d[member] = serde_json::Value::String(b64::url_encode(&bad));
            let r = bundle::verify_signatures(d.to_string().as_bytes(), BundleKind::Enrollment);
            assert!(r.is_err(), "{member} byte {i} accepted");
            cases += 1;
        }
    }
    assert!(cases > 100);

    // alg "none" and a swapped signer certificate are refused.
    let reheaded = |alg: &str, signer: &Certificate| {
        let typ = BundleKind::Enrollment.typ();
        let hdr = format!(r#"{{"alg":"{alg}","typ":"{typ}","x5c":["{}"]}}"#, b64::std_encode(signer.der()));
        let mut d = doc.clone();
        d["protected"] = serde_json::Value::String(b64::url_encode(hdr.as_bytes()));
        bundle::verify_signatures(d.to_string().as_bytes(), BundleKind::Enrollment)
    };
    let err = reheaded("none", &cert).unwrap_err();
    assert!(err.to_string().contains("only PS256"), "{err}");
    assert!(reheaded("PS256", &other_cert).is_err());
}

#[test]
fn multi_signer_bundle_uses_general_serialization() {
    let (k1, c1) = keypair("alice");
    let (k2, c2) = keypair("bob");
    let signed = bundle::sign(
        BundleKind::DrillReport,
        &serde_json::json!({"result": "success"}),
        &[Signer { key: &k1, cert: &c1 }, Signer { key: &k2, cert: &c2 }],
    )
    .unwrap();
    let doc: serde_json::Value = serde_json::from_str(&signed).unwrap();
    assert_eq!(doc["signatures"].as_array().unwrap().len(), 2);
    let v = bundle::verify_signatures(signed.as_bytes(), BundleKind::DrillReport).unwrap();
    assert_eq!(v.signers(), &[c1.clone(), c2.clone()]);
}

/// Runs the `openssl` command in `dir`; `command` is split at spaces.
fn openssl(command: &str, dir: &std::path::Path) -> std::process::Output {
    Command::new("openssl")
        .args(command.split_whitespace())
        .current_dir(dir)
        .output()
        .expect("the openssl command must be installed")
}

/// [`openssl`], which must succeed; its standard output.
fn openssl_ok(command: &str, dir: &std::path::Path) -> String {
    let out = openssl(command, dir);
    assert!(out.status.success(), "openssl {command}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn openssl_reads_our_certificates_and_key_files() {
    let dir = std::env::temp_dir().join(format!("sd-core-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = rsa::PrivateKey::new(&mut rng(), 3072).unwrap();
    let cert = cert::self_signed(&mut rng(), &key, "custodian-a", 1_767_225_600, 730).unwrap();
    std::fs::write(dir.join("c.cer"), cert.to_pem()).unwrap();
    std::fs::write(
        dir.join("c.key"),
        private_key::to_encrypted_pem(&mut rng(), &key, b"pass phrase").unwrap().as_bytes(),
    )
    .unwrap();
    std::fs::write(dir.join("pw"), "pass phrase").unwrap();

    let text = openssl_ok("x509 -in c.cer -noout -text", &dir);
    assert!(text.contains("Subject: CN = custodian-a") && text.contains("sha256WithRSAEncryption"), "{text}");
    assert!(
        text.contains("CA:FALSE") && text.contains("Key Encipherment") && text.contains("3072 bit"),
        "{text}"
    );
    openssl_ok("verify -CAfile c.cer -partial_chain c.cer", &dir);

    // The key file decrypts with the passphrase and matches the certificate.
    let pub_from_key = openssl_ok("pkey -in c.key -passin file:pw -pubout", &dir);
    assert_eq!(pub_from_key, openssl_ok("x509 -in c.cer -noout -pubkey", &dir));
    std::fs::write(dir.join("bad"), "wrong").unwrap();
    assert!(!openssl("pkey -in c.key -passin file:bad -noout", &dir).status.success());

    // And the other way: a key OpenSSL encrypts (PBKDF2 + AES-256-CBC) is read by us.
    openssl_ok(
        "genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -aes-256-cbc -pass file:pw -out o.key",
        &dir,
    );
    let pem = std::fs::read_to_string(dir.join("o.key")).unwrap();
    private_key::from_pem(&pem, Some(b"pass phrase")).unwrap();
    assert_eq!(private_key::from_pem(&pem, Some(b"nope")).unwrap_err(), Error::WrongPassphrase);

    // Thumbprint equals OpenSSL's SHA-256 fingerprint.
    let fp = openssl_ok("x509 -in c.cer -noout -fingerprint -sha256", &dir);
    let fp = fp.trim().rsplit('=').next().unwrap().replace(':', "").to_lowercase();
    assert_eq!(fp, sd_core::primitives::hex::hex_lower(&cert.sha256()));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn version_1_xor_split_file() {
    let (k0, c0) = keypair("a");
    let (k1, c1) = keypair("b");
    let (k2, _) = keypair("c");
    let master = MasterKey::generate(&mut rng()).unwrap();
    let secrets = vec![
        DomainSecret { tag: "hsm_backup".into(), data: SecretBytes::from_slice(b"opaque hsm state") },
        DomainSecret { tag: "partition_enclave_backup".into(), data: SecretBytes::from_slice(&[0u8; 100]) },
    ];
    let enc_data = sd_core::azure::enc_data::EncData::encrypt(&mut rng(), &master, &secrets).unwrap();
    let half_a = [0x5au8; 32];
    let half_b: Vec<u8> = master.expose().iter().zip(half_a).map(|(m, a)| m ^ a).collect();
    let key1 = EncKey::encrypt(&mut rng(), &c0, "not used", &half_a).unwrap();
    let key2 = EncKey::encrypt(&mut rng(), &c1, "not used", &half_b).unwrap();
    let v1 = serde_json::json!({
        "EncData": enc_data,
        "SplitKeys": {"key_algorithm": "xor_split", "keys": [{"key1": key1, "key2": key2}]},
        "version": 1,
    });
    let sd = SecurityDomain::parse(v1.to_string().as_bytes()).unwrap();
    assert_eq!(sd.version(), 1);
    assert_eq!(sd.thumbprints(), vec![c0.x5t_s256(), c1.x5t_s256()]);
    let (m, opened) = sd.recover_xor_split(&[&k1, &k0]).unwrap();
    assert_eq!(m, master);
    assert_eq!(opened[0].data.expose(), b"opaque hsm state");
    assert_eq!(sd.recover_xor_split(&[&k0, &k2]).unwrap_err(), Error::NoMatchingShare);
    assert!(sd.open_share(&k0, None).is_err());
    // Unknown members survive a round trip.
    let mut with_extra = v1.clone();
    with_extra["future_member"] = serde_json::json!({"x": 1});
    let sd = SecurityDomain::parse(with_extra.to_string().as_bytes()).unwrap();
    assert!(sd.to_json().unwrap().contains(r#""future_member":{"x":1}"#));
    // Version/shape mismatches are refused.
    let mut bad = v1.clone();
    bad["version"] = serde_json::json!(2);
    assert!(matches!(SecurityDomain::parse(bad.to_string().as_bytes()), Err(Error::SdFile(_))));
    // Entries are named for people, counting from 1 as every screen does.
    let mut bad = v1.clone();
    bad["SplitKeys"]["keys"][0]["key2"]["x5t_256"] = serde_json::json!("AAAA");
    let err = SecurityDomain::parse(bad.to_string().as_bytes()).unwrap_err().to_string();
    assert!(err.contains("split key 1 key2: x5t_256 is 3 bytes"), "{err}");
    let mut bad = v1;
    bad["version"] = serde_json::json!(3);
    assert!(SecurityDomain::parse(bad.to_string().as_bytes()).unwrap_err().to_string().contains("version 3"));
}

#[test]
fn transfer_key_response_forms() {
    let (_, cert) = keypair("transfer-key");
    let body = transfer_key::response_json(&cert).unwrap();
    assert!(body.starts_with(r#"{"key_format":"jwk","transfer_key":"{\"e\":\"AQAB\",\"key_ops\":[\"wrapKey\",\"verify\",\"encrypt\"],\"kid\":\"not used\",\"kty\":\"RSA\""#), "{body}");
    assert_eq!(transfer_key::parse_response(body.as_bytes()).unwrap(), cert);
    // transfer_key as an object (what the spec says).
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let obj: serde_json::Value = serde_json::from_str(v["transfer_key"].as_str().unwrap()).unwrap();
    let as_object = serde_json::json!({"key_format": "jwk", "transfer_key": obj});
    assert_eq!(transfer_key::parse_response(as_object.to_string().as_bytes()).unwrap(), cert);
    // PEM form (PowerShell's "transitional" format).
    let as_pem = serde_json::json!({"key_format": "pem", "transfer_key": cert.to_pem()});
    assert_eq!(transfer_key::parse_response(as_pem.to_string().as_bytes()).unwrap(), cert);
    // Mismatched n is refused.
    let mut forged = obj.clone();
    forged["n"] = serde_json::Value::String(b64::url_encode(&[0xff; 256]));
    let forged = serde_json::json!({"key_format": "jwk", "transfer_key": forged.to_string()});
    assert!(transfer_key::parse_response(forged.to_string().as_bytes()).is_err());
    assert!(transfer_key::parse_response(b"{}").is_err());
    assert!(transfer_key::parse_response(br#"{"key_format":"jwk","transfer_key":"{}"}"#).is_err());
}

#[test]
fn weak_keys_and_bad_names_are_refused() {
    let small = rsa::PrivateKey::new(&mut rng(), 1024).unwrap();
    let c = cert::self_signed(&mut rng(), &small, "tiny", 1_767_225_600, 1).unwrap();
    let err = c.rsa_public_key().unwrap_err();
    assert!(err.to_string().contains("1024 bits"), "{err}");
    let (key, _) = keypair("x");
    for bad in ["", "a b", "CN=evil,O=x", ".hidden", "ünï"] {
        assert!(cert::self_signed(&mut rng(), &key, bad, 0, 1).is_err(), "{bad:?}");
    }
    assert_eq!(cert::readable_fingerprint(&[0xab; 32]).split(' ').count(), 16);
}

#[test]
fn damaged_self_signed_certificates_are_refused() {
    let (_, cert) = keypair("alice");
    let der = cert.der().to_vec();
    let mut refused = 0;
    for i in (0..der.len()).step_by(3) {
        let mut bad = der.clone();
        bad[i] ^= 0x01;
        if Certificate::from_der(&bad).is_err() {
            refused += 1;
        } else {
            // A flip may land in a byte the self-signature does not cover only
            // if it still decodes to the same certificate: never a different key.
            let c = Certificate::from_der(&bad).unwrap();
            assert_eq!(c.rsa_public_key().unwrap(), cert.rsa_public_key().unwrap(), "byte {i}");
        }
    }
    assert!(refused * 10 >= (der.len() / 3) * 9, "only {refused} refused");
    let err = Certificate::from_der(&{
        let mut bad = der.clone();
        let n = bad.len();
        bad[n - 5] ^= 0x40; // inside the signature value
        bad
    })
    .unwrap_err();
    assert!(err.to_string().contains("self-signature does not verify"), "{err}");
}

#[test]
fn rsa_pss_self_signatures_are_verified() {
    let dir = std::env::temp_dir().join(format!("sd-core-pss-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // openssl makes a self-signed certificate signed with RSASSA-PSS (SHA-256, salt 32).
    openssl_ok(
        "req -x509 -newkey rsa:2048 -nodes -keyout pss.key -out pss.cer -days 30 -subj /CN=pss-custodian \
         -sha256 -sigopt rsa_padding_mode:pss -sigopt rsa_pss_saltlen:32",
        &dir,
    );
    let pem = std::fs::read(dir.join("pss.cer")).unwrap();
    let cert = Certificate::from_pem_or_der(&pem).unwrap();
    assert_eq!(cert.x509().signature_algorithm().oid, const_oid::db::rfc5912::ID_RSASSA_PSS);
    // A bad self-signature: the last signature byte flipped.
    let mut der = cert.der().to_vec();
    let last = der.len() - 1;
    der[last] ^= 0x01;
    let err = Certificate::from_der(&der).unwrap_err();
    assert!(err.to_string().contains("the RSASSA-PSS self-signature does not verify"), "{err}");
    // And a changed name (issuer and subject alike, so still self-issued), same signature.
    let mut der = cert.der().to_vec();
    while let Some(at) = der.windows(13).position(|w| w == b"pss-custodian") {
        der[at] = b'P';
    }
    assert!(Certificate::from_der(&der).unwrap_err().to_string().contains("does not verify"));
    std::fs::remove_dir_all(&dir).ok();
}
