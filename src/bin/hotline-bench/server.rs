//! The server under test: started as its own process, its memory and CPU read from `/proc`.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Result, bail};

use crate::client::Client;

pub(crate) struct Server {
    pub(crate) child: Child,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) tls: tokio_rustls::TlsConnector,
}

impl Server {
    pub(crate) fn client(&self) -> Client {
        Client::new(self.addr, self.tls.clone())
    }

    pub(crate) fn rss_mib(&self) -> f64 {
        rss_of(self.child.id()).unwrap_or(0.0)
    }

    pub(crate) async fn metric(&self, name: &str) -> Option<f64> {
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
    pub(crate) async fn quiet(&self) -> f64 {
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

    pub(crate) fn cpu_secs(&self) -> f64 {
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
    pub(crate) async fn commits(&self) -> [f64; 7] {
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

    pub(crate) fn stop(&mut self) {
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(self.child.id().to_string())
            .status();
        let _ = self.child.wait();
    }
}

/// Starts the server and waits for its first `/healthz`; the time that took.
pub(crate) async fn start(binary: &Path, own: bool, dir: &Path) -> Result<(Server, Duration)> {
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
            && let Ok(tls) = crate::client::connector(&pem)
        {
            let mut c = Client::new(addr, tls.clone());
            if c.get("/healthz").await.is_ok_and(|r| r.status == 200) {
                return Ok((Server { child, addr, tls }, started.elapsed()));
            }
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// The highest resident memory seen, in MiB: all of it, its anonymous and file-backed parts
/// (mapped files such as the search index's segments count in the second), and the phase of
/// the benchmark it was seen in.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Peak {
    pub(crate) rss: f64,
    pub(crate) anon: f64,
    pub(crate) file: f64,
    pub(crate) phase: &'static str,
}

pub(crate) type Shared<T> = std::sync::Arc<std::sync::Mutex<T>>;

/// Keeps the highest resident memory of process `pid` seen while it runs; `phase` names
/// what the benchmark does meanwhile.
pub(crate) fn rss_sampler(
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
pub(crate) fn status_mib(status: &str, field: &str) -> Option<f64> {
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kb| kb.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
}

/// Resident memory of a process in MiB.
pub(crate) fn rss_of(pid: u32) -> Option<f64> {
    status_mib(
        &std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?,
        "VmRSS:",
    )
}

/// Resident memory of a process in MiB: all, anonymous, file-backed.
pub(crate) fn rss_parts(pid: u32) -> Option<(f64, f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some((
        status_mib(&status, "VmRSS:")?,
        status_mib(&status, "RssAnon:").unwrap_or(0.0),
        status_mib(&status, "RssFile:").unwrap_or(0.0),
    ))
}

/// Seconds until the server's full-text index has taken in every order.
pub(crate) async fn search_ready(server: &Server) -> f64 {
    let t = Instant::now();
    while server.metric("hotline_search_lag").await.unwrap_or(0.0) > 0.0 {
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    t.elapsed().as_secs_f64()
}
