//! The ceremony record through the real binaries: plans written by
//! `ceremony new`, walked by `ceremony run` with the witness's answers on
//! standard input, co-signed by custodians, chained into a ledger that
//! `ledger verify` checks against the SD file; and every way a ledger is
//! refused (a non-custodian's signature, too few co-signers, a broken chain,
//! a fork, a record out of order, another SD file, an exception removed
//! after signing).

use std::io::Write as _;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use ceremony_tests::*;
use sd_core::bundle::{self, BundleKind, Signer};
use sd_core::pki::cert::Certificate;

/// Runs keyholder in `dir` with `input` on standard input.
fn keyholder_with_input(dir: &Path, args: &[&str], input: &str) -> Output {
    let mut child = start(dir, "keyholder", args, Stdio::piped(), true);
    child.stdin.take().unwrap().write_all(input.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// Custodians a, b and c, the administrator, an SD file (quorum 2) and the folder `ledger`.
fn people(test: &str) -> std::path::PathBuf {
    let dir = scratch(test);
    custodians(&dir, &["a", "b", "c", "admin"]);
    write_sd(&dir, &["a", "b", "c"], 48);
    std::fs::create_dir_all(dir.join("ledger")).unwrap();
    dir
}

/// A plan of `kind` (`plan-KIND-WHO.json`) with the custodians `who`, its files
/// left out (these tests run no tool in the steps).
fn plan(dir: &Path, kind: &str, who: &[&str]) -> String {
    let file = format!("plan-{kind}-{}.json", who.join(""));
    let mut args =
        vec!["ceremony", "new", "--kind", kind, "--hsm", "contoso", "--administrator", "admin.cer"];
    args.extend(["--witness", "Wes", "--operator", "Olga", "--combiner", "Carl", "--out", &file]);
    let certs: Vec<String> = who.iter().map(|c| format!("{c}.cer")).collect();
    for c in &certs {
        args.extend(["--custodian", c.as_str()]);
    }
    ok(run(dir, "keyholder", &args));
    let mut p: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(&file)).unwrap()).unwrap();
    for s in p["steps"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("outputs");
    }
    std::fs::write(dir.join(&file), serde_json::to_string_pretty(&p).unwrap()).unwrap();
    file
}

/// The witness's answers for `plan`: every serial as planned, every step
/// done as written but `exception` (step id, "s"/"r"/"c", reason).
fn answers(dir: &Path, plan: &str, exception: Option<(&str, &str, &str)>) -> String {
    let p: serde_json::Value = serde_json::from_slice(&std::fs::read(dir.join(plan)).unwrap()).unwrap();
    let mut out = String::new();
    for s in p["steps"].as_array().unwrap() {
        let serials = |k: &str| {
            s[k].as_array()
                .map(|a| a.iter().map(|v| format!("{}\n", v.as_str().unwrap())).collect::<String>())
                .unwrap_or_default()
        };
        out.push_str(&serials("bags_opened"));
        match exception {
            Some((id, kind, reason)) if s["id"] == id => out.push_str(&format!("{kind}\n{reason}\n")),
            _ => out.push_str("y\n"),
        }
        out.push_str(&serials("bags_sealed"));
    }
    out
}

/// Runs the ceremony of `plan` into `ledger/OUT`, after `previous`, about `sd`.
fn ceremony(
    dir: &Path,
    plan: &str,
    out: &str,
    previous: Option<&str>,
    sd: &str,
    exception: Option<(&str, &str, &str)>,
) -> String {
    let out_path = format!("ledger/{out}");
    let mut args = vec!["ceremony", "run", plan, "--key", "admin.key", "--sd", sd, "--out", &out_path];
    if let Some(p) = previous {
        args.extend(["--previous", p]);
    }
    ok(keyholder_with_input(dir, &args, &answers(dir, plan, exception)))
}

fn cosign(dir: &Path, record: &str, sd: &str, who: &[&str]) {
    for c in who {
        let key = format!("{c}.key");
        ok(run(dir, "keyholder", &["ceremony", "sign", record, "--sd", sd, "--key", &key, "--in-place"]));
    }
}

fn verify(dir: &Path) -> Output {
    run(dir, "keyholder", &["ledger", "verify", "ledger", "--sd", "sd.json"])
}

/// Activation, drill and recovery records, each co-signed by two custodians.
fn three_ceremonies(test: &str) -> std::path::PathBuf {
    let dir = people(test);
    let p = plan(&dir, "activation", &["a", "b", "c"]);
    let out = ceremony(
        &dir,
        &p,
        "1-activation.json",
        None,
        "sd.json",
        Some(("3", "r", "b's laptop rebooted; init run again")),
    );
    assert!(out.contains("wrote the record of ceremony 0 of contoso to ledger/1-activation.json (1 exception(s)), signed by admin"), "{out}");
    cosign(&dir, "ledger/1-activation.json", "sd.json", &["a", "b", "c"]);
    let p = plan(&dir, "drill", &["b", "c"]);
    ceremony(&dir, &p, "2-drill.json", Some("ledger/1-activation.json"), "sd.json", None);
    cosign(&dir, "ledger/2-drill.json", "sd.json", &["b", "c"]);
    let p = plan(&dir, "recovery", &["a", "c"]);
    // The operator's transcript of the online steps, brought over on the medium.
    std::fs::write(dir.join("operator-transcript.txt"), "[1] operator: upload the restore blob\n").unwrap();
    let out = ok(keyholder_with_input(
        &dir,
        &[
            "ceremony",
            "run",
            &p,
            "--key",
            "admin.key",
            "--sd",
            "sd.json",
            "--previous",
            "ledger/2-drill.json",
            "--operator-transcript",
            "operator-transcript.txt",
            "--out",
            "ledger/3-recovery.json",
        ],
        &answers(&dir, &p, None),
    ));
    assert!(out.contains("wrote the record of ceremony 2 of contoso"), "{out}");
    cosign(&dir, "ledger/3-recovery.json", "sd.json", &["a", "c"]);
    dir
}

#[test]
fn a_ledger_of_three_ceremonies_verifies_and_tells_the_history() {
    let dir = three_ceremonies("ceremony-ledger");
    let out = ok(verify(&dir));
    assert!(
        out.starts_with(
            "ledger verified: 3 ceremonies of the security domain activated in contoso, one chain, ending with sd.json"
        ),
        "{out}"
    );
    let rows: Vec<&str> = out.lines().skip(2).collect();
    assert_eq!(rows.len(), 3, "{out}");
    for (row, (n, kind, signers, exceptions, file)) in rows.iter().zip([
        (0, "activation", "a, b, c", 1, "1-activation.json"),
        (1, "drill", "b, c", 0, "2-drill.json"),
        (2, "recovery", "a, c", 0, "3-recovery.json"),
    ]) {
        let words: Vec<&str> = row.split_whitespace().collect();
        assert_eq!((words[0], words[1]), (n.to_string().as_str(), kind), "{row}");
        assert!(row.ends_with(&format!("{exceptions}  {signers}  ({file})")), "{row}");
    }
}

#[test]
fn a_ledger_is_refused_for_each_way_it_can_be_wrong() {
    let dir = three_ceremonies("ceremony-ledger-refusals");
    let stash = dir.join("stash");
    std::fs::create_dir_all(&stash).unwrap();
    let take = |name: &str| std::fs::rename(dir.join("ledger").join(name), stash.join(name)).unwrap();
    let put = |name: &str| std::fs::rename(stash.join(name), dir.join("ledger").join(name)).unwrap();

    // A broken chain: the drill's record is missing.
    take("2-drill.json");
    fails(verify(&dir), &["3-recovery.json follows record", "which is not in the ledger"]);
    put("2-drill.json");

    // A fork: a second record after the activation.
    let p = plan(&dir, "drill", &["a", "b"]);
    ceremony(&dir, &p, "2b-drill.json", Some("ledger/1-activation.json"), "sd.json", None);
    cosign(&dir, "ledger/2b-drill.json", "sd.json", &["a", "b"]);
    fails(verify(&dir), &["a fork:", "2-drill.json", "2b-drill.json", "both follow 1-activation.json"]);
    take("2b-drill.json");

    // Too few co-signers: a record after the recovery signed by one custodian.
    ceremony(&dir, &p, "4-drill.json", Some("ledger/3-recovery.json"), "sd.json", None);
    cosign(&dir, "ledger/4-drill.json", "sd.json", &["a"]);
    fails(verify(&dir), &["4-drill.json: signed by 1 custodian(s) of this SD file; its quorum is 2"]);
    cosign(&dir, "ledger/4-drill.json", "sd.json", &["b"]);
    ok(verify(&dir));

    // A non-custodian's signature (added with the library: the tool refuses to).
    custodians(&dir, &["mallory"]);
    let key =
        sd_core::pki::private_key::from_pem(&std::fs::read_to_string(dir.join("mallory.key")).unwrap(), None)
            .unwrap();
    let cert = Certificate::from_pem_or_der(&std::fs::read(dir.join("mallory.cer")).unwrap()).unwrap();
    let record = dir.join("ledger/4-drill.json");
    let honest = std::fs::read(&record).unwrap();
    fails(
        run(
            &dir,
            "keyholder",
            &[
                "ceremony",
                "sign",
                "ledger/4-drill.json",
                "--sd",
                "sd.json",
                "--key",
                "mallory.key",
                "--in-place",
            ],
        ),
        &["not a custodian of this SD file"],
    );
    let forged =
        bundle::cosign(&honest, BundleKind::CeremonyRecord, &Signer { key: &key, cert: &cert }).unwrap();
    std::fs::write(&record, forged).unwrap();
    fails(verify(&dir), &["4-drill.json:", "signed by CN=mallory", "not a custodian of this SD file"]);
    std::fs::write(&record, &honest).unwrap();

    // An exception removed after signing: the activation's, from its content.
    let activation = dir.join("ledger/1-activation.json");
    let signed = std::fs::read_to_string(&activation).unwrap();
    let payload = bundle_payload(signed.as_bytes());
    assert!(payload.contains("init run again"), "{payload}");
    let mut v: serde_json::Value = serde_json::from_str(&payload).unwrap();
    for s in v["steps"].as_array_mut().unwrap() {
        s.as_object_mut().unwrap().remove("exception");
    }
    let mut doc: serde_json::Value = serde_json::from_str(&signed).unwrap();
    doc["payload"] = sd_core::primitives::b64::url_encode(v.to_string().as_bytes()).into();
    std::fs::write(&activation, doc.to_string()).unwrap();
    fails(verify(&dir), &["1-activation.json:", "the bundle was altered"]);
    std::fs::write(&activation, signed).unwrap();
    ok(verify(&dir));

    // Out of order: a record after the recovery that says it is ceremony 7.
    take("4-drill.json");
    let admin =
        sd_core::pki::private_key::from_pem(&std::fs::read_to_string(dir.join("admin.key")).unwrap(), None)
            .unwrap();
    let admin_cert = Certificate::from_pem_or_der(&std::fs::read(dir.join("admin.cer")).unwrap()).unwrap();
    let mut v: serde_json::Value =
        serde_json::from_str(&bundle_payload(&std::fs::read(stash.join("4-drill.json")).unwrap())).unwrap();
    v["sequence"] = 7.into();
    let resigned =
        bundle::sign(BundleKind::CeremonyRecord, &v, &[Signer { key: &admin, cert: &admin_cert }]).unwrap();
    std::fs::write(dir.join("ledger/4-late.json"), resigned).unwrap();
    cosign(&dir, "ledger/4-late.json", "sd.json", &["a", "b"]);
    fails(
        verify(&dir),
        &["4-late.json is out of order: it says it is ceremony 7 but is ceremony 3 of the chain"],
    );
    std::fs::remove_file(dir.join("ledger/4-late.json")).unwrap();

    // Another SD file: a drill of a file with the same custodians, after the recovery.
    let other = dir.join("other");
    std::fs::create_dir_all(&other).unwrap();
    for c in ["a", "b", "c"] {
        std::fs::copy(dir.join(format!("{c}.cer")), other.join(format!("{c}.cer"))).unwrap();
    }
    write_sd(&other, &["a", "b", "c"], 48);
    std::fs::copy(other.join("sd.json"), dir.join("other-sd.json")).unwrap();
    ceremony(&dir, &p, "4-other.json", Some("ledger/3-recovery.json"), "other-sd.json", None);
    cosign(&dir, "ledger/4-other.json", "other-sd.json", &["a", "b"]);
    fails(verify(&dir), &["4-other.json is about SD file", "but the SD file at that point is"]);
}

/// Renders `html` to PDF with headless Chromium (paper `size`, or the
/// default US Letter), and returns the PDF's text with whitespace collapsed
/// and its page count; every page must carry ink.
fn printed(dir: &Path, html: &str, size: Option<&str>) -> (String, usize) {
    let mut page = std::fs::read_to_string(dir.join(html)).unwrap();
    if let Some(size) = size {
        page = page.replacen("@page {", &format!("@page {{ size: {size};"), 1);
    }
    let name = format!("{}-{}", html.trim_end_matches(".html"), size.unwrap_or("letter"));
    std::fs::write(dir.join(format!("{name}.html")), page).unwrap();
    let pdf = dir.join(format!("{name}.pdf"));
    let o = Command::new("chromium")
        .args(["--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer"])
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", dir.join(format!("{name}.html")).display()))
        .output()
        .expect("chromium (Debian's package; tests/run.sh installs it)");
    assert!(pdf.is_file(), "chromium made no PDF: {}", String::from_utf8_lossy(&o.stderr));
    let text = ok(Command::new("pdftotext")
        .args(["-raw"])
        .arg(&pdf)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils)"));
    let info = ok(Command::new("pdfinfo").arg(&pdf).output().expect("pdfinfo"));
    let pages: usize = info.lines().find_map(|l| l.strip_prefix("Pages:")).unwrap().trim().parse().unwrap();
    // Each page as a small grey image: it must not be blank.
    let prefix = dir.join(format!("{name}-page"));
    ok(Command::new("pdftoppm").args(["-r", "30", "-gray"]).arg(&pdf).arg(&prefix).output().unwrap());
    let mut images: Vec<std::path::PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.to_string_lossy().contains(&format!("{name}-page-"))
                && p.extension().is_some_and(|x| x == "pgm")
        })
        .collect();
    images.sort();
    assert_eq!(images.len(), pages, "one image per page");
    for (n, image) in images.iter().enumerate() {
        let bytes = std::fs::read(image).unwrap();
        // A binary PGM: "P5", width, height, maxval, one whitespace byte, then the pixels.
        let mut at = 2;
        for _ in 0..3 {
            while bytes[at].is_ascii_whitespace() {
                at += 1;
            }
            while !bytes[at].is_ascii_whitespace() {
                at += 1;
            }
        }
        let pixels = &bytes[at + 1..];
        let ink = pixels.iter().filter(|&&p| p < 160).count();
        assert!(
            ink * 1000 > pixels.len(),
            "page {} of {name} is blank ({ink} dark pixels of {})",
            n + 1,
            pixels.len()
        );
    }
    (text.split_whitespace().collect::<Vec<_>>().join(" "), pages)
}

/// Hex as the printout groups it: upper case, in fours.
fn grouped(hex: &str) -> String {
    let upper = hex.to_uppercase();
    upper.as_bytes().chunks(4).map(|c| String::from_utf8_lossy(c).into_owned()).collect::<Vec<_>>().join(" ")
}

#[test]
fn the_printed_record_holds_every_step_and_fingerprint_on_a4_and_letter() {
    let dir = three_ceremonies("ceremony-print");
    let print =
        |record: &str, out: &str| ok(run(&dir, "keyholder", &["ceremony", "print", record, "--out", out]));
    let transcript = print("ledger/3-recovery.json", "recovery.html");
    assert!(transcript.contains("to recovery.html"), "{transcript}");
    let page = std::fs::read_to_string(dir.join("recovery.html")).unwrap();
    let sha = sd_core::primitives::hex::sha256_hex(b"[1] operator: upload the restore blob\n");
    assert!(
        page.contains("Online transcript") && page.contains(&grouped(&sha)),
        "the operator's transcript is named by its whole SHA-256"
    );
    let out = print("ledger/1-activation.json", "record.html");
    assert!(out.contains("wrote the printable record of Activation ceremony for contoso (7 steps, 4 signature(s)) to record.html"), "{out}");
    let record = std::fs::read(dir.join("ledger/1-activation.json")).unwrap();
    let plan: serde_json::Value = serde_json::from_str(&bundle_payload(&record)).unwrap();
    let mut expected: Vec<String> = plan["plan"]["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["instruction"].as_str().unwrap().split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    expected.push("EXCEPTION (RETRIED): b's laptop rebooted; init run again".into());
    expected.push(grouped(&sd_core::primitives::hex::sha256_hex(&record)));
    expected
        .push(grouped(&sd_core::primitives::hex::sha256_hex(&std::fs::read(dir.join("sd.json")).unwrap())));
    for who in ["admin", "a", "b", "c"] {
        let cert =
            Certificate::from_pem_or_der(&std::fs::read(dir.join(format!("{who}.cer"))).unwrap()).unwrap();
        expected.push(sd_core::pki::cert::readable_fingerprint(&cert.sha256()));
    }
    for name in ["Wes", "internal witness", "ID checked", "BAG-0001", "BAG-0003", "Auditor"] {
        expected.push(name.to_owned());
    }
    for size in [None, Some("A4")] {
        let (text, pages) = printed(&dir, "record.html", size);
        assert!((3..=6).contains(&pages), "{pages} pages ({size:?})");
        for e in &expected {
            assert!(text.contains(e.as_str()), "the PDF ({size:?}) lacks {e:?}:\n{text}");
        }
        assert!(text.contains(&format!("page {pages} of {pages}")), "{text}");
    }
}
