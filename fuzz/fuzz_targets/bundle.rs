#![no_main]
//! Signed bundles of every kind, through the generic signature check and
//! every hand-off verifier that needs no key.
use libfuzzer_sys::fuzz_target;
use sd_core::bundle::{self, BundleKind};
use sd_core::handoff::combiner::Combiner;
use sd_core::handoff::enrollment::Enrollment;

fuzz_target!(|data: &[u8]| {
    let _ = bundle::peek_kind(data);
    for kind in BundleKind::ALL {
        if let Ok(v) = bundle::verify_signatures(data, kind) {
            let _ = v.payload_for_display();
        }
    }
    let _ = Enrollment::verify(data);
    let _ = Combiner::verify(data, 1_800_000_000);
});
