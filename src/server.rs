//! Starting the product: data directory, store, certificates, first-boot code, listener.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{Context, Result, bail};
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::clock::Clock;
use crate::http::{self, AppState, tls};
use crate::service::{App, setup};
use crate::store::Store;

pub struct ServeOptions {
    pub data: PathBuf,
    pub listen: SocketAddr,
    pub plain_http: bool,
    pub clock: Arc<dyn Clock>,
    /// Build and keep the full-text index (the update self-check on a data copy does without).
    pub search: bool,
    /// Bounds on connections and slow clients.
    pub limits: http::server::Limits,
}

/// A running server.
pub struct Running {
    pub addr: SocketAddr,
    /// The one-time setup code, when the database has no users yet.
    pub setup_code: Option<String>,
    pub cert: Option<tls::CertSummary>,
    /// Whether this start created the CA or the server certificate.
    pub cert_created: bool,
    pub app: Arc<App>,
    stop: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Running {
    /// Stops accepting, lets in-flight requests finish, and closes the database.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// The start self-check: one real request to this server's own `/healthz` through its
    /// listener (over TLS when it serves TLS, trusting exactly the certificate it serves).
    pub async fn probe_healthz(&self) -> Result<()> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut addr = self.addr;
        if addr.ip().is_unspecified() {
            addr.set_ip(if addr.is_ipv4() {
                std::net::Ipv4Addr::LOCALHOST.into()
            } else {
                std::net::Ipv6Addr::LOCALHOST.into()
            });
        }
        let request = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        let exchange = async {
            let tcp = tokio::net::TcpStream::connect(addr).await?;
            let mut reply = Vec::new();
            match &self.cert {
                None => {
                    let mut tcp = tcp;
                    tcp.write_all(request).await?;
                    tcp.read_to_end(&mut reply).await?;
                }
                Some(cert) => {
                    let connector = tls::pinned_connector(&cert.fingerprint_sha256)?;
                    let name = rustls::pki_types::ServerName::try_from("localhost")?;
                    let mut s = connector.connect(name, tcp).await?;
                    s.write_all(request).await?;
                    // A peer closing without close_notify is fine here: the status line is in.
                    let _ = s.read_to_end(&mut reply).await;
                }
            }
            anyhow::Ok(reply)
        };
        let reply = tokio::time::timeout(std::time::Duration::from_secs(10), exchange)
            .await
            .context("/healthz did not answer within 10 s")??;
        let head = String::from_utf8_lossy(&reply[..reply.len().min(64)]).to_string();
        if !head.starts_with("HTTP/1.1 200") {
            bail!("/healthz answered {:?}", head.lines().next().unwrap_or(""));
        }
        Ok(())
    }

    /// Waits for the server to end by itself.
    pub async fn wait(self) {
        let _ = self.task.await;
    }
}

/// Once a minute: urge overdue orders and purge dead sessions. Ends at shutdown.
async fn background_jobs(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    // The first minute tick comes a minute after start: the box settles before catching up.
    let mut tick = tokio::time::interval_at(
        tokio::time::Instant::now() + std::time::Duration::from_secs(60),
        std::time::Duration::from_secs(60),
    );
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The indexer looks for new order changes five times a second (a cheap read); it is
    // what keeps full-text search current, no request indexes by itself.
    let mut index_tick = tokio::time::interval(std::time::Duration::from_millis(200));
    index_tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = index_tick.tick() => {
                let a = app.clone();
                // Slice after slice until the index has every change (a rebuild of a big
                // box runs here, in the background, while search says it is behind).
                let stop_now = stop.clone();
                let _ = tokio::task::spawn_blocking(move || {
                    if let Err(e) = crate::service::orders::flush_views(&a) {
                        tracing::warn!(error = %e, "who-viewed records not written yet");
                    }
                    let Some(ix) = a.search.get() else {
                        return;
                    };
                    loop {
                        match ix.catch_up(&a.store) {
                            Ok(n) if n >= crate::search::CATCH_UP_SLICE => {
                                if stop_now.has_changed().unwrap_or(true) {
                                    return;
                                }
                            }
                            Ok(_) => return,
                            Err(e) => {
                                tracing::error!(error = %e, "search index catch-up failed");
                                return;
                            }
                        }
                    }
                })
                .await;
                continue;
            }
            _ = stop.changed() => return,
        }
        let a = app.clone();
        let done = tokio::task::spawn_blocking(move || {
            match crate::service::backups::nightly(&a) {
                Some(Ok(info)) => tracing::info!(file = %info.name, "nightly backup written"),
                Some(Err(e)) => tracing::error!(error = %e, "nightly backup failed"),
                None => {}
            }
            match crate::service::suggest::nightly(&a) {
                Some(Ok(acc)) => tracing::info!(
                    sample = acc.sample,
                    top1 = acc.top1_rate,
                    top3 = acc.top3_rate,
                    "dispatch suggestions measured"
                ),
                Some(Err(e)) => {
                    tracing::warn!(error = %e, "measuring the dispatch suggestions failed")
                }
                None => {}
            }
            if crate::domain::words::release_if_unused() {
                tracing::debug!("word segmenter let go until the next registration");
            }
            let urged = crate::service::orders::actions::urge_overdue(&a);
            let now = a.now();
            let idle = a.settings().idle_secs();
            let purged = a
                .store
                .write(|tx| crate::store::sessions::purge_expired(tx, now, idle));
            (urged, purged)
        })
        .await;
        match done {
            Ok((Ok(n), _)) if n > 0 => tracing::info!(urged = n, "overdue orders urged"),
            Ok((Err(e), _)) => tracing::error!(error = %e, "overdue job failed"),
            _ => {}
        }
    }
}

/// Brings the store back after a storage failure: reopens it, and once a full disk has room
/// again (or another failure has passed) tries a write; healthy again, writes resume without
/// a restart. A store that stays broken for five minutes under systemd ends the process so
/// systemd starts it afresh. Ends at shutdown.
async fn keep_store_writable(app: Arc<App>, mut stop: tokio::sync::watch::Receiver<bool>) {
    use crate::store::{Health, RESUME_FREE_BYTES, free_bytes};
    let mut failing_since: Option<std::time::Instant> = None;
    let mut last = Health::Ok;
    loop {
        tokio::select! {
            () = app.store.wake.notified() => {}
            () = tokio::time::sleep(std::time::Duration::from_secs(2)) => {}
            _ = stop.changed() => return,
        }
        if app.store.health() == Health::Ok && !app.store.needs_reopen() {
            failing_since = None;
            continue;
        }
        let a = app.clone();
        let health = tokio::task::spawn_blocking(move || {
            if a.store.needs_reopen()
                && let Err(e) = a.store.reopen()
            {
                tracing::warn!(error = %e, "database reopen failed; trying again");
                return a.store.health();
            }
            let room = free_bytes(a.store.dir()).is_none_or(|b| b >= RESUME_FREE_BYTES);
            match a.store.health() {
                Health::DiskFull { .. } if !room => {}
                Health::Ok => {}
                _ => {
                    if let Err(e) = a.store.probe_write() {
                        tracing::warn!(error = %e, "the database cannot write yet");
                    }
                }
            }
            a.store.health()
        })
        .await
        .unwrap_or(Health::Failed {
            since: 0,
            detail: "recovery task failed".into(),
        });
        if health != last {
            match &health {
                Health::Ok => crate::notify::status("运行正常"),
                Health::DiskFull { .. } => {
                    crate::notify::status("磁盘空间不足：暂停保存，查询照常；清理磁盘后自动恢复")
                }
                Health::Failed { detail, .. } => {
                    crate::notify::status(&format!("数据库故障，正在恢复：{detail}"))
                }
            }
            last = health.clone();
        }
        match health {
            Health::Ok | Health::DiskFull { .. } => failing_since = None,
            Health::Failed { .. } => {
                let since = *failing_since.get_or_insert_with(std::time::Instant::now);
                if since.elapsed() > std::time::Duration::from_secs(300)
                    && crate::update::install::under_systemd()
                {
                    tracing::error!(
                        "the database has not recovered in five minutes: exiting for systemd to restart the service"
                    );
                    std::process::exit(70);
                }
            }
        }
    }
}

fn prepare_data_dir(dir: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let fresh = !dir.exists();
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    if fresh {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

pub async fn start(opts: ServeOptions) -> Result<Running> {
    if opts.plain_http && !opts.listen.ip().is_loopback() {
        bail!(
            "--plain-http is only allowed on a loopback address (127.0.0.1 or ::1), not {}",
            opts.listen
        );
    }
    http::templates::check_all().map_err(|e| anyhow::anyhow!(e))?;
    prepare_data_dir(&opts.data)?;
    let store = Store::open(&opts.data)
        .with_context(|| format!("opening the database in {}", opts.data.display()))?;
    let app = Arc::new(
        App::new(store, opts.clock.clone(), opts.data.clone())
            .map_err(|e| anyhow::anyhow!("{e}"))?,
    );
    let setup_code = setup::prepare(&app).map_err(|e| anyhow::anyhow!("{e}"))?;
    if opts.search {
        let index = Arc::new(
            crate::search::SearchIndex::open(&opts.data).map_err(|e| anyhow::anyhow!("{e}"))?,
        );
        // Caught up in the background (see `background_jobs`): never blocking the start.
        let _ = app.search.set(index);
    }

    let (tls_config, resolver, summary, created) = if opts.plain_http {
        (None, None, None, false)
    } else {
        let (key, summary, created) = tls::load_or_create(&opts.data)?;
        let resolver = Arc::new(tls::CertResolver::new(key, summary.clone()));
        let cfg = Arc::new(tls::server_config(resolver.clone())?);
        (Some(cfg), Some(resolver), Some(summary), created)
    };

    let listener = TcpListener::bind(opts.listen)
        .await
        .with_context(|| format!("listening on {}", opts.listen))?;
    let addr = listener.local_addr()?;
    let state = AppState {
        app: app.clone(),
        tls: tls_config.is_some(),
        cert: resolver,
    };
    let router = http::router(state);
    let (stop_tx, stop_rx) = oneshot::channel::<()>();
    let (jobs_stop, jobs_rx) = tokio::sync::watch::channel(false);
    let jobs = tokio::spawn(background_jobs(app.clone(), jobs_rx.clone()));
    let outbox = tokio::spawn(crate::service::outbox::run(app.clone(), jobs_rx.clone()));
    let guardian = tokio::spawn(keep_store_writable(app.clone(), jobs_rx));
    let app_for_stop = app.clone();
    let task = tokio::spawn(async move {
        let stopping = app_for_stop.clone();
        http::server::serve_with(listener, router, tls_config, opts.limits, async move {
            let _ = stop_rx.await;
            // Open event streams end now, or the drain would wait for them.
            let _ = stopping.stopping.send(true);
        })
        .await;
        let _ = jobs_stop.send(true);
        let _ = jobs.await;
        let _ = outbox.await;
        let _ = guardian.await;
        // What was looked at just before the stop is written too.
        let a = app_for_stop.clone();
        let _ = tokio::task::spawn_blocking(move || crate::service::orders::flush_views(&a)).await;
    });
    Ok(Running {
        addr,
        setup_code,
        cert: summary,
        cert_created: created,
        app,
        stop: Some(stop_tx),
        task,
    })
}
