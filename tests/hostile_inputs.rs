//! Hostile inputs, round two: key files whose key-derivation parameters would
//! exhaust memory or time, inputs that never end, and huge strings that must
//! not come back in error messages. Each is refused with the file named.

use std::path::Path;

use ceremony_tests::*;
use der::{Decode, Encode, EncodePem};
use pkcs5::pbes2::{Kdf, Pbkdf2Params, Pbkdf2Prf};

/// A real encrypted key file whose KDF parameters are replaced by `kdf`'s
/// change (the encrypted data stays: it is never reached).
fn key_file_with_kdf(dir: &Path, name: &str, change: Change) {
    let key = sd_core::private_key::generate(&mut getrandom::SysRng, 2048).unwrap();
    let pem = sd_core::private_key::to_encrypted_pem(&mut getrandom::SysRng, &key, b"pass phrase").unwrap();
    let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    let mut info = pkcs8::EncryptedPrivateKeyInfoOwned::from_der(&der).unwrap();
    let pkcs5::EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm else { panic!("not PBES2") };
    change(&mut params.kdf);
    let crafted = info.to_pem(der::pem::LineEnding::LF).unwrap();
    assert!(info.to_der().is_ok());
    std::fs::write(dir.join(name), crafted).unwrap();
    std::fs::write(dir.join("pw"), "pass phrase").unwrap();
}

/// A valid SD file in `dir` (for three throwaway custodians), so a command reaches the key.
fn some_sd(dir: &Path) {
    let certs: Vec<_> = (0..3)
        .map(|i| {
            let k = sd_core::private_key::generate(&mut getrandom::SysRng, 2048).unwrap();
            sd_core::cert::self_signed(&mut getrandom::SysRng, &k, &format!("c{i}"), 1_767_225_600, 30)
                .unwrap()
        })
        .collect();
    let master = sd_core::secret::MasterKey::generate(&mut getrandom::SysRng).unwrap();
    let secrets = [sd_core::enc_data::DomainSecret {
        tag: "hsm_backup".into(),
        data: sd_core::secret::SecretBytes::from_slice(b"x"),
    }];
    let sd = sd_core::sd_file::SecurityDomain::create(&mut getrandom::SysRng, &master, &secrets, &certs, 2)
        .unwrap();
    std::fs::write(dir.join("sd.json"), sd.to_json()).unwrap();
}

type Change = Box<dyn Fn(&mut Kdf)>;

#[test]
fn key_files_beyond_the_kdf_caps_are_refused_before_any_work() {
    let dir = scratch("hostile-kdf");
    some_sd(&dir);
    let cases: Vec<(&str, Change, &str)> = vec![
        (
            "scrypt-n.key",
            Box::new(|k: &mut Kdf| {
                if let Kdf::Scrypt(p) = k {
                    p.cost_parameter = 1 << 40
                }
            }),
            "scrypt N = 1099511627776 is above 2^22",
        ),
        (
            "scrypt-r.key",
            Box::new(|k: &mut Kdf| {
                if let Kdf::Scrypt(p) = k {
                    p.block_size = 1024
                }
            }),
            "scrypt r = 1024 is above 32",
        ),
        (
            "scrypt-p.key",
            Box::new(|k: &mut Kdf| {
                if let Kdf::Scrypt(p) = k {
                    p.parallelization = 4096
                }
            }),
            "scrypt p = 4096 is above 16",
        ),
        (
            "pbkdf2.key",
            Box::new(|k: &mut Kdf| {
                let Kdf::Scrypt(s) = k else { return };
                *k = Kdf::Pbkdf2(Pbkdf2Params {
                    salt: s.salt,
                    iteration_count: u32::MAX,
                    key_length: None,
                    prf: Pbkdf2Prf::HmacWithSha256,
                });
            }),
            "PBKDF2 iteration count 4294967295 is above 10000000",
        ),
    ];
    for (name, change, needle) in cases {
        key_file_with_kdf(&dir, name, change);
        let before = listing(&dir);
        let o =
            run(&dir, "keyholder", &["check", "--sd", "sd.json", "--key", name, "--passphrase-file", "pw"]);
        fails(o, &[name, needle, "refused"]);
        assert_eq!(listing(&dir), before);
    }
}
