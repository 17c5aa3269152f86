//! `GET /metrics`: Prometheus text for the admin (session) or from the box itself (loopback).

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

use super::extract::Peer;
use super::{AppState, blocking};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::{Actor, backups, system};

/// Requests by status class (1xx…5xx) and their total duration.
pub struct Counters {
    by_class: [AtomicU64; 5],
    micros: AtomicU64,
}

pub static COUNTERS: Counters = Counters {
    by_class: [
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
        AtomicU64::new(0),
    ],
    micros: AtomicU64::new(0),
};

impl Counters {
    pub fn record(&self, status: u16, micros: u64) {
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        self.micros.fetch_add(micros, Ordering::Relaxed);
    }
}

pub async fn metrics(
    State(state): State<AppState>,
    actor: Option<Actor>,
    Peer(ip): Peer,
) -> Result<Response, AppError> {
    let admin = actor.as_ref().is_some_and(|a| a.role == Role::Admin);
    let local = ip.is_some_and(|i| i.is_loopback());
    if !admin && !local {
        return Err(match actor {
            Some(_) => AppError::Forbidden,
            None => AppError::Unauthenticated,
        });
    }
    let cert_expiry = state.cert_summary().map(|c| c.not_after_unix);
    let body = blocking(&state, move |app| {
        let mut s = String::new();
        let _ = writeln!(s, "# HELP hotline_build_info Version and commit of the running binary.\n# TYPE hotline_build_info gauge");
        let _ = writeln!(s, "hotline_build_info{{version=\"{}\",commit=\"{}\"}} 1", system::VERSION, system::COMMIT);
        let _ = writeln!(s, "# TYPE hotline_uptime_seconds gauge\nhotline_uptime_seconds {}", app.now().secs() - app.started_at.secs());
        let _ = writeln!(s, "# HELP hotline_store_writable Whether the database accepts writes (0 while the disk is full).\n# TYPE hotline_store_writable gauge\nhotline_store_writable {}", u8::from(app.store.health() == crate::store::Health::Ok));
        let _ = writeln!(s, "# HELP hotline_http_requests_total Requests answered, by status class.\n# TYPE hotline_http_requests_total counter");
        let mut total = 0;
        for (i, c) in COUNTERS.by_class.iter().enumerate() {
            let n = c.load(Ordering::Relaxed);
            total += n;
            let _ = writeln!(s, "hotline_http_requests_total{{class=\"{}xx\"}} {n}", i + 1);
        }
        let _ = writeln!(s, "# HELP hotline_http_request_duration_seconds Time spent answering.\n# TYPE hotline_http_request_duration_seconds summary");
        let _ = writeln!(s, "hotline_http_request_duration_seconds_sum {:.6}", COUNTERS.micros.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(s, "hotline_http_request_duration_seconds_count {total}");
        let _ = writeln!(s, "# HELP hotline_orders Orders by state.\n# TYPE hotline_orders gauge");
        let system::CommitStats { commits, changes, commit_secs, open_secs, change_secs, folds, fold_secs } = system::commits(app);
        let _ = writeln!(s, "# HELP hotline_store_commits_total Durable commits.\n# TYPE hotline_store_commits_total counter\nhotline_store_commits_total {commits}");
        let _ = writeln!(s, "# HELP hotline_store_changes_total Changes committed (several share a commit under load).\n# TYPE hotline_store_changes_total counter\nhotline_store_changes_total {changes}");
        let _ = writeln!(s, "# HELP hotline_store_commit_seconds_total Time spent committing (pages and fsync).\n# TYPE hotline_store_commit_seconds_total counter\nhotline_store_commit_seconds_total {commit_secs:.6}");
        let _ = writeln!(s, "# HELP hotline_store_batch_open_seconds_total Time batches stood open before their commit.\n# TYPE hotline_store_batch_open_seconds_total counter\nhotline_store_batch_open_seconds_total {open_secs:.6}");
        let _ = writeln!(s, "# HELP hotline_store_change_seconds_total Time the changes took inside the shared transaction.\n# TYPE hotline_store_change_seconds_total counter\nhotline_store_change_seconds_total {change_secs:.6}");
        let _ = writeln!(s, "# HELP hotline_store_index_folds_total Folds of the pending index keys into their tables.\n# TYPE hotline_store_index_folds_total counter\nhotline_store_index_folds_total {folds}");
        let _ = writeln!(s, "# HELP hotline_store_index_fold_seconds_total Time the folds took (pages and fsync).\n# TYPE hotline_store_index_fold_seconds_total counter\nhotline_store_index_fold_seconds_total {fold_secs:.6}");
        if let Some(lag) = system::search_lag(app) {
            let _ = writeln!(s, "# HELP hotline_search_lag Order changes the full-text index has yet to take in.\n# TYPE hotline_search_lag gauge\nhotline_search_lag {lag}");
        }
        let (orders_decoded, rows_decoded) = system::decodes();
        let _ = writeln!(s, "# HELP hotline_order_decodes_total Whole orders read from the store.\n# TYPE hotline_order_decodes_total counter\nhotline_order_decodes_total {orders_decoded}");
        let _ = writeln!(s, "# HELP hotline_row_decodes_total List rows read from the store.\n# TYPE hotline_row_decodes_total counter\nhotline_row_decodes_total {rows_decoded}");
        for (state, n) in system::order_counts(app)? {
            let _ = writeln!(s, "hotline_orders{{state=\"{state}\"}} {n}");
        }
        let last = backups::last_run(app)?;
        let newest = backups::list_files(&backups::dir(app)).first().map(|f| f.at);
        let _ = writeln!(s, "# HELP hotline_backup_last_ok Whether the last backup run succeeded.\n# TYPE hotline_backup_last_ok gauge");
        let _ = writeln!(s, "hotline_backup_last_ok {}", u8::from(last.ok || last.at.is_none()));
        if last.at.is_some() && !app.settings().backup_copy_dir.is_empty() {
            let _ = writeln!(s, "# HELP hotline_backup_copy_last_ok Whether the last backup was copied to the USB path.\n# TYPE hotline_backup_copy_last_ok gauge");
            let _ = writeln!(s, "hotline_backup_copy_last_ok {}", u8::from(last.copy.is_some()));
        }
        if let Some(u) = crate::update::install::read_state(&app.data_dir) {
            let _ = writeln!(s, "# HELP hotline_update_rolled_back Whether the last update was rolled back.\n# TYPE hotline_update_rolled_back gauge");
            let _ = writeln!(s, "hotline_update_rolled_back {}", u8::from(u.phase == crate::update::install::Phase::RolledBack));
        }
        if let Some(t) = newest {
            let _ = writeln!(s, "# TYPE hotline_backup_age_seconds gauge\nhotline_backup_age_seconds {}", app.now().secs() - t);
        }
        if let Some(mb) = system::disk_free_mb(&app.data_dir) {
            let _ = writeln!(s, "# TYPE hotline_disk_free_bytes gauge\nhotline_disk_free_bytes {}", mb * 1024 * 1024);
        }
        if let Some(t) = cert_expiry {
            let _ = writeln!(s, "# TYPE hotline_certificate_expiry_timestamp_seconds gauge\nhotline_certificate_expiry_timestamp_seconds {t}");
        }
        Ok(s)
    })
    .await?;
    let mut resp = body.into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
    );
    Ok(resp)
}
