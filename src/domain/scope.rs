//! Scopes of partner API clients.

use std::{fmt, str::FromStr};

/// What a partner integration may do; each key holds an explicit list.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ApiScope {
    /// Submit consultation requests (booking widgets).
    ConsultationRequestsWrite,
    /// Read patients' demographics and contact data.
    PatientsRead,
    /// Create and update patients' demographics and contact data.
    PatientsWrite,
    /// Read the appointment schedule.
    ScheduleRead,
    /// Read follow-ups.
    FollowUpsRead,
    /// Complete and reschedule follow-ups.
    FollowUpsWrite,
}

impl ApiScope {
    /// Every scope, in the order they are documented.
    pub const ALL: [Self; 6] = [
        Self::ConsultationRequestsWrite,
        Self::PatientsRead,
        Self::PatientsWrite,
        Self::ScheduleRead,
        Self::FollowUpsRead,
        Self::FollowUpsWrite,
    ];

    /// The scope's name, e.g. `patients:read`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConsultationRequestsWrite => "consultation_requests:write",
            Self::PatientsRead => "patients:read",
            Self::PatientsWrite => "patients:write",
            Self::ScheduleRead => "schedule:read",
            Self::FollowUpsRead => "follow_ups:read",
            Self::FollowUpsWrite => "follow_ups:write",
        }
    }
}

impl fmt::Display for ApiScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A scope name that is not one of [`ApiScope::ALL`].
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("unknown scope {0:?}")]
pub struct UnknownScope(pub String);

impl FromStr for ApiScope {
    type Err = UnknownScope;

    fn from_str(name: &str) -> Result<Self, UnknownScope> {
        Self::ALL
            .into_iter()
            .find(|scope| scope.as_str() == name)
            .ok_or_else(|| UnknownScope(name.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_names_round_trip() {
        for scope in ApiScope::ALL {
            assert_eq!(scope.as_str().parse::<ApiScope>(), Ok(scope));
        }
        assert!("patients:delete".parse::<ApiScope>().is_err());
        assert!("PATIENTS:READ".parse::<ApiScope>().is_err());
    }
}
