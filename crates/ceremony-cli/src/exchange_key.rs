//! How the tools are told to judge an exchange key (the attestation pins, an
//! explicit test root, Intel's collateral, or a fingerprint confirmed for an
//! unattested key), and how they show the verdict.

use std::path::{Path, PathBuf};

use sd_core::attestation::collateral::{Collateral, signature_from_hex};
use sd_core::attestation::{AttestationReport, Basis, ExchangeKeyPolicy, Pins, VerifiedExchangeKey};

use crate::error::{CliError, CliResult, InFile};
use crate::local_target::LocalTarget;
use crate::{errln, files, outln};

/// The flags every command that trusts an exchange key takes.
#[derive(clap::Args, Clone, Debug, Default)]
pub struct AttestationArgs {
    /// Accept evidence chaining to this root (PEM) instead of Intel's SGX Root
    /// CA: for drills against the emulator (DIR/attestation-root.pem) only.
    #[arg(long, value_name = "ROOT.pem")]
    pub attestation_root: Option<PathBuf>,
    /// Override the enclave (and QE) identity pins, for when Azure rotates
    /// its enclave signer: {"enclave": {"mrsigner": HEX, "product_id": N, "min_svn": N}}.
    #[arg(long, value_name = "PINS.json")]
    pub attestation_pins: Option<PathBuf>,
    /// Intel's collateral (tcbinfo*.json, qeidentity*.json, their .sig.hex
    /// signatures and the TCB Signing certificate *.pem) to evaluate TCB status.
    #[arg(long, value_name = "DIR")]
    pub collateral: Option<PathBuf>,
    /// Accept an exchange key WITHOUT attestation, if its x5t#S256 is this
    /// one, confirmed out of band (legacy HSMs).
    // A base64url thumbprint may start with '-': it is a value, not a flag.
    #[arg(long, value_name = "X5T_S256", allow_hyphen_values = true)]
    pub allow_unattested: Option<String>,
}

impl AttestationArgs {
    /// The policy these flags ask for; says aloud what is not Intel's.
    pub fn policy(&self) -> CliResult<ExchangeKeyPolicy> {
        let mut pins = Pins::default();
        if let Some(p) = &self.attestation_pins {
            pins = pins.with_file(&files::read(p)?).in_file(p)?;
        }
        // An emulator named by HSM_CEREMONY_TARGET brings its own test root.
        let root =
            self.attestation_root.clone().or_else(|| LocalTarget::from_env().map(|t| t.attestation_root()));
        if let Some(r) = &root {
            pins = pins.with_root(&files::read(r)?).in_file(r)?;
            if !pins.root_is_intel {
                errln!(
                    "note: attestation root {} is NOT Intel's SGX Root CA: only evidence from a test platform (the emulator) passes",
                    r.display()
                );
            }
        }
        let collateral = self.collateral.as_deref().map(load_collateral).transpose()?;
        Ok(ExchangeKeyPolicy { pins, collateral, allow_unattested: self.allow_unattested.clone() })
    }
}

fn find(dir: &Path, prefix: &str, suffix: &str) -> CliResult<PathBuf> {
    let entries =
        std::fs::read_dir(dir).map_err(|e| {
            CliError::file(dir, format!("cannot read the folder ({e})"))
                .hint("--collateral names the folder that holds Intel's tcbinfo, qeidentity and signing certificate files")
        })?;
    let mut found: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                n.starts_with(prefix)
                    && n.ends_with(suffix)
                    && (suffix != ".json" || !n.ends_with(".sig.json"))
            })
        })
        .collect();
    found.sort();
    match found.as_slice() {
        [one] => Ok(one.clone()),
        [] => Err(CliError::file(dir, format!("holds no {prefix}*{suffix}"))
            .hint("fetch Intel's collateral (tcbinfo, qeidentity, their .sig.hex and the TCB Signing certificate) into this folder")),
        _ => Err(CliError::file(
            dir,
            format!("holds more than one {prefix}*{suffix}; keep one set of collateral per folder"),
        )
        .hint("move the older collateral into a folder of its own")),
    }
}

/// Reads Intel's collateral from a folder: `tcbinfo*.json` and
/// `tcbinfo*.sig.hex`, `qeidentity*.json` and `qeidentity*.sig.hex` (the
/// signed JSON members and their signatures), and the TCB Signing certificate `*.pem`.
pub fn load_collateral(dir: &Path) -> CliResult<Collateral> {
    let sig = |prefix: &str| -> CliResult<[u8; 64]> {
        let p = find(dir, prefix, ".sig.hex")?;
        signature_from_hex(&files::read_text(&p)?).ok_or_else(|| {
            CliError::file(&p, "is not a 128-hex-digit ECDSA signature (r ‖ s)")
                .hint("save the signature field of Intel's answer as hex, as the collateral fetch writes it")
        })
    };
    Ok(Collateral {
        tcb_info: files::read(&find(dir, "tcbinfo", ".json")?)?,
        tcb_info_signature: sig("tcbinfo")?,
        qe_identity: files::read(&find(dir, "qeidentity", ".json")?)?,
        qe_identity_signature: sig("qeidentity")?,
        signing_chain_pem: files::read_text(&find(dir, "", ".pem")?)?,
    })
}

/// Every check, one line each.
pub fn print_checks(report: &AttestationReport) {
    for c in &report.checks {
        outln!("{} {}: {}", if c.passed { "PASS" } else { "FAIL" }, c.name, c.detail);
    }
}

/// What a verified exchange key is, in a few lines, for the commands that rely on it.
pub fn print_verdict(key: &VerifiedExchangeKey) {
    let cert = key.certificate();
    match key.basis() {
        Basis::Attested(report) => {
            outln!(
                "exchange key attested for HSM {:?}: {} checks passed",
                key.hsm_name(),
                report.checks.len()
            );
            print_identity(report);
        }
        Basis::ConfirmedUnattested => {
            outln!("WARNING: exchange key {} is NOT attested.", cert.x5t_s256());
            outln!("  It was accepted only because its x5t#S256 was given with --allow-unattested:");
            outln!("  nothing proves that an HSM enclave, rather than whoever answered, holds its key.");
        }
    }
}

/// The identities and TCB status in an attestation report.
pub fn print_identity(report: &AttestationReport) {
    if let Some(e) = &report.enclave {
        outln!("  enclave:  MRSIGNER {} product {} SVN {}", e.mr_signer, e.prod_id, e.svn);
        outln!("            MRENCLAVE {} (reported, not pinned)", e.mr_enclave);
    }
    if let Some(p) = &report.platform {
        outln!("  platform: FMSPC {} PCE SVN {}", p.fmspc, p.pce_svn);
    }
    match &report.tcb {
        Some(t) => outln!(
            "  TCB:      platform {} ({}), QE {} ({}); TCB Info issued {}, next update {}",
            t.platform_status,
            t.platform_tcb_date,
            t.qe_status,
            t.qe_tcb_date,
            t.tcb_info_dates.0,
            t.tcb_info_dates.1
        ),
        None => outln!("  TCB status and revocation were NOT checked (no --collateral)"),
    }
}
