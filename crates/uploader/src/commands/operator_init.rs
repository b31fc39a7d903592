//! `uploader operator-init`: the operator's signing identity.

use std::path::Path;

use ceremony_cli::args::OutDirArgs;
use ceremony_cli::artifacts::print_fingerprint;
use ceremony_cli::error::CliResult;
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity::{self, NewIdentity, NewKeyArgs};
use ceremony_cli::outln;
use sd_core::time::rfc3339;

#[derive(clap::Args)]
// Named apart from the `Args` of operator-renew, which flattens this one.
#[group(id = "new_operator")]
pub struct Args {
    #[command(flatten)]
    pub(super) output: OutDirArgs,
    #[command(flatten)]
    protection: NewKeyArgs,
    #[command(flatten)]
    lifetime: OperatorDays,
}

/// `--days`: how long an operator certificate lives. Recoveries come years
/// after an activation, so the default is ten years.
#[derive(clap::Args, Clone, Copy)]
struct OperatorDays {
    /// Certificate validity in days (at most 30 years); renew it with
    /// `uploader operator-renew` before it ends.
    #[arg(long, default_value_t = 3650, value_parser = clap::value_parser!(u32).range(31..=10950))]
    days: u32,
}

pub fn run(args: Args) -> CliResult {
    let id = create(&args, &[])?;
    print_fingerprint("operator certificate (custodians confirm this aloud)", &id.cert);
    outln!("valid until {} (renew before then: uploader operator-renew)", rfc3339(id.cert.not_after_unix()));
    Ok(())
}

/// Makes an operator identity: `operator.key` and `operator.cer` in the
/// private folder, a copy of `operator.cer` in the public one. `also` are
/// further public outputs the caller will write, refused up front if they
/// exist (so nothing is generated for a command that cannot finish).
pub(super) fn create(args: &Args, also: &[&Path]) -> CliResult<NewIdentity> {
    let (output, protection, days) = (&args.output, args.protection.protection(), args.lifetime.days);
    let (out, force) = (output.out.as_path(), output.force);
    let public = output.public_dir();
    let same = files::same_folder(out, &public);
    let key_path = out.join("operator.key");
    let cer_path = out.join("operator.cer");
    let public_cer_path = public.join("operator.cer");
    files::check_new_key(&key_path)?;
    files::check_not_replacing(&cer_path, force)?;
    if !same {
        files::check_not_replacing(&public_cer_path, force)?;
    }
    for path in also {
        files::check_not_replacing(path, force)?;
    }
    let id = identity::generate("operator", 3072, days, protection, &key_path)?;
    // Folders last: a refused passphrase or a missing terminal leaves nothing behind.
    files::output_dir(out)?;
    files::public_dir(&public)?;
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
    Ok(id)
}
