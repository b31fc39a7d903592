//! Intel's collateral: the TCB Info for the platform's FMSPC and the Quoting
//! Enclave Identity, each signed by Intel's TCB Signing key (which chains to
//! the same pinned root). With them, the platform's and the QE's TCB status
//! can be evaluated offline. A `Revoked` status fails; every other status is
//! reported with the collateral's dates, for the people at the ceremony to
//! judge (Azure's platforms are rarely `UpToDate`).

use serde::Deserialize;

use super::chain::{cert_signed_by, ec_key, parse_pem_chain, validity};
use super::evidence::Evidence;
use super::{AttestationFailure, AttestationReport, Check};

/// The collateral as Intel's PCS serves it, split into the signed bytes and
/// their signatures.
#[derive(Debug, Clone)]
pub struct Collateral {
    /// The exact bytes of the `tcbInfo` member (what Intel signed).
    pub tcb_info: Vec<u8>,
    /// Its signature, ECDSA P-256 r ‖ s.
    pub tcb_info_signature: [u8; 64],
    /// The exact bytes of the `enclaveIdentity` member.
    pub qe_identity: Vec<u8>,
    /// Its signature, r ‖ s.
    pub qe_identity_signature: [u8; 64],
    /// The Intel SGX TCB Signing certificate, PEM (the root may follow).
    pub signing_chain_pem: String,
}

/// The TCB status found, with the collateral's dates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TcbEvaluation {
    /// The platform's TCB status (e.g. `UpToDate`, `OutOfDateConfigurationNeeded`).
    pub platform_status: String,
    /// The matching platform TCB level's date.
    pub platform_tcb_date: String,
    /// The QE's TCB status.
    pub qe_status: String,
    /// The matching QE TCB level's date.
    pub qe_tcb_date: String,
    /// TCB Info issue date and next update.
    pub tcb_info_dates: (String, String),
    /// QE Identity issue date and next update.
    pub qe_identity_dates: (String, String),
    /// Intel's TCB evaluation data number.
    pub evaluation_data_number: u32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TcbInfo {
    #[serde(rename = "issueDate")]
    issue_date: String,
    next_update: String,
    fmspc: String,
    pce_id: String,
    tcb_evaluation_data_number: u32,
    tcb_levels: Vec<TcbLevel>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TcbLevel {
    tcb: serde_json::Map<String, serde_json::Value>,
    tcb_date: String,
    tcb_status: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct QeIdentity {
    id: String,
    issue_date: String,
    next_update: String,
    miscselect: String,
    miscselect_mask: String,
    attributes: String,
    attributes_mask: String,
    mrsigner: String,
    isvprodid: u16,
    tcb_levels: Vec<TcbLevel>,
}

const NAME: &str = "Intel collateral";

fn fail(
    mut report: Box<AttestationReport>,
    name: &'static str,
    detail: impl Into<String>,
) -> AttestationFailure {
    report.checks.push(Check { name, passed: false, detail: detail.into() });
    AttestationFailure { report }
}

/// Parses a signature given as 128 hex digits (r ‖ s).
pub fn signature_from_hex(text: &str) -> Option<[u8; 64]> {
    crate::primitives::hex::parse(text)?.try_into().ok()
}

/// Checks the collateral's signatures to the pinned root (taken from the
/// evidence's own verified chain), matches it to the platform, and evaluates
/// the platform's and the QE's TCB status.
pub(super) fn evaluate(
    mut report: Box<AttestationReport>,
    evidence: &Evidence,
    collateral: &Collateral,
    at: u64,
) -> Result<Box<AttestationReport>, AttestationFailure> {
    // The root was pinned when the evidence was checked; its key verifies the signing certificate.
    let root = match parse_pem_chain(&evidence.pck_chain_pem).ok().and_then(|c| c.into_iter().last()) {
        Some(r) => r,
        None => return Err(fail(report, NAME, "the evidence's root certificate is not readable")),
    };
    let root_key = match ec_key(&root) {
        Ok(k) => k,
        Err(e) => return Err(fail(report, NAME, e)),
    };
    let chain = match parse_pem_chain(&collateral.signing_chain_pem) {
        Ok(c) if !c.is_empty() => c,
        Ok(_) => return Err(fail(report, NAME, "no TCB Signing certificate")),
        Err(e) => return Err(fail(report, NAME, format!("TCB Signing certificate: {e}"))),
    };
    let signing = &chain[0];
    let validity = validity(signing);
    if !cert_signed_by(signing, &root_key) {
        return Err(fail(report, NAME, "the TCB Signing certificate is not signed by the pinned root"));
    }
    if !(validity.0 <= at && at <= validity.1) {
        return Err(fail(
            report,
            NAME,
            format!(
                "the TCB Signing certificate is valid {} to {}, not at the check time {}",
                crate::time::rfc3339(validity.0),
                crate::time::rfc3339(validity.1),
                crate::time::rfc3339(at)
            ),
        ));
    }
    let signing_key = match ec_key(signing) {
        Ok(k) => k,
        Err(e) => return Err(fail(report, NAME, e)),
    };
    let signed_ok = |bytes: &[u8], sig: &[u8; 64]| {
        use p256::ecdsa::signature::Verifier;
        p256::ecdsa::Signature::from_slice(sig).is_ok_and(|s| signing_key.verify(bytes, &s).is_ok())
    };
    let tcb_bytes = collateral.tcb_info.trim_ascii_end();
    let qe_bytes = collateral.qe_identity.trim_ascii_end();
    if !signed_ok(tcb_bytes, &collateral.tcb_info_signature) {
        return Err(fail(report, NAME, "the TCB Info's signature does not verify"));
    }
    if !signed_ok(qe_bytes, &collateral.qe_identity_signature) {
        return Err(fail(report, NAME, "the QE Identity's signature does not verify"));
    }
    let tcb: TcbInfo = match serde_json::from_slice(tcb_bytes) {
        Ok(t) => t,
        Err(e) => return Err(fail(report, NAME, format!("TCB Info: {e}"))),
    };
    let qe_id: QeIdentity = match serde_json::from_slice(qe_bytes) {
        Ok(q) => q,
        Err(e) => return Err(fail(report, NAME, format!("QE Identity: {e}"))),
    };
    report.checks.push(Check {
        name: NAME,
        passed: true,
        detail: format!(
            "TCB Info (FMSPC {}) and QE Identity signed by {}",
            tcb.fmspc,
            signing.tbs_certificate().subject()
        ),
    });

    // The platform.
    let platform = report.platform.clone().unwrap_or_default();
    if !tcb.fmspc.eq_ignore_ascii_case(&platform.fmspc) || !tcb.pce_id.eq_ignore_ascii_case(&platform.pce_id)
    {
        return Err(fail(
            report,
            "platform TCB",
            format!(
                "the TCB Info is for FMSPC {} / PCE {}, the platform is FMSPC {} / PCE {}",
                tcb.fmspc, tcb.pce_id, platform.fmspc, platform.pce_id
            ),
        ));
    }
    let level = tcb.tcb_levels.iter().find(|l| {
        (1..=16).all(|i| {
            let want =
                l.tcb.get(&format!("sgxtcbcomp{i:02}svn")).and_then(|v| v.as_u64()).unwrap_or(u64::MAX);
            u64::from(platform.tcb_components[i - 1]) >= want
        }) && l.tcb.get("pcesvn").and_then(|v| v.as_u64()).is_some_and(|p| u64::from(platform.pce_svn) >= p)
    });
    let Some(level) = level else {
        return Err(fail(report, "platform TCB", "no TCB level of the TCB Info matches the platform"));
    };
    // The QE.
    let qe = &evidence.qe;
    let mask_ok = |value: &[u8], want: &str, mask: &str| match (
        crate::primitives::hex::parse(want),
        crate::primitives::hex::parse(mask),
    ) {
        (Some(w), Some(m)) if w.len() == value.len() && m.len() == value.len() => {
            value.iter().zip(&m).zip(&w).all(|((v, m), w)| v & m == w & m)
        }
        _ => false,
    };
    let mut attributes = [0u8; 16];
    attributes.copy_from_slice(&qe.raw[48..64]);
    let qe_matches = qe_id.id == "QE"
        && crate::primitives::hex::parse(&qe_id.mrsigner).is_some_and(|m| m == qe.mr_signer)
        && qe_id.isvprodid == qe.isv_prod_id
        && mask_ok(&qe.misc_select.to_le_bytes(), &qe_id.miscselect, &qe_id.miscselect_mask)
        && mask_ok(&attributes, &qe_id.attributes, &qe_id.attributes_mask);
    if !qe_matches {
        return Err(fail(
            report,
            "QE TCB",
            "the Quoting Enclave is not the one Intel's QE Identity describes",
        ));
    }
    let qe_level = qe_id
        .tcb_levels
        .iter()
        .find(|l| l.tcb.get("isvsvn").and_then(|v| v.as_u64()).is_some_and(|s| u64::from(qe.isv_svn) >= s));
    let Some(qe_level) = qe_level else {
        return Err(fail(report, "QE TCB", "no TCB level of the QE Identity matches the QE"));
    };
    let eval = TcbEvaluation {
        platform_status: level.tcb_status.clone(),
        platform_tcb_date: level.tcb_date.clone(),
        qe_status: qe_level.tcb_status.clone(),
        qe_tcb_date: qe_level.tcb_date.clone(),
        tcb_info_dates: (tcb.issue_date.clone(), tcb.next_update.clone()),
        qe_identity_dates: (qe_id.issue_date.clone(), qe_id.next_update.clone()),
        evaluation_data_number: tcb.tcb_evaluation_data_number,
    };
    let stale = |next: &str| crate::time::parse_rfc3339(next).is_some_and(|n| at > n);
    let note = |next: &str| {
        if stale(next) { format!(" (collateral past its nextUpdate {next})") } else { String::new() }
    };
    for (name, status, date, next) in [
        ("platform TCB", &eval.platform_status, &eval.platform_tcb_date, &eval.tcb_info_dates.1),
        ("QE TCB", &eval.qe_status, &eval.qe_tcb_date, &eval.qe_identity_dates.1),
    ] {
        let detail = format!("{status}, TCB date {date}{}", note(next));
        if status == "Revoked" {
            return Err(fail(report, name, format!("{detail}: revoked; refused")));
        }
        report.checks.push(Check { name, passed: true, detail });
    }
    report.tcb = Some(eval);
    Ok(report)
}
