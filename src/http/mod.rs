//! HTTP: routes, the access guard, pages and the JSON API. The only layer that knows HTTP.

pub mod api;
pub mod assets;
pub mod attachments;
pub mod export;
pub mod extract;
pub mod guard;
pub mod layout;
pub mod metrics;
pub mod open311;
pub mod pages;
pub mod render;
pub mod routes;
pub mod server;
pub mod templates;
pub mod tls;

use std::net::IpAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::from_fn_with_state;

use crate::error::AppError;
use crate::service::App;

/// Largest request body accepted (uploads will get their own, larger limit).
pub const BODY_LIMIT: usize = 256 * 1024;
pub const SESSION_COOKIE: &str = "__Host-hotline";
pub const PRE_COOKIE: &str = "__Host-hotline-pre";
/// Sent at logout: the browser drops the site's storage and cache (not its cookies).
pub const CLEAR_SITE_DATA: &str = "\"cache\", \"storage\"";

#[derive(Clone)]
pub struct AppState {
    pub app: Arc<App>,
    /// Whether the listener speaks TLS (decides the expected Origin scheme).
    pub tls: bool,
    pub cert: Option<Arc<tls::CertResolver>>,
}

impl AppState {
    /// The certificate being served now (it can be swapped at run time).
    pub fn cert_summary(&self) -> Option<tls::CertSummary> {
        self.cert.as_ref().map(|r| r.summary())
    }
}

/// The address of the peer, put on each request by the connection loop.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub IpAddr);

pub fn router(state: AppState) -> Router {
    routes::table_router()
        .fallback(fallback)
        .layer(from_fn_with_state(state.clone(), guard::guard))
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(axum::middleware::from_fn(render::catch_panics))
        .layer(from_fn_with_state(state.clone(), render::finish))
        .with_state(state)
}

async fn fallback() -> AppError {
    AppError::NotFound
}

/// Runs a blocking service call (store access) off the async threads.
pub async fn blocking<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&App) -> Result<T, AppError> + Send + 'static,
{
    let app = state.app.clone();
    tokio::task::spawn_blocking(move || f(&app))
        .await
        .map_err(|e| AppError::Internal(format!("blocking task failed: {e}")))?
}

/// Like `blocking`, for calls that hash passwords: at most `HASHING_PERMITS` at once.
pub async fn hashing<T, F>(state: &AppState, f: F) -> Result<T, AppError>
where
    T: Send + 'static,
    F: FnOnce(&App) -> Result<T, AppError> + Send + 'static,
{
    let _permit = state
        .app
        .hashing
        .acquire()
        .await
        .map_err(|_| AppError::Internal("hashing pool closed".into()))?;
    blocking(state, f).await
}

/// The value of one cookie from the request headers.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// A `303 See Other` to a path on this site. A target that cannot be a header value (a
/// control character from a query string) goes home instead of failing the request.
pub fn see_other(to: &str) -> axum::response::Response {
    use axum::response::IntoResponse;
    let location = axum::http::HeaderValue::try_from(to)
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static("/"));
    (
        axum::http::StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response()
}

pub fn session_cookie(token: &str) -> String {
    format!("{SESSION_COOKIE}={token}; Path=/; HttpOnly; Secure; SameSite=Strict")
}

pub fn clear_session_cookie() -> String {
    format!("{SESSION_COOKIE}=; Path=/; Max-Age=0; HttpOnly; Secure; SameSite=Strict")
}

pub fn pre_cookie(token: &str) -> String {
    format!("{PRE_COOKIE}={token}; Path=/; Max-Age=7200; HttpOnly; Secure; SameSite=Strict")
}
