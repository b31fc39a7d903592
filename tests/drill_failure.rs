//! The drill script fails loudly and cleanly: when a step fails it says which
//! step and why, exits non-zero, and stops every process it started.

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use ceremony_tests::*;

#[test]
fn a_failing_step_is_named_and_every_process_is_stopped() {
    let dir = scratch("drill-failure");
    // Real keyholder and emulator; an uploader that works until the activation, then fails.
    let bins = dir.join("bin");
    std::fs::create_dir_all(&bins).unwrap();
    for b in ["keyholder", "mhsm-emulator"] {
        std::os::unix::fs::symlink(bin(b), bins.join(b)).unwrap();
    }
    let fake = bins.join("uploader");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nfor a in \"$@\"; do [ \"$a\" = activate ] && {{ echo 'error: simulated HSM outage' >&2; exit 1; }}; done\nexec {} \"$@\"\n",
            bin("uploader").display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();

    let keep = dir.join("kept");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../ceremony-scripts/drill.sh");
    let o = Command::new("bash")
        .arg(&script)
        .args(["--keep", &keep.display().to_string()])
        .env("HSM_CEREMONY_BIN_DIR", &bins)
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&o.stdout).into_owned();
    assert_ne!(o.status.code(), Some(0), "{out}");
    assert!(out.contains("simulated HSM outage"), "the reason is shown:\n{out}");
    assert!(out.contains("step 8 failed: activate the HSM"), "the step is named:\n{out}");
    assert!(out.contains("DRILL FAILED at step 8"), "{out}");
    assert!(std::fs::read_to_string(keep.join("transcript.txt")).unwrap().contains("DRILL FAILED at step 8"));
    // The emulator it started is gone.
    let hsm_dir = keep.join("hsm-prod").display().to_string();
    let running = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|cmd| String::from_utf8_lossy(cmd).contains(&hsm_dir))
        .count();
    assert_eq!(running, 0, "an emulator the drill started is still running");
}
