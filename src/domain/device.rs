//! Devices and needle cartridges (R-DEVICE, R-CARTRIDGE).

use async_graphql::Enum;
use chrono::NaiveDate;
use sea_orm::{DeriveActiveEnum, EnumIter, sea_query::StringLen};

/// What kind of micro-needling device.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeviceKind {
    /// A motorised pen taking single-use needle cartridges.
    #[sea_orm(string_value = "PEN")]
    Pen,
    /// A roller, used around the eyes.
    #[sea_orm(string_value = "ROLLER")]
    Roller,
}

/// Whether a device may be used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Enum, DeriveActiveEnum, EnumIter)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::N(16))")]
pub enum DeviceStatus {
    /// In service.
    #[sea_orm(string_value = "ACTIVE")]
    Active,
    /// Out for servicing or inspection; not to be used.
    #[sea_orm(string_value = "MAINTENANCE")]
    Maintenance,
    /// Out of service for good.
    #[sea_orm(string_value = "RETIRED")]
    Retired,
}

impl DeviceStatus {
    /// R-DEVICE: only ACTIVE devices are used on patients.
    pub fn is_usable(self) -> bool {
        self == Self::Active
    }
}

/// Most needles a cartridge has (R-CARTRIDGE).
pub const NEEDLE_COUNT: std::ops::RangeInclusive<i32> = 1..=1000;

/// R-CARTRIDGE: a cartridge may be used on its expiry day but not after.
pub fn cartridge_expired_on(expires_on: NaiveDate, day: NaiveDate) -> bool {
    day > expires_on
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn r_device_only_active_devices_are_usable() {
        assert!(DeviceStatus::Active.is_usable());
        assert!(!DeviceStatus::Maintenance.is_usable());
        assert!(!DeviceStatus::Retired.is_usable());
    }

    #[test]
    fn r_cartridge_expires_after_its_expiry_day() {
        let expiry = NaiveDate::from_ymd_opt(2027, 2, 28).unwrap();
        assert!(!cartridge_expired_on(expiry, expiry));
        assert!(cartridge_expired_on(expiry, expiry.succ_opt().unwrap()));
        assert!(!cartridge_expired_on(expiry, expiry.pred_opt().unwrap()));
    }
}
