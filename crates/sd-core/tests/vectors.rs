//! The core crate against Azure's real files in `../shared/vectors`: two SD
//! files made by real HSMs (2020, 2025), their quorum keys, and a restore blob
//! made by az 2.91.0. Golden SHA-256 values are from AZURE-SD-FORMAT.md §9,
//! computed there by an independent implementation.

use crate::common::read;

use sd_core::azure::download_request::{CertificateJwk, DownloadRequest};
use sd_core::azure::enc_data::DomainSecret;
use sd_core::azure::restore_blob::RestoreBlob;
use sd_core::azure::sd_file::{OpenedShare, SecurityDomain};
use sd_core::pki::cert::Certificate;
use sd_core::{Error, pki::private_key, primitives::hex::sha256_hex};

const KEYS: &str = "azure-sdk-for-python/sdk/keyvault/azure-keyvault-securitydomain/tests/resources";
const SD_2020: &str = "azure-cli/security_domain_keys/sdtest/sdfile.json";
const SD_2025: &str = "azure-cli/extracted/recording-2025-04-22-download-sd.json";

fn quorum_key(i: usize) -> rsa::PrivateKey {
    let pem = String::from_utf8(read(&format!("{KEYS}/certificate{i}.pem"))).unwrap();
    private_key::from_pem(&pem, None).unwrap()
}

fn quorum_cert(i: usize) -> Certificate {
    Certificate::from_pem_or_der(&read(&format!("{KEYS}/certificate{i}.cer"))).unwrap()
}

/// What the real files must open to, as SHA-256 digests (`data/golden.json`).
#[derive(serde::Deserialize)]
struct Golden {
    file_sha256_prefix: String,
    share_sha256: Vec<String>,
    master_sha256: String,
    secrets: Vec<GoldenSecret>,
}

#[derive(serde::Deserialize)]
struct GoldenSecret {
    tag: String,
    len: usize,
    sha256: String,
}

/// The golden values for one real SD file (`sd_2020` or `sd_2025`).
fn golden(which: &str) -> Golden {
    let all: serde_json::Value = serde_json::from_str(include_str!("data/golden.json")).unwrap();
    serde_json::from_value(all[which].clone()).unwrap()
}

fn assert_secrets(secrets: &[DomainSecret], golden: &Golden) {
    assert_eq!(secrets.len(), 3);
    for (s, want) in secrets.iter().zip(&golden.secrets) {
        assert_eq!(s.tag, want.tag);
        assert_eq!(s.data.len(), want.len, "{}", want.tag);
        assert_eq!(sha256_hex(s.data.expose()), want.sha256, "{}", want.tag);
    }
}

fn check_real_file(path: &str, golden: &Golden) {
    let bytes = read(path);
    assert!(sha256_hex(&bytes).starts_with(&golden.file_sha256_prefix));
    let sd = SecurityDomain::parse(&bytes).unwrap();
    assert_eq!((sd.version(), sd.required(), sd.shares().len()), (2, 2, 3));
    // Our writer reproduces the HSM's bytes exactly.
    assert_eq!(sd.to_json().unwrap().as_bytes(), &bytes[..]);

    let keys: Vec<_> = (0..3).map(quorum_key).collect();
    let opened: Vec<OpenedShare> = keys
        .iter()
        .enumerate()
        .map(|(i, k)| {
            // Found by trying, without the certificate...
            let s = sd.open_share(k, None).unwrap();
            assert_eq!(s.index, i);
            assert_eq!(s.share.x() as usize, i + 1);
            assert_eq!(sha256_hex(s.share.to_bytes().expose()), golden.share_sha256[i]);
            // ...and by thumbprint.
            let t = sd.open_share(k, Some(&quorum_cert(i).x5t_s256())).unwrap();
            assert_eq!(t.index, i);
            s
        })
        .collect();

    let subsets: [&[usize]; 7] = [&[0, 1], &[0, 2], &[1, 2], &[1, 0], &[2, 1], &[0, 1, 2], &[2, 0, 1]];
    for subset in subsets {
        let chosen: Vec<OpenedShare> = subset.iter().map(|&i| opened[i].clone()).collect();
        let sd_core::azure::quorum::Recovered { master, secrets, .. } = sd.recover(&chosen).unwrap();
        assert_eq!(sha256_hex(master.expose()), golden.master_sha256, "{subset:?}");
        assert_secrets(&secrets, golden);
    }
    // One share is not a quorum.
    assert!(matches!(
        sd.recover(&opened[..1]),
        Err(sd_core::azure::quorum::QuorumError::TooFew { given: 1, .. })
    ));
    // The same share twice: Azure's tools silently make an all-zero key; we refuse.
    let twice = [opened[0].clone(), opened[0].clone()];
    let err = sd.recover(&twice).unwrap_err();
    assert!(err.to_string().contains("same share"), "{err}");
}

#[test]
fn real_2020_sd_file_opens_with_every_quorum() {
    check_real_file(SD_2020, &golden("sd_2020"));
}

#[test]
fn real_2025_sd_file_opens_with_every_quorum() {
    check_real_file(SD_2025, &golden("sd_2025"));
}

#[test]
fn base64url_wrapped_sd_file_is_accepted() {
    let bytes = read(SD_2020);
    let wrapped = sd_core::primitives::b64::url_encode(&bytes);
    let sd = SecurityDomain::parse(wrapped.as_bytes()).unwrap();
    assert_eq!(sd.to_json().unwrap().as_bytes(), &bytes[..]);
}

#[test]
fn keys_that_open_no_share_are_reported() {
    let sd = SecurityDomain::parse(&read(SD_2020)).unwrap();
    for p in ["azure-cli/sdkeys2/cert_0.key", "azure-cli/certs/cert_1.key"] {
        let key = private_key::from_pem(&String::from_utf8(read(p)).unwrap(), None).unwrap();
        let err = sd.open_share(&key, None).unwrap_err();
        assert_eq!(err, Error::NoMatchingShare);
        assert_eq!(err.to_string(), "this key opens no share in this file");
    }
}

#[test]
fn az_restore_blob_opens_with_its_exchange_key() {
    let dir = "generated/az-2.91.0-restore-blob";
    let blob = RestoreBlob::parse(&read(&format!("{dir}/restore-blob.json"))).unwrap();
    let exchange_cert = Certificate::from_pem_or_der(&read(&format!("{dir}/test-exchange.pem"))).unwrap();
    assert_eq!(blob.exchange_x5t_s256(), exchange_cert.x5t_s256());
    let exchange_key =
        private_key::from_pem(&String::from_utf8(read(&format!("{dir}/test-exchange.key"))).unwrap(), None)
            .unwrap();
    assert_secrets(&blob.open(&exchange_key).unwrap(), &golden("sd_2020"));
    // Not for another key.
    assert!(matches!(blob.open(&quorum_key(0)), Err(Error::RestoreBlob(_))));
}

#[test]
fn our_restore_blob_opens_to_the_same_plaintexts() {
    let dir = "generated/az-2.91.0-restore-blob";
    let sd = SecurityDomain::parse(&read(SD_2020)).unwrap();
    let shares = [sd.open_share(&quorum_key(0), None).unwrap(), sd.open_share(&quorum_key(2), None).unwrap()];
    let secrets = sd.recover(&shares).unwrap().secrets;
    let exchange_cert = Certificate::from_pem_or_der(&read(&format!("{dir}/test-exchange.pem"))).unwrap();
    let blob = RestoreBlob::build(&mut getrandom::SysRng, &secrets, &exchange_cert).unwrap();
    let text = blob.to_json().unwrap();
    assert!(text.starts_with(r#"{"EncData":{"data":[{"compact_jwe":"#), "{}", &text[..40]);
    assert!(text.contains(r#""WrappedKey":{"enc_key":""#));
    assert!(!text.contains("SharedKeys") && !text.contains("version"));
    let reparsed = RestoreBlob::parse(text.as_bytes()).unwrap();
    let exchange_key =
        private_key::from_pem(&String::from_utf8(read(&format!("{dir}/test-exchange.key"))).unwrap(), None)
            .unwrap();
    assert_secrets(&reparsed.open(&exchange_key).unwrap(), &golden("sd_2020"));
    // Also with the real 2020 transfer certificate (no private key: check the thumbprint only).
    let sdex = Certificate::from_pem_or_der(&read("azure-cli/security_domain_keys/sdtest/sdex.pem")).unwrap();
    let blob2 = RestoreBlob::build(&mut getrandom::SysRng, &secrets, &sdex).unwrap();
    assert_eq!(blob2.exchange_x5t_s256(), sdex.x5t_s256());
    // The exchange PEM as az writes it round-trips.
    let pem = sdex.to_pem_azure();
    assert_eq!(pem.as_bytes(), &read("azure-cli/security_domain_keys/sdtest/sdex.pem")[..]);
}

#[test]
fn certificate_jwks_match_the_sd_thumbprints() {
    let sd = SecurityDomain::parse(&read(SD_2025)).unwrap();
    let certs: Vec<Certificate> = (0..3).map(quorum_cert).collect();
    for (i, cert) in certs.iter().enumerate() {
        let jwk = CertificateJwk::from_certificate(cert).unwrap();
        assert_eq!(jwk.x5t_s256.as_deref(), Some(sd.shares()[i].x5t_256.as_str()));
        assert_eq!(jwk.e, "AQAB");
        assert_eq!(jwk.certificate().unwrap(), *cert);
    }
    let body = DownloadRequest::new(&certs, 2).unwrap().to_json().unwrap();
    assert!(body.starts_with(r#"{"certificates":[{"x5c":[""#));
    assert!(
        body.contains(r#""key_ops":["verify","encrypt","wrapKey"],"kty":"RSA","alg":"RSA-OAEP-256","n":""#)
    );
    assert!(body.ends_with(r#""required":2}"#));
    let (parsed, required) = DownloadRequest::parse(body.as_bytes()).unwrap();
    assert_eq!((parsed, required), (certs.clone(), 2));
    // Limits: 3..=10 certificates, quorum 2..=10 and ≤ N.
    assert!(DownloadRequest::new(&certs[..2], 2).is_err());
    assert!(DownloadRequest::new(&certs, 1).is_err());
    assert!(DownloadRequest::new(&certs, 4).is_err());
    let dup = [certs[0].clone(), certs[1].clone(), certs[0].clone()];
    assert!(DownloadRequest::new(&dup, 2).is_err());
}

#[test]
fn tampered_real_files_are_rejected() {
    let bytes = read(SD_2020);
    let text = String::from_utf8(bytes.clone()).unwrap();
    // Truncations never parse.
    for cut in [0, 1, 100, text.len() / 2, text.len() - 1] {
        assert!(SecurityDomain::parse(&bytes[..cut]).is_err(), "cut at {cut}");
    }
    // A share with a shortened tag is refused at parse time (Azure's tools accept it).
    let sd = SecurityDomain::parse(&bytes).unwrap();
    let share0 = &sd.shares()[0].enc_key;
    let mut parts: Vec<&str> = share0.split('.').collect();
    let short_tag = sd_core::primitives::b64::url_encode(&[1, 2, 3]);
    parts[4] = &short_tag;
    let bad = text.replace(share0.as_str(), &parts.join("."));
    let err = SecurityDomain::parse(bad.as_bytes()).unwrap_err();
    assert!(err.to_string().contains("tag is 3 bytes"), "{err}");
    // A flipped ciphertext byte in EncData: parses, but recovery names the failure.
    let entry = &sd.enc_data().data[1].compact_jwe;
    let mut parts: Vec<String> = entry.split('.').map(str::to_owned).collect();
    let mut ct = sd_core::primitives::b64::url_decode(&parts[3], "t").unwrap();
    ct[10] ^= 1;
    parts[3] = sd_core::primitives::b64::url_encode(&ct);
    let bad = SecurityDomain::parse(text.replace(entry.as_str(), &parts.join(".")).as_bytes()).unwrap();
    let shares =
        [bad.open_share(&quorum_key(0), None).unwrap(), bad.open_share(&quorum_key(1), None).unwrap()];
    let err = bad.recover(&shares).unwrap_err();
    assert!(err.to_string().contains("do not rebuild a master key that opens this file's EncData"), "{err}");
}

#[test]
fn rotation_keeps_enc_data_and_moves_shares() {
    let sd = SecurityDomain::parse(&read(SD_2020)).unwrap();
    let shares = [sd.open_share(&quorum_key(1), None).unwrap(), sd.open_share(&quorum_key(2), None).unwrap()];
    let master = sd.recover(&shares).unwrap().master;
    // New custodians: the azure-cli sdkeys2 set (3 certificates with keys).
    let new_keys: Vec<_> = (0..3)
        .map(|i| {
            private_key::from_pem(
                &String::from_utf8(read(&format!("azure-cli/sdkeys2/cert_{i}.key"))).unwrap(),
                None,
            )
            .unwrap()
        })
        .collect();
    let new_certs: Vec<_> = (0..3)
        .map(|i| Certificate::from_pem_or_der(&read(&format!("azure-cli/sdkeys2/cert_{i}.cer"))).unwrap())
        .collect();
    let rotated = sd.resplit(&mut getrandom::SysRng, &master, &new_certs, 3).unwrap();
    assert_eq!(rotated.enc_data(), sd.enc_data());
    let reparsed = SecurityDomain::parse(rotated.to_json().unwrap().as_bytes()).unwrap();
    assert_eq!(reparsed.required(), 3);
    // Old keys open nothing, new keys open everything.
    assert_eq!(reparsed.open_share(&quorum_key(0), None).unwrap_err(), Error::NoMatchingShare);
    let opened: Vec<_> = new_keys.iter().map(|k| reparsed.open_share(k, None).unwrap()).collect();
    let sd_core::azure::quorum::Recovered { master: m2, secrets, .. } = reparsed.recover(&opened).unwrap();
    assert_eq!(m2, master);
    assert_secrets(&secrets, &golden("sd_2020"));
    assert!(reparsed.recover(&opened[..2]).is_err());
}
