#![no_main]
//! Share decoding and combination: arbitrary share plaintexts must be refused
//! or combined, never panic, whatever the quorum.
use libfuzzer_sys::fuzz_target;
use sd_core::primitives::shamir::{self, Share};

fuzz_target!(|data: &[u8]| {
    if data.len() < 2 {
        return;
    }
    let required = usize::from(data[0] % 12);
    let len = usize::from(data[1] % 66);
    let body = &data[2..];
    let shares: Vec<Share> = if len == 0 {
        Vec::new()
    } else {
        body.chunks(len).filter_map(|c| Share::from_bytes(c).ok()).collect()
    };
    let _ = shamir::combine(&shares, required);
});
