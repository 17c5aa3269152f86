//! What the benchmark measures over HTTPS: intake at each level of clients, and pages.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};

use crate::client::Client;
use crate::server::Server;
use crate::{PASSWORD, Say};

/// p50 and p99 of samples, in milliseconds.
pub(crate) fn percentiles(mut ms: Vec<f64>) -> (f64, f64) {
    if ms.is_empty() {
        return (0.0, 0.0);
    }
    ms.sort_by(f64::total_cmp);
    let at = |p: f64| ms[((ms.len() as f64 - 1.0) * p).round() as usize];
    (at(0.50), at(0.99))
}

pub(crate) fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Intake by `clients` signed-in operators for `secs`: orders a second, p50 and p99 in ms,
/// and what the server did meanwhile (the sign-ins, argon2 at ~20 MiB each, come before it).
pub(crate) async fn intake(server: &Server, clients: usize, secs: u64) -> Result<Intake> {
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

pub(crate) struct Intake {
    pub(crate) rate: f64,
    pub(crate) p50: f64,
    pub(crate) p99: f64,
    pub(crate) changes_a_commit: f64,
    pub(crate) commit_ms: f64,
    /// A batch's time open before its commit, and the part its changes took.
    pub(crate) open_ms: f64,
    pub(crate) change_ms: f64,
    /// Folds of the pending index keys during the run, and the time one took.
    pub(crate) folds: f64,
    pub(crate) fold_ms: f64,
    pub(crate) cpu_ms_an_order: f64,
}

/// p50 and p99 of `samples` sequential GETs of `path` by one signed-in user.
pub(crate) async fn page(c: &mut Client, path: &str, samples: usize) -> Result<(f64, f64)> {
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

/// Intake at 1, 8 and 32 clients: orders a second and p99, each `{c1, c8, c32}`.
pub(crate) async fn intake_levels(server: &Server, secs: u64, say: Say) -> Result<(Value, Value)> {
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
pub(crate) async fn page_list(
    server: &Server,
) -> Result<Vec<(&'static str, &'static str, String)>> {
    let mut op = server.client();
    op.login("bench-op", PASSWORD).await?;
    let one: Value = op
        .get("/api/v1/orders?per_page=1&state=closed")
        .await?
        .json()?;
    let id = one["items"][0]["id"].as_u64().context("no order to open")?;
    let (phone, code) = {
        let v: Value = op.get(&format!("/api/v1/orders/{id}")).await?.json()?;
        (
            v["caller"]["phone"]
                .as_str()
                .unwrap_or("13900000000")
                .to_string(),
            v["query_code"].as_str().unwrap_or("000000").to_string(),
        )
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
        // Issue 12: an order by its 查询码, the dispatch suggestion at intake, the roster.
        ("code_lookup", "bench-op", format!("/api/v1/orders?code={code}")),
        (
            "suggest",
            "bench-op",
            "/api/v1/suggest/units?category=1001&town=%E6%B4%A3%E6%B0%B4%E9%95%87&text=%E5%BB%BA%E8%AE%BE%E8%B7%AF%E8%B7%AF%E7%81%AF%E4%B8%8D%E4%BA%AE".into(),
        ),
        ("roster", "bench-lead", "/roster".into()),
        // The unit assessment over a month and a year: per-day facts, never the orders.
        (
            "report_units_month",
            "bench-sup",
            format!("/api/v1/reports/units?from={month_from}&to={month_to}"),
        ),
        (
            "report_units_year",
            "bench-sup",
            "/api/v1/reports/units?from=2025-11-01&to=2026-11-01".into(),
        ),
        (
            "report_page_month",
            "bench-sup",
            format!("/reports?from={month_from}&to={month_to}"),
        ),
        // Hot topics: categories, towns and title words against the period before.
        (
            "report_hot_month",
            "bench-sup",
            format!("/api/v1/reports/hot?from={month_from}&to={month_to}"),
        ),
        (
            "report_hot_year",
            "bench-sup",
            "/api/v1/reports/hot?from=2025-11-01&to=2026-11-01".into(),
        ),
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
pub(crate) async fn pages(server: &Server, samples: usize, say: Say) -> Result<Value> {
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
