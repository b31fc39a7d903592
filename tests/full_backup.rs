//! Disaster recovery that restores the keys too: a full backup of the
//! production HSM into a storage container (Azurite), the HSM lost, a new HSM
//! given the security domain by a quorum of custodians, the backup restored
//! into it, and the key inventory compared: nothing missing. And the ways it
//! must refuse: another security domain, a principal without the role, a SAS
//! that does not open the container, a container or folder that is not
//! there, and a backup cut short by a restart.

use std::path::Path;

use ceremony_tests::*;

const CONTAINER: &str = "backups";

/// Storage with the container, and a SAS for it in `dir/sas.txt`; returns (storage, container URL).
fn storage_with_container(dir: &Path) -> (Storage, String) {
    let storage = Storage::start(&dir.join("storage"));
    let url = storage.container(CONTAINER);
    std::fs::write(dir.join("sas.txt"), storage.sas(CONTAINER, "crwdl", 60)).unwrap();
    (storage, url)
}

/// A production HSM (custodians a, b and c, quorum 2, in `dir/hsm-prod`) whose
/// administrator may use keys, and storage with the container.
fn production(test: &str) -> (std::path::PathBuf, Storage, String, Emulator) {
    let dir = scratch(test);
    let (storage, url) = storage_with_container(&dir);
    let prod = activated_hsm(&dir, "hsm-prod", TEST_HSM);
    grant_crypto_user(&dir, &prod);
    (dir, storage, url, prod)
}

/// `uploader backup` into `url` with `dir/sas.txt`; returns the folder it printed.
fn backup(dir: &Path, emu: &Emulator, url: &str) -> String {
    let out = ok(uploader(dir, emu, &["backup", "--storage-url", url, "--sas-file", "sas.txt"]));
    out.lines().find_map(|l| l.strip_prefix("folder: ")).expect("the folder line").to_owned()
}

fn restore(dir: &Path, emu: &Emulator, url: &str, folder: &str, extra: &[&str]) -> std::process::Output {
    let mut args = vec!["restore", "--storage-url", url, "--sas-file", "sas.txt", "--folder", folder];
    args.extend(extra);
    uploader(dir, emu, &args)
}

/// What `uploader keys diff before.json AFTER` prints when they differ (it exits 1).
fn diff(dir: &Path, after: &str) -> String {
    let o = run(dir, "uploader", &["keys", "diff", "before.json", after]);
    fails(o.clone(), &["the inventories differ in"]);
    String::from_utf8(o.stdout).unwrap()
}

#[test]
fn every_key_comes_back_after_a_distributed_recovery_and_a_full_restore() {
    let (dir, storage, url, prod) = production("full-backup-round-trip");
    for name in ["payments", "payments", "archive"] {
        ok(uploader(&dir, &prod, &["key", "create", "--name", name]));
    }
    std::fs::write(dir.join("message.txt"), "encrypted before the disaster").unwrap();
    ok(uploader(
        &dir,
        &prod,
        &["key", "encrypt", "--name", "payments", "--in", "message.txt", "--out", "m.json"],
    ));
    let out = ok(uploader(&dir, &prod, &["keys", "inventory", "--out", "before.json"]));
    assert!(out.starts_with("2 keys, 3 versions in "), "{out}");

    // The pre-check writes nothing; the backup writes one finished folder.
    let out = ok(uploader(&dir, &prod, &["backup", "--storage-url", &url, "--sas-file", "sas.txt", "--pre"]));
    assert!(out.contains("pre-backup check passed"), "{out}");
    assert!(storage.blobs(CONTAINER).is_empty());
    let folder = backup(&dir, &prod, &url);
    assert!(folder.starts_with(&format!("mhsm-{TEST_HSM}-")), "{folder}");
    let blobs = storage.blobs(CONTAINER);
    for file in ["backup.json", "keys/payments", "keys/archive", "role-assignments"] {
        assert!(blobs.contains(&format!("{folder}/{file}")), "{file} in {blobs:?}");
    }
    drop(prod); // the disaster

    // A new HSM knows none of the keys until the custodians give it the SD
    // and the backup is restored.
    let new = Emulator::start(&dir.join("hsm-new"));
    fails(restore(&dir, &new, &url, &folder, &[]), &["HTTP 403", "HSMNotActivated"]);
    recover(&dir, &new, "sd.json", &["b".to_owned(), "c".to_owned()], Mode::Distributed);
    grant_crypto_user(&dir, &new);
    let out = ok(restore(&dir, &new, &url, &folder, &["--pre"]));
    assert!(out.contains("pre-restore check passed"), "{out}");
    ok(uploader(&dir, &new, &["keys", "inventory", "--out", "empty.json"]));
    assert_eq!(
        diff(&dir, "empty.json"),
        "missing key archive (1 version)\nmissing key payments (2 versions)\n"
    );

    // One key alone first (selective restore), then everything.
    let out = ok(restore(&dir, &new, &url, &folder, &["--key", "archive"]));
    assert!(out.contains(&format!("restored key archive (every version) from {folder}")), "{out}");
    ok(uploader(&dir, &new, &["keys", "inventory", "--out", "one.json"]));
    assert_eq!(diff(&dir, "one.json"), "missing key payments (2 versions)\n");
    fails(
        restore(&dir, &new, &url, &folder, &["--key", "nosuchkey"]),
        &["KeyNotFound", "holds no key named nosuchkey"],
    );

    let out = ok(restore(&dir, &new, &url, &folder, &[]));
    assert!(out.contains(&format!("restored {folder} into ")), "{out}");
    ok(uploader(&dir, &new, &["keys", "inventory", "--out", "after.json"]));
    let out = ok(run(&dir, "uploader", &["keys", "diff", "before.json", "after.json"]));
    assert!(out.starts_with("same: all 2 keys and 3 versions of before.json are in after.json"), "{out}");
    ok(uploader(&dir, &new, &["key", "decrypt", "--name", "payments", "--in", "m.json", "--out", "m.out"]));
    assert_eq!(std::fs::read(dir.join("m.out")).unwrap(), b"encrypted before the disaster");
}

#[test]
fn a_backup_restores_only_into_an_hsm_with_the_same_security_domain() {
    let (dir, _storage, url, prod) = production("full-backup-other-sd");
    ok(uploader(&dir, &prod, &["key", "create", "--name", "k"]));
    let folder = backup(&dir, &prod, &url);
    // Another HSM, activated with its own security domain.
    let other = Emulator::start_named(&dir.join("hsm-other"), "other-hsm");
    ok(activate(&dir, &other, &["a", "b", "c"], 2, "other-sd.json", &[]));
    for extra in [&[][..], &["--pre"][..], &["--key", "k"][..]] {
        fails(
            restore(&dir, &other, &url, &folder, extra),
            &[
                "SecurityDomainMismatch",
                "another security domain",
                "hint: a backup restores only into an HSM holding",
            ],
        );
    }
}

#[test]
fn only_the_administrator_and_the_backup_role_may_back_up() {
    let dir = scratch("full-backup-rbac");
    let (_storage, url) = storage_with_container(&dir);
    let prod = activated_hsm(&dir, "hsm", TEST_HSM);
    let backup_args = ["backup", "--storage-url", url.as_str(), "--sas-file", "sas.txt"];
    let crypto_user = "1a1a1a1a-1111-4222-8333-444444444444";
    let backup_user = "2b2b2b2b-1111-4222-8333-444444444444";
    for (id, role) in [(crypto_user, "Managed HSM Crypto User"), (backup_user, "Managed HSM Backup User")] {
        ok(uploader(&dir, &prod, &["role", "assign", "--role", role, "--principal", id]));
    }
    let token = principal_token(&prod, crypto_user);
    fails(
        uploader_as(&dir, &prod, &token, &backup_args),
        &["HTTP 403 Forbidden", "Caller is not authorized", "backup/start/action", crypto_user],
    );
    let token = principal_token(&prod, backup_user);
    let out = ok(uploader_as(&dir, &prod, &token, &backup_args));
    assert!(out.contains("folder: mhsm-"), "{out}");
    // ... but the Backup User may not restore.
    let folder = out.lines().find_map(|l| l.strip_prefix("folder: ")).unwrap();
    let restore_args =
        ["restore", "--storage-url", url.as_str(), "--sas-file", "sas.txt", "--folder", folder];
    fails(uploader_as(&dir, &prod, &token, &restore_args), &["HTTP 403 Forbidden", "restore/start/action"]);
}

#[test]
fn storage_refusals_end_the_job_with_storages_error() {
    let dir = scratch("full-backup-storage-errors");
    let (storage, url) = storage_with_container(&dir);
    let prod = activated_hsm(&dir, "hsm", TEST_HSM);
    // A SAS whose signature is not the account's.
    let sas = std::fs::read_to_string(dir.join("sas.txt")).unwrap();
    std::fs::write(dir.join("forged.txt"), sas.replace("sig=", "sig=AAAA")).unwrap();
    fails(
        uploader(&dir, &prod, &["backup", "--storage-url", &url, "--sas-file", "forged.txt"]),
        &["full backup failed: Authori", "storage answered 403", "hint: the SAS does not open the container"],
    );
    // A read-only SAS cannot write a backup.
    std::fs::write(dir.join("read-only.txt"), storage.sas(CONTAINER, "rl", 60)).unwrap();
    fails(
        uploader(&dir, &prod, &["backup", "--storage-url", &url, "--sas-file", "read-only.txt"]),
        &["full backup failed: Authorization", "writing blob"],
    );
    // A container that does not exist (its SAS is genuine).
    let gone = url.replace(CONTAINER, "gone");
    std::fs::write(dir.join("gone.txt"), storage.sas("gone", "crwdl", 60)).unwrap();
    fails(
        uploader(&dir, &prod, &["backup", "--storage-url", &gone, "--sas-file", "gone.txt"]),
        &["full backup failed: ContainerNotFound", "hint: create the container first"],
    );
    // A folder that is not there.
    fails(
        restore(&dir, &prod, &url, "mhsm-hsm-20250101000000", &[]),
        &["full restore failed: FolderNotFound", "has no folder \"mhsm-hsm-20250101000000\""],
    );
    // The uploader refuses what it can tell is wrong before asking the HSM; the SAS is never printed.
    let printed = fails(
        uploader(&dir, &prod, &["backup", "--storage-url", &format!("{url}?{sas}"), "--sas-file", "sas.txt"]),
        &["it carries a query", "hint: give the container URL alone"],
    );
    assert!(!printed.contains("sig="), "{printed}");
    std::fs::write(dir.join("not-a-sas.txt"), "hello").unwrap();
    fails(
        uploader(&dir, &prod, &["backup", "--storage-url", &url, "--sas-file", "not-a-sas.txt"]),
        &["not-a-sas.txt: this is not a SAS token"],
    );
    fails(
        uploader(
            &dir,
            &prod,
            &["backup", "--storage-url", "http://storage.example/backups", "--sas-file", "sas.txt"],
        ),
        &["storage is reached over https"],
    );
    fails(
        uploader(&dir, &prod, &["backup", "--storage-url", &url, "--managed-identity"]),
        &["HTTP 400", "no managed identity"],
    );
}

#[test]
fn a_restart_mid_backup_fails_the_job_and_its_folder_never_restores() {
    let dir = scratch("full-backup-restart");
    let (storage, url) = storage_with_container(&dir);
    ceremony_people(&dir, &["a", "b", "c"]);
    // Every job pauses this long before its manifest: time to pull the plug.
    let emu = Emulator::start_with(&dir.join("hsm"), TEST_HSM, 4000);
    ok(activate(&dir, &emu, &["a", "b", "c"], 2, "sd.json", &[]));
    grant_crypto_user(&dir, &emu);
    ok(uploader(&dir, &emu, &["key", "create", "--name", "k"]));

    // Start the backup by hand (the uploader would wait for it).
    let sas = std::fs::read_to_string(dir.join("sas.txt")).unwrap();
    let body = serde_json::json!({"storageResourceUri": url, "token": sas.trim()}).to_string();
    let resp = emu
        .agent()
        .post(&format!("{}/backup?api-version=7.6", emu.url))
        .header("Authorization", &format!("Bearer {}", emu.token()))
        .header("Content-Type", "application/json")
        .send(body.as_bytes())
        .unwrap();
    assert_eq!(resp.status(), 202);
    let job: serde_json::Value = serde_json::from_str(&resp.into_body().read_to_string().unwrap()).unwrap();
    let folder_url = job["azureStorageBlobContainerUri"].as_str().unwrap().to_owned();
    let folder = folder_url.rsplit('/').next().unwrap().to_owned();
    let id = job["jobId"].as_str().unwrap().to_owned();
    // The key files are written before the pause; the manifest is not.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(3);
    while !storage.blobs(CONTAINER).contains(&format!("{folder}/keys/k")) {
        assert!(std::time::Instant::now() < deadline, "the key file was never written");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    let dir_of_hsm = emu.dir.clone();
    emu.kill();

    let emu = Emulator::start_with(&dir_of_hsm, TEST_HSM, 300);
    let status = emu
        .agent()
        .get(&format!("{}/backup/{id}/pending?api-version=7.6", emu.url))
        .header("Authorization", &format!("Bearer {}", emu.token()))
        .call()
        .unwrap();
    let job: serde_json::Value = serde_json::from_str(&status.into_body().read_to_string().unwrap()).unwrap();
    assert_eq!(job["status"], "Failed", "{job}");
    assert_eq!(job["error"]["code"], "JobInterrupted", "{job}");
    assert!(job["endTime"].is_u64(), "{job}");
    assert!(!storage.blobs(CONTAINER).contains(&format!("{folder}/backup.json")));
    for extra in [&[][..], &["--pre"][..]] {
        fails(restore(&dir, &emu, &url, &folder, extra), &["FolderNotFound", "the backup never finished"]);
    }
    // A backup after the restart finishes.
    let again = backup(&dir, &emu, &url);
    ok(restore(&dir, &emu, &url, &again, &["--pre"]));
}
