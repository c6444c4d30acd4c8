//! sea-orm entities: the tables as they are stored. No behaviour lives here
//! and none of these types is exposed through GraphQL; services convert them
//! into domain values and GraphQL types.

/// Declares an entity's `Core`: the columns its lists read, as a partial
/// model, and `From<&Model>` to take them from a whole row. Lists that ask
/// only for these fetch them alone (`graphql::rows`).
///
/// The columns are selected in the order the fields are declared and read
/// back by position: a list of follow-ups decodes thousands of values, and
/// finding each by name (a hash lookup per value) was a fifth of that. So a
/// `Core` is always selected alone, never nested in another partial model
/// or read with a prefix (refused when read: the positions would be
/// another model's).
macro_rules! core_columns {
    ($(#[$meta:meta])* $($field:ident: $ty:ty),+ $(,)?) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq)]
        pub struct Core {
            $(
                #[doc = concat!("`Model::", stringify!($field), "`.")]
                pub $field: $ty,
            )+
        }

        impl sea_orm::PartialModelTrait for Core {
            fn select_cols_nested<S: sea_orm::QuerySelect>(
                select: S,
                _prefix: Option<&str>,
                _alias: Option<&'static str>,
            ) -> S {
                select$(.expr(sea_orm::sea_query::Expr::col((
                    Entity,
                    sea_orm::sea_query::Alias::new(stringify!($field)),
                ))))+
            }
        }

        impl sea_orm::FromQueryResult for Core {
            fn from_query_result(
                row: &sea_orm::QueryResult,
                prefix: &str,
            ) -> Result<Self, sea_orm::DbErr> {
                if !prefix.is_empty() {
                    return Err(sea_orm::DbErr::Type(format!(
                        "a Core is read by position and cannot be nested (prefix {prefix:?})"
                    )));
                }
                let mut position = 0_usize;
                let mut next_position = || {
                    position += 1;
                    position - 1
                };
                Ok(Self {
                    $($field: row.try_get_by_index(next_position())?,)+
                })
            }
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
