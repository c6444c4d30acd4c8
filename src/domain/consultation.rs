//! Consultations and treatment plans (R-SERIES).

use async_graphql::Enum;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

/// Where a consultation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum ConsultationStatus {
    /// Booked.
    #[sea_orm(string_value = "SCHEDULED")]
    Scheduled,
    /// Held: assessment, screening and (usually) a treatment plan recorded.
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Called off; the slot is free again.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
    /// The patient did not come; the slot stays in the record.
    #[sea_orm(string_value = "NO_SHOW")]
    NoShow,
}

impl ConsultationStatus {
    /// Whether the consultation still holds the provider's time.
    pub fn holds_the_slot(self) -> bool {
        matches!(self, Self::Scheduled | Self::Completed | Self::NoShow)
    }
}

/// Where a treatment plan stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum PlanStatus {
    /// In progress: sessions are booked against it.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// All planned sessions done (refreshers follow yearly).
    #[sea_orm(string_value = "COMPLETED")]
    Completed,
    /// Replaced by a newer plan or abandoned.
    #[sea_orm(string_value = "CANCELLED")]
    Cancelled,
}

/// Sessions left in a plan.
pub fn sessions_remaining(planned: u32, done: u32) -> u32 {
    planned.saturating_sub(done)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remaining_never_goes_negative() {
        assert_eq!(sessions_remaining(3, 0), 3);
        assert_eq!(sessions_remaining(3, 3), 0);
        assert_eq!(sessions_remaining(3, 4), 0);
    }

    #[test]
    fn cancelled_consultations_free_the_slot() {
        assert!(!ConsultationStatus::Cancelled.holds_the_slot());
        assert!(ConsultationStatus::Scheduled.holds_the_slot());
        assert!(ConsultationStatus::NoShow.holds_the_slot());
    }
}
