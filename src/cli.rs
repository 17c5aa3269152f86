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

fn init_logging(data: &Path) -> Result<tracing_appender::non_blocking::WorkerGuard> {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, fmt};
    let logs = data.join("logs");
    std::fs::create_dir_all(&logs)?;
    let file = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("hotline")
        .filename_suffix("log")
        .max_log_files(30)
        .build(&logs)
        .context("opening the log file")?;
    let (writer, guard) = tracing_appender::non_blocking(file);
    let filter = EnvFilter::try_from_env("HOTLINE_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::registry()
        .with(filter)
        .with(
            fmt::layer()
                .with_target(false)
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stdout())),
        )
        .with(
            fmt::layer()
                .with_ansi(false)
                .with_target(false)
                .with_writer(writer),
        )
        .try_init()
        .ok();
    // A panic is logged with where it happened, not its message: the message can quote the
    // data being handled, and logs never carry a caller's data.
    std::panic::set_hook(Box::new(|info| {
        let at = info
            .location()
            .map(|l| format!("{}:{}", l.file(), l.line()))
            .unwrap_or_default();
        tracing::error!(at, "panic");
    }));
    Ok(guard)
}

/// A trial start of a newly installed binary failed: roll back after the second failure,
/// or try once more (systemd restarts by itself).
fn trial_failed(data: &Path, why: &str) {
    use crate::update::install;
    tracing::error!(error = why, "the new binary failed its start self-check");
    if install::failed_start(data, why).is_some() || !install::under_systemd() {
        install::restart(1);
    }
}

/// Records a finished update (confirmed or rolled back) in the audit log once.
fn audit_update_outcome(app: &App) {
    use crate::update::install::{self, Phase};
    let Some(state) = install::take_unaudited(&app.data_dir) else {
        return;
    };
    let (action, detail) = match state.phase {
        Phase::Confirmed => (
            "update.confirmed",
            format!(
                "升级 {} → {} 启动自检通过",
                state.from_version, state.to_version
            ),
        ),
        _ => ("update.rolled_back", state.note.clone().unwrap_or_default()),
    };
    let written = crate::service::audit::record(
        app,
        AuditEvent {
            actor: "system".into(),
            action: action.into(),
            detail,
            ..AuditEvent::default()
        },
    );
    if let Err(e) = written {
        tracing::error!(error = %e, "cannot audit the update outcome");
    }
}

fn serve(data: PathBuf, listen: SocketAddr, plain_http: bool, demo: bool) -> Result<i32> {
    use crate::update::install::{self, StartGuard};
    std::fs::create_dir_all(&data).with_context(|| format!("creating {}", data.display()))?;
    let _guard = init_logging(&data)?;
    let trial = match install::on_start(&data) {
        StartGuard::RolledBack(state) => {
            eprintln!("{}", state.note.as_deref().unwrap_or("update rolled back"));
            install::restart(1);
        }
        StartGuard::Trial => {
            tracing::info!("first start of a newly installed binary: checking it");
            true
        }
        StartGuard::Normal => false,
    };
    let demo_accounts = if demo {
        use crate::clock::Clock as _;
        println!("正在载入演示数据 loading the demo county…");
        crate::demo::load(&data, SystemClock.now())?
    } else {
        Vec::new()
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(16)
        .build()?;
    rt.block_on(async move {
        let started = start(ServeOptions {
            data: data.clone(),
            listen,
            plain_http,
            clock: Arc::new(SystemClock),
            search: true,
            limits: crate::http::server::Limits::default(),
        })
        .await;
        let running = match started {
            Ok(r) => r,
            Err(e) => {
                if trial {
                    trial_failed(&data, &format!("{e:#}"));
                }
                return Err(e);
            }
        };
        if trial {
            if let Err(e) = running.probe_healthz().await {
                running.shutdown().await;
                trial_failed(&data, &format!("{e:#}"));
                return Err(e);
            }
            install::confirm(&data);
            tracing::info!("the new binary passed its start self-check");
        }
        audit_update_outcome(&running.app);
        let scheme = if plain_http { "http" } else { "https" };
        println!("hotline {} (commit {})", system::VERSION, system::COMMIT);
        println!("数据目录 data: {}", data.display());
        println!("监听 listening: {scheme}://{}", running.addr);
        if let Some(c) = &running.cert {
            if running.cert_created {
                println!(
                    "已生成本机证书 new certificate created in {}",
                    data.join("tls").display()
                );
            }
            if let Some(ca) = &c.ca_fingerprint_sha256 {
                println!("根证书 CA SHA-256:     {ca}");
            }
            println!("服务器证书 server SHA-256: {}", c.fingerprint_sha256);
        }
        if !demo_accounts.is_empty() {
            println!();
            println!("演示账号（一次性密码，首次登录须修改） demo accounts, one-time passwords:");
            for (user, role, pw) in &demo_accounts {
                println!("  {user:<12} {:<10} {pw}", role.code());
            }
        } else if demo {
            println!("(data directory already has users: demo not loaded)");
        }
        if let Some(code) = &running.setup_code {
            println!();
            println!(
                "首次启动：请在浏览器打开 {scheme}://<本机地址>:{}/setup",
                running.addr.port()
            );
            println!("一次性初始化码 setup code: {code}");
            println!(
                "(also written to {}, valid 24 hours)",
                data.join("setup-code").display()
            );
        }
        tracing::info!(addr = %running.addr, "server started");
        crate::notify::ready();
        // The watchdog is fed only while the server answers its own health check.
        if let Some(every) = crate::notify::watchdog_interval() {
            let app = running.app.clone();
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    let a = app.clone();
                    let healthy = tokio::task::spawn_blocking(move || {
                        a.store.read(crate::store::meta::schema_version).is_ok()
                    })
                    .await
                    .unwrap_or(false);
                    if healthy {
                        crate::notify::watchdog();
                    }
                }
            });
        }
        let restart = tokio::select! {
            _ = wait_for_signal() => false,
            _ = running.app.restart.notified() => true,
        };
        crate::notify::stopping();
        tracing::info!(restart, "shutting down");
        running.shutdown().await;
        tracing::info!("stopped");
        if restart {
            install::restart(0);
        }
        Ok::<_, anyhow::Error>(())
    })?;
    Ok(0)
}

fn selfcheck(data: PathBuf) -> Result<i32> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let running = start(ServeOptions {
            data,
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            plain_http: true,
            clock: Arc::new(SystemClock),
            search: false,
            limits: crate::http::server::Limits::default(),
        })
        .await?;
        let probe = running.probe_healthz().await;
        running.shutdown().await;
        probe?;
        println!("self-check OK: data opened, templates rendered, /healthz answered");
        Ok(0)
    })
}

async fn wait_for_signal() {
    use tokio::signal::unix::{SignalKind, signal};
    let term = signal(SignalKind::terminate());
    let int = signal(SignalKind::interrupt());
    match (term, int) {
        (Ok(mut t), Ok(mut i)) => {
            tokio::select! {
                _ = t.recv() => {},
                _ = i.recv() => {},
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

fn read_password(flag: bool) -> Result<String> {
    if !flag {
        bail!("pass --password-stdin and give the password on standard input");
    }
    let mut s = String::new();
    std::io::stdin().read_to_string(&mut s)?;
    let pw = s.lines().next().unwrap_or("").to_string();
    if pw.is_empty() {
        bail!("no password on standard input");
    }
    Ok(pw)
}

fn open_offline(data: &Path) -> Result<App> {
    if !data.join(crate::store::DB_FILE).exists() {
        bail!(
            "no database in {} (run `hotline serve` once first)",
            data.display()
        );
    }
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    App::new(store, Arc::new(SystemClock), data.to_path_buf()).map_err(|e| anyhow::anyhow!("{e}"))
}

fn console_event() -> AuditEvent {
    AuditEvent {
        actor: "console".into(),
        ..AuditEvent::default()
    }
}

fn user(cmd: UserCommand) -> Result<i32> {
    match cmd {
        UserCommand::Add {
            data,
            username,
            role,
            unit,
            display_name,
            password_stdin,
        } => {
            let role = Role::parse(&role).with_context(|| {
                format!(
                    "unknown role {role:?}: use operator, shift_lead, qa, supervisor, admin or unit"
                )
            })?;
            let password = read_password(password_stdin)?;
            let app = open_offline(&data)?;
            let u = create_unchecked(
                &app,
                &console_event(),
                NewUser {
                    username,
                    display_name: display_name.unwrap_or_default(),
                    role,
                    unit: unit.map(UnitRef::Code),
                    password,
                },
            )
            .map_err(|e| anyhow::anyhow!("{e}"))?;
            let _ = crate::service::setup::prepare(&app);
            println!(
                "created user {} (id {}, role {}); the password must be changed at first login",
                u.username,
                u.id.0,
                u.role.code()
            );
            Ok(0)
        }
        UserCommand::ResetPassword {
            data,
            username,
            password_stdin,
            enable,
        } => {
            let password = read_password(password_stdin)?;
            let app = open_offline(&data)?;
            let name = crate::domain::user::normalize_username(&username)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let id = app
                .store
                .read(|tx| users::id_by_username(tx, &name))
                .map_err(|e| anyhow::anyhow!("{e}"))?
                .with_context(|| format!("no user {name}"))?;
            let mut ev = console_event();
            ev.action = "user.reset_password".into();
            let patch = UserPatch {
                password: Some(password),
                disabled: enable.then_some(false),
                ..UserPatch::default()
            };
            update_unchecked(&app, &ev, None, id, patch).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("password of {name} reset; it must be changed at next login");
            Ok(0)
        }
    }
}

fn audit_verify(data: &Path) -> Result<i32> {
    if !data.join(crate::store::DB_FILE).exists() {
        bail!("no database in {}", data.display());
    }
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    match verify(&store).map_err(|e| anyhow::anyhow!("{e}"))? {
        Verdict::Intact { entries } => {
            println!("audit chain intact: {entries} entries");
            Ok(0)
        }
        Verdict::Broken { checked, first_bad } => {
            println!("audit chain BROKEN: {first_bad}");
            println!("first bad entry: {}", bad_seq(&first_bad));
            println!("entries verified before it: {checked}");
            Ok(1)
        }
        Verdict::Unreadable { seq, error } => {
            println!("audit chain BROKEN: entry {seq} unreadable: {error}");
            println!("first bad entry: {seq}");
            Ok(1)
        }
    }
}

fn bad_seq(b: &crate::domain::audit::ChainBreak) -> u64 {
    use crate::domain::audit::ChainBreak;
    match b {
        ChainBreak::Gap { seq, .. } | ChainBreak::Link { seq } | ChainBreak::Content { seq } => {
            *seq
        }
    }
}

fn backup_offline(data: &Path, out: Option<PathBuf>) -> Result<i32> {
    use crate::clock::Clock as _;
    let out = out.context("give --out FILE (or use `hotline backup verify FILE`)")?;
    if !data.join(crate::store::DB_FILE).exists() {
        bail!("no database in {}", data.display());
    }
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let m = store
        .backup_to(&out, SystemClock.now().secs())
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "backup written to {} ({} bytes, schema {}, SHA-256 {})",
        out.display(),
        m.bytes,
        m.schema_version,
        m.sha256
    );
    Ok(0)
}

fn backup_verify(file: &Path) -> Result<i32> {
    match crate::store::backup::verify(file) {
        Ok(m) => {
            println!(
                "backup OK: hotline {} schema {}, {} bytes, SHA-256 {}",
                m.program_version, m.schema_version, m.bytes, m.sha256
            );
            for (t, n) in &m.counts {
                println!("  {t:<20} {n}");
            }
            Ok(0)
        }
        Err(e) => {
            println!("backup BAD: {e}");
            Ok(1)
        }
    }
}

fn backup_keygen(out: &Path) -> Result<i32> {
    use age::secrecy::ExposeSecret as _;
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    let identity = age::x25519::Identity::generate();
    let public = identity.to_public().to_string();
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(out)
        .with_context(|| format!("creating {} (it must not exist yet)", out.display()))?;
    writeln!(f, "# hotline backup key, public key: {public}")?;
    writeln!(f, "{}", identity.to_string().expose_secret())?;
    f.sync_all()?;
    println!(
        "wrote the private key to {} (keep it off the box, in a safe place)",
        out.display()
    );
    println!("public key (enter it on the backups page): {public}");
    Ok(0)
}

/// Restores a `.hlbak`, or an encrypted `.hlbak.age` copy decrypted with `identity` first.
fn restore_any(file: &Path, data: &Path, identity: Option<&Path>) -> Result<i32> {
    let encrypted = file.extension().is_some_and(|e| e == "age");
    if !encrypted {
        return restore(file, data);
    }
    let identity = identity.context("an encrypted copy needs --identity KEYFILE")?;
    let ids = age::IdentityFile::from_file(identity.display().to_string())
        .with_context(|| format!("reading {}", identity.display()))?
        .into_identities()
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    std::fs::create_dir_all(data)?;
    let plain = data.join("restore-decrypted.hlbak");
    let decrypt = || -> Result<()> {
        let input = std::io::BufReader::new(std::fs::File::open(file)?);
        let d = age::Decryptor::new_buffered(input).map_err(|e| anyhow::anyhow!("{e}"))?;
        let mut r = d
            .decrypt(ids.iter().map(|i| i.as_ref() as &dyn age::Identity))
            .map_err(|e| anyhow::anyhow!("cannot decrypt with this key: {e}"))?;
        let mut out = std::fs::File::create(&plain)?;
        std::io::copy(&mut r, &mut out)?;
        out.sync_all()?;
        Ok(())
    };
    let result = decrypt().and_then(|_| restore(&plain, data));
    let _ = std::fs::remove_file(&plain);
    result
}

/// Restores into place atomically: the backup is checked, extracted beside the database,
/// opened, and renamed over it; the replaced database is kept in `backups/`.
fn restore(file: &Path, data: &Path) -> Result<i32> {
    let m = crate::store::backup::verify(file)
        .map_err(|e| anyhow::anyhow!("the backup does not verify: {e}"))?;
    if m.schema_version > crate::store::SCHEMA_VERSION {
        bail!(
            "the backup has schema {}, newer than this program ({})",
            m.schema_version,
            crate::store::SCHEMA_VERSION
        );
    }
    std::fs::create_dir_all(data)?;
    let live = data.join(crate::store::DB_FILE);
    if live.exists() {
        // Refuse while a server holds the data.
        match redb::Database::open(&live) {
            Err(redb::DatabaseError::DatabaseAlreadyOpen) => {
                bail!("the database is in use: stop `hotline serve` first");
            }
            Err(e) => bail!("the current database cannot be opened: {e}"),
            Ok(db) => drop(db),
        }
    }
    let staging = data.join("hotline.redb.restoring");
    crate::store::backup::extract_db(file, m.bytes, &staging)
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    drop(redb::Database::open(&staging).context("the restored database does not open")?);
    if live.exists() {
        let keep = data.join("backups");
        std::fs::create_dir_all(&keep)?;
        let stamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        std::fs::rename(&live, keep.join(format!("before-restore-{stamp}.redb")))?;
    }
    std::fs::rename(&staging, &live)?;
    // The search index is derived: rebuilt from the restored data at the next start.
    let _ = std::fs::remove_dir_all(data.join("index"));
    let store = Store::open(data).map_err(|e| anyhow::anyhow!("{e}"))?;
    let now = {
        use crate::clock::Clock as _;
        SystemClock.now()
    };
    store
        .write(|tx| {
            crate::store::audit::append(
                tx,
                now,
                AuditEvent {
                    actor: "console".into(),
                    action: "backup.restore".into(),
                    detail: format!("从备份恢复（创建于 unix {}）", m.created_at),
                    ..AuditEvent::default()
                },
            )
            .map(|_| ())
        })
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "restored {} into {}; the previous database is kept in {}/backups",
        file.display(),
        data.display(),
        data.display()
    );
    Ok(0)
}

fn update(cmd: UpdateCommand) -> Result<i32> {
    use crate::update;
    match cmd {
        UpdateCommand::Keygen { out } => {
            let public = update::keygen(&out).map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "wrote {0}/update.key (private: keep it off the box) and {0}/update.pub",
                out.display()
            );
            println!("public key: {public}");
            println!("to trust it, add that line to keys/update-keys.txt and rebuild");
            Ok(0)
        }
        UpdateCommand::Sign {
            key,
            binary,
            version,
            target,
            out,
        } => {
            let bytes =
                std::fs::read(&binary).with_context(|| format!("reading {}", binary.display()))?;
            let bundle = update::sign(&key, &bytes, &version, &target)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            std::fs::write(&out, bundle)?;
            println!(
                "signed {} {} for {} into {}",
                binary.display(),
                version,
                target,
                out.display()
            );
            Ok(0)
        }
        UpdateCommand::Apply {
            file,
            data,
            force,
            reason,
        } => {
            use crate::clock::Clock as _;
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            if !data.join(crate::store::DB_FILE).exists() {
                bail!("no database in {}", data.display());
            }
            let store = match Store::open(&data) {
                Err(crate::store::StoreError::Locked) => bail!(
                    "the server holds the data: install from the admin page (系统管理 → 升级), \
                     or stop the service first"
                ),
                other => other.map_err(|e| anyhow::anyhow!("{e}"))?,
            };
            let outcome = crate::service::updates::apply_bundle(
                &store,
                &data,
                &bytes,
                crate::service::updates::ApplyRequest {
                    force,
                    reason: &reason,
                    actor: AuditEvent {
                        actor: "console".into(),
                        ..AuditEvent::default()
                    },
                },
                SystemClock.now(),
            );
            match outcome {
                Ok(s) => {
                    println!(
                        "installed {} -> {} at {}; the previous binary is kept as {}",
                        s.from_version,
                        s.to_version,
                        s.binary.display(),
                        s.previous.display()
                    );
                    println!(
                        "start the service now (systemctl start hotline): its first start is \
                         checked, and after two failed starts the previous binary comes back"
                    );
                    Ok(0)
                }
                Err(e) => {
                    println!("update REFUSED: {e}");
                    Ok(1)
                }
            }
        }
        UpdateCommand::Verify { file } => {
            let bytes =
                std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            match update::verify(&bytes) {
                Ok((h, _)) => {
                    println!(
                        "bundle OK: version {} for {}, SHA-256 {}",
                        h.version, h.target, h.sha256
                    );
                    Ok(0)
                }
                Err(e) => {
                    println!("bundle REFUSED: {e}");
                    Ok(1)
                }
            }
        }
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
