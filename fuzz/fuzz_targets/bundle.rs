#![no_main]
//! Signed bundles of every kind.
use libfuzzer_sys::fuzz_target;
use sd_core::bundle::{self, BundleKind, ExpectedSigner};

fuzz_target!(|data: &[u8]| {
    let _ = bundle::peek_kind(data);
    for kind in BundleKind::ALL {
        if let Ok(v) = bundle::verify(data, kind, ExpectedSigner::SelfAsserted) {
            let _ = v.payload_as::<serde_json_value::Value>();
        }
    }
});

mod serde_json_value {
    /// Any JSON value (the payload types are checked by the commands).
    pub type Value = std::collections::BTreeMap<String, IgnoredAny>;
    #[derive(Debug)]
    pub struct IgnoredAny;
    impl<'de> serde::Deserialize<'de> for IgnoredAny {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            serde::de::IgnoredAny::deserialize(d).map(|_| IgnoredAny)
        }
    }
}
