//! The EXAMPLES section of each man page: command lines as a ceremony uses
//! them (the README's, with its names: contoso, rebuilt into contoso-dr).

use ceremony_cli::manual::Example;

/// An example (a struct literal, so that the tables are `'static`).
macro_rules! ex {
    ($what:expr, $command:expr $(,)?) => {
        Example { what: $what, command: $command }
    };
}

/// The examples of the page `page` (`uploader-activate`).
pub fn for_page(page: &str) -> &'static [Example] {
    match page {
        "uploader" => &[
            ex!(
                "Activate an HSM",
                "uploader --hsm contoso activate --quorum 2 --enrollment a.enrollment.json --enrollment b.enrollment.json --enrollment c.enrollment.json --operator-key operator.key --out sd.json",
            ),
            ex!("Against the local emulator", ". emu/env && uploader --hsm contoso status"),
        ],
        "uploader-operator-init" => &[ex!(
            "The operator's key, once",
            "uploader operator-init --out ~/op --public-out /media/transfer",
        )],
        "uploader-operator-renew" => &[ex!(
            "A successor before the certificate ends",
            "uploader operator-renew --operator-key ~/op/operator.key --out ~/op2",
        )],
        "uploader-activate" => &[ex!(
            "Activate with 3 custodians, quorum 2",
            "uploader --hsm contoso activate --quorum 2 --enrollment a.enrollment.json --enrollment b.enrollment.json --enrollment c.enrollment.json --operator-key operator.key --out sd.json",
        )],
        "uploader-init-recovery" => &[
            ex!(
                "Distributed recovery: the request naming the combiner",
                "uploader --hsm contoso-dr init-recovery --sd sd.json --combiner combiner.json --operator-key operator.key --out request.json",
            ),
            ex!(
                "One-laptop recovery: the exchange key alone",
                "uploader --hsm contoso-dr init-recovery --sd sd.json --exchange-key-out exchange.pem",
            ),
        ],
        "uploader-upload" => &[ex!(
            "Upload and wait until the HSM is active",
            "uploader --hsm contoso-dr upload --restore-blob blob.json",
        )],
        "uploader-status" => {
            &[ex!("The last upload's status, as JSON", "uploader --hsm contoso-dr status --json")]
        }
        "uploader-wait" => &[ex!("Wait for the activation", "uploader --hsm contoso wait --download")],
        "uploader-key" | "uploader-key-create" => {
            &[ex!("A key to prove recoveries with", "uploader --hsm contoso key create --name drill-key")]
        }
        "uploader-key-encrypt" => &[ex!(
            "Encrypt before the disaster",
            "uploader --hsm contoso key encrypt --name drill-key --in message.txt --out message.enc.json",
        )],
        "uploader-key-decrypt" => &[ex!(
            "Decrypt after the recovery",
            "uploader --hsm contoso-dr key decrypt --name drill-key --in message.enc.json --out message.txt",
        )],
        "uploader-key-backup" => &[ex!(
            "Back up a key",
            "uploader --hsm contoso key backup --name drill-key --out drill-key.backup",
        )],
        "uploader-key-restore" => &[ex!(
            "Restore it into the recovered HSM",
            "uploader --hsm contoso-dr key restore --in drill-key.backup",
        )],
        "uploader-provision" => &[ex!(
            "A new HSM, its administrator the signed-in az user",
            "uploader provision --name contoso --resource-group rg --location westeurope --administrator me --create-resource-group",
        )],
        "uploader-show" => {
            &[ex!("Status, URI and retention", "uploader show --name contoso --resource-group rg")]
        }
        "uploader-delete" => {
            &[ex!("Soft delete (asks for the name)", "uploader delete --name contoso --resource-group rg")]
        }
        "uploader-list-deleted" => &[ex!("Deleted HSMs and their purge dates", "uploader list-deleted")],
        "uploader-purge" => &[ex!("Purge for good", "uploader purge --name contoso --location westeurope")],
        "uploader-recover" => &[ex!(
            "Bring a deleted HSM back",
            "uploader recover --name contoso --resource-group rg --location westeurope",
        )],
        "uploader-role" | "uploader-role-assign" => &[ex!(
            "Let a principal use keys",
            "uploader --hsm contoso role assign --role 'Managed HSM Crypto User' --principal OBJECT_ID --scope /keys",
        )],
        "uploader-role-list" => &[ex!("Who holds which role", "uploader --hsm contoso role list")],
        "uploader-role-delete" => &[ex!(
            "Remove an assignment",
            "uploader --hsm contoso role delete --assignment GUID --scope /keys",
        )],
        "uploader-completions" => &[ex!(
            "Bash completion",
            "uploader completions bash > /usr/share/bash-completion/completions/uploader",
        )],
        "uploader-manpages" => {
            &[ex!("Install these pages", "uploader manpages --out /usr/local/share/man/man1")]
        }
        _ => &[],
    }
}
