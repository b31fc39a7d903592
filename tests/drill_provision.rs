//! The drill of Azure's whole quickstart against the emulator's Resource
//! Manager (`drill.sh --provision`): provision, activate, keys, the
//! production HSM backed up in full to a storage container (Azurite) and
//! deleted (its name then refused), a recovery HSM provisioned and recovered
//! into, the backup restored and the key inventories compared, and both HSMs
//! deleted and purged at the end.

use std::path::Path;
use std::process::Command;

use ceremony_tests::*;

#[test]
fn the_provision_drill_runs_the_whole_quickstart_and_cleans_up() {
    let dir = scratch("drill-provision");
    let keep = dir.join("kept");
    let transcript = keep.join("transcript.txt");
    let args = [std::ffi::OsStr::new("--provision"), "--keep".as_ref(), keep.as_os_str()];
    script_holds(
        "ceremony-scripts/drill.sh",
        &args,
        Some(&transcript),
        &[
            "created resource group drill-rg in westeurope",
            "provisioned Managed HSM hsm-prod",
            "deleted hsm-prod (soft): scheduled purge",
            "witness: its name is refused for a new HSM while it is soft-deleted",
            "provisioned Managed HSM hsm-recovery",
            "Success: The resource is active.",
            // The keys come back from the full backup, and the inventories prove it.
            "full backup of hsm-prod into the storage container",
            "folder: mhsm-hsm-prod-",
            "pre-restore check passed",
            "restored mhsm-hsm-prod-",
            "same: all 2 keys and 3 versions of inventory-before.json are in inventory-after.json",
            "restored key archive-key (every version) from mhsm-hsm-prod-",
            "decrypt the message with drill-key, as the application",
            // The ceremony records, chained, and the share commitments.
            "share 1: exactly right: it is exactly the share the quorum rebuilt on",
            "ledger verified: 3 ceremonies of the security domain activated in hsm-prod, one chain",
            "activation (rehearsal)",
            "wrote the printable record of Drill ceremony for hsm-recovery",
            "purged hsm-prod; the name is free",
            "purged hsm-recovery; the name is free",
            "no deleted Managed HSMs in subscription",
            "DRILL PASSED",
        ],
    );
}

#[test]
fn the_azure_drill_says_what_it_needs_before_doing_anything() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ceremony-scripts/drill.sh");
    let out = Command::new("bash").arg(&script).args(["--azure", "--subscription", "s"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--azure needs --subscription, --resource-group, --location and --sd"), "{err}");
}

#[test]
fn the_azure_backup_drill_needs_all_three_of_its_flags() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ceremony-scripts/drill.sh");
    let sd = Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md");
    let mut args =
        vec!["--azure", "--subscription", "s", "--resource-group", "rg", "--location", "l", "--sd"];
    args.push(sd.to_str().unwrap());
    let out = Command::new("bash").arg(&script).args(&args).args(["--prod-hsm", "contoso"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("a backup drill needs all of --prod-hsm, --storage-url and --sas-file"), "{err}");
}
