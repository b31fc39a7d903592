//! README.md's blocks run as written: "Try it locally" exactly as printed,
//! and the "ten lines" against two emulated HSMs named
//! as in the example (contoso, contoso-dr). Only what a test must change is
//! changed: the emulator's target flags replace the uploader's `--hsm NAME`,
//! the exchange key is judged under the emulator's test root, passphrases
//! come from a file where the example would prompt, `HEX` is the fingerprint
//! `combiner-init` showed, and `/media/…` and `~/…` become folders of the
//! test. Lines marked "each custodian" run for alice, bob and
//! carol; "each of a quorum" for alice and bob.

use std::path::Path;

use ceremony_tests::*;

/// The example's commands, continuation lines joined, comments kept apart.
fn example() -> Vec<(String, String)> {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let section =
        readme.split("## A real activation and recovery, in ten lines").nth(1).expect("the section");
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("```").next()).expect("its sh block");
    let joined = block.replace("\\\n", " ");
    joined
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| match l.split_once("  #") {
            Some((cmd, comment)) => (cmd.trim().to_owned(), comment.trim().to_owned()),
            None => (l.trim().to_owned(), String::new()),
        })
        .collect()
}

#[test]
fn the_ten_line_example_runs_as_written() {
    let lines = example();
    assert_eq!(lines.len(), 9, "nine commands (ten lines): {lines:?}");
    let dir = scratch("readme-example");
    let prod = Emulator::start_named(&dir.join("hsm-contoso"), "contoso");
    let dr = Emulator::start_named(&dir.join("hsm-contoso-dr"), "contoso-dr");
    std::fs::write(dir.join("pw"), "a passphrase for the README\n").unwrap();
    let root = prod.attestation_root();
    let mut combiner_fp = String::new();
    for (command, comment) in &lines {
        let people: &[&str] = if comment.contains("each custodian") {
            &["alice", "bob", "carol"]
        } else if comment.contains("each of a quorum") {
            &["alice", "bob"]
        } else {
            &["alice"]
        };
        for person in people {
            let line = command.replace("alice", person).replace("/media/", "media/").replace("~/op", "op");
            let mut words: Vec<String> = line.split_whitespace().map(str::to_owned).collect();
            let tool = words.remove(0);
            // The emulator for the uploader's --hsm NAME (keyholder's --hsm is the custodians' pin).
            if let Some(i) = words.iter().position(|w| w == "--hsm")
                && tool == "uploader"
            {
                let emu = if words[i + 1] == "contoso" { &prod } else { &dr };
                words.splice(i..i + 2, emu.target());
            }
            const COMMANDS: [&str; 9] = [
                "init",
                "operator-init",
                "activate",
                "check",
                "combiner-init",
                "init-recovery",
                "share",
                "combine",
                "upload",
            ];
            let sub =
                words.iter().find(|w| COMMANDS.contains(&w.as_str())).cloned().expect("a known command");
            match sub.as_str() {
                "init" => {
                    words.extend(["--passphrase-file".into(), "pw".into(), "--bits".into(), "2048".into()])
                }
                "check" | "share" => words.extend(["--passphrase-file".into(), "pw".into()]),
                "operator-init" | "combiner-init" => words.push("--no-passphrase".into()),
                _ => {}
            }
            if matches!(sub.as_str(), "init-recovery" | "share" | "combine") {
                words.extend(["--attestation-root".into(), root.clone()]);
            }
            for w in words.iter_mut().filter(|w| *w == "HEX") {
                w.clone_from(&combiner_fp);
            }
            let refs: Vec<&str> = words.iter().map(String::as_str).collect();
            let out = ok(run(&dir, &tool, &refs));
            if sub == "combiner-init" {
                let line = out.lines().find_map(|l| l.trim_start().strip_prefix("read aloud:"));
                combiner_fp = line.expect("the combiner's fingerprint on its screen").trim().to_owned();
            }
            if sub == "upload" {
                assert!(out.contains("Success: The resource is active."), "{out}");
            }
        }
    }
    // The folders the example names were created, for their owner only.
    use std::os::unix::fs::PermissionsExt;
    for folder in ["media/alice", "media/combiner", "op"] {
        let mode = std::fs::metadata(dir.join(folder)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "{folder}");
    }
    // The transfer medium, the only one that went online, holds no key.
    let transfer = listing(&dir.join("media/transfer"));
    assert!(transfer.iter().all(|f| !f.ends_with(".key")), "{transfer:?}");
    assert!(
        transfer.contains(&"combiner.json".to_owned())
            && transfer.contains(&"bob.enrollment.json".to_owned())
    );
}

/// The air-gapped recipe, run as printed: on the "connected machine" (a
/// fresh clone of this checkout) the crates are vendored and the archive is
/// written beside the tree, without .git or target; on the "air-gapped" side
/// it is unpacked and built offline, with an empty cargo home, twice, and the
/// two builds must be byte-identical. Two things differ from the page: only
/// keyholder is built (HSM_CEREMONY_RELEASE_BINS; three release builds twice
/// would double the test time), and `sudo dpkg -i` is left to
/// tests/package.rs (it needs root and a package of all three).
#[test]
fn the_air_gapped_recipe_runs_as_printed() {
    let block = sh_block("To build on the air-gapped side instead");
    let (connected, air_gapped) = block.split_once("# air-gapped machine").expect("two halves");
    let air_gapped = air_gapped.split_once('\n').expect("lines").1;
    let dir = scratch("readme-air-gap");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let clone = dir.join("connected/checkout");
    let o = std::process::Command::new("git").arg("clone").arg("-q").arg(&root).arg(&clone).output().unwrap();
    assert!(o.status.success(), "git clone: {}", String::from_utf8_lossy(&o.stderr));
    let bash = |script: &str, at: &Path| {
        let o = std::process::Command::new("bash")
            .arg("-c")
            .arg(format!("set -e\n{script}"))
            .current_dir(at)
            .env("HSM_CEREMONY_RELEASE_BINS", "keyholder")
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
        assert!(o.status.success(), "{script}\nstdout: {out}\nstderr: {err}");
        out.into_owned()
    };
    let out = bash(connected, &clone);
    assert!(out.contains("hsm-ceremony-src.tar.gz"), "the checksum is printed: {out}");
    let archive = dir.join("connected/hsm-ceremony-src.tar.gz");
    let listing = std::process::Command::new("tar").arg("tzf").arg(&archive).output().unwrap();
    let names = String::from_utf8_lossy(&listing.stdout);
    assert!(
        names.contains("./Cargo.lock") && names.contains("./COMMIT") && names.contains("./release/vendor/")
    );
    assert!(!names.contains("./.git/") && !names.contains("./target/"), "{names}");

    // The air-gapped side gets the archive alone.
    let air = dir.join("air-gapped");
    std::fs::create_dir_all(&air).unwrap();
    std::fs::copy(&archive, air.join("hsm-ceremony-src.tar.gz")).unwrap();
    let build = air_gapped.replace(" && sudo dpkg -i release/out/hsm-ceremony_0.1.0_amd64.deb", "");
    assert_ne!(build, air_gapped, "the install step is where the page has it");
    let out = bash(&build, &air);
    assert!(out.contains("reproducible: both builds are byte-identical"), "{out}");
    let sums = std::fs::read_to_string(air.join("hsm-ceremony/release/out/SHA256SUMS")).unwrap();
    assert!(sums.contains("  keyholder"), "{sums}");
    let version = std::process::Command::new(air.join("hsm-ceremony/release/out/keyholder"))
        .arg("--version")
        .output()
        .unwrap();
    let commit = std::fs::read_to_string(clone.join("COMMIT")).unwrap();
    assert!(String::from_utf8_lossy(&version.stdout).contains(&format!("commit {}", commit.trim())));
}

/// The first `sh` block of the README section headed `heading`.
fn sh_block(heading: &str) -> String {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../README.md")).unwrap();
    let section = readme.split(heading).nth(1).unwrap_or_else(|| panic!("no section {heading:?}"));
    let block = section.split("```sh\n").nth(1).and_then(|b| b.split("```").next());
    block.unwrap_or_else(|| panic!("no sh block under {heading:?}")).to_owned()
}

/// "Try it locally" as a newcomer runs it: every line as printed, in bash,
/// with nothing on the terminal to answer a prompt, `~` a scratch folder, and
/// the debug binaries on `PATH` in place of the first line's release build.
/// It must end with the recovery HSM active and the emulator stopped.
#[test]
fn try_it_locally_runs_as_printed() {
    let block = sh_block("## Try it locally");
    let (build, rest) = block.split_once('\n').expect("lines");
    assert!(build.starts_with("cargo build --release --locked"), "{build}");
    let home = scratch("readme-try-it-locally");
    // Any emulator left running by a failed line is stopped with the shell.
    let script = format!("set -e\ntrap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{rest}");
    let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    let o = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .env("HOME", &home)
        .env("PATH", path)
        .env_remove("HSM_CEREMONY_TARGET")
        .current_dir(&home)
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let (out, err) = (String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "the block failed\nstdout:\n{out}\nstderr:\n{err}");
    assert!(out.trim_end().ends_with("Success: The resource is active."), "{out}");
    assert!(err.contains("HSM_CEREMONY_TARGET="), "the tools say the emulator stands in: {err}");
    assert!(err.contains("NOT Intel's SGX Root CA"), "keyholder says whose root it trusts: {err}");
    let try_dir = home.join("try");
    for file in ["sd.json", "request.json", "alice.share.json", "bob.share.json", "blob.json"] {
        assert!(try_dir.join(file).is_file(), "{file} was made");
    }
    // The recovery HSM was provisioned through the emulator's Resource Manager.
    assert!(try_dir.join("emu/hsms/contoso-dr/url").is_file());

    // "The exchange key is attested, offline": its block, in the same folder,
    // the emulator's test root coming from HSM_CEREMONY_TARGET.
    let shown = bash_in(
        &try_dir,
        &sh_block("## The exchange key is attested, offline"),
        &[("HSM_CEREMONY_TARGET", try_dir.join("emu").display().to_string())],
    );
    assert!(shown.contains("PASS: every check passed"), "{shown}");

    // "Disaster recovery that brings the keys back", in the same folder: the
    // emulator started again (contoso and contoso-dr as the block left them),
    // a key in contoso, Crypto User for the inventories, a container in
    // Azurite with its SAS in ~/sas.txt; the block runs with Azurite's
    // container in its first line.
    let storage = Storage::start(&home.join("storage"));
    let container = storage.container("mhsm");
    std::fs::write(home.join("sas.txt"), storage.sas("mhsm", "crwdl", 30)).unwrap();
    let block = sh_block("## Disaster recovery that brings the keys back");
    let (first, rest) = block.split_once('\n').expect("lines");
    assert!(first.starts_with("STORAGE=https://"), "{first}");
    let setup = "rm -f emu/env; mhsm-emulator --data-dir emu --hsm-name contoso >/dev/null 2>&1 &\n\
                 until [ -e emu/env ]; do sleep 0.2; done; . emu/env\n\
                 for h in contoso contoso-dr; do uploader --hsm $h role assign --role 'Managed HSM Crypto User' --principal $(cat emu/principal); done\n\
                 uploader --hsm contoso key create --name payments\n";
    let script =
        format!("trap 'kill $(jobs -p) 2>/dev/null || true' EXIT\n{setup}STORAGE={container}\n{rest}");
    let shown = bash_in(&try_dir, &script, &[("HOME", home.display().to_string())]);
    assert!(shown.contains("folder: mhsm-contoso-"), "{shown}");
    assert!(shown.contains("pre-restore check passed"), "{shown}");
    assert!(
        shown.contains("same: all 1 key and 1 version of inventory-before.json are in inventory-after.json"),
        "{shown}"
    );
    assert!(shown.contains("restored key payments (every version) from mhsm-contoso-"), "{shown}");
}

/// Runs `script` in bash in `dir` with `env`, its stdin a terminal (`script`)
/// that has `typed` waiting for whatever asks; returns what it printed.
fn bash_typing(dir: &Path, script: &str, env: &[(&str, String)], typed: &str) -> String {
    use std::io::Write as _;
    let path = format!("{}:{}", bin_dir().display(), std::env::var("PATH").unwrap_or_default());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &format!("bash -ec {}", shell_quote(script)), "/dev/null"])
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .env("PATH", path)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(typed.as_bytes()).unwrap();
    let o = child.wait_with_output().unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(o.status.success(), "{script}\n{out}{}", String::from_utf8_lossy(&o.stderr));
    out
}

/// [`bash_typing`] with nothing typed.
fn bash_in(dir: &Path, script: &str, env: &[(&str, String)]) -> String {
    bash_typing(dir, script, env, "")
}

fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// "Provisioning, deleting and purging" as printed, against an emulator
/// named by HSM_CEREMONY_TARGET (its Resource Manager, its subscription, its
/// administrator as `me`); the HSM's name is typed where delete asks for it.
/// Then the role block of "The emulator behaves like a Managed HSM", against
/// an emulator named contoso, OBJECT_ID being its administrator's.
#[test]
fn the_resource_manager_and_role_blocks_run_as_printed() {
    let dir = scratch("readme-resource-manager");
    let emu = Emulator::start(&dir.join("emu"));
    let target = [("HSM_CEREMONY_TARGET", emu.dir.display().to_string())];
    let block = sh_block("## Provisioning, deleting and purging (Resource Manager)");
    let out = bash_typing(&dir, &block, &target, "contoso\ncontoso\ncontoso\n");
    assert!(
        out.contains("provisioned Managed HSM contoso") && out.contains("recovered Managed HSM contoso"),
        "{out}"
    );
    assert!(out.contains("purged contoso; the name is free"), "{out}");

    // After activation, as the section says.
    let contoso = activated_hsm(&dir, "contoso", "contoso");
    let role = sh_block("So, as in Azure's quickstart").replace("OBJECT_ID", &contoso.principal());
    let out = bash_in(&dir, &role, &[("HSM_CEREMONY_TARGET", contoso.dir.display().to_string())]);
    assert!(out.contains("assigned Managed HSM Crypto User"), "{out}");
}

/// "An operator identity that outlives the HSM", as printed: `~` is a
/// scratch folder holding the operator made at the activation (`~/op`), and
/// the new key's passphrase is typed twice on a terminal, as asked.
#[test]
fn the_operator_renewal_block_runs_as_printed() {
    let home = scratch("readme-operator-renewal");
    ok(run(&home, "uploader", &["operator-init", "--out", "op", "--no-passphrase"]));
    let block = sh_block("### An operator identity that outlives the HSM");
    let typed = "a passphrase for the successor\na passphrase for the successor\n";
    let out = bash_typing(&home, &block, &[("HOME", home.display().to_string())], typed);
    assert!(out.contains("valid operator handover"), "{out}");
    assert!(out.contains("new operator"), "the successor to pin is shown: {out}");
}

/// "The ceremony record" as printed, in a folder laid out as its commands
/// name it: dana's and the custodians' keys under `keys/NAME/`, their
/// certificates in `public/`, the SD file, the activation's record in
/// `ledger/` and a drill report; the witness's answers typed on the terminal.
#[test]
fn the_ceremony_record_block_runs_as_printed() {
    let dir = scratch("readme-ceremony-record");
    for who in ["dana", "alice", "bob", "carol"] {
        let out = format!("keys/{who}");
        ok(run(
            &dir,
            "keyholder",
            &[
                "init",
                "--name",
                who,
                "--out",
                &out,
                "--public-out",
                "public",
                "--no-passphrase",
                "--bits",
                "2048",
            ],
        ));
    }
    write_sd(&dir.join("public"), &["alice", "bob", "carol"], 48);
    std::fs::rename(dir.join("public/sd.json"), dir.join("sd.json")).unwrap();
    let activation =
        ["ceremony", "new", "--kind", "activation", "--hsm", "contoso", "--administrator", "public/dana.cer"];
    let mut args = activation.to_vec();
    args.extend([
        "--witness",
        "Wes",
        "--operator",
        "Olga",
        "--custodian",
        "public/alice.cer",
        "--custodian",
        "public/bob.cer",
    ]);
    args.extend(["--custodian", "public/carol.cer", "--out", "activation-plan.json"]);
    ok(run(&dir, "keyholder", &args));
    std::fs::create_dir_all(dir.join("ledger")).unwrap();
    let walk = ["ceremony", "run", "activation-plan.json", "--rehearsal", "--key", "keys/dana/dana.key"];
    let mut args = walk.to_vec();
    args.extend(["--sd", "sd.json", "--out", "ledger/1-activation.json"]);
    ok(run(&dir, "keyholder", &args));
    for c in ["alice", "bob", "carol"] {
        let key = format!("keys/{c}/{c}.key");
        ok(run(
            &dir,
            "keyholder",
            &["ceremony", "sign", "ledger/1-activation.json", "--sd", "sd.json", "--key", &key, "--in-place"],
        ));
    }
    let drill = ["drill", "--sd", "sd.json", "--key", "keys/alice/alice.key", "--key", "keys/bob/bob.key"];
    let mut args = drill.to_vec();
    args.extend(["--out", "drill-report.json"]);
    ok(run(&dir, "keyholder", &args));

    // The witness types each bag's serial as it is opened, "y" for each of the four steps, the serials again as sealed.
    let typed = "BAG-0001\nBAG-0002\ny\ny\ny\ny\nBAG-0001\nBAG-0002\n";
    let shown = bash_typing(&dir, &sh_block("## The ceremony record"), &[], typed);
    assert!(
        shown.contains("wrote the record of ceremony 1 of contoso to ledger/2-drill.json (0 exception(s))"),
        "{shown}"
    );
    assert!(shown.contains("co-signed by bob into ledger/2-drill.json"), "{shown}");
    assert!(
        shown.contains("ledger verified: 2 ceremonies of the security domain activated in contoso"),
        "{shown}"
    );
    assert!(shown.contains("wrote the printable record of Drill ceremony for contoso"), "{shown}");
    assert!(dir.join("record.html").is_file());
}
