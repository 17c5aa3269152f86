//! The outermost layer: turns errors into a JSON body or a Chinese page, adds security
//! headers, and logs one line per request (no query strings, no personal data).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};
use serde::Serialize;

use super::AppState;
use super::guard::is_api;
use super::templates;
use crate::error::AppError;

/// Carries an error from a handler or extractor to this layer.
#[derive(Clone)]
struct Carried(Arc<AppError>);

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut r = status.into_response();
        r.extensions_mut().insert(Carried(Arc::new(self)));
        r
    }
}

/// Filled in by the guard so the request log can name the route and the user.
#[derive(Clone, Default)]
pub struct RequestNote(Arc<NoteInner>);

#[derive(Default)]
struct NoteInner {
    user: AtomicU64,
    route: std::sync::OnceLock<&'static str>,
}

impl RequestNote {
    pub fn set_user(&self, id: u64) {
        self.0.user.store(id, Ordering::Relaxed);
    }
    pub fn set_route(&self, route: &'static str) {
        let _ = self.0.route.set(route);
    }
}

static REQUEST_ID: AtomicU64 = AtomicU64::new(1);

/// A panic in a handler becomes a logged `500` with the usual error page instead of a
/// dropped connection. (Blocking service calls already come back as errors.)
pub async fn catch_panics(req: Request, next: Next) -> Response {
    use futures_util::FutureExt as _;
    match std::panic::AssertUnwindSafe(next.run(req))
        .catch_unwind()
        .await
    {
        Ok(resp) => resp,
        Err(_) => {
            // The payload may quote data; the panic hook logged where it happened.
            AppError::Internal("a request handler panicked".into()).into_response()
        }
    }
}

pub async fn finish(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    let started = Instant::now();
    let id = REQUEST_ID.fetch_add(1, Ordering::Relaxed);
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let api = is_api(&path);
    let note = RequestNote::default();
    req.extensions_mut().insert(note.clone());
    let mut resp = next.run(req).await;

    let carried = resp.extensions().get::<Carried>().map(|c| c.0.clone());
    let error = match carried {
        Some(e) => Some(e),
        None => bare_status_error(&resp).map(Arc::new),
    };
    if let Some(err) = error {
        if let AppError::Internal(detail) = err.as_ref() {
            tracing::error!(request_id = id, %detail, "internal error");
        }
        resp = error_response(&state, &err, api);
    }
    secure_headers(&mut resp, state.tls);

    let status = resp.status().as_u16();
    super::metrics::COUNTERS.record(status, started.elapsed().as_micros() as u64);
    let user = note.0.user.load(Ordering::Relaxed);
    let route = note.0.route.get().copied().unwrap_or("-");
    let ms = started.elapsed().as_secs_f64() * 1000.0;
    tracing::info!(
        request_id = id,
        method = %method,
        route,
        status,
        user = if user == 0 { None } else { Some(user) },
        ms = format!("{ms:.1}"),
        "request"
    );
    resp
}

/// Error statuses produced by the framework itself, with no body of ours.
fn bare_status_error(resp: &Response) -> Option<AppError> {
    let empty = resp
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_none_or(|v| v == "0");
    match resp.status().as_u16() {
        404 if empty => Some(AppError::NotFound),
        405 => Some(AppError::MethodNotAllowed),
        413 => Some(AppError::TooLarge),
        _ => None,
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    error: ErrorInner<'a>,
}

#[derive(Serialize)]
struct ErrorInner<'a> {
    code: &'a str,
    message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
}

fn error_response(state: &AppState, err: &AppError, api: bool) -> Response {
    let status = StatusCode::from_u16(err.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = err.to_string();
    let mut resp = if api {
        let body = ErrorBody {
            error: ErrorInner {
                code: err.code(),
                message,
                field: err.field().filter(|f| *f != "body"),
            },
        };
        (status, axum::Json(body)).into_response()
    } else {
        let html = templates::render(
            "error.html",
            minijinja::context! {
                org_name => state.app.settings().org_name,
                status => status.as_u16(),
                code => err.code(),
                message => message,
            },
        )
        .unwrap_or_else(|_| format!("<!doctype html><title>{0}</title><p>{0}", status.as_u16()));
        (status, Html(html)).into_response()
    };
    if let AppError::Throttled { retry_after } = err
        && let Ok(v) = HeaderValue::from_str(&retry_after.to_string())
    {
        resp.headers_mut().insert(header::RETRY_AFTER, v);
    }
    resp
}

fn secure_headers(resp: &mut Response, tls: bool) {
    let h = resp.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, k: &'static str, v: &'static str| {
        h.entry(k).or_insert(HeaderValue::from_static(v));
    };
    set(
        h,
        "content-security-policy",
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; \
         frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'",
    );
    set(h, "x-content-type-options", "nosniff");
    set(h, "x-frame-options", "DENY");
    set(h, "referrer-policy", "same-origin");
    set(h, "cache-control", "no-store");
    if tls {
        set(h, "strict-transport-security", "max-age=31536000");
    }
}
