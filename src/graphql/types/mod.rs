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

/// The answer of a field some callers may not read (it has a guard): such a
/// field is nullable in the schema, so that a refusal makes only it `null`
/// (with FORBIDDEN at its path), not the object around it, as the spec's
/// error propagation would for a non-null field. Readers always get a value.
///
/// # Errors
/// The field's own error.
pub(crate) async fn may_withhold<T>(
    answer: impl std::future::Future<Output = async_graphql::Result<T>>,
) -> async_graphql::Result<Option<T>> {
    answer.await.map(Some)
}

pub mod audit;
pub mod consultation;
pub mod follow_up;
pub mod identity;
pub mod intake;
pub mod patient;
pub mod policy;
pub mod procedure;
