#![no_main]
//! Download requests (what the emulator reads to activate).
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = sd_core::azure::download_request::DownloadRequest::parse(data);
});
