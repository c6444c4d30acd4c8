//! One module per aggregate: transactions, loading, calling the domain
//! rules, writing, and (with the identity issue) auditing.

pub mod policy;
