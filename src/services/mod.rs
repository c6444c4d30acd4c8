//! One module per aggregate: transactions, loading, calling the domain
//! rules, writing, and auditing.

pub mod api_clients;
pub mod audit;
pub mod audit_bulk;
pub mod consultations;
pub mod devices;
pub mod follow_ups;
pub mod input;
pub mod intake;
pub mod listing;
pub mod lookup;
pub mod patients;
pub mod policy;
pub mod procedures;
pub mod sessions;
pub mod throttle;
pub mod users;
pub mod webhook_guard;
pub mod webhooks;
