//! GraphQL output and input types, built from domain values and entity
//! rows (entities themselves are never GraphQL types).

/// Declares a GraphQL object type that holds one entity row behind an
/// `Arc`, shared with the request's loaders rather than copied (or, for
/// `Row<Entity>`, a [`crate::graphql::rows::Row`]: the core columns, and
/// the whole row when needed), and its `From` the owned row a service
/// returns.
macro_rules! row_object {
    ($(#[$meta:meta])* $object:ident(Row<$entity:ty>)) => {
        $(#[$meta])*
        pub struct $object(pub crate::graphql::rows::Row<$entity>);

        impl From<<$entity as sea_orm::EntityTrait>::Model> for $object {
            fn from(row: <$entity as sea_orm::EntityTrait>::Model) -> Self {
                Self(crate::graphql::rows::Row::from_whole(std::sync::Arc::new(row)))
            }
        }
    };
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
