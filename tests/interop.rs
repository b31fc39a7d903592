//! Azure's own Python clients, unchanged but for the endpoint, judge the
//! emulator's full backup and restore: `interop/azure-backup.sh` installs
//! azure-keyvault-administration and azure-storage-blob from PyPI into a
//! throwaway venv, starts Azurite (npm) and the emulator, and runs
//! `KeyVaultBackupClient` through pre-backup, backup, selective and full
//! restore. It needs Node.js and npm (`tests/run.sh` installs them).

use ceremony_tests::*;

#[test]
fn azures_backup_client_backs_up_and_restores_through_the_emulator_and_azurite() {
    script_holds(
        "interop/azure-backup.sh",
        &[],
        None,
        &[
            "begin_backup: folder_url http://devstoreaccount1.blob.localhost:",
            "azure-storage-blob lists 4 blobs in mhsm-emulated-hsm-",
            "begin_restore(key_name=sdk-backup-aes): one key back",
            "begin_restore: every key back, same versions: ['sdk-backup-aes', 'sdk-backup-rsa']",
            "begin_restore of a missing folder fails: HttpResponseError",
            "azure-keyvault-administration backup and restore: OK",
        ],
    );
}
