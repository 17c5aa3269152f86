//! `serve` and `selfcheck`: the server's start, logging, and the signals that stop it.

use super::*;

/// Threads for store calls at most. A writer waiting for its group commit holds one, so the
/// pool must hold every writer of a full batch (the benchmark's 32 clients) besides the
/// readers; an idle thread costs address space, not memory, and leaves after ten seconds.
const BLOCKING_THREADS: usize = 64;

/// The nice value of the request threads (tokio's workers and its blocking pool). The store's
/// writer thread stays at the default 0, so on two busy cores it runs as soon as a batch is
/// waiting instead of queueing behind the requests that feed it: the batch is the one serial
/// step every change passes through (at 32 clients it waited for a core a third of its time).
const REQUEST_NICE: i32 = 10;

/// Lowers the calling thread's priority (on Linux the nice value is per thread). Best effort.
fn lower_priority() {
    if let Err(e) = rustix::process::setpriority_process(None, REQUEST_NICE) {
        tracing::debug!(error = %e, "request thread priority left as it was");
    }
}

pub(super) fn init_logging(data: &Path) -> Result<tracing_appender::non_blocking::WorkerGuard> {
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
pub(super) fn trial_failed(data: &Path, why: &str) {
    use crate::update::install;
    tracing::error!(error = why, "the new binary failed its start self-check");
    if install::failed_start(data, why).is_some() || !install::under_systemd() {
        install::restart(1);
    }
}

/// Records a finished update (confirmed or rolled back) in the audit log once.
pub(super) fn audit_update_outcome(app: &App) {
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

pub(super) fn serve(
    data: PathBuf,
    listen: SocketAddr,
    plain_http: bool,
    demo: bool,
) -> Result<i32> {
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
        .max_blocking_threads(BLOCKING_THREADS)
        .on_thread_start(lower_priority)
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
        banner(&running, &data, plain_http, demo, &demo_accounts);
        tracing::info!(addr = %running.addr, "server started");
        crate::notify::ready();
        feed_watchdog(&running.app);
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

/// What the console shows at start: version, address, certificate fingerprints, demo
/// accounts, the first-boot setup code.
fn banner(
    running: &crate::server::Running,
    data: &Path,
    plain_http: bool,
    demo: bool,
    demo_accounts: &[(String, Role, String)],
) {
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
        for (user, role, pw) in demo_accounts {
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
}

/// The watchdog is fed only while the server answers its own health check.
fn feed_watchdog(app: &Arc<crate::service::App>) {
    let Some(every) = crate::notify::watchdog_interval() else {
        return;
    };
    let app = app.clone();
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

pub(super) fn selfcheck(data: PathBuf) -> Result<i32> {
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

pub(super) async fn wait_for_signal() {
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
