//! Crash safety: keyholder and the emulator are killed with SIGKILL at many
//! points while they write. Afterwards there is never a partial or empty
//! output file (only hidden `.NAME.*.tmp` files may remain), and the emulator
//! restarts with every acknowledged change intact.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use ceremony_tests::*;
use serde_json::json;

fn random_below(n: u64) -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).unwrap();
    u64::from_le_bytes(b) % n.max(1)
}

/// The restore blob `out` in `dir` is absent or whole.
fn whole_blob_or_none(dir: &Path, out: &str) {
    if let Ok(bytes) = std::fs::read(dir.join(out)) {
        assert!(!bytes.is_empty(), "{out} is empty");
        sd_core::azure::restore_blob::RestoreBlob::parse(&bytes)
            .unwrap_or_else(|e| panic!("{out} is partial: {e}"));
    }
}

/// Starts keyholder, kills it after `delay`, and returns whether it had already exited.
fn kill_after(dir: &Path, args: &[&str], delay: Duration) -> bool {
    let mut child = start(dir, "keyholder", args, Stdio::null(), false);
    std::thread::sleep(delay);
    let finished = child.try_wait().unwrap().is_some();
    let _ = child.kill();
    let _ = child.wait();
    finished
}

#[test]
fn keyholder_killed_mid_write_leaves_no_partial_output() {
    let dir = scratch("crash-keyholder");
    custodians(&dir, &["a", "b", "c"]);
    write_sd(&dir, &["a", "b", "c"], 200_000);
    std::fs::write(dir.join("exchange.pem"), attested_exchange(TEST_HSM).1.to_pem()).unwrap();
    install_attestation_root(&dir);

    // How long a whole run takes (the fastest of three), to spread the kills over it.
    let span = (0..3)
        .map(|_| {
            let start = Instant::now();
            let args = restore_blob_args("sd.json", &["a.key", "b.key"], "timing.json", &["--force"]);
            ok(run(&dir, "keyholder", &args));
            start.elapsed().as_micros() as u64
        })
        .min()
        .unwrap();
    let (mut killed, mut completed) = (0, 0);
    for i in 0..40 {
        let out = format!("blob{i}.json");
        // Kills cluster around the end of the run, where the output is written.
        let delay = Duration::from_micros(span * 6 / 10 + random_below(span * 7 / 10));
        let done = kill_after(&dir, &restore_blob_args("sd.json", &["a.key", "b.key"], &out, &[]), delay);
        if done {
            completed += 1
        } else {
            killed += 1
        }
        whole_blob_or_none(&dir, &out);
    }
    // Key generation: the key file is written last, and is whole or absent.
    let init_span = (0..3)
        .map(|t| {
            let start = Instant::now();
            let name = format!("timing{t}");
            ok(run(&dir, "keyholder", &init_here(&name, &["--no-passphrase"])));
            start.elapsed().as_micros() as u64
        })
        .min()
        .unwrap();
    for i in 0..25 {
        let name = format!("k{i}");
        let delay = Duration::from_micros(init_span * 3 / 10 + random_below(init_span));
        let done = kill_after(&dir, &init_here(&name, &["--no-passphrase"]), delay);
        if done {
            completed += 1
        } else {
            killed += 1
        }
        let key = dir.join(format!("{name}.key"));
        let cer = dir.join(format!("{name}.cer"));
        let enrollment = dir.join(format!("{name}.enrollment.json"));
        if let Ok(text) = std::fs::read_to_string(&key) {
            sd_core::pki::private_key::from_pem(&text, None)
                .unwrap_or_else(|e| panic!("{name}.key is partial: {e}"));
            assert!(
                cer.exists() && enrollment.exists(),
                "{name}.key exists without its certificate and enrollment"
            );
        }
        if let Ok(bytes) = std::fs::read(&cer) {
            sd_core::pki::cert::Certificate::from_pem_or_der(&bytes)
                .unwrap_or_else(|e| panic!("{name}.cer is partial: {e}"));
        }
        if let Ok(bytes) = std::fs::read(&enrollment) {
            sd_core::handoff::enrollment::Enrollment::verify(&bytes)
                .unwrap_or_else(|e| panic!("{name}.enrollment.json is partial: {e}"));
        }
    }
    // Under load a run takes longer than the timing runs did, and few
    // finish: kill later (up to four times as late) until some do, or kill
    // earlier until some are cut short, checking every output as above.
    for i in 0..30 {
        if completed >= 3 && killed >= 5 {
            break;
        }
        let out = format!("late{i}.json");
        let factor = if completed < 3 { 10 + i as u64 } else { 3 };
        let delay = Duration::from_micros(span * factor / 10);
        if kill_after(&dir, &restore_blob_args("sd.json", &["a.key", "b.key"], &out, &[]), delay) {
            completed += 1
        } else {
            killed += 1
        }
        whole_blob_or_none(&dir, &out);
    }
    // Nothing but whole outputs and hidden temporary files.
    for e in std::fs::read_dir(&dir).unwrap() {
        let n = e.unwrap().file_name().to_string_lossy().into_owned();
        assert!(!n.ends_with(".tmp") || n.starts_with('.'), "visible temporary file {n}");
    }
    println!(
        "crash safety (keyholder): {killed} runs killed mid-way, {completed} finished; no partial output"
    );
    assert!(
        killed >= 5 && completed >= 3,
        "the kills must straddle the end of the runs: {killed} killed, {completed} finished"
    );
}

#[test]
fn emulator_killed_mid_write_keeps_every_acknowledged_change() {
    let dir = scratch("crash-emulator");
    ceremony_people(&dir, &["a", "b", "c"]);
    let data = dir.join("hsm");
    let emu = Emulator::start(&data);
    ok(activate(&dir, &emu, &["a", "b", "c"], 2, "sd.json", &[]));
    grant_crypto_user(&dir, &emu);
    let mut emu = Some(emu);
    let mut acknowledged: Vec<String> = Vec::new();
    for round in 0..8 {
        let e = emu.take().unwrap();
        let agent = e.agent();
        let (url, token) = (e.url.clone(), e.token());
        let stop_at = Instant::now() + Duration::from_millis(100 + random_below(300));
        let writer = std::thread::spawn(move || {
            let mut done = Vec::new();
            for i in 0.. {
                let name = format!("r{round}-k{i}");
                let r = agent
                    .post(&format!("{url}/keys/{name}/create?api-version=7.5"))
                    .header("Authorization", &format!("Bearer {token}"))
                    .send(json!({"kty": "oct-HSM"}).to_string().as_bytes());
                match r {
                    Ok(resp) if resp.status() == 200 => done.push(name),
                    _ => break,
                }
            }
            done
        });
        while Instant::now() < stop_at {
            std::thread::sleep(Duration::from_millis(5));
        }
        e.kill(); // SIGKILL while the writer is mid-request
        acknowledged.extend(writer.join().unwrap());
        let restarted = Emulator::start(&data);
        let raw_state: serde_json::Value =
            serde_json::from_slice(&std::fs::read(data.join("state.json")).unwrap())
                .expect("state.json is whole");
        for name in &acknowledged {
            assert!(raw_state["keys"].get(name).is_some(), "acknowledged key {name} lost after a crash");
        }
        emu = Some(restarted);
    }
    let e = emu.unwrap();
    let out = ok(uploader(&dir, &e, &["status", "--download"]));
    assert_eq!(out.trim(), "Success: The resource is active.");
    println!("crash safety (emulator): 8 kills, {} acknowledged keys all kept", acknowledged.len());
    assert!(acknowledged.len() > 8);
}
