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

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};

use client::Client;
use hotline::domain::role::Role;
use hotline::domain::time::Timestamp;
use hotline::store::Store;

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

/// p50 and p99 of samples, in milliseconds.
fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0);
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
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

struct Server {
    child: Child,
    addr: std::net::SocketAddr,
    tls: tokio_rustls::TlsConnector,
}

impl Server {
    fn client(&self) -> Client {
        Client::new(self.addr, self.tls.clone())
    }

    fn rss_mib(&self) -> f64 {
        rss_of(self.child.id()).unwrap_or(0.0)
    }

    async fn metric(&self, name: &str) -> Option<f64> {
        let mut c = self.client();
        let r = c.get("/metrics").await.ok()?;
        let text = String::from_utf8_lossy(&r.body).to_string();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .and_then(|v| v.trim().parse().ok())
    }

    /// CPU seconds the server has used (user and system).
    /// Waits until the server used under 5 % of a core for two seconds running (at most two
    /// minutes); how long that took, in seconds.
    async fn quiet(&self) -> f64 {
        let started = Instant::now();
        let mut calm = 0;
        while calm < 2 && started.elapsed() < Duration::from_secs(120) {
            let cpu = self.cpu_secs();
            tokio::time::sleep(Duration::from_secs(1)).await;
            calm = if self.cpu_secs() - cpu < 0.05 {
                calm + 1
            } else {
                0
            };
        }
        started.elapsed().as_secs_f64()
    }

    fn cpu_secs(&self) -> f64 {
        let stat =
            std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap_or_default();
        // Fields after the command name (which may hold spaces): utime and stime are the
        // 12th and 13th of them, in clock ticks (100 a second on Linux).
        let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
        let f: Vec<f64> = rest
            .split_whitespace()
            .map(|v| v.parse().unwrap_or(0.0))
            .collect();
        (f.get(11).unwrap_or(&0.0) + f.get(12).unwrap_or(&0.0)) / 100.0
    }

    /// Durable commits, the changes in them, the seconds the commits took, the seconds
    /// batches stood open before them, and the seconds the changes took in them, so far.
    /// Then the folds of the pending index keys and the seconds they took.
    async fn commits(&self) -> [f64; 7] {
        let mut v = [0.0; 7];
        for (slot, name) in v.iter_mut().zip([
            "hotline_store_commits_total",
            "hotline_store_changes_total",
            "hotline_store_commit_seconds_total",
            "hotline_store_batch_open_seconds_total",
            "hotline_store_change_seconds_total",
            "hotline_store_index_folds_total",
            "hotline_store_index_fold_seconds_total",
        ]) {
            *slot = self.metric(name).await.unwrap_or(0.0);
        }
        v
    }

    fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Starts the server and waits for its first `/healthz`; the time that took.
async fn start(binary: &Path, own: bool, dir: &Path) -> Result<(Server, Duration)> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let mut cmd = Command::new(binary);
    if own {
        cmd.arg("--hotline");
    }
    let started = Instant::now();
    let child = cmd
        .args(["serve", "--data"])
        .arg(dir)
        .args(["--listen", &addr.to_string()])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let ca = hotline::http::tls::ca_path(dir);
    loop {
        if started.elapsed() > Duration::from_secs(120) {
            bail!("the server did not answer within two minutes");
        }
        if let Ok(pem) = std::fs::read(&ca)
            && let Ok(tls) = client::connector(&pem)
        {
            let mut c = Client::new(addr, tls.clone());
            if c.get("/healthz").await.is_ok_and(|r| r.status == 200) {
                return Ok((Server { child, addr, tls }, started.elapsed()));
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Intake by `clients` signed-in operators for `secs`: orders a second, p50 and p99 in ms,
/// and what the server did meanwhile (the sign-ins, argon2 at ~20 MiB each, come before it).
async fn intake(server: &Server, clients: usize, secs: u64) -> Result<Intake> {
    let mut sessions = Vec::new();
    for _ in 0..clients {
        let mut c = server.client();
        c.login("bench-op", PASSWORD).await?;
        sessions.push(c);
    }
    let commits = server.commits().await;
    let cpu = server.cpu_secs();
    let until = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    // Each run asks with other callers and matters (the county's own list, in every town).
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64)
        .wrapping_mul(clients as u64 * 1000);
    let mut tasks = Vec::new();
    for (k, mut c) in sessions.into_iter().enumerate() {
        tasks.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            let mut i = 0u64;
            while Instant::now() < until {
                let body = hotline::demo::sample_request(seed + k as u64, i);
                let t = Instant::now();
                match c.post_json("/api/v1/orders", &body).await {
                    Ok(r) if r.status == 201 => lat.push(t.elapsed().as_secs_f64() * 1000.0),
                    Ok(r) => eprintln!("intake answered {}", r.status),
                    Err(e) => eprintln!("intake failed: {e}"),
                }
                i += 1;
            }
            lat
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await?);
    }
    let orders = all.len() as f64;
    let rate = orders / started.elapsed().as_secs_f64();
    let cpu = server.cpu_secs() - cpu;
    let after = server.commits().await;
    let (p50, p99) = percentiles(all);
    let batches = (after[0] - commits[0]).max(1.0);
    let per_batch = |i: usize| (after[i] - commits[i]) * 1000.0 / batches;
    Ok(Intake {
        rate,
        p50,
        p99,
        changes_a_commit: (after[1] - commits[1]) / batches,
        commit_ms: per_batch(2),
        open_ms: per_batch(3),
        change_ms: per_batch(4),
        folds: after[5] - commits[5],
        fold_ms: (after[6] - commits[6]) * 1000.0 / (after[5] - commits[5]).max(1.0),
        cpu_ms_an_order: cpu * 1000.0 / orders.max(1.0),
    })
}

struct Intake {
    rate: f64,
    p50: f64,
    p99: f64,
    changes_a_commit: f64,
    commit_ms: f64,
    /// A batch's time open before its commit, and the part its changes took.
    open_ms: f64,
    change_ms: f64,
    /// Folds of the pending index keys during the run, and the time one took.
    folds: f64,
    fold_ms: f64,
    cpu_ms_an_order: f64,
}

/// p50 and p99 of `samples` sequential GETs of `path` by one signed-in user.
async fn page(c: &mut Client, path: &str, samples: usize) -> Result<(f64, f64)> {
    let mut lat = Vec::new();
    for _ in 0..samples {
        let t = Instant::now();
        let r = c.get(path).await?;
        if r.status != 200 {
            bail!("{path} answered {}", r.status);
        }
        lat.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    Ok(percentiles(lat))
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

/// The highest resident memory seen, in MiB: all of it, its anonymous and file-backed parts
/// (mapped files such as the search index's segments count in the second), and the phase of
/// the benchmark it was seen in.
#[derive(Clone, Copy, Debug, Default)]
struct Peak {
    rss: f64,
    anon: f64,
    file: f64,
    phase: &'static str,
}

type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

/// Keeps the highest resident memory of process `pid` seen while it runs; `phase` names
/// what the benchmark does meanwhile.
fn rss_sampler(
    pid: u32,
    start: f64,
) -> (
    tokio::task::JoinHandle<()>,
    Shared<Peak>,
    Shared<&'static str>,
) {
    let peak = std::sync::Arc::new(std::sync::Mutex::new(Peak {
        rss: start,
        phase: "idle",
        ..Peak::default()
    }));
    let phase = std::sync::Arc::new(std::sync::Mutex::new("idle"));
    let handle = {
        let (peak, phase) = (peak.clone(), phase.clone());
        tokio::spawn(async move {
            loop {
                if let Some((rss, anon, file)) = rss_parts(pid) {
                    let mut p = peak.lock().unwrap_or_else(|p| p.into_inner());
                    if rss > p.rss {
                        let phase = *phase.lock().unwrap_or_else(|p| p.into_inner());
                        *p = Peak {
                            rss,
                            anon,
                            file,
                            phase,
                        };
                    }
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    (handle, peak, phase)
}

/// A line of `/proc/PID/status` in MiB.
fn status_mib(status: &str, field: &str) -> Option<f64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// Resident memory of a process in MiB.
fn rss_of(pid: u32) -> Option<f64> {
    status_mib(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "VmRSS:",
    )
}

/// Resident memory of a process in MiB: all, anonymous, file-backed.
fn rss_parts(pid: u32) -> Option<(f64, f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some((
        status_mib(&status, "VmRSS:")?,
        status_mib(&status, "RssAnon:").unwrap_or(0.0),
        status_mib(&status, "RssFile:").unwrap_or(0.0),
    ))
}

/// Intake at 1, 8 and 32 clients: orders a second and p99, each `{c1, c8, c32}`.
async fn intake_levels(server: &Server, secs: u64, say: Say) -> Result<(Value, Value)> {
    let mut rates = json!({});
    let mut p99s = json!({});
    for clients in [1usize, 8, 32] {
        let i = intake(server, clients, secs).await?;
        say.line(format!(
            "intake, {clients:>2} clients: {:.0}/s, p50 {:.1} ms, p99 {:.1} ms; \
             {:.1} changes a commit, open {:.1} ms ({:.1} in changes) and {:.1} ms committing; \
             {:.0} folds of {:.1} ms; server CPU {:.2} ms an order",
            i.rate,
            i.p50,
            i.p99,
            i.changes_a_commit,
            i.open_ms,
            i.change_ms,
            i.commit_ms,
            i.folds,
            i.fold_ms,
            i.cpu_ms_an_order,
        ));
        rates[format!("c{clients}")] = json!(round1(i.rate));
        p99s[format!("c{clients}")] = json!(round1(i.p99));
    }
    Ok((rates, p99s))
}

/// The pages each role opens, by name: (name, user, path).
async fn page_list(server: &Server) -> Result<Vec<(&'static str, &'static str, String)>> {
    let mut op = server.client();
    op.login("bench-op", PASSWORD).await?;
    let one: Value = op
        .get("/api/v1/orders?per_page=1&state=closed")
        .await?
        .json()?;
    let id = one["items"][0]["id"].as_u64().context("no order to open")?;
    let phone = {
        let v: Value = op.get(&format!("/api/v1/orders/{id}")).await?.json()?;
        v["caller"]["phone"]
            .as_str()
            .unwrap_or("13900000000")
            .to_string()
    };
    let (month_from, month_to) = ("2026-10-01", "2026-11-01");
    let mut pages: Vec<(&str, &str, String)> = vec![
        ("order", "bench-op", format!("/orders/{id}")),
        ("order_api", "bench-op", format!("/api/v1/orders/{id}")),
        ("orders", "bench-op", "/orders".into()),
        ("orders_state", "bench-op", "/orders?state=closed".into()),
        ("orders_kind", "bench-op", "/orders?kind=complaint".into()),
        ("orders_channel", "bench-op", "/orders?channel=phone".into()),
        ("orders_unit", "bench-op", "/orders?unit=cgj".into()),
        (
            "orders_dates",
            "bench-op",
            format!("/orders?from={month_from}&to={month_to}"),
        ),
        (
            "orders_two_filters",
            "bench-op",
            "/orders?state=closed&kind=complaint".into(),
        ),
        ("orders_deep_page", "bench-op", "/orders?page=1000".into()),
        (
            "orders_api",
            "bench-op",
            "/api/v1/orders?per_page=50".into(),
        ),
        ("phone_lookup", "bench-op", format!("/orders?phone={phone}")),
        ("search", "bench-op", "/orders?q=%E5%81%9C%E6%B0%B4".into()),
    ];
    for (name, user) in [
        ("home_operator", "bench-op"),
        ("home_shift_lead", "bench-lead"),
        ("home_qa", "bench-qa"),
        ("home_supervisor", "bench-sup"),
        ("home_admin", "bench-admin"),
        ("home_unit", "bench-unit"),
    ] {
        pages.push((name, user, "/".into()));
    }
    Ok(pages)
}

/// p99 of every page in `page_list`, as a map by name.
async fn pages(server: &Server, samples: usize, say: Say) -> Result<Value> {
    let mut p99 = json!({});
    let mut sessions: std::collections::HashMap<&str, Client> = std::collections::HashMap::new();
    for (name, user, path) in page_list(server).await? {
        if !sessions.contains_key(user) {
            let mut c = server.client();
            c.login(user, PASSWORD).await?;
            sessions.insert(user, c);
        }
        let c = sessions.get_mut(user).context("session")?;
        let (p50, p99v) = page(c, &path, samples).await?;
        say.line(format!("{name:<20} p50 {p50:>7.1} ms   p99 {p99v:>7.1} ms"));
        p99[name] = json!(round1(p99v));
    }
    Ok(p99)
}

/// Seconds until the server's full-text index has taken in every order.
async fn search_ready(server: &Server) -> f64 {
    let t = Instant::now();
    while server.metric("hotline_search_lag").await.unwrap_or(0.0) > 0.0 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    t.elapsed().as_secs_f64()
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

    let (mut server, first_start) = start(&binary, own, &dir).await?;
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

    // Start-up of a box this size.
    server.stop();
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
                intake_rate,
                intake_p99,
                p99,
                startup_ms: startup.as_millis() as u64,
                rss_idle,
                rss_load,
                backup_s,
                backup_mib,
                binary_mib,
            }
            .json()
        );
    }
    Ok(())
}
