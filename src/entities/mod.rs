//! sea-orm entities: the tables as they are stored. No behaviour lives here
//! and none of these types is exposed through GraphQL; services convert them
//! into domain values and GraphQL types.

/// Declares an entity's `Core`: the columns its lists read, as a partial
/// model, and `From<&Model>` to take them from a whole row. Lists that ask
/// only for these fetch them alone (`graphql::rows`).
macro_rules! core_columns {
    ($(#[$meta:meta])* $($field:ident: $ty:ty),+ $(,)?) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, sea_orm::DerivePartialModel)]
        #[sea_orm(entity = "Entity")]
        pub struct Core {
            $(
                #[doc = concat!("`Model::", stringify!($field), "`.")]
                pub $field: $ty,
            )+
        }

        impl From<&Model> for Core {
            fn from(row: &Model) -> Self {
                Self {
                    $($field: row.$field.clone(),)+
                }
            }
        }
    };
}
pub(crate) use core_columns;

pub mod api_clients;
pub mod audit_events;
pub mod cartridges;
pub mod clinic_policy;
pub mod consultation_requests;
pub mod consultations;
pub mod contact_consents;
pub mod depth_guideline;
pub mod device_sessions;
pub mod devices;
pub mod follow_ups;
pub mod informed_consents;
pub mod login_throttle;
pub mod medical_histories;
pub mod patients;
pub mod procedure_amendments;
pub mod procedures;
pub mod refresh_tokens;
pub mod screenings;
pub mod treatment_plans;
pub mod users;
pub mod webhook_deliveries;
pub mod webhook_endpoints;
