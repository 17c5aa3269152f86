//! `hotline-bench --orders N [--json]`: the figures of SPEC §8, measured on this machine.
//!
//! It loads a realistic county history of N orders straight through the store's write path,
//! then starts the real server (this binary in server mode, or `--server PATH`, e.g. the
//! static build) over HTTPS on loopback and measures, with its own small HTTP client: redb's
//! single-commit rate on the same disk; intake per second and p50/p99 at 1, 8 and 32 clients;
//! p50/p99 of the order page, every role's home, `/orders` with each filter and a deep page,
//! a phone lookup and full-text search; start-up; resident memory idle and under load; the
//! backup's time and size; the binary's size. With `--json` the last line is one JSON object.

mod client;
mod measure;
mod server;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, Result};
use clap::Parser;
use serde_json::{Value, json};

use hotline::domain::role::Role;
use hotline::domain::time::Timestamp;
use hotline::store::Store;
use measure::{intake_levels, pages, round1};
use server::{rss_sampler, search_ready, start};

const PASSWORD: &str = "Bench-pass-2026";

#[derive(Parser)]
#[command(
    name = "hotline-bench",
    about = "Measures SPEC §8's figures on this machine"
)]
struct Args {
    /// Orders of history to load first.
    #[arg(long, default_value_t = 100_000)]
    orders: usize,
    /// Print one JSON object as the last line.
    #[arg(long)]
    json: bool,
    /// Work in this directory (default: a fresh one under the system's temp dir, removed
    /// after). Orders already there count towards N; its backups are replaced by the bench's.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The server binary to measure (default: this binary, which serves the same code).
    #[arg(long)]
    server: Option<PathBuf>,
    /// Seconds of intake at each level of concurrency.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Requests per page measured.
    #[arg(long, default_value_t = 100)]
    samples: usize,
    /// Parts to leave out while working on another: `backup`, `intake`, `pages`
    /// (comma-separated; their figures are null in the JSON line).
    #[arg(long, value_delimiter = ',')]
    skip: Vec<String>,
}

fn main() -> std::process::ExitCode {
    let raw: Vec<String> = std::env::args().collect();
    // Server mode: `hotline-bench --hotline serve …` is the `hotline` binary.
    if raw.get(1).map(String::as_str) == Some("--hotline") {
        hotline::update::install::remember_exe();
        let cli = hotline::cli::Cli::parse_from(
            std::iter::once("hotline".to_string()).chain(raw.into_iter().skip(2)),
        );
        return match hotline::cli::run(cli) {
            Ok(code) => std::process::ExitCode::from(u8::try_from(code).unwrap_or(1)),
            Err(e) => {
                eprintln!("error: {e:#}");
                std::process::ExitCode::from(2)
            }
        };
    }
    let args = Args::parse();
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match rt.block_on(bench(args)) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::from(1)
        }
    }
}

/// redb's own durable commit rate on this disk (one writer, one small insert a commit).
fn redb_commit_rate(dir: &Path) -> Result<f64> {
    let path = dir.join("redb-probe.redb");
    let db = redb::Database::create(&path)?;
    let table: redb::TableDefinition<u64, u64> = redb::TableDefinition::new("probe");
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(3) {
        let mut tx = db.begin_write()?;
        tx.set_durability(redb::Durability::Immediate)?;
        tx.open_table(table)?.insert(n, n)?;
        tx.commit()?;
        n += 1;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    drop(db);
    let _ = std::fs::remove_file(path);
    Ok(rate)
}

/// Users of every role with a known password (and nothing to change first).
fn people(store: &Store, hash: &str) -> Result<()> {
    let cgj = store
        .read(|tx| hotline::store::units::id_by_code(tx, "cgj"))?
        .context("no unit cgj")?;
    store.write(|tx| -> Result<(), hotline::store::StoreError> {
        for (name, role) in [
            ("bench-op", Role::Operator),
            ("bench-lead", Role::ShiftLead),
            ("bench-qa", Role::Qa),
            ("bench-sup", Role::Supervisor),
            ("bench-admin", Role::Admin),
            ("bench-unit", Role::Unit),
        ] {
            let unit = (role == Role::Unit).then_some(cgj);
            hotline::bulk::ensure_user(tx, hotline::bulk::staff(name, role, unit, hash))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// Where the figures go as they come: stdout, or stderr when the JSON line owns stdout.
#[derive(Clone, Copy)]
struct Say {
    json: bool,
}

impl Say {
    fn line(self, s: String) {
        if self.json {
            eprintln!("{s}");
        } else {
            println!("{s}");
        }
    }
}

fn now() -> Timestamp {
    use hotline::clock::Clock as _;
    hotline::clock::SystemClock.now()
}

/// Tops the store up to `orders` orders of history and adds the bench's people.
fn load(dir: &Path, orders: usize, say: Say) -> Result<Store> {
    let store = Store::open(dir)?;
    let hash = hotline::service::password::hash(PASSWORD).map_err(|e| anyhow::anyhow!("{e}"))?;
    let existing = store.read(hotline::store::orders::count_all)? as usize;
    let t = Instant::now();
    if existing < orders {
        hotline::bulk::history(&store, orders - existing, now(), 730, 2026, &hash)?;
    }
    people(&store, &hash)?;
    say.line(format!(
        "loaded {orders} orders in {:.1} s",
        t.elapsed().as_secs_f64()
    ));
    Ok(store)
}

/// The backup the nightly job makes: (seconds, MiB). It also keeps the server, finding a
/// fresh backup, from starting its catch-up copy in the middle of the measurements.
fn backup(store: &Store, dir: &Path, say: Say) -> Result<(f64, f64)> {
    let backups = dir.join("backups");
    std::fs::create_dir_all(&backups)?;
    for e in std::fs::read_dir(&backups)?.flatten() {
        std::fs::remove_file(e.path())?;
    }
    let now = now();
    let t = Instant::now();
    let file = backups.join(hotline::service::backups::file_name(now));
    let manifest = store.backup_to(&file, now.secs())?;
    let secs = t.elapsed().as_secs_f64();
    let mib = manifest.bytes as f64 / 1024.0 / 1024.0;
    say.line(format!("backup: {secs:.1} s, {mib:.0} MiB"));
    Ok((secs, mib))
}

/// With the backup left out, the server's own nightly job may find a backup due and copy
/// the whole store in the middle of the measurements: says so, so such figures are not taken
/// for the product's.
fn warn_if_backup_due(store: &Store, dir: &Path, say: Say) -> Result<()> {
    let settings = store
        .read(|tx| {
            hotline::store::meta::get::<hotline::domain::settings::Settings>(tx, "settings")
        })?
        .unwrap_or_default();
    let (hour, minute) = settings.backup_hm();
    let newest = hotline::service::backups::list_files(&dir.join("backups"))
        .first()
        .map(|f| f.at);
    if hotline::service::backups::due_at(now(), newest, hour, minute) {
        say.line(
            "warning: a nightly backup is due; the server will take it during the run \
             (leave out --skip backup to take it first)"
                .to_string(),
        );
    }
    Ok(())
}

/// What `--json` prints as its last line.
struct Figures {
    orders: usize,
    redb_rate: f64,
    intake_rate: Value,
    intake_p99: Value,
    p99: Value,
    startup_ms: u64,
    rss_idle: f64,
    rss_load: f64,
    backup_s: f64,
    backup_mib: f64,
    binary_mib: f64,
}

impl Figures {
    fn json(self) -> Value {
        // A part left out (`--skip`) is null.
        let figure = |v: f64| {
            if v.is_nan() {
                Value::Null
            } else {
                json!(round1(v))
            }
        };
        json!({
            "orders": self.orders,
            "redb_commit_per_s": round1(self.redb_rate),
            "intake_per_s": self.intake_rate,
            "intake_p99_ms": self.intake_p99,
            "p99_ms": self.p99,
            "startup_ms": self.startup_ms,
            "rss_idle_mib": round1(self.rss_idle),
            "rss_load_mib": round1(self.rss_load),
            "backup_s": figure(self.backup_s),
            "backup_mib": figure(self.backup_mib),
            "binary_mib": round1(self.binary_mib),
        })
    }
}

/// What the running server showed: memory idle and under load, intake, pages.
struct Run {
    rss_idle: f64,
    rss_load: f64,
    intake_rate: Value,
    intake_p99: Value,
    p99: Value,
}

/// Starts the server and measures it: idle, a hundred sign-ins, intake, pages; then stops it.
async fn run(binary: &Path, own: bool, dir: &Path, args: &Args, say: Say) -> Result<Run> {
    let skip = |part: &str| args.skip.iter().any(|s| s == part);
    let (mut server, first_start) = start(binary, own, dir).await?;
    say.line(format!("first start: {} ms", first_start.as_millis()));
    // The full-text index builds in the background; the pages are measured once it has.
    let ready = search_ready(&server).await;
    say.line(format!("search index ready after {ready:.1} s"));
    // Idle is when the server has stopped working: after a rebuild the index still merges
    // its segments in the background for a while.
    let quiet = server.quiet().await;
    let rss_idle = server.rss_mib();
    say.line(format!(
        "RSS idle: {rss_idle:.1} MiB (the server went quiet after {quiet:.1} s)"
    ));
    let (sampler, peak, phase) = rss_sampler(server.child.id(), rss_idle);
    let set_phase = |name: &'static str| *phase.lock().unwrap_or_else(|p| p.into_inner()) = name;
    set_phase("sign-ins");

    // A hundred sign-ins (argon2's memory is reused, not kept).
    for _ in 0..100 {
        server.client().login("bench-op", PASSWORD).await?;
    }
    set_phase("intake");
    let (intake_rate, intake_p99) = if skip("intake") {
        (Value::Null, Value::Null)
    } else {
        intake_levels(&server, args.seconds, say).await?
    };
    set_phase("pages");
    let p99 = if skip("pages") {
        Value::Null
    } else {
        pages(&server, args.samples, say).await?
    };
    sampler.abort();
    let top = *peak.lock().unwrap_or_else(|p| p.into_inner());
    let rss_load = top.rss;
    say.line(format!(
        "RSS under load (peak): {rss_load:.1} MiB ({:.1} anonymous, {:.1} file-backed; during {})",
        top.anon, top.file, top.phase
    ));

    server.stop();
    Ok(Run {
        rss_idle,
        rss_load,
        intake_rate,
        intake_p99,
        p99,
    })
}

async fn bench(args: Args) -> Result<()> {
    let (dir, temporary) = match &args.data {
        Some(d) => (d.clone(), false),
        None => (
            std::env::temp_dir().join(format!("hotline-bench-{}", std::process::id())),
            true,
        ),
    };
    std::fs::create_dir_all(&dir)?;
    let say = Say { json: args.json };
    let skip = |part: &str| args.skip.iter().any(|s| s == part);
    let (binary, own) = match &args.server {
        Some(p) => (p.clone(), false),
        None => (std::env::current_exe()?, true),
    };

    let redb_rate = redb_commit_rate(&dir)?;
    say.line(format!(
        "redb durable commits/s (one writer): {redb_rate:.0}"
    ));
    let (backup_s, backup_mib) = {
        let store = load(&dir, args.orders, say)?;
        if skip("backup") {
            warn_if_backup_due(&store, &dir, say)?;
            (f64::NAN, f64::NAN)
        } else {
            backup(&store, &dir, say)?
        }
    };

    let run = run(&binary, own, &dir, &args, say).await?;

    // Start-up of a box this size.
    let (mut server, startup) = start(&binary, own, &dir).await?;
    say.line(format!(
        "start-up with {} orders: {} ms",
        args.orders,
        startup.as_millis()
    ));
    server.stop();

    let binary_mib = std::fs::metadata(&binary)?.len() as f64 / 1024.0 / 1024.0;
    say.line(format!(
        "binary: {binary_mib:.1} MiB ({})",
        binary.display()
    ));
    if temporary {
        let _ = std::fs::remove_dir_all(&dir);
    }
    if args.json {
        println!(
            "{}",
            Figures {
                orders: args.orders,
                redb_rate,
                intake_rate: run.intake_rate,
                intake_p99: run.intake_p99,
                p99: run.p99,
                startup_ms: startup.as_millis() as u64,
                rss_idle: run.rss_idle,
                rss_load: run.rss_load,
                backup_s,
                backup_mib,
                binary_mib,
            }
            .json()
        );
    }
    Ok(())
}
