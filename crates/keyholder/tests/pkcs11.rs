//! Custodian keys on hardware tokens, with SoftHSM2 (each test with its own
//! token folder): init on a token, then every command with token keys and a
//! mix of token and file keys, and the token errors a custodian can meet.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::*;
use sd_core::azure::enc_data::DomainSecret;
use sd_core::azure::sd_file::SecurityDomain;
use sd_core::primitives::secret::{MasterKey, SecretBytes};

const MODULE: &str = "/usr/lib/softhsm/libsofthsm2.so";

/// A SoftHSM2 configuration with one initialised token per label (PIN 1234).
struct SoftHsm {
    conf: PathBuf,
    dir: PathBuf,
}

impl SoftHsm {
    fn new(dir: &Path, labels: &[&str]) -> Self {
        assert!(Path::new(MODULE).is_file(), "SoftHSM2 is required: apt-get install softhsm2");
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).unwrap();
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .unwrap();
        for label in labels {
            let o = Command::new("softhsm2-util")
                .args(["--init-token", "--free", "--label", label, "--pin", "1234", "--so-pin", "5678"])
                .env("SOFTHSM2_CONF", &conf)
                .output()
                .expect("softhsm2-util");
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        }
        std::fs::write(dir.join("pin"), "1234\n").unwrap();
        std::fs::write(dir.join("bad-pin"), "9999\n").unwrap();
        SoftHsm { conf, dir: dir.to_path_buf() }
    }

    fn uri(&self, token: &str, object: &str) -> String {
        format!(
            "pkcs11:token={token};object={object}?module-path={MODULE}&pin-source=file:{}",
            self.dir.join("pin").display()
        )
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_keyholder"))
            .args(args)
            .current_dir(&self.dir)
            .env("SOFTHSM2_CONF", &self.conf)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }
}

fn blob_opens(dir: &Path, blob: &str, secrets: &[DomainSecret]) {
    let b =
        sd_core::azure::restore_blob::RestoreBlob::parse(&std::fs::read(dir.join(blob)).unwrap()).unwrap();
    let key = sd_core::pki::private_key::from_pem(
        &std::fs::read_to_string(dir.join("exchange.key")).unwrap(),
        None,
    )
    .unwrap();
    let opened = b.open(&key).unwrap();
    assert_eq!(opened.len(), secrets.len());
    for (o, s) in opened.iter().zip(secrets) {
        assert_eq!(o.data.expose(), s.data.expose());
    }
}

#[test]
fn token_keys_work_in_every_command_alone_and_mixed_with_files() {
    let dir = scratch("pkcs11-flows");
    let hsm = SoftHsm::new(&dir, &["custodian-a", "custodian-b", "combiner"]);
    let (alice, bob) = (hsm.uri("custodian-a", "sd-recovery"), hsm.uri("custodian-b", "sd-recovery"));
    let out = ok(hsm.run(&init_here("alice", &["--pkcs11", &alice])));
    assert!(out.contains("generated the key on the token"), "{out}");
    assert!(!dir.join("alice.key").exists(), "no key file for a token key");
    ok(hsm.run(&init_here("bob", &["--pkcs11", &bob])));
    ok(hsm.run(&init_here("carol", &["--no-passphrase"])));
    ok(hsm.run(&["verify", "alice.enrollment.json", "--signer", "alice.cer"]));
    // The key is on the token, sensitive: a second init with the same label is refused.
    fails(
        hsm.run(&["init", "--name", "alice2", "--out", ".", "--public-out", ".", "--pkcs11", &alice]),
        &["already holds a key with this label"],
    );

    let secrets: Vec<DomainSecret> = [("hsm_backup", 700), ("partition_enclave_backup", 300)]
        .iter()
        .map(|(t, n)| DomainSecret { tag: t.to_string(), data: SecretBytes::new(vec![7u8; *n]) })
        .collect();
    ceremony_tests::write_sd_holding(&dir, &["alice", "bob", "carol"], &secrets);
    ceremony_tests::install_exchange(&dir);
    let (op_key, op_cert) = keypair("operator");
    ceremony_tests::write_identity(&dir, "operator", &op_key, &op_cert);

    // check: the share is found by the certificate stored on the token.
    let out = ok(hsm.run(&["check", "--sd", "sd.json", "--key", &alice]));
    assert!(out.starts_with("share 1 of 3 opens (quorum 2)"), "{out}");
    // restore-blob with one token key and one file key.
    ok(hsm.run(&restore_blob_args("sd.json", &[&bob, "carol.key"], "blob1.json", &[])));
    blob_opens(&dir, "blob1.json", &secrets);
    // drill with two token keys: both sign the report on their tokens.
    ok(hsm.run(&["drill", "--sd", "sd.json", "--key", &alice, "--key", &bob, "--out", "report.json"]));
    let out = ok(hsm.run(&["verify", "report.json", "--sd", "sd.json"]));
    assert!(out.contains("signed by 2 custodian(s) of this SD file"), "{out}");
    // distributed: a share bundle from a token key, combined with a file key's.
    ok(hsm.run(&["combiner-init", "--out", ".", "--no-passphrase"]));
    write_request(&dir, "request.json", "sd.json", "exchange.pem");
    ok(hsm.run(&share_args(&alice, "alice.share.json", &[])));
    ok(hsm.run(&share_args("carol.key", "carol.share.json", &[])));
    ok(hsm.run(&combine_args(&["alice.share.json", "carol.share.json"], "blob2.json", &[])));
    blob_opens(&dir, "blob2.json", &secrets);
    // rotate with a token key and a file key, to new custodians including a token.
    ok(hsm.run(&init_here("dave", &["--no-passphrase"])));
    ok(hsm.run(&[
        "rotate",
        "--sd",
        "sd.json",
        "--key",
        &alice,
        "--key",
        "carol.key",
        "--new-cert",
        "bob.cer",
        "--new-cert",
        "carol.cer",
        "--new-cert",
        "dave.cer",
        "--quorum",
        "2",
        "--out",
        "rotated.json",
    ]));
    fails(hsm.run(&["check", "--sd", "rotated.json", "--key", &alice]), &["this key opens no share"]);
    ok(hsm.run(&restore_blob_args("rotated.json", &[&bob, "dave.key"], "blob3.json", &[])));
    blob_opens(&dir, "blob3.json", &secrets);
}

#[test]
fn token_errors_are_named() {
    let dir = scratch("pkcs11-errors");
    let hsm = SoftHsm::new(&dir, &["custodian-a"]);
    let good = hsm.uri("custodian-a", "sd-recovery");
    ok(hsm.run(&init_here("alice", &["--pkcs11", &good])));
    let certs = vec![load_cert(&dir.join("alice.cer")), keypair("b").1, keypair("c").1];
    let secrets = [DomainSecret { tag: "hsm_backup".into(), data: SecretBytes::new(vec![1u8; 64]) }];
    let master = MasterKey::generate(&mut rng()).unwrap();
    let sd = SecurityDomain::create(&mut rng(), &master, &secrets, &certs, 2).unwrap();
    std::fs::write(dir.join("sd.json"), sd.to_json().unwrap()).unwrap();
    ok(hsm.run(&["check", "--sd", "sd.json", "--key", &good]));
    let pin = dir.join("pin").display().to_string();
    let bad_pin = dir.join("bad-pin").display().to_string();
    let cases = [
        (
            format!(
                "pkcs11:token=custodian-a;object=sd-recovery?module-path=/nonexistent/lib.so&pin-source=file:{pin}"
            ),
            "PKCS#11 module not found",
        ),
        (
            format!("pkcs11:token=nope;object=sd-recovery?module-path={MODULE}&pin-source=file:{pin}"),
            "token \"nope\" is not present",
        ),
        (
            format!(
                "pkcs11:token=custodian-a;object=sd-recovery?module-path={MODULE}&pin-source=file:{bad_pin}"
            ),
            "wrong PIN for token \"custodian-a\"",
        ),
        (
            format!("pkcs11:token=custodian-a;object=other?module-path={MODULE}&pin-source=file:{pin}"),
            "no private key with this object/id",
        ),
    ];
    for (uri, needle) in &cases {
        fails(hsm.run(&["check", "--sd", "sd.json", "--key", uri]), &[needle]);
    }
    // A PIN on the command line is a usage error, and the PIN is not echoed back.
    let pin_value =
        format!("pkcs11:token=custodian-a;object=sd-recovery?module-path={MODULE}&pin-value=1234");
    let out = hsm.run(&["check", "--sd", "sd.json", "--key", &pin_value]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("pin-value is refused") && !stderr.contains("1234"), "{stderr}");
    // Without pin-source and without a terminal: a clear message.
    let no_source = format!("pkcs11:token=custodian-a;object=sd-recovery?module-path={MODULE}");
    fails(
        hsm.run(&["check", "--sd", "sd.json", "--key", &no_source]),
        &["cannot read the PIN from the terminal", "pin-source"],
    );
}
