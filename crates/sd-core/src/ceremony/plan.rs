//! The ceremony plan: the script a ceremony follows, written before it.
//!
//! A plan names the ceremony's kind and HSM, its people and their roles (the
//! ceremony administrator and each custodian with the SHA-256 fingerprint of
//! their certificate, the internal witness, the operator and the combiner),
//! the tamper-evident bags the media travel in, and the numbered steps: who
//! does what, with which command, reading which files and writing which, and
//! which bags are opened before and sealed after. It is JSON (the schema is
//! this module's types, and README's "The ceremony record"); [`template`]
//! writes one for each kind of ceremony, to be edited before the day.

use serde::{Deserialize, Serialize};

use super::CeremonyError;
use crate::HsmName;
use crate::handoff::Pin;
use crate::primitives::hex;

/// What a plan file says it is.
pub const FORMAT: &str = "hsm-ceremony plan 1";

/// The kinds of ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CeremonyKind {
    /// The security domain is made: custodians enroll, the HSM is activated.
    Activation,
    /// The security domain is given to a new HSM by a quorum.
    Recovery,
    /// A quorum proves it can recover, and commits to every share.
    Drill,
    /// A quorum re-splits the master key to new custodians.
    Rotation,
    /// The operator's identity is handed to a successor.
    OperatorRenewal,
    /// Key media are destroyed, witnessed.
    KeyMediaDestruction,
}

impl CeremonyKind {
    /// Every kind, in the order a person meets them.
    pub const ALL: [CeremonyKind; 6] = [
        CeremonyKind::Activation,
        CeremonyKind::Recovery,
        CeremonyKind::Drill,
        CeremonyKind::Rotation,
        CeremonyKind::OperatorRenewal,
        CeremonyKind::KeyMediaDestruction,
    ];

    /// The name as written in plans and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            CeremonyKind::Activation => "activation",
            CeremonyKind::Recovery => "recovery",
            CeremonyKind::Drill => "drill",
            CeremonyKind::Rotation => "rotation",
            CeremonyKind::OperatorRenewal => "operator-renewal",
            CeremonyKind::KeyMediaDestruction => "key-media-destruction",
        }
    }

    /// The kind a name names.
    pub fn from_name(name: &str) -> Option<CeremonyKind> {
        CeremonyKind::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// A person in a role; custodians and the administrator with the SHA-256
/// fingerprint (64 hex digits) of the certificate they sign with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// Their name, as on the attendance sheet.
    pub name: String,
    /// SHA-256 of their certificate's DER, lower-case hex.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl Person {
    /// Someone whose signature does not count (the witness, the operator...).
    pub fn named(name: &str) -> Person {
        Person { name: name.to_owned(), fingerprint: None }
    }

    /// Someone who signs with the certificate `fingerprint` pins.
    pub fn signing(name: &str, fingerprint: &Pin) -> Person {
        Person { name: name.to_owned(), fingerprint: Some(hex::hex_lower(&fingerprint.sha256())) }
    }

    /// The pin of their certificate, if they sign.
    pub fn pin(&self) -> Option<Pin> {
        self.fingerprint.as_deref().and_then(|f| Pin::from_fingerprint(f).ok())
    }
}

/// Who takes part, in which role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Roles {
    /// Runs the ceremony and signs its record first.
    pub administrator: Person,
    /// Watches every step and confirms it.
    pub witness: Person,
    /// The custodians present, who co-sign the record.
    pub custodians: Vec<Person>,
    /// Runs the online machine, if the ceremony has online steps.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub operator: Option<Person>,
    /// Runs the combiner laptop in a distributed recovery.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub combiner: Option<Person>,
}

/// A tamper-evident bag, by the serial printed on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Bag {
    /// The serial on the bag.
    pub serial: String,
    /// What it holds.
    pub holds: String,
}

/// One step of the script.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlanStep {
    /// Its number or label (unique in the plan).
    pub id: String,
    /// Who does it: `administrator`, `witness`, `operator`, `combiner`,
    /// `custodians` (each present), or `custodian:NAME`.
    pub role: String,
    /// What to do, in words.
    pub instruction: String,
    /// The command line, when it is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// Files the step reads (their SHA-256 is recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub inputs: Vec<String>,
    /// Files the step writes (their SHA-256 is recorded).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outputs: Vec<String>,
    /// Bags opened before the step (their serials read aloud and typed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bags_opened: Vec<String>,
    /// Bags sealed after it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub bags_sealed: Vec<String>,
}

/// A ceremony plan (see the module's documentation).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CeremonyPlan {
    format: String,
    /// What kind of ceremony.
    pub kind: CeremonyKind,
    /// The HSM it is for.
    pub hsm: String,
    /// Its title, as on the printed record.
    pub title: String,
    /// Who takes part.
    pub roles: Roles,
    /// The bags.
    #[serde(default)]
    pub bags: Vec<Bag>,
    /// The steps, in order.
    pub steps: Vec<PlanStep>,
}

impl CeremonyPlan {
    /// Reads a plan and checks it: known format, a valid HSM name, at least
    /// one step, unique step IDs and bag serials, every step's role and bags
    /// known, fingerprints for the administrator and every custodian.
    pub fn parse(bytes: &[u8]) -> Result<CeremonyPlan, CeremonyError> {
        let plan: CeremonyPlan =
            serde_json::from_slice(bytes).map_err(|e| CeremonyError::Plan(e.to_string()))?;
        plan.check()?;
        Ok(plan)
    }

    /// The checks of [`CeremonyPlan::parse`].
    pub fn check(&self) -> Result<(), CeremonyError> {
        let bad = |m: String| Err(CeremonyError::Plan(m));
        if self.format != FORMAT {
            return bad(format!("its format is {:?}, not {FORMAT:?}", self.format));
        }
        if self.hsm.parse::<HsmName>().is_err() {
            return bad(format!("{:?} is not a Managed HSM name", self.hsm));
        }
        if self.steps.is_empty() {
            return bad("it has no steps".into());
        }
        let signing = std::iter::once(("administrator", &self.roles.administrator))
            .chain(self.roles.custodians.iter().map(|c| ("custodian", c)));
        for (role, p) in signing {
            let ok = p.fingerprint.as_deref().is_some_and(|f| f.len() == 64 && hex::parse(f).is_some());
            if !ok {
                return bad(format!(
                    "the {role} {:?} needs the SHA-256 fingerprint of their certificate (64 hex digits)",
                    p.name
                ));
            }
        }
        for (i, s) in self.steps.iter().enumerate() {
            if s.id.trim().is_empty() || self.steps[..i].iter().any(|o| o.id == s.id) {
                return bad(format!("step {} has an empty or repeated id {:?}", i + 1, s.id));
            }
            if !self.has_role(&s.role) {
                return bad(format!("step {} is for {:?}, who has no role in the plan", s.id, s.role));
            }
            for serial in s.bags_opened.iter().chain(&s.bags_sealed) {
                if !self.bags.iter().any(|b| b.serial == *serial) {
                    return bad(format!("step {} names bag {serial:?}, which the plan does not list", s.id));
                }
            }
        }
        for (i, b) in self.bags.iter().enumerate() {
            if b.serial.trim().is_empty() || self.bags[..i].iter().any(|o| o.serial == b.serial) {
                return bad(format!("bag {} has an empty or repeated serial {:?}", i + 1, b.serial));
            }
        }
        Ok(())
    }

    fn has_role(&self, role: &str) -> bool {
        match role {
            "administrator" | "witness" | "custodians" => true,
            "operator" => self.roles.operator.is_some(),
            "combiner" => self.roles.combiner.is_some(),
            other => other
                .strip_prefix("custodian:")
                .is_some_and(|name| self.roles.custodians.iter().any(|c| c.name == name)),
        }
    }

    /// The plan as JSON text, as a plan file holds it.
    pub fn to_json(&self) -> Result<String, CeremonyError> {
        serde_json::to_string_pretty(self).map(|t| t + "\n").map_err(|e| CeremonyError::Plan(e.to_string()))
    }

    /// Everyone in the plan with their role, for the attendance sheet.
    pub fn attendance(&self) -> Vec<(String, String)> {
        let r = &self.roles;
        let mut people = vec![
            (r.administrator.name.clone(), "ceremony administrator".to_owned()),
            (r.witness.name.clone(), "internal witness".to_owned()),
        ];
        people.extend(r.custodians.iter().map(|c| (c.name.clone(), "custodian".to_owned())));
        people.extend(r.operator.iter().map(|p| (p.name.clone(), "operator".to_owned())));
        people.extend(r.combiner.iter().map(|p| (p.name.clone(), "combiner".to_owned())));
        people
    }
}

/// What a template is made from.
pub struct TemplateInput {
    /// The kind of ceremony.
    pub kind: CeremonyKind,
    /// The HSM.
    pub hsm: HsmName,
    /// The roles.
    pub roles: Roles,
    /// The quorum of the security domain (for the steps' wording).
    pub quorum: usize,
}

fn step(id: usize, role: &str, instruction: &str, command: Option<String>) -> PlanStep {
    PlanStep {
        id: id.to_string(),
        role: role.to_owned(),
        instruction: instruction.to_owned(),
        command,
        inputs: Vec::new(),
        outputs: Vec::new(),
        bags_opened: Vec::new(),
        bags_sealed: Vec::new(),
    }
}

fn files(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

/// A plan for `input.kind`, with the steps hsm-ceremony's tools run for it,
/// one bag per custodian for their key media (serials to be filled in).
pub fn template(input: TemplateInput) -> CeremonyPlan {
    let hsm = input.hsm.as_str().to_owned();
    let custodians: Vec<String> = input.roles.custodians.iter().map(|c| c.name.clone()).collect();
    let bags: Vec<Bag> = custodians
        .iter()
        .enumerate()
        .map(|(i, c)| Bag { serial: format!("BAG-{:04}", i + 1), holds: format!("{c}'s key media") })
        .collect();
    let mut steps = Vec::new();
    let mut n = 0;
    let mut add =
        |role: &str, instruction: &str, command: Option<String>, inputs: &[&str], outputs: &[&str]| {
            n += 1;
            let mut s = step(n, role, instruction, command);
            s.inputs = files(inputs);
            s.outputs = files(outputs);
            steps.push(s);
            steps.len() - 1
        };
    let q = input.quorum;
    let opening = add(
        "witness",
        "Check every participant's identity document against the attendance sheet; check every bag's seal and serial",
        None,
        &[],
        &[],
    );
    match input.kind {
        CeremonyKind::Activation => {
            for c in &custodians {
                add(
                    &format!("custodian:{c}"),
                    &format!("{c} makes their key on their own offline laptop; reads the fingerprint aloud"),
                    Some(format!("keyholder init --name {c} --out keys/{c} --public-out public")),
                    &[],
                    &[&format!("public/{c}.enrollment.json")],
                );
            }
            let enrollments: Vec<String> =
                custodians.iter().map(|c| format!("--enrollment public/{c}.enrollment.json")).collect();
            add(
                "operator",
                &format!(
                    "Activate {hsm} with quorum {q}; every custodian confirms the fingerprints read back"
                ),
                Some(format!(
                    "uploader --hsm {hsm} activate --quorum {q} {} --operator-key operator.key --out sd.json",
                    enrollments.join(" ")
                )),
                &[],
                &["sd.json", "sd.json.activation.json"],
            );
            add(
                "custodians",
                "Each custodian verifies the activation record against the SD file and checks their share",
                Some("keyholder verify sd.json.activation.json --sd sd.json; keyholder check --sd sd.json --key KEY".into()),
                &["sd.json", "sd.json.activation.json"],
                &[],
            );
        }
        CeremonyKind::Recovery => {
            add(
                "combiner",
                "Make the one-time combiner key; read its fingerprint aloud to every custodian",
                Some("keyholder combiner-init --out combiner --public-out public".into()),
                &[],
                &["public/combiner.json"],
            );
            add(
                "operator",
                &format!(
                    "Fetch {hsm}'s exchange key, verify its attestation, sign the request naming it and the combiner"
                ),
                Some(format!(
                    "uploader --hsm {hsm} init-recovery --sd sd.json --combiner public/combiner.json --operator-key operator.key --out request.json"
                )),
                &["sd.json", "public/combiner.json"],
                &["request.json"],
            );
            for c in &custodians {
                add(
                    &format!("custodian:{c}"),
                    &format!(
                        "{c} checks the request names {hsm} and the combiner read aloud; seals their share to it"
                    ),
                    Some(format!(
                        "keyholder share --sd sd.json --request request.json --hsm {hsm} --operator-cert public/operator.cer --combiner-fingerprint HEX --key keys/{c}/{c}.key --out {c}.share.json"
                    )),
                    &["sd.json", "request.json"],
                    &[&format!("{c}.share.json")],
                );
            }
            add(
                "combiner",
                &format!("Verify {q} share bundles, rebuild, write the restore blob; destroy the combiner key"),
                Some("keyholder combine --sd sd.json --request request.json --combiner-key combiner/combiner.key --share ... --out restore-blob.json".into()),
                &["sd.json", "request.json"],
                &["restore-blob.json"],
            );
            add(
                "operator",
                &format!("Upload the restore blob to {hsm} and wait until it is active"),
                Some(format!("uploader --hsm {hsm} upload --restore-blob restore-blob.json")),
                &["restore-blob.json"],
                &[],
            );
        }
        CeremonyKind::Drill => {
            add(
                "custodians",
                &format!("A quorum of {q} rebuilds the master key, verifies every EncData entry and commits to every share"),
                Some("keyholder drill --sd sd.json --key KEY... --custodian-cert public/NAME.cer... --out drill-report.json".into()),
                &["sd.json"],
                &["drill-report.json"],
            );
            add(
                "custodians",
                "Each custodian checks their share against the commitments",
                Some("keyholder check --sd sd.json --key KEY --commitments drill-report.json".into()),
                &["sd.json", "drill-report.json"],
                &[],
            );
        }
        CeremonyKind::Rotation => {
            add(
                "custodians",
                &format!("A quorum of {q} re-splits the master key to the new custodians"),
                Some("keyholder rotate --sd sd.json --key KEY... --new-cert NEW.cer... --quorum M --out rotated-sd.json".into()),
                &["sd.json"],
                &["rotated-sd.json"],
            );
        }
        CeremonyKind::OperatorRenewal => {
            add(
                "operator",
                "Make the successor operator key; sign the handover with the old key and the new",
                Some("uploader operator-renew --operator-key operator.key --out new-operator".into()),
                &[],
                &["new-operator/operator.handover.json"],
            );
            add(
                "custodians",
                "Each custodian verifies the handover against the operator they pinned, and pins the new fingerprint",
                Some(
                    "keyholder verify new-operator/operator.handover.json --signer public/operator.cer"
                        .into(),
                ),
                &["new-operator/operator.handover.json"],
                &[],
            );
        }
        CeremonyKind::KeyMediaDestruction => {
            add(
                "witness",
                "Destroy the media that held the retired keys, as the destruction procedure says; photograph the remains",
                None,
                &[],
                &[],
            );
        }
    }
    let closing = add("witness", "Seal every medium in its bag; read each serial aloud", None, &[], &[]);
    steps[opening].bags_opened = bags.iter().map(|b| b.serial.clone()).collect();
    steps[closing].bags_sealed = bags.iter().map(|b| b.serial.clone()).collect();
    CeremonyPlan {
        format: FORMAT.into(),
        kind: input.kind,
        title: format!("{} ceremony for {hsm}", capitalised(input.kind.name())),
        hsm,
        roles: input.roles,
        bags,
        steps,
    }
}

fn capitalised(name: &str) -> String {
    let words = name.replace('-', " ");
    let mut chars = words.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles() -> Roles {
        let pin = Pin::from_fingerprint(&"ab".repeat(32)).unwrap();
        Roles {
            administrator: Person::signing("dana", &pin),
            witness: Person::named("wes"),
            custodians: vec![Person::signing("alice", &pin), Person::signing("bob", &pin)],
            operator: Some(Person::named("olga")),
            combiner: Some(Person::named("carl")),
        }
    }

    #[test]
    fn every_template_is_a_valid_plan_and_reads_back() {
        for kind in CeremonyKind::ALL {
            let plan =
                template(TemplateInput { kind, hsm: "contoso".parse().unwrap(), roles: roles(), quorum: 2 });
            let text = plan.to_json().unwrap();
            assert_eq!(CeremonyPlan::parse(text.as_bytes()).unwrap(), plan, "{kind:?}");
            assert!(plan.steps.len() >= 3, "{kind:?}");
        }
    }

    #[test]
    fn a_plan_that_cannot_be_followed_is_refused_with_why() {
        let plan = template(TemplateInput {
            kind: CeremonyKind::Recovery,
            hsm: "contoso".parse().unwrap(),
            roles: roles(),
            quorum: 2,
        });
        let refused = |edit: &dyn Fn(&mut CeremonyPlan)| {
            let mut p = plan.clone();
            edit(&mut p);
            CeremonyPlan::parse(p.to_json().unwrap().as_bytes()).unwrap_err().to_string()
        };
        assert!(refused(&|p| p.steps[1].id = "1".into()).contains("repeated id"));
        assert!(refused(&|p| p.steps[1].role = "custodian:eve".into()).contains("who has no role"));
        assert!(refused(&|p| p.steps[0].bags_opened.push("BAG-9".into())).contains("does not list"));
        assert!(refused(&|p| p.roles.custodians[0].fingerprint = None).contains("needs the SHA-256"));
        assert!(refused(&|p| p.hsm = "no".into()).contains("not a Managed HSM name"));
        assert!(refused(&|p| p.steps.clear()).contains("no steps"));
    }
}
