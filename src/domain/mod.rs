//! The clinic's protocol as pure functions and value types: no I/O, no
//! database, no HTTP. Services feed these the facts they need.

pub mod aftercare;
pub mod audit;
pub mod booking;
pub mod consultation;
pub mod depth;
pub mod device;
pub mod follow_up;
pub mod intake;
pub mod names;
pub mod patient;
pub mod policy;
pub mod procedure;
pub mod scope;
pub mod screening;
pub mod staff;
pub mod throttle;
pub mod treatment_area;
pub mod webhook;
pub mod webhook_target;
