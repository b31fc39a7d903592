//! Time as the ceremony files carry it: Unix seconds, shown to people as
//! RFC 3339 UTC. The crate reads no clock; callers pass the time in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// RFC 3339 UTC text for a Unix time (`1970-01-01T00:00:00Z` if out of range).
pub fn rfc3339(unix: u64) -> String {
    der::DateTime::from_unix_duration(std::time::Duration::from_secs(unix))
        .map(|d| d.to_string())
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

/// Parses RFC 3339 UTC text (`2025-04-22T09:00:00Z`) to a Unix time.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    use std::str::FromStr;
    der::DateTime::from_str(text).ok().map(|d| d.unix_duration().as_secs())
}

/// A time as people set it for a rehearsal: seconds since the Unix epoch,
/// or RFC 3339 UTC; surrounding spaces ignored.
pub fn parse_instant(text: &str) -> Option<u64> {
    let text = text.trim();
    text.parse::<u64>().ok().or_else(|| parse_rfc3339(text))
}

/// A timestamp as carried in payloads: seconds since the Unix epoch, one
/// number, rendered as RFC 3339 by the tools (so a payload cannot carry two
/// times that disagree). Bundles made before this form carried
/// `{"unix": N, "utc": "…"}`; those still read, when the two agree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp(u64);

impl Timestamp {
    /// From seconds since the Unix epoch.
    pub fn from_unix(unix: u64) -> Self {
        Timestamp(unix)
    }

    /// Seconds since the Unix epoch.
    pub fn unix(&self) -> u64 {
        self.0
    }

    /// RFC 3339 UTC text, for people.
    pub fn utc(&self) -> String {
        rfc3339(self.0)
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.utc())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Legacy {
            unix: u64,
            utc: String,
        }
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Unix(u64),
            Legacy(Legacy),
        }
        match Form::deserialize(deserializer)? {
            Form::Unix(unix) => Ok(Timestamp(unix)),
            Form::Legacy(Legacy { unix, utc }) if parse_rfc3339(&utc) == Some(unix) => Ok(Timestamp(unix)),
            Form::Legacy(_) => Err(serde::de::Error::custom("a time whose unix and utc forms disagree")),
        }
    }
}
