//! GraphQL output and input types, built from domain values and entity
//! rows (entities themselves are never GraphQL types).

pub mod audit;
pub mod consultation;
pub mod follow_up;
pub mod identity;
pub mod intake;
pub mod patient;
pub mod policy;
pub mod procedure;
