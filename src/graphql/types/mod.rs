//! GraphQL output and input types, built from domain values (never from
//! entities directly).

pub mod policy;
