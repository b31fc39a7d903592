//! The tamper matrix: every artifact kind the tools read, with bytes flipped at
//! many positions (including inside base64 payloads and signatures) and
//! truncated at many lengths. Every case must end with exit status 1, an error
//! naming the file, and no output file (or temporary file) left behind.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ceremony_tests::*;

/// One artifact kind: the file, and the command that reads it (with `{}`
/// standing for the tampered copy's name).
struct Kind {
    name: &'static str,
    file: &'static str,
    tool: &'static str,
    args: Cmd,
    /// XOR masks to flip with: 0x01 for signed or authenticated artifacts;
    /// the SD file's quorum digit is not integrity-protected by Azure's
    /// format, so it uses 0x20 (which makes any digit an invalid character).
    masks: &'static [u8],
    stride_divisor: usize,
}

fn mutations(data: &[u8], masks: &[u8], positions: usize) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let step = (data.len() / positions).max(1);
    for &mask in masks {
        for i in (0..data.len()).step_by(step) {
            let mut d = data.to_vec();
            d[i] ^= mask;
            out.push((format!("flip 0x{mask:02x} at {i}"), d));
        }
        // The last bytes too: signatures and tags sit at the end.
        for i in data.len().saturating_sub(24)..data.len() {
            let mut d = data.to_vec();
            d[i] ^= mask;
            out.push((format!("flip 0x{mask:02x} at {i}"), d));
        }
    }
    let n = data.len();
    for cut in [0, 1, n / 4, n / 2, 3 * n / 4, n.saturating_sub(10), n - 2, n - 1] {
        // Cutting only a final line ending changes nothing a reader sees.
        if data[cut..].iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        out.push((format!("truncate to {cut}"), data[..cut].to_vec()));
    }
    out
}

fn leftovers(dir: &Path) -> Vec<String> {
    listing(dir).into_iter().filter(|n| n.starts_with("out") || n.contains(".tmp")).collect()
}

/// One real ceremony, made once for all the tests here: one of every
/// artifact. Each test tampers with a copy of it.
fn ceremony() -> &'static Path {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = scratch("tamper");
        // A real ceremony to get one of every artifact.
        custodians(&dir, &["a", "b", "c"]);
        std::fs::write(dir.join("pw"), "tamper test passphrase").unwrap();
        ok(run(&dir, "keyholder", &init_here("enc", &["--passphrase-file", "pw"])));
        ok(run(&dir, "uploader", &["operator-init", "--out", ".", "--no-passphrase"]));
        let emu_a = Emulator::start(&dir.join("hsm-a"));
        ok(activate(&dir, &emu_a, &["a", "b", "c"], 2, "sd.json", &[]));
        drop(emu_a);
        let emu_b = Emulator::start(&dir.join("hsm-b"));
        ok(run(&dir, "keyholder", &["combiner-init", "--out", ".", "--no-passphrase"]));
        ok(init_recovery(&dir, &emu_b, "sd.json", &["--exchange-key-out", "exchange.pem"]));
        for n in ["a", "b"] {
            ok(run(&dir, "keyholder", &share_args(&format!("{n}.key"), &format!("{n}.share.json"), &[])));
        }
        ok(run(&dir, "keyholder", &combine_args(&["a.share.json", "b.share.json"], "blob.json", &[])));
        ok(run(
            &dir,
            "keyholder",
            &["drill", "--sd", "sd.json", "--key", "b.key", "--key", "c.key", "--out", "report.json"],
        ));
        std::fs::write(dir.join("bad-token"), "unused").unwrap();
        drop(emu_b);
        dir
    })
}

/// A kind read by keyholder, tampered with by flipping the low bit (signed
/// or authenticated files), at 40 positions over the file.
fn signed(name: &'static str, file: &'static str, args: Cmd) -> Kind {
    Kind { name, file, tool: "keyholder", args, masks: &[0x01, 0x20], stride_divisor: 40 }
}

/// Every artifact kind the tools read, and the command that reads it.
fn kinds() -> Vec<Kind> {
    vec![
        Kind {
            name: "SD file",
            file: "sd.json",
            tool: "keyholder",
            masks: &[0x20],
            stride_divisor: 60,
            args: Cmd::restore_blob("{}", &["a.key", "b.key", "c.key"], "out.json"),
        },
        Kind {
            name: "enrollment",
            file: "a.enrollment.json",
            tool: "uploader",
            masks: &[0x01, 0x20],
            stride_divisor: 40,
            args: Cmd::new(&[
                "--hsm-url",
                "https://127.0.0.1:9",
                "--token-file",
                "bad-token",
                "activate",
                "--quorum",
                "2",
                "--enrollment",
                "{}",
                "--enrollment",
                "b.enrollment.json",
                "--enrollment",
                "c.enrollment.json",
                "--operator-key",
                "operator.key",
                "--out",
                "out.json",
            ]),
        },
        signed(
            "activation record",
            "sd.json.activation.json",
            Cmd::new(&["verify", "{}", "--signer", "operator.cer"]),
        ),
        signed("recovery request", "request.json", Cmd::share("c.key", "out.json").set("--request", "{}")),
        signed(
            "combiner bundle",
            "public/combiner.json",
            Cmd::share("c.key", "out.json").set("--combiner", "{}"),
        ),
        signed("share bundle", "b.share.json", Cmd::combine(&["a.share.json", "{}"], "out.json")),
        signed("drill report", "report.json", Cmd::new(&["verify", "{}", "--signer", "b.cer"])),
        Kind {
            masks: &[0x01],
            ..signed(
                "key file (encrypted)",
                "enc.key",
                Cmd::new(&["check", "--sd", "sd.json", "--key", "{}", "--passphrase-file", "pw"]),
            )
        },
        Kind {
            masks: &[0x01],
            ..signed("key file (plain)", "c.key", Cmd::new(&["check", "--sd", "sd.json", "--key", "{}"]))
        },
        Kind {
            masks: &[0x01],
            ..signed(
                "exchange certificate",
                "exchange.pem",
                Cmd::restore_blob("sd.json", &["a.key", "b.key"], "out.json").set("--exchange-key", "{}"),
            )
        },
        Kind {
            name: "restore blob",
            file: "blob.json",
            tool: "uploader",
            masks: &[0x01],
            stride_divisor: 8,
            args: Cmd::new(&["upload", "--restore-blob", "{}"]),
        },
    ]
}

/// Tampers with `name`'s file at every position the kind asks for, in a copy
/// of the ceremony: each case is refused with exit 1, an error naming the
/// file, and nothing left behind.
fn refuses_every_tampering(name: &str) {
    let kind = kinds().into_iter().find(|k| k.name == name).expect("a kind of that name");
    let dir = scratch(&format!("tamper-{}", name.replace([' ', '(', ')'], "-")));
    copy_tree(ceremony(), &dir);
    // The recovering HSM the restore blob is for, restarted on its copied state.
    let emu_b = (kind.name == "restore blob").then(|| Emulator::start(&dir.join("hsm-b")));
    let data = std::fs::read(dir.join(kind.file)).unwrap();
    let cases = mutations(&data, kind.masks, kind.stride_divisor);
    for (what, bytes) in &cases {
        let base = kind.file.rsplit('/').next().unwrap_or(kind.file);
        let tampered = format!("tampered-{}", base.replace('.', "-"));
        let tampered = if kind.file.ends_with(".key") { format!("{tampered}.key") } else { tampered };
        std::fs::write(dir.join(&tampered), bytes).unwrap();
        let refs: Vec<&str> =
            kind.args.as_args().into_iter().map(|a| if a == "{}" { tampered.as_str() } else { a }).collect();
        let o = match &emu_b {
            Some(emu) => uploader(&dir, emu, &refs),
            None => run(&dir, kind.tool, &refs),
        };
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "{}: {what} was not refused:\n{err}", kind.name);
        assert!(!err.contains("panicked"), "{}: {what}: {err}", kind.name);
        assert!(err.contains(&tampered), "{}: {what}: the error does not name {tampered}:\n{err}", kind.name);
        assert!(leftovers(&dir).is_empty(), "{}: {what}: left {:?}", kind.name, leftovers(&dir));
    }
    assert!(cases.len() >= 40, "{}: only {} cases", kind.name, cases.len());
    if let Some(emu) = &emu_b {
        // The HSM was never activated by a tampered blob; the real one still works.
        let out = ok(uploader(&dir, emu, &["upload", "--restore-blob", "blob.json"]));
        assert!(out.contains("Success"), "{out}");
    }
}

#[test]
fn every_kind_has_its_test() {
    let names: Vec<&str> = kinds().iter().map(|k| k.name).collect();
    assert_eq!(names, TESTED, "one test per kind below");
}

/// The kinds with a test of their own below.
const TESTED: [&str; 11] = [
    "SD file",
    "enrollment",
    "activation record",
    "recovery request",
    "combiner bundle",
    "share bundle",
    "drill report",
    "key file (encrypted)",
    "key file (plain)",
    "exchange certificate",
    "restore blob",
];

#[test]
fn sd_file() {
    refuses_every_tampering("SD file");
}

#[test]
fn enrollment() {
    refuses_every_tampering("enrollment");
}

#[test]
fn activation_record() {
    refuses_every_tampering("activation record");
}

#[test]
fn recovery_request() {
    refuses_every_tampering("recovery request");
}

#[test]
fn combiner_bundle() {
    refuses_every_tampering("combiner bundle");
}

#[test]
fn share_bundle() {
    refuses_every_tampering("share bundle");
}

#[test]
fn drill_report() {
    refuses_every_tampering("drill report");
}

#[test]
fn encrypted_key_file() {
    refuses_every_tampering("key file (encrypted)");
}

#[test]
fn plain_key_file() {
    refuses_every_tampering("key file (plain)");
}

#[test]
fn exchange_certificate() {
    refuses_every_tampering("exchange certificate");
}

#[test]
fn restore_blob() {
    refuses_every_tampering("restore blob");
}

/// A custodian certificate beside its key (`a.cer` for a copy of `a.key`).
#[test]
fn custodian_certificate() {
    let dir = scratch("tamper-custodian-certificate");
    copy_tree(ceremony(), &dir);
    let cer = std::fs::read(dir.join("a.cer")).unwrap();
    std::fs::copy(dir.join("a.key"), dir.join("x.key")).unwrap();
    let cases = mutations(&cer, &[0x01], 40);
    for (what, bytes) in &cases {
        std::fs::write(dir.join("x.cer"), bytes).unwrap();
        let o = run(&dir, "keyholder", &["check", "--sd", "sd.json", "--key", "x.key"]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(1), "certificate: {what} not refused: {err}");
        assert!(err.contains("x.cer"), "certificate: {what}: {err}");
    }
    assert!(cases.len() >= 40, "only {} cases", cases.len());
}
