//! The uploader's whole output, pinned: every `tests/cmd/*.md` case runs
//! against fixtures made here and an emulated HSM activated for them (see
//! `ceremony_tests::cases`). Cases that talk to the HSM only read from it,
//! so they can share it.

use std::path::Path;

use ceremony_tests::*;
use sd_core::pki::cert::{Certificate, readable_fingerprint};

fn cert(dir: &Path, name: &str) -> Certificate {
    Certificate::from_pem_or_der(&std::fs::read(dir.join(name)).unwrap()).unwrap()
}

#[test]
fn uploader_cases() {
    let dir = scratch("uploader-cmd-fixtures");
    let emu = Emulator::start(&dir.join("hsm"));
    ceremony_people(&dir, &["alice", "bob", "carol"]);
    ok(activate(&dir, &emu, &["alice", "bob", "carol"], 2, "sd.json", &[]));
    ok(run(&dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase"]));
    for file in ["token", "ca.pem"] {
        std::fs::copy(emu.dir.join(file), dir.join(file)).unwrap();
    }
    std::fs::write(dir.join("wrong-token"), "not-the-token\n").unwrap();
    std::fs::write(dir.join("not-json.json"), "this is not JSON\n").unwrap();
    // An operator key with a passphrase, and one without its certificate.
    std::fs::write(dir.join("pw"), "operator passphrase\n").unwrap();
    std::fs::write(dir.join("wrong-pw"), "not the passphrase\n").unwrap();
    ok(run(&dir, "uploader", &["operator-init", "--out", "locked", "--passphrase-file", "pw"]));
    std::fs::remove_file(dir.join("locked/operator.cer")).unwrap();
    // An enrollment altered after signing.
    let text = std::fs::read_to_string(dir.join("carol.enrollment.json")).unwrap();
    std::fs::write(
        dir.join("tampered.enrollment.json"),
        text.replacen("\"payload\": \"ey", "\"payload\": \"ez", 1),
    )
    .unwrap();
    // An operator certificate with ten days left.
    let key = sd_core::pki::private_key::generate(&mut getrandom::SysRng, 2048).unwrap();
    let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs();
    let ending =
        sd_core::pki::cert::self_signed(&mut getrandom::SysRng, &key, "operator", now - 3600, 10).unwrap();
    std::fs::create_dir_all(dir.join("expiring")).unwrap();
    ceremony_tests::write_identity(&dir.join("expiring"), "operator", &key, &ending);
    // A restore blob for another HSM's exchange key.
    let (_, other) = attested_exchange("other-hsm");
    let secrets = [sd_core::azure::enc_data::DomainSecret {
        tag: "hsm_backup".into(),
        data: sd_core::primitives::secret::SecretBytes::new(vec![7u8; 64]),
    }];
    let blob =
        sd_core::azure::restore_blob::RestoreBlob::build(&mut getrandom::SysRng, &secrets, &other).unwrap();
    std::fs::write(dir.join("other-blob.json"), blob.to_json().unwrap()).unwrap();
    // A SAS as a file holds it (never valid anywhere), and key inventories.
    std::fs::write(
        dir.join("sas.txt"),
        "sv=2021-08-06&sr=c&sp=crwdl&se=2099-01-01T00:00:00Z&sig=c2lnbmF0dXJl\n",
    )
    .unwrap();
    let version = |kty: &str, thumb: Option<&str>, enabled: bool, days: u32| {
        serde_json::json!({"kty": kty, "key_ops": ["decrypt", "encrypt"], "thumbprint": thumb,
            "attributes": {"enabled": enabled, "created": 1765000000, "updated": 1765000000, "recoverableDays": days}})
    };
    let inventory = |keys: serde_json::Value| {
        serde_json::json!({"format": "hsm-ceremony key inventory 1", "hsm": "https://hsm-prod.managedhsm.azure.net",
            "taken": "2026-12-01T09:00:00Z", "keys": keys})
        .to_string()
    };
    let a = "0f".repeat(16);
    let b = "1e".repeat(16);
    let before = inventory(serde_json::json!({
        "payments": {a.clone(): version("oct-HSM", None, true, 90), b.clone(): version("oct-HSM", None, true, 90)},
        "signing": {a.clone(): version("RSA-HSM", Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"), true, 90)},
    }));
    let same = before.replace("90", "7");
    let after = inventory(serde_json::json!({
        "payments": {a.clone(): version("oct-HSM", None, false, 90), "2d".repeat(16): version("oct-HSM", None, true, 90)},
        "archive": {a.clone(): version("oct-HSM", None, true, 90)},
    }));
    for (file, text) in
        [("inventory-before.json", before), ("inventory-same.json", same), ("inventory-after.json", after)]
    {
        std::fs::write(dir.join(file), text).unwrap();
    }
    // Only what the cases need (not the emulator's own folder).
    let fixtures = scratch("uploader-cmd-fixture-files");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), fixtures.join(entry.file_name())).unwrap();
        }
    }
    std::fs::create_dir_all(fixtures.join("expiring")).unwrap();
    for f in ["operator.key", "operator.cer"] {
        std::fs::copy(dir.join("expiring").join(f), fixtures.join("expiring").join(f)).unwrap();
    }
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(fixtures.join("expiring/operator.key"), std::fs::Permissions::from_mode(0o600))
        .unwrap();
    std::fs::create_dir_all(fixtures.join("locked")).unwrap();
    std::fs::copy(dir.join("locked/operator.key"), fixtures.join("locked/operator.key")).unwrap();
    // The combiner's public folder, and its key media (which never comes online).
    std::fs::create_dir_all(fixtures.join("public")).unwrap();
    std::fs::copy(dir.join("public/combiner.json"), fixtures.join("public/combiner.json")).unwrap();
    std::fs::create_dir_all(fixtures.join("combiner-media")).unwrap();
    for file in ["public/combiner.json", "combiner.key"] {
        let name = Path::new(file).file_name().unwrap();
        std::fs::copy(dir.join(file), fixtures.join("combiner-media").join(name)).unwrap();
    }

    let mut redactions = Vec::new();
    for (file, thumb, read) in [
        ("alice.cer", "[ALICE_THUMB]", "[ALICE_READ]"),
        ("bob.cer", "[BOB_THUMB]", "[BOB_READ]"),
        ("carol.cer", "[CAROL_THUMB]", "[CAROL_READ]"),
        ("operator.cer", "[OPERATOR_THUMB]", "[OPERATOR_READ]"),
    ] {
        let c = cert(&dir, file);
        redactions.push((thumb, c.x5t_s256()));
        redactions.push((read, readable_fingerprint(&c.sha256())));
    }
    let now = std::time::UNIX_EPOCH.elapsed().unwrap().as_secs();
    let combiner = sd_core::handoff::combiner::Combiner::verify(
        &std::fs::read(dir.join("public/combiner.json")).unwrap(),
        now,
    )
    .unwrap();
    redactions.push(("[COMBINER_THUMB]", combiner.certificate().x5t_s256()));
    redactions.push(("[COMBINER_READ]", readable_fingerprint(&combiner.certificate().sha256())));
    redactions.push(("[ADMIN_ID]", emu.principal()));
    redactions.push((
        "[SD_SHA]",
        sd_core::primitives::hex::sha256_hex(&std::fs::read(dir.join("sd.json")).unwrap()),
    ));
    cases::Cases {
        source: Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/cmd"),
        fixtures: &fixtures,
        placeholders: vec![("[HSM_URL]", emu.url.clone())],
        redactions,
        bins: &["uploader"],
    }
    .run("uploader");
}
