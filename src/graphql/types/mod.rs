//! GraphQL output and input types, built from domain values and entity
//! rows (entities themselves are never GraphQL types).

/// Declares a GraphQL object type that holds one entity row behind an
/// `Arc`, shared with the request's loaders rather than copied, and its
/// `From` the owned row a service returns.
macro_rules! row_object {
    ($(#[$meta:meta])* $object:ident($model:ty)) => {
        $(#[$meta])*
        pub struct $object(pub std::sync::Arc<$model>);

        impl From<$model> for $object {
            fn from(row: $model) -> Self {
                Self(std::sync::Arc::new(row))
            }
        }
    };
}
pub(crate) use row_object;

pub mod audit;
pub mod consultation;
pub mod follow_up;
pub mod identity;
pub mod intake;
pub mod patient;
pub mod policy;
pub mod procedure;
