//! Integration tests: the real app over HTTP, on SQLite and (with
//! `TEST_DATABASE_URL=postgres://…`) on PostgreSQL too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod helpers;

mod access;
mod audit;
mod cli;
mod connections;
mod consultations;
mod errors;
mod field_access;
mod follow_ups;
mod health;
mod intake;
mod lean_rows;
mod limits;
mod migrations;
mod node;
mod patients;
mod policy;
mod procedures;
mod reliability;
mod review_fixes;
mod schema;
mod seed;
mod seed_bench;
mod sessions;
mod staff;
mod startup;
mod subscriptions;
mod transport;
mod vendored;
mod webhooks;
