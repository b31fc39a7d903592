//! The printable ceremony record: one self-contained HTML page (no script,
//! no network, no font or image to fetch), laid out for A4 and US Letter
//! alike (`@page` margins only, fixed-layout tables, hashes that wrap in
//! groups), with the annotated script, the exceptions highlighted, the bags,
//! an attendance sheet, and a last page with the record's own SHA-256 and
//! its signatures, for the auditor to sign.

use sd_core::ceremony::record::{BagAction, CeremonyRecord, StepRecord};
use sd_core::pki::cert::{Certificate, readable_fingerprint};

/// Hex in groups of four upper-case digits, as fingerprints are read aloud.
pub fn grouped(hex: &str) -> String {
    let upper = hex.to_ascii_uppercase();
    let chunks: Vec<&str> =
        upper.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap_or_default()).collect();
    chunks.join(" ")
}

/// Text made safe for HTML.
fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

const STYLE: &str = r#"
@page { margin: 14mm 13mm 16mm 13mm;
  @bottom-left { content: "RECORD_FOOTER"; font-family: "DejaVu Sans Mono", monospace; font-size: 7.5pt; }
  @bottom-right { content: "page " counter(page) " of " counter(pages); font-family: "DejaVu Sans", sans-serif; font-size: 7.5pt; } }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", "Liberation Sans", Arial, sans-serif; font-size: 9.5pt; color: #000; margin: 0; }
h1 { font-size: 15pt; margin: 0 0 4pt 0; }
h2 { font-size: 12pt; margin: 12pt 0 4pt 0; border-bottom: 1.5pt solid #000; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; margin-bottom: 6pt; }
th, td { border: 0.75pt solid #333; padding: 3pt 4pt; vertical-align: top; text-align: left; overflow-wrap: anywhere; }
th { background: #e8e8e8; }
tr { break-inside: avoid; page-break-inside: avoid; }
code { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8pt; word-break: break-all; }
.hash { font-family: "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 8pt; overflow-wrap: anywhere; }
.summary td:first-child { width: 32mm; font-weight: bold; }
tr.exception td { background: #ffe08a; }
.exception-label { font-weight: bold; text-transform: uppercase; }
.new-page { break-before: page; page-break-before: always; }
.line { border-bottom: 0.75pt solid #000; height: 16pt; }
.box { display: inline-block; width: 9pt; height: 9pt; border: 0.75pt solid #000; vertical-align: middle; }
.muted { color: #444; }
.small { font-size: 7.5pt; }
"#;

fn files(list: &[sd_core::ceremony::record::FileHash], label: &str) -> String {
    list.iter()
        .map(|f| {
            let hash = f.sha256.as_deref().map_or("(not there)".to_owned(), grouped);
            format!("<div>{label} <code>{}</code><br><span class=\"hash\">{hash}</span></div>", esc(&f.path))
        })
        .collect()
}

fn step_row(record: &CeremonyRecord, s: &StepRecord) -> String {
    let plan = record.plan.steps.iter().find(|p| p.id == s.id);
    let (role, instruction, command) =
        plan.map_or(("", "", None), |p| (p.role.as_str(), p.instruction.as_str(), p.command.as_deref()));
    let mut body = format!("<div>{}</div>", esc(instruction));
    if let Some(c) = command {
        body.push_str(&format!("<div><code>$ {}</code></div>", esc(c)));
    }
    body.push_str(&files(&s.inputs, "read"));
    body.push_str(&files(&s.outputs, "wrote"));
    let bags: Vec<String> = record
        .bags
        .iter()
        .filter(|b| b.step == s.id)
        .map(|b| {
            let what = if b.action == BagAction::Opened { "opened" } else { "sealed" };
            format!("bag {} {what} (read: {})", esc(&b.serial), esc(&b.read))
        })
        .collect();
    if !bags.is_empty() {
        body.push_str(&format!("<div>{}</div>", bags.join("; ")));
    }
    let class = if let Some(e) = &s.exception {
        body.push_str(&format!(
            "<div><span class=\"exception-label\">Exception ({}):</span> {}</div>",
            e.kind.name(),
            esc(&e.reason)
        ));
        " class=\"exception\""
    } else {
        ""
    };
    format!(
        "<tr{class}><td>{}</td><td>{}</td><td>{body}</td><td>{}<br>to {}</td><td><span class=\"small\">{}</span><div class=\"line\"></div></td></tr>\n",
        esc(&s.id),
        esc(role),
        s.started.utc().replace('T', " "),
        s.finished.utc().replace('T', " "),
        if s.witnessed { "confirmed" } else { "not witnessed (rehearsal)" },
    )
}

/// The page for `record` (`file_sha256`: the record file's own SHA-256,
/// `id`: its identity, `signers`: who signed, in order).
pub fn render(record: &CeremonyRecord, file_sha256: &str, id: &str, signers: &[Certificate]) -> String {
    let plan = &record.plan;
    let mut h = String::new();
    h.push_str("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    h.push_str(&format!("<title>{} — ceremony record {}</title>", esc(&plan.title), record.sequence));
    // Every page names the record, so pages cannot be mixed between records.
    let footer = format!("{} · record {}", plan.hsm.replace('"', ""), grouped(&id[..16]));
    h.push_str(&format!("<style>{}</style></head><body>\n", STYLE.replace("RECORD_FOOTER", &footer)));
    h.push_str(&format!("<h1>{}</h1>\n<table class=\"summary\">\n", esc(&plan.title)));
    let previous =
        record.previous.as_deref().map_or("none (the first record of this HSM)".to_owned(), grouped);
    let mut rows = vec![
        ("HSM", esc(&plan.hsm)),
        ("Kind", plan.kind.name().to_owned()),
        ("Ceremony", format!("{} of this HSM's ledger", record.sequence)),
        ("Held", format!("{} to {} (UTC)", record.started.utc(), record.finished.utc())),
        ("Record id", format!("<span class=\"hash\">{}</span>", grouped(id))),
        ("Follows", format!("<span class=\"hash\">{previous}</span>")),
        ("SD file", format!("<span class=\"hash\">{}</span>", grouped(&record.sd_sha256))),
    ];
    if let Some(after) = &record.sd_after_sha256 {
        rows.push(("SD file made", format!("<span class=\"hash\">{}</span>", grouped(after))));
    }
    rows.push(("Plan", format!("<span class=\"hash\">{}</span>", grouped(&record.plan_sha256))));
    if let Some(t) = &record.operator_transcript {
        let hash = t.sha256.as_deref().map_or(String::new(), grouped);
        rows.push((
            "Online transcript",
            format!("<code>{}</code><br><span class=\"hash\">{hash}</span>", esc(&t.path)),
        ));
    }
    rows.push(("Exceptions", record.exceptions().count().to_string()));
    if record.rehearsal {
        rows.push((
            "Rehearsal",
            "<span class=\"exception-label\">yes</span>: the tool answered for the witness; no person confirmed these steps".into(),
        ));
    }
    for (k, v) in rows {
        h.push_str(&format!("<tr><td>{k}</td><td>{v}</td></tr>\n"));
    }
    h.push_str("</table>\n<h2>Annotated script</h2>\n<table>\n");
    h.push_str("<colgroup><col style=\"width:8mm\"><col style=\"width:23mm\"><col><col style=\"width:30mm\"><col style=\"width:22mm\"></colgroup>\n");
    h.push_str("<thead><tr><th>#</th><th>Role</th><th>What was done</th><th>Time (UTC)</th><th>Witness (initials)</th></tr></thead><tbody>\n");
    for s in &record.steps {
        h.push_str(&step_row(record, s));
    }
    h.push_str("</tbody></table>\n<h2>Exceptions</h2>\n");
    let exceptions: Vec<String> = record
        .exceptions()
        .map(|(s, e)| format!("<li>Step {}: {} — {}</li>", esc(&s.id), e.kind.name(), esc(&e.reason)))
        .collect();
    if exceptions.is_empty() {
        h.push_str("<p>None: every step was done as written.</p>\n");
    } else {
        h.push_str(&format!("<ul>{}</ul>\n", exceptions.join("")));
    }

    h.push_str("<div class=\"new-page\"><h2>Tamper-evident bags</h2>\n<table><thead><tr><th>Serial</th><th>Holds</th><th>Opened (serial read)</th><th>Sealed (serial read)</th></tr></thead><tbody>\n");
    for b in &plan.bags {
        let at = |action: BagAction| {
            record
                .bags
                .iter()
                .filter(|e| e.serial == b.serial && e.action == action)
                .map(|e| format!("step {} ({})", esc(&e.step), esc(&e.read)))
                .collect::<Vec<_>>()
                .join(", ")
        };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            esc(&b.serial),
            esc(&b.holds),
            at(BagAction::Opened),
            at(BagAction::Sealed)
        ));
    }
    h.push_str("</tbody></table>\n<h2>Attendance</h2>\n<table><colgroup><col style=\"width:34mm\"><col style=\"width:34mm\"><col style=\"width:19mm\"><col><col style=\"width:24mm\"></colgroup>\n");
    h.push_str("<thead><tr><th>Name</th><th>Role</th><th>ID checked</th><th>Signature</th><th>Time in / out</th></tr></thead><tbody>\n");
    for (name, role) in plan.attendance() {
        h.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td><span class=\"box\"></span></td><td><div class=\"line\"></div></td><td><div class=\"line\"></div></td></tr>\n",
            esc(&name),
            esc(&role)
        ));
    }
    h.push_str("</tbody></table></div>\n");

    h.push_str("<div class=\"new-page\"><h2>This record</h2>\n<table class=\"summary\">\n");
    h.push_str(&format!(
        "<tr><td>Record file SHA-256</td><td class=\"hash\">{}</td></tr>\n",
        grouped(file_sha256)
    ));
    h.push_str(&format!("<tr><td>Record id</td><td class=\"hash\">{}</td></tr>\n", grouped(id)));
    h.push_str("</table>\n<h2>Signatures</h2>\n<table><colgroup><col style=\"width:9mm\"><col style=\"width:40mm\"><col></colgroup><thead><tr><th>#</th><th>Signer</th><th>Certificate SHA-256</th></tr></thead><tbody>\n");
    let administrator = plan.roles.administrator.pin();
    for (i, c) in signers.iter().enumerate() {
        let role =
            if administrator.as_ref().is_some_and(|p| p.matches(c)) { "administrator" } else { "co-signer" };
        h.push_str(&format!(
            "<tr><td>{}</td><td>{} ({role})</td><td class=\"hash\">{}</td></tr>\n",
            i + 1,
            esc(&c.subject()),
            readable_fingerprint(&c.sha256())
        ));
    }
    h.push_str("</tbody></table>\n<p class=\"muted\">The signatures are checked by <code>keyholder ledger verify</code> against the SD file's custodians; this page shows who signed, not that they may.</p>\n");
    h.push_str("<h2>Auditor</h2>\n<table><tbody><tr><td style=\"width:32mm\">Name</td><td><div class=\"line\"></div></td></tr><tr><td>Signature</td><td><div class=\"line\"></div></td></tr><tr><td>Date</td><td><div class=\"line\"></div></td></tr></tbody></table></div>\n");
    h.push_str("</body></html>\n");
    h
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_are_grouped_and_text_is_escaped() {
        let cases = [
            (grouped("0a1b2c3d4e"), "0A1B 2C3D 4E"),
            (esc("<b>\"x\" & 'y'\u{1b}[2J"), "&lt;b&gt;&quot;x&quot; &amp; &#39;y&#39; [2J"),
        ];
        for (made, expected) in cases {
            assert_eq!(made, expected);
        }
    }
}
