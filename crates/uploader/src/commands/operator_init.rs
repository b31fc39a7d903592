//! `uploader operator-init`: the operator's signing identity.

use ceremony_cli::args::OutDirArgs;
use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::CliResult;
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity::{self, NewKeyArgs};
use ceremony_cli::outln;

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    output: OutDirArgs,
    #[command(flatten)]
    protection: NewKeyArgs,
}

pub fn run(args: Args) -> CliResult {
    let (out, force, protection) =
        (args.output.out.as_path(), args.output.force, args.protection.protection());
    let public = args.output.public_dir();
    let same = files::same_folder(out, &public);
    let key_path = out.join("operator.key");
    let cer_path = out.join("operator.cer");
    let public_cer_path = public.join("operator.cer");
    files::check_new_key(&key_path)?;
    files::check_not_replacing(&cer_path, force)?;
    if !same {
        files::check_not_replacing(&public_cer_path, force)?;
    }
    files::output_dir(out)?;
    files::public_dir(&public)?;
    let id = identity::generate("operator", 3072, 730, protection, &key_path)?;
    let mut outputs = OutputSet::default();
    outputs.write(&cer_path, id.cert.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    if !same {
        outputs.write(&public_cer_path, id.cert.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    }
    // The key last: a crash before it leaves only public files, which --force replaces.
    outputs.write(&key_path, id.key_pem.as_bytes(), SECRET_MODE, false)?;
    outln!("wrote {}", key_path.display());
    outln!("wrote {}", cer_path.display());
    if !same {
        outln!("wrote {} (every custodian keeps a copy)", public_cer_path.display());
    }
    print_fingerprint("operator certificate (custodians confirm this aloud)", &id.cert);
    Ok(())
}
