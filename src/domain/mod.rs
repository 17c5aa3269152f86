//! Pure domain types and rules: no I/O, no storage, no HTTP.

pub mod audit;
pub mod role;
pub mod session;
pub mod settings;
pub mod time;
pub mod unit;
pub mod user;
