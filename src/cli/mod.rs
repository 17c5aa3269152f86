//! The command line: one clap enum for every subcommand.

use std::io::Read as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

use crate::clock::SystemClock;
use crate::domain::audit::AuditEvent;
use crate::domain::role::Role;
use crate::server::{ServeOptions, start};
use crate::service::audit::{Verdict, verify};
use crate::service::users::{NewUser, UnitRef, UserPatch, create_unchecked, update_unchecked};
use crate::service::{App, system};
use crate::store::{Store, users};

mod offline;
mod serve;
mod update;

use offline::{audit_verify, backup_keygen, backup_offline, backup_verify, restore_any, user};
use serve::{selfcheck, serve};
use update::update;

const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("HOTLINE_GIT_COMMIT"),
    ")"
);

#[derive(Parser)]
#[command(
    name = "hotline",
    version = LONG_VERSION,
    about = "衡东县 12345 政务服务便民热线 work-order system",
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Run the server (HTTPS; a local CA and certificate are made at first start).
    Serve {
        /// Data directory: database, certificates, backups, logs.
        #[arg(long, env = "HOTLINE_DATA", default_value = "./hotline-data")]
        data: PathBuf,
        /// Address to listen on.
        #[arg(long, env = "HOTLINE_LISTEN", default_value = "0.0.0.0:8443")]
        listen: SocketAddr,
        /// Serve plain HTTP (only on a loopback address).
        #[arg(long)]
        plain_http: bool,
        /// On an empty data directory, load a demo county: units, one user per role (their
        /// one-time passwords are printed) and a few hundred orders in every state.
        #[arg(long)]
        demo: bool,
    },
    /// Manage users offline (the server must be stopped).
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Back up the data directory offline (`--out FILE`), or check a backup (`verify FILE`).
    #[command(args_conflicts_with_subcommands = true)]
    Backup {
        #[command(subcommand)]
        command: Option<BackupCommand>,
        #[arg(long, env = "HOTLINE_DATA", default_value = "./hotline-data")]
        data: PathBuf,
        /// Where to write the backup file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Restore a backup into the data directory (the server must be stopped). An encrypted
    /// copy from the USB stick (`*.hlbak.age`) needs the office's key file (`--identity`).
    Restore {
        file: PathBuf,
        #[arg(long, env = "HOTLINE_DATA", default_value = "./hotline-data")]
        data: PathBuf,
        /// The age key file that decrypts a `.age` copy.
        #[arg(long)]
        identity: Option<PathBuf>,
    },
    /// Signed update bundles: make keys, sign, verify.
    Update {
        #[command(subcommand)]
        command: UpdateCommand,
    },
    /// Check the audit log.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// Start on DATA (give it a copy: it may migrate the schema), answer /healthz once on
    /// loopback, and stop; exit 0 when all went well. Updates check a new binary with it.
    Selfcheck {
        #[arg(long)]
        data: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum UserCommand {
    /// Create a user; the password is read from standard input and must be changed at first login.
    Add {
        #[arg(long, env = "HOTLINE_DATA", default_value = "./hotline-data")]
        data: PathBuf,
        #[arg(long)]
        username: String,
        /// operator, shift_lead, qa, supervisor, admin or unit.
        #[arg(long)]
        role: String,
        /// Unit code (or id), for role `unit`.
        #[arg(long)]
        unit: Option<String>,
        #[arg(long)]
        display_name: Option<String>,
        /// Read the password from standard input (the only way: never on the command line).
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a new password (read from standard input); it must be changed at next login.
    ResetPassword {
        #[arg(long, env = "HOTLINE_DATA", default_value = "./hotline-data")]
        data: PathBuf,
        #[arg(long)]
        username: String,
        #[arg(long)]
        password_stdin: bool,
        /// Also re-enable the account if it was disabled.
        #[arg(long)]
        enable: bool,
    },
}

#[derive(Subcommand)]
pub enum UpdateCommand {
    /// Make a signing key pair: DIR/update.key (keep it off the box) and DIR/update.pub.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
    /// Make a bundle of a binary, signed with KEY.
    Sign {
        #[arg(long)]
        key: PathBuf,
        #[arg(long)]
        binary: PathBuf,
        #[arg(long)]
        version: String,
        #[arg(long)]
        target: String,
        #[arg(long)]
        out: PathBuf,
    },
    /// Exit 0 only for a bundle signed by a compiled-in key, for this target, intact.
    Verify { file: PathBuf },
    /// Install a bundle (the server must be stopped): verify, back up, check the new binary
    /// on a copy of the data, swap it in and keep the previous one. The next start is the
    /// new binary's trial; after two failed starts the previous binary comes back by itself.
    Apply {
        file: PathBuf,
        #[arg(long, env = "HOTLINE_DATA", default_value = "./hotline-data")]
        data: PathBuf,
        /// Install even when the bundle is not newer (downgrade or reinstall); needs --reason.
        #[arg(long)]
        force: bool,
        #[arg(long, default_value = "")]
        reason: String,
    },
}

#[derive(Subcommand)]
pub enum BackupCommand {
    /// Check a backup file: trailer, SHA-256, and every table's row count.
    Verify { file: PathBuf },
    /// Make the office's age key pair for the encrypted USB copies: writes the private key
    /// file (keep it off the box) and prints the public key to enter on the backups page.
    Keygen {
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub enum AuditCommand {
    /// Walk the hash chain; exit 0 when intact, 1 naming the first bad entry.
    Verify {
        #[arg(long, env = "HOTLINE_DATA", default_value = "./hotline-data")]
        data: PathBuf,
    },
}

pub fn run(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Serve {
            data,
            listen,
            plain_http,
            demo,
        } => serve(data, listen, plain_http, demo),
        Command::User { command } => user(command),
        Command::Audit {
            command: AuditCommand::Verify { data },
        } => audit_verify(&data),
        Command::Backup {
            command: Some(BackupCommand::Verify { file }),
            ..
        } => backup_verify(&file),
        Command::Backup {
            command: None,
            data,
            out,
        } => backup_offline(&data, out),
        Command::Backup {
            command: Some(BackupCommand::Keygen { out }),
            ..
        } => backup_keygen(&out),
        Command::Restore {
            file,
            data,
            identity,
        } => restore_any(&file, &data, identity.as_deref()),
        Command::Update { command } => update(command),
        Command::Selfcheck { data } => selfcheck(data),
    }
}

#[cfg(test)]
mod tests {
    /// clap checks the whole command tree (duplicate flags, e.g. `--version`) in one place.
    #[test]
    fn the_command_line_is_well_formed() {
        use clap::CommandFactory;
        super::Cli::command().debug_assert();
    }
}
