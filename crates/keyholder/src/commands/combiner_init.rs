//! `keyholder combiner-init`: the ephemeral keypair shares are sealed to.

use ceremony_cli::args::OutDirArgs;
use ceremony_cli::error::{CliResult, InFile};
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity::{self, NewKeyArgs};
use ceremony_cli::outln;
use sd_core::RsaKey;
use sd_core::bundle::Signer;
use sd_core::handoff::combiner::{Combiner, MAX_COMBINER_DAYS};

use super::{now_unix, print_fingerprint};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    output: OutDirArgs,
    #[command(flatten)]
    protection: NewKeyArgs,
    /// Generate the combiner key on a hardware token (pkcs11: URI) instead of combiner.key.
    #[arg(long, value_name = "URI", conflicts_with_all = ["passphrase_file", "no_passphrase"])]
    pkcs11: Option<String>,
}

pub fn run(args: Args) -> CliResult {
    let (out, force, pkcs11) = (args.output.out.as_path(), args.output.force, args.pkcs11.as_deref());
    let protection = args.protection.protection();
    let public = args.output.public_dir();
    let key_path = out.join("combiner.key");
    let bundle_path = public.join("combiner.json");
    // The key first: it is never replaced, so --force would not help there.
    if pkcs11.is_none() {
        files::check_new_key(&key_path)?;
    }
    files::check_not_replacing(&bundle_path, force)?;
    // One recovery: a week is plenty, and the most a combiner may be valid.
    const DAYS: u32 = MAX_COMBINER_DAYS as u32;
    // Either a key file (written last) or a key that stays on a token.
    let (key, cert, key_file): (Box<dyn RsaKey>, _, _) = match pkcs11 {
        Some(uri) => {
            let (token, cert) = identity::generate_on_token("combiner", 3072, DAYS, uri)?;
            (Box::new(token), cert, None)
        }
        None => {
            let id = identity::generate("combiner", 3072, DAYS, protection, &key_path)?;
            (Box::new(id.key), id.cert, Some(id.key_pem))
        }
    };
    let signed = Combiner::sign(&Signer { key: &key, cert: &cert }, now_unix()).in_file(&bundle_path)?;
    // Folders last: a refused passphrase or a missing terminal leaves nothing behind.
    files::output_dir(out)?;
    files::public_dir(&public)?;
    let mut outputs = OutputSet::default();
    outputs.write(&bundle_path, signed.as_bytes(), PUBLIC_MODE, force)?;
    if let Some(pem) = key_file {
        // The key last: a crash before it leaves only public files, which --force replaces.
        outputs.write(&key_path, pem.as_bytes(), SECRET_MODE, false)?;
        outln!("wrote {}", key_path.display());
    } else if let Some(uri) = pkcs11 {
        outln!("generated the combiner key on the token: {uri}");
    }
    outln!("wrote {}", bundle_path.display());
    if !files::same_folder(out, &public) {
        outln!("only {} goes to the operator; the combiner key stays on this laptop", public.display());
    }
    print_fingerprint(
        "combiner key (each custodian types this \"read aloud\" line as --combiner-fingerprint)",
        &cert,
    );
    Ok(())
}
