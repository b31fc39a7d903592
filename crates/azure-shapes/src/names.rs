//! The names Resource Manager paths are made of, with Azure's rules: a
//! resource group, a location, a subscription ID, and the GUIDs that name
//! principals, assignments and operations. The uploader checks them before
//! any call (and percent-encodes each where it goes into a path, so no name,
//! however odd, can reach another resource: a resource group of
//! `rg/providers/…/managedHSMs/keepme?` is refused here, and would be one
//! segment there); the emulator refuses what Azure refuses by the same rules.

use std::str::FromStr;

/// A resource group: 1 to 90 letters, digits, `.`, `_`, `-`, `(` and `)`,
/// not ending with a period (Azure's rule).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceGroup(String);

/// An Azure region's name as Resource Manager writes it: lower-case letters
/// and digits (`westeurope`, `eastus2`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location(String);

/// A subscription ID: a GUID (8-4-4-4-12 hexadecimal digits).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionId(String);

/// A GUID as Azure writes it: 8-4-4-4-12 hexadecimal digits, lower case.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Guid(String);

impl Guid {
    /// A random GUID (version 4), for object IDs, assignments and operations.
    pub fn random() -> Result<Guid, getrandom::Error> {
        let mut b = [0u8; 16];
        getrandom::fill(&mut b)?;
        b[6] = (b[6] & 0x0f) | 0x40;
        b[8] = (b[8] & 0x3f) | 0x80;
        let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
        Ok(Guid(format!("{}-{}-{}-{}-{}", &h[..8], &h[8..12], &h[12..16], &h[16..20], &h[20..])))
    }
}

/// Whether `s` is 8-4-4-4-12 hexadecimal digits.
fn is_guid(s: &str) -> bool {
    let groups: Vec<&str> = s.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    lengths == [8, 4, 4, 4, 12] && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()))
}

impl FromStr for Guid {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if is_guid(s) {
            Ok(Guid(s.to_ascii_lowercase()))
        } else {
            Err("an object ID is a GUID: 8-4-4-4-12 hexadecimal digits".into())
        }
    }
}

impl FromStr for ResourceGroup {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let chars_ok = s.chars().all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-' | '(' | ')'));
        if (1..=90).contains(&s.chars().count()) && chars_ok && !s.ends_with('.') {
            Ok(ResourceGroup(s.to_owned()))
        } else {
            Err("a resource group name is 1 to 90 letters, digits, '.', '_', '-', '(' and ')', not ending with '.'"
                .into())
        }
    }
}

impl FromStr for Location {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if (1..=40).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()) {
            Ok(Location(s.to_owned()))
        } else {
            Err("a location is the region's name in lower-case letters and digits, e.g. westeurope".into())
        }
    }
}

impl FromStr for SubscriptionId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        if is_guid(s) {
            Ok(SubscriptionId(s.to_ascii_lowercase()))
        } else {
            Err("a subscription ID is a GUID: 8-4-4-4-12 hexadecimal digits".into())
        }
    }
}

text_name!(ResourceGroup, Location, SubscriptionId, Guid);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_azure_allows_and_the_attack_review_found() {
        for ok in ["rg", "my-rg_(prod).1", "Ressourcengruppe-ä", &"r".repeat(90)] {
            assert!(ok.parse::<ResourceGroup>().is_ok(), "{ok}");
        }
        // N3: each of these reached another resource, or the whole group.
        for bad in [
            "rg/providers/Microsoft.KeyVault/managedHSMs/keepme?",
            "rg?",
            "rg.",
            "",
            "a b",
            "rg#x",
            &"r".repeat(91),
        ] {
            assert!(bad.parse::<ResourceGroup>().is_err(), "{bad}");
        }
        assert!("westeurope".parse::<Location>().is_ok() && "eastus2".parse::<Location>().is_ok());
        for bad in ["West Europe", "westeurope/x", "", "west-europe"] {
            assert!(bad.parse::<Location>().is_err(), "{bad}");
        }
        let id = "00000000-1111-4222-8333-444444444444";
        assert_eq!(id.to_uppercase().parse::<SubscriptionId>().unwrap().as_str(), id);
        for bad in
            ["sub", "00000000-1111-4222-8333-44444444444", "00000000-1111-4222-8333-44444444444g", "x/../y"]
        {
            assert!(bad.parse::<SubscriptionId>().is_err(), "{bad}");
        }
    }

    #[test]
    fn random_guids_are_version_4_and_parse() {
        let g = Guid::random().unwrap();
        assert_eq!(g.as_str().parse::<Guid>().unwrap(), g);
        assert_eq!(&g.as_str()[14..15], "4");
        assert!(matches!(&g.as_str()[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(Guid::random().unwrap(), g);
        assert!("bob".parse::<Guid>().is_err());
    }
}
