//! `keyholder ceremony new`: a plan for a kind of ceremony, from its template.

use std::path::PathBuf;

use ceremony_cli::args::OutputArgs;
use ceremony_cli::error::{CliError, CliResult};
use ceremony_cli::files::{self, PUBLIC_MODE};
use ceremony_cli::outln;
use sd_core::HsmName;
use sd_core::ceremony::plan::{self, CeremonyKind, Person, Roles, TemplateInput};
use sd_core::handoff::Pin;

use super::common_name;
use crate::commands::load_certificate;

#[derive(clap::Args)]
pub struct Args {
    /// activation, recovery, drill, rotation, operator-renewal or key-media-destruction.
    #[arg(long, value_name = "KIND")]
    kind: String,
    /// The HSM the ceremony is for.
    #[arg(long, value_name = "NAME")]
    hsm: HsmName,
    /// The ceremony administrator's certificate (they sign the record).
    #[arg(long, value_name = "ADMIN.cer")]
    administrator: PathBuf,
    /// The internal witness's name.
    #[arg(long, value_name = "NAME")]
    witness: String,
    /// A custodian's certificate (repeat for each custodian taking part).
    #[arg(long, value_name = "NAME.cer", required = true)]
    custodian: Vec<PathBuf>,
    /// The operator's name, for ceremonies with online steps.
    #[arg(long, value_name = "NAME")]
    operator: Option<String>,
    /// The combiner's name, for a distributed recovery.
    #[arg(long, value_name = "NAME")]
    combiner: Option<String>,
    /// The security domain's quorum (as the steps say it).
    #[arg(long, value_name = "M", default_value_t = 2)]
    quorum: usize,
    #[command(flatten)]
    output: OutputArgs,
}

pub fn run(args: Args) -> CliResult {
    let kind = CeremonyKind::from_name(&args.kind).ok_or_else(|| {
        let names: Vec<&str> = CeremonyKind::ALL.iter().map(|k| k.name()).collect();
        CliError::general(format!("--kind {:?} is not a kind of ceremony", args.kind))
            .hint(format!("one of: {}", names.join(", ")))
    })?;
    // The template's online and combiner steps need someone to do them.
    let online =
        matches!(kind, CeremonyKind::Activation | CeremonyKind::Recovery | CeremonyKind::OperatorRenewal);
    if online && args.operator.is_none() {
        return Err(CliError::general(format!(
            "the {} ceremony has online steps: who is the operator?",
            kind.name()
        ))
        .hint("give --operator NAME"));
    }
    if kind == CeremonyKind::Recovery && args.combiner.is_none() {
        return Err(CliError::general("a recovery has a combiner: who runs the combiner laptop?")
            .hint("give --combiner NAME"));
    }
    files::check_writable(&args.output.out, args.output.force)?;
    let signing = |path: &PathBuf| -> CliResult<Person> {
        let cert = load_certificate(path)?;
        Ok(Person::signing(&common_name(&cert), &Pin::certificate(&cert)))
    };
    let roles = Roles {
        administrator: signing(&args.administrator)?,
        witness: Person::named(&args.witness),
        custodians: args.custodian.iter().map(signing).collect::<CliResult<Vec<_>>>()?,
        operator: args.operator.as_deref().map(Person::named),
        combiner: args.combiner.as_deref().map(Person::named),
    };
    let plan = plan::template(TemplateInput { kind, hsm: args.hsm, roles, quorum: args.quorum });
    let text = plan.to_json().map_err(|e| CliError::general(e).hint("this is a bug: report it"))?;
    files::write_atomic(&args.output.out, text.as_bytes(), PUBLIC_MODE, args.output.force)?;
    outln!(
        "wrote the {} plan for {} ({} steps, {} bags) to {}",
        kind.name(),
        plan.hsm,
        plan.steps.len(),
        plan.bags.len(),
        args.output.out.display()
    );
    outln!("edit it before the day: the bags' serials, the commands' file names, any step of your own");
    Ok(())
}
