//! hotline: the work-order system of the Hengdong county 12345 hotline.

pub mod bulk;
pub mod cli;
pub mod clock;
pub mod demo;
pub mod domain;
pub mod error;
pub mod http;
pub mod notify;
pub mod search;
pub mod server;
pub mod service;
pub mod store;
pub mod update;
