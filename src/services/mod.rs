//! One module per aggregate: transactions, loading, calling the domain
//! rules, writing, and auditing.

pub mod api_clients;
pub mod audit;
pub mod listing;
pub mod patients;
pub mod policy;
pub mod sessions;
pub mod users;
