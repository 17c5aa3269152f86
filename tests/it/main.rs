//! Integration tests: the real server on a random loopback port over real HTTPS, with a
//! real redb file in a temp dir. One binary so the suite links once.

// Test code: a failed unwrap is a failed test, which is what it should be.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod hardening;
mod helpers;
mod hostile;

mod attachments;
mod audit;
mod backups;
mod browser;
mod cli;
mod connections;
mod cooperation;
mod crash;
mod demo;
mod desk;
mod disk;
mod fuzz;
mod input;
mod install;
mod knowledge;
mod lockout;
mod orders;
mod pages;
mod permissions;
mod privacy;
mod qa;
mod reports;
mod roster;
mod rules;
mod scale;
mod screening;
mod search;
mod server;
mod session;
mod setup;
mod slow;
mod store;
mod suggest;
mod tls;
mod tokens;
mod update;
