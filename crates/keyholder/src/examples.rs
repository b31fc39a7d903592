//! The EXAMPLES section of each man page: command lines as a ceremony uses
//! them (the README's, with its folder names: /media/NAME for a custodian's
//! own medium, /media/transfer for what travels).

use ceremony_cli::manual::Example;

/// An example (a struct literal, so that the tables are `'static`).
macro_rules! ex {
    ($what:expr, $command:expr $(,)?) => {
        Example { what: $what, command: $command }
    };
}

/// The examples of the page `page` (`keyholder-share`).
pub fn for_page(page: &str) -> &'static [Example] {
    match page {
        "keyholder" => &[
            ex!(
                "Enroll as a custodian (offline)",
                "keyholder init --name alice --out /media/alice --public-out /media/transfer",
            ),
            ex!(
                "Check that my share still opens",
                "keyholder check --sd sd.json --key /media/alice/alice.key",
            ),
        ],
        "keyholder-init" => &[
            ex!(
                "A key on my own medium, the public files for the operator",
                "keyholder init --name alice --out /media/alice --public-out /media/transfer",
            ),
            ex!(
                "A key on a hardware token",
                "keyholder init --name alice --out /media/alice --pkcs11 'pkcs11:token=alice;object=alice'",
            ),
        ],
        "keyholder-check" => &[ex!(
            "Does my share still open? (nothing is combined)",
            "keyholder check --sd sd.json --key /media/alice/alice.key",
        )],
        "keyholder-restore-blob" => &[ex!(
            "One-laptop recovery: custodians unlock their keys in turn",
            "keyholder restore-blob --sd sd.json --exchange-key exchange.pem --hsm contoso-dr --key /media/alice/alice.key --key /media/bob/bob.key --out blob.json",
        )],
        "keyholder-combiner-init" => &[ex!(
            "The one-time combiner key, first in a recovery",
            "keyholder combiner-init --out /media/combiner --public-out /media/transfer",
        )],
        "keyholder-share" => &[ex!(
            "Seal my share to the combiner read aloud, for the HSM in the plan",
            "keyholder share --sd sd.json --request request.json --hsm contoso-dr --operator-cert operator.cer --combiner-fingerprint HEX --key /media/alice/alice.key --out alice.share.json",
        )],
        "keyholder-combine" => &[ex!(
            "Rebuild the master key from the share bundles",
            "keyholder combine --sd sd.json --request request.json --hsm contoso-dr --operator-cert operator.cer --combiner-key /media/combiner/combiner.key --share alice.share.json --share bob.share.json --out blob.json",
        )],
        "keyholder-rotate" => &[ex!(
            "Hand the security domain to new custodians",
            "keyholder rotate --sd sd.json --key alice.key --key bob.key --new-cert dave.cer --new-cert erin.cer --new-cert frank.cer --quorum 2 --out rotated-sd.json",
        )],
        "keyholder-drill" => &[ex!(
            "A quorum proves it can recover, and signs a report",
            "keyholder drill --sd sd.json --key alice.key --key bob.key --out report.json",
        )],
        "keyholder-verify" => &[
            ex!(
                "A drill report against the SD file's custodians",
                "keyholder verify report.json --sd sd.json",
            ),
            ex!(
                "The activation record, signed by the pinned operator",
                "keyholder verify sd.json.activation.json --signer operator.cer --sd sd.json",
            ),
        ],
        "keyholder-exchange-key" => &[ex!(
            "Every attestation check of an exchange key",
            "keyholder exchange-key request.json --hsm contoso-dr",
        )],
        "keyholder-fingerprint" => &[
            ex!("What a file is, and its fingerprints", "keyholder fingerprint sd.json"),
            ex!(
                "My certificate's fingerprint, from my key file",
                "keyholder fingerprint /media/alice/alice.key",
            ),
        ],
        "keyholder-passwd" => {
            &[ex!("A new passphrase for my key file", "keyholder passwd /media/alice/alice.key")]
        }
        "keyholder-completions" => &[ex!(
            "Bash completion",
            "keyholder completions bash > /usr/share/bash-completion/completions/keyholder",
        )],
        "keyholder-manpages" => {
            &[ex!("Install these pages", "keyholder manpages --out /usr/local/share/man/man1")]
        }
        _ => &[],
    }
}
