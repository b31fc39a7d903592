//! The name of a Managed HSM: the NAME of `NAME.managedhsm.azure.net`, as
//! Azure allows it. Custodians type it at a recovery, from the ceremony plan
//! agreed beforehand; it is the anchor that no online machine can move.

use std::fmt;
use std::str::FromStr;

/// The DNS suffix of every Managed HSM.
pub const HSM_DNS_SUFFIX: &str = ".managedhsm.azure.net";

/// Whether `name` is a name Azure gives a Managed HSM (the NAME of
/// NAME.managedhsm.azure.net): 3 to 24 letters, digits and hyphens, starting
/// with a letter, not ending with a hyphen, never two hyphens in a row.
pub fn is_managed_hsm_name(name: &str) -> bool {
    (3..=24).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphabetic())
        && !name.ends_with('-')
        && !name.contains("--")
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// A valid Managed HSM name, in lower case as its DNS name and certificate
/// carry it (DNS ignores case, so `Contoso` and `contoso` are one HSM).
#[derive(Debug, Clone)]
pub struct HsmName(String);

impl HsmName {
    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True when `other` names the same HSM (DNS names ignore case).
    pub fn is(&self, other: &str) -> bool {
        self.0.eq_ignore_ascii_case(other)
    }
}

impl PartialEq for HsmName {
    fn eq(&self, other: &Self) -> bool {
        self.is(&other.0)
    }
}
impl Eq for HsmName {}

impl fmt::Display for HsmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A name Azure would not give a Managed HSM; with the name itself when
/// what was given is the HSM's host or URL (what az users paste).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidHsmName {
    /// The name inside a host name or URL that was given instead.
    pub meant: Option<String>,
}

impl fmt::Display for InvalidHsmName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.meant {
            Some(name) => write!(f, "give the HSM's name alone: {name}"),
            None => f.write_str(
                "not a Managed HSM name: the NAME of NAME.managedhsm.azure.net, 3 to 24 letters, digits \
                 and hyphens, starting with a letter",
            ),
        }
    }
}

impl std::error::Error for InvalidHsmName {}

impl FromStr for HsmName {
    type Err = InvalidHsmName;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        if is_managed_hsm_name(text) {
            return Ok(HsmName(text.to_ascii_lowercase()));
        }
        let host = text.trim_start_matches("https://").trim_end_matches('/');
        let meant =
            host.strip_suffix(HSM_DNS_SUFFIX).filter(|n| is_managed_hsm_name(n)).map(str::to_ascii_lowercase);
        Err(InvalidHsmName { meant })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn managed_hsm_names_follow_azure_rules() {
        for ok in ["abc", "contoso-dr", "a1b2c3d4e5f6g7h8i9j0k1l2"] {
            assert!(is_managed_hsm_name(ok), "{ok}");
            assert_eq!(ok.parse::<HsmName>().unwrap().as_str(), ok);
            assert_eq!(ok.to_uppercase().parse::<HsmName>().unwrap().as_str(), ok);
        }
        for bad in [
            "ab",
            "1abc",
            "abc-",
            "a--b",
            "has space",
            "a_b",
            "a234567890123456789012345",
            "x.managedhsm.azure.net",
        ] {
            assert!(!is_managed_hsm_name(bad), "{bad}");
            assert!(bad.parse::<HsmName>().is_err(), "{bad}");
        }
        assert!("Contoso".parse::<HsmName>().unwrap().is("contoso"));
        let pasted = "https://contoso.managedhsm.azure.net/".parse::<HsmName>().unwrap_err();
        assert_eq!(pasted.to_string(), "give the HSM's name alone: contoso");
    }
}
