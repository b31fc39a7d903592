//! `keyholder init`: a custodian's keypair, certificate and enrollment — the
//! key in an encrypted key file, or generated on a hardware token.

use ceremony_cli::args::OutDirArgs;
use ceremony_cli::error::{CliError, CliResult, InFile};
use ceremony_cli::files::same_folder;
use ceremony_cli::files::{self, OutputSet, PUBLIC_MODE, SECRET_MODE};
use ceremony_cli::identity::{self, NewKeyArgs, Protection};
use ceremony_cli::outln;
use sd_core::RsaKey;
use sd_core::bundle::Signer;
use sd_core::handoff::enrollment::Enrollment;
use sd_core::pki::cert;

use super::{now_unix, print_fingerprint};

#[derive(clap::Args)]
pub struct Args {
    /// Custodian name: the certificate CN and the base name of the files.
    #[arg(long)]
    name: String,
    #[command(flatten)]
    output: OutDirArgs,
    /// RSA key size.
    #[arg(long, default_value_t = 3072, value_parser = parse_bits)]
    bits: usize,
    /// Certificate validity in days.
    #[arg(long, default_value_t = 730, value_parser = clap::value_parser!(u32).range(1..=36500))]
    days: u32,
    #[command(flatten)]
    protection: NewKeyArgs,
    /// Generate the key on a hardware token instead (RFC 7512 URI, e.g.
    /// 'pkcs11:token=custodian-a;object=sd-recovery?module-path=/usr/lib/softhsm/libsofthsm2.so');
    /// no .key file is written; the certificate is also stored on the token.
    #[arg(long, value_name = "URI", conflicts_with_all = ["passphrase_file", "no_passphrase"])]
    pkcs11: Option<String>,
}

/// Where the new key goes.
enum KeyHome<'a> {
    /// `DIR/NAME.key`, protected as chosen.
    File(Protection<'a>),
    /// A hardware token (pkcs11: URI); no key file is written.
    Token(&'a str),
}

pub fn run(args: Args) -> CliResult {
    let Args { name, output, bits, days, protection, pkcs11 } = &args;
    let (name, out, force) = (name.as_str(), output.out.as_path(), output.force);
    let public = output.public_dir();
    let home = match pkcs11 {
        Some(uri) => KeyHome::Token(uri),
        None => KeyHome::File(protection.protection()),
    };
    cert::validate_common_name(name).map_err(|_| {
        CliError::general(format!(
            "--name {name:?}: a custodian name is 1 to 64 of A-Z a-z 0-9 - _ . and does not start with a dot"
        ))
        .hint("it names the certificate (CN) and the files NAME.key, NAME.cer and NAME.enrollment.json")
    })?;
    let key_path = out.join(format!("{name}.key"));
    // The key's own copy of its certificate (signing needs it), and the public copies.
    let cer_path = out.join(format!("{name}.cer"));
    let public_cer_path = public.join(format!("{name}.cer"));
    let enrollment_path = public.join(format!("{name}.enrollment.json"));
    let same = same_folder(out, &public);
    // Refuse before generating anything (or creating a folder): a key file is
    // never replaced, so it is checked first (--force would not help there).
    if pkcs11.is_none() {
        files::check_new_key(&key_path)?;
    }
    files::check_not_replacing(&cer_path, force)?;
    files::check_not_replacing(&enrollment_path, force)?;
    if !same {
        files::check_not_replacing(&public_cer_path, force)?;
    }
    let (key, certificate, key_file): (Box<dyn RsaKey>, _, _) = match home {
        KeyHome::File(protection) => {
            let id = identity::generate(name, *bits, *days, protection, &key_path)?;
            let encrypted = id.encrypted;
            (Box::new(id.key), id.cert, Some((id.key_pem, encrypted)))
        }
        KeyHome::Token(uri) => {
            let (token, cert) = identity::generate_on_token(name, *bits, *days, uri)?;
            (Box::new(token), cert, None)
        }
    };
    let signed = Enrollment::sign(name, &Signer { key: &key, cert: &certificate }, now_unix())
        .in_file(&enrollment_path)?;
    // Folders last: a refused passphrase or a missing terminal leaves nothing behind.
    files::output_dir(out)?;
    files::public_dir(&public)?;

    let mut outputs = OutputSet::default();
    outputs.write(&cer_path, certificate.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    if !same {
        outputs.write(&public_cer_path, certificate.to_pem().as_bytes(), PUBLIC_MODE, force)?;
    }
    outputs.write(&enrollment_path, signed.as_bytes(), PUBLIC_MODE, force)?;
    match (&key_file, home) {
        (Some((pem, encrypted)), _) => {
            // The key last: a crash before it leaves only public files, which --force replaces.
            outputs.write(&key_path, pem.as_bytes(), SECRET_MODE, false)?;
            outln!(
                "wrote {}{}",
                key_path.display(),
                if *encrypted { " (encrypted)" } else { " (NOT encrypted)" }
            );
        }
        (None, KeyHome::Token(uri)) => outln!("generated the key on the token: {uri}"),
        (None, KeyHome::File(_)) => {}
    }
    outln!("wrote {}", cer_path.display());
    if !same {
        outln!("wrote {}", public_cer_path.display());
    }
    outln!("wrote {}", enrollment_path.display());
    if !same {
        outln!("only {} goes to the operator; {} stays offline", public.display(), out.display());
    }
    print_fingerprint("custodian certificate", &certificate);
    Ok(())
}

fn parse_bits(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(b @ (2048 | 3072 | 4096)) => Ok(b),
        Ok(b) if b < 2048 => Err(format!("{b} bits is too weak; use 3072 or 4096")),
        _ => Err("use 2048, 3072 or 4096".into()),
    }
}
