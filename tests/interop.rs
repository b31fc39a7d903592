//! Azure's own Python clients, unchanged but for the endpoint, judge the
//! emulator's full backup and restore: `interop/azure-backup.sh` installs
//! azure-keyvault-administration and azure-storage-blob from PyPI into a
//! throwaway venv, starts Azurite (npm) and the emulator, and runs
//! `KeyVaultBackupClient` through pre-backup, backup, selective and full
//! restore. It needs Node.js and npm (`tests/run.sh` installs them).

use std::path::Path;
use std::process::Command;

use ceremony_tests::*;

#[test]
fn azures_backup_client_backs_up_and_restores_through_the_emulator_and_azurite() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../interop/azure-backup.sh");
    let out = Command::new("bash")
        .arg(&script)
        .env("HSM_CEREMONY_BIN_DIR", bin_dir())
        .output()
        .expect("run interop/azure-backup.sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for expected in [
        "begin_backup: folder_url http://devstoreaccount1.blob.localhost:",
        "azure-storage-blob lists 4 blobs in mhsm-emulated-hsm-",
        "begin_restore(key_name=sdk-backup-aes): one key back",
        "begin_restore: every key back, same versions: ['sdk-backup-aes', 'sdk-backup-rsa']",
        "begin_restore of a missing folder fails: HttpResponseError",
        "azure-keyvault-administration backup and restore: OK",
    ] {
        assert!(stdout.contains(expected), "lacks {expected:?}:\n{stdout}");
    }
}
