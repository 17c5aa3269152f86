//! The JSON API under `/api/v1`.

pub mod admin;
pub mod appeals;
pub mod blacklist;
pub mod cti;
pub mod kb;
pub mod ops;
pub mod orders;
pub mod qa;
pub mod reports;
pub mod roster;
pub mod session;
pub mod suggest;

use serde::Serialize;

/// Every list answers `{items, total}`.
#[derive(Serialize)]
pub struct List<T: Serialize> {
    pub items: Vec<T>,
    pub total: usize,
}

impl<T: Serialize> List<T> {
    pub fn of(items: Vec<T>) -> Self {
        let total = items.len();
        List { items, total }
    }
}
