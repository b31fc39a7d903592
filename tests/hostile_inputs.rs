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
    let key = sd_core::pki::private_key::generate(&mut getrandom::SysRng, 2048).unwrap();
    let pem =
        sd_core::pki::private_key::to_encrypted_pem(&mut getrandom::SysRng, &key, b"pass phrase").unwrap();
    let (_, der) = der::pem::decode_vec(pem.as_bytes()).unwrap();
    let mut info = pkcs8::EncryptedPrivateKeyInfoOwned::from_der(&der).unwrap();
    let pkcs5::EncryptionScheme::Pbes2(params) = &mut info.encryption_algorithm else { panic!("not PBES2") };
    change(&mut params.kdf);
    let crafted = info.to_pem(der::pem::LineEnding::LF).unwrap();
    assert!(info.to_der().is_ok());
    std::fs::write(dir.join(name), crafted).unwrap();
    std::fs::write(dir.join("pw"), "pass phrase").unwrap();
}

/// A valid SD file in `dir` (for three custodians made here), so a command reaches the key.
fn some_sd(dir: &Path) {
    custodians(dir, &["a", "b", "c"]);
    write_sd(dir, &["a", "b", "c"], 1);
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
            "scrypt-memory.key",
            Box::new(|k: &mut Kdf| {
                if let Kdf::Scrypt(p) = k {
                    p.cost_parameter = 1 << 22
                }
            }),
            "scrypt N = 4194304, r = 8 would take 4096 MiB of memory, above 1024 MiB",
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

#[test]
fn endless_inputs_are_read_only_up_to_the_limit() {
    let dir = scratch("hostile-endless");
    some_sd(&dir);
    // A device that never ends.
    fails(run(&dir, "keyholder", &["fingerprint", "/dev/zero"]), &["/dev/zero: is larger than 16 MiB"]);
    fails(
        run(&dir, "uploader", &["--hsm", "contoso", "--token-file", "/dev/zero", "status"]),
        &["/dev/zero: is larger than 16 MiB"],
    );
    // A FIFO whose writer never stops, as a passphrase file.
    let fifo = dir.join("pass.fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let writer_path = fifo.clone();
    let writer = std::thread::spawn(move || {
        use std::io::Write;
        let Ok(mut f) = std::fs::OpenOptions::new().write(true).open(&writer_path) else { return 0u64 };
        let chunk = [b'a'; 65536];
        let mut sent = 0u64;
        while f.write_all(&chunk).is_ok() {
            sent += chunk.len() as u64;
        }
        sent
    });
    key_file_with_kdf(&dir, "enc.key", Box::new(|_| {}));
    fails(
        run(
            &dir,
            "keyholder",
            &["check", "--sd", "sd.json", "--key", "enc.key", "--passphrase-file", "pass.fifo"],
        ),
        &["pass.fifo: is larger than 16 MiB"],
    );
    let sent = writer.join().unwrap();
    assert!(sent <= 17 << 20, "the reader stopped at the limit ({sent} bytes were taken)");
}

#[test]
fn a_huge_string_does_not_come_back_in_the_error() {
    let dir = scratch("hostile-huge");
    let huge =
        format!(r#"{{"EncData": {{"data": "{}", "kdf": "x"}}, "version": 2}}"#, "A".repeat(15_000_000));
    std::fs::write(dir.join("sd.json"), huge).unwrap();
    let err = fails(run(&dir, "keyholder", &["fingerprint", "sd.json"]), &["sd.json"]);
    assert!(err.len() < 1024, "{} bytes of error", err.len());
    // And as an SD file proper.
    let err = fails(run(&dir, "keyholder", &["check", "--sd", "sd.json", "--key", "nokey"]), &["sd.json"]);
    assert!(err.len() < 1024, "{} bytes of error: {}", err.len(), &err[..200.min(err.len())]);
}

#[test]
fn certificate_subjects_cannot_move_the_terminal() {
    let dir = scratch("hostile-subject");
    let subject = "/CN=alice\u{9b}2J\u{202e}ecila";
    let o = std::process::Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "evil.key", "-out", "evil.cer"])
        .args(["-days", "30", "-utf8", "-subj", subject])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let out = ok(run(&dir, "keyholder", &["fingerprint", "evil.cer"]));
    assert!(out.contains("alice\\u{9b}2J\\u{202e}ecila"), "{out:?}");
    assert!(!out.contains('\u{9b}') && !out.contains('\u{202e}'), "{out:?}");
}

#[test]
fn exposed_key_files_are_named_with_their_mode() {
    use std::os::unix::fs::PermissionsExt;
    let dir = scratch("hostile-exposed");
    some_sd(&dir);
    let key = sd_core::pki::private_key::generate(&mut getrandom::SysRng, 2048).unwrap();
    std::fs::write(dir.join("open.key"), sd_core::pki::private_key::to_plain_pem(&key).unwrap().as_bytes())
        .unwrap();
    std::fs::set_permissions(dir.join("open.key"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let o = run(&dir, "keyholder", &["check", "--sd", "sd.json", "--key", "open.key"]);
    // It opens no share here (a stranger's key), but the custodian was told first.
    fails(
        o,
        &[
            "warning: open.key: the private key is NOT encrypted",
            "warning: open.key: readable by others than its owner (mode 0644); `chmod 600 open.key`",
        ],
    );
}

#[test]
fn messages_say_exactly_what_is_wrong() {
    let dir = scratch("hostile-messages");
    std::fs::write(dir.join("null.json"), "null").unwrap();
    std::fs::write(dir.join("array.json"), "[1, 2]").unwrap();
    let args = |f: &'static str| ["check", "--sd", f, "--key", "k"];
    fails(
        run(&dir, "keyholder", &args("null.json")),
        &["null.json: invalid security domain file: the file holds null"],
    );
    fails(
        run(&dir, "keyholder", &args("array.json")),
        &["array.json: invalid security domain file: the file holds a JSON array"],
    );
    // A damaged entry for this custodian's own certificate is called damaged, not "opens no share".
    custodians(&dir, &["a", "b", "c"]);
    let sd = write_sd(&dir, &["a", "b", "c"], 1);
    let text = sd.to_json().unwrap();
    let entry = &sd.shares()[1].enc_key;
    let mut parts: Vec<String> = entry.split('.').map(str::to_owned).collect();
    let mut wrapped = sd_core::primitives::b64::url_decode(&parts[1], "k").unwrap();
    wrapped[7] ^= 1;
    parts[1] = sd_core::primitives::b64::url_encode(&wrapped);
    std::fs::write(dir.join("damaged.json"), text.replace(entry.as_str(), &parts.join("."))).unwrap();
    fails(
        run(&dir, "keyholder", &["check", "--sd", "damaged.json", "--key", "b.key"]),
        &[
            "damaged.json",
            "share 2 is listed for this key's certificate but does not open with the key: the entry is damaged",
        ],
    );
}
