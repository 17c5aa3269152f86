//! The access guard: one place that loads the session, checks the route's access rule,
//! the Origin and the CSRF token, and records denials.

use axum::body::{Body, to_bytes};
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::render::RequestNote;
use super::routes::{self, Access};
use super::{AppState, BODY_LIMIT, ClientIp, SESSION_COOKIE, blocking, cookie};
use crate::domain::role::allows;
use crate::error::AppError;
use crate::service::tokens::TokenKind;
use crate::service::{Actor, audit, auth};

/// Routes a page polls by itself: they do not keep a session alive.
const PASSIVE: &[&str] = &["/api/v1/me/counters", "/api/v1/me/events"];

pub fn is_api(path: &str) -> bool {
    path.starts_with("/api/")
}

fn is_unsafe(m: &Method) -> bool {
    !matches!(*m, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// A request that carries an Origin (or a cross-site fetch marker) must come from this site.
/// The host is the `Host` header (HTTP/1.1) or the URI authority (HTTP/2 `:authority`).
fn origin_ok(headers: &HeaderMap, authority: Option<&str>, tls: bool) -> bool {
    if headers
        .get("sec-fetch-site")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v == "cross-site")
    {
        return false;
    }
    let Some(origin) = headers.get(header::ORIGIN) else {
        return true;
    };
    let Some(host) = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .or(authority)
        .filter(|h| !h.is_empty())
    else {
        return false;
    };
    let scheme = if tls { "https" } else { "http" };
    origin.to_str().ok() == Some(format!("{scheme}://{host}").as_str())
}

#[derive(Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

pub async fn guard(State(state): State<AppState>, req: Request, next: Next) -> Response {
    match check(&state, req).await {
        Ok(req) => next.run(req).await,
        Err(resp) => resp,
    }
}

/// Decides whether the request goes on; `Err` is the response to send instead.
async fn check(state: &AppState, mut req: Request) -> Result<Request, Response> {
    let path = req.uri().path().to_string();
    let api = is_api(&path);
    let Some(matched) = req
        .extensions()
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string())
    else {
        // Unrouted: the fallback answers 404.
        return Ok(req);
    };
    // HEAD is answered by the GET handler, so it passes the GET route's rule.
    let method = if req.method() == Method::HEAD {
        "GET"
    } else {
        req.method().as_str()
    };
    let Some(spec) = routes::find(method, &matched) else {
        // Path known, method not: the method router answers 405.
        return Ok(req);
    };
    if let Some(note) = req.extensions().get::<RequestNote>() {
        note.set_route(spec.path);
    }
    let unsafe_method = is_unsafe(req.method());
    let authority = req.uri().authority().map(|a| a.as_str().to_string());
    if unsafe_method && !origin_ok(req.headers(), authority.as_deref(), state.tls) {
        return Err(AppError::Csrf.into_response());
    }

    let ip = req.extensions().get::<ClientIp>().map(|c| c.0);
    let bearer = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    if let Some(token) = bearer.filter(|_| api) {
        return integration(state, req, spec, token).await;
    }
    let token = cookie(req.headers(), SESSION_COOKIE).map(str::to_string);
    // What a page asks by itself (the top bar's counters) is not the person at work: it
    // leaves the idle timer running.
    let keep_alive = !PASSIVE.contains(&spec.path);
    let actor = match token {
        Some(t) => blocking(state, move |app| {
            auth::authenticate(app, &t, ip, keep_alive)
        })
        .await
        .map_err(IntoResponse::into_response)?,
        None => None,
    };

    if spec.access == Access::Public {
        if let Some(a) = actor {
            req.extensions_mut().insert(a);
        }
        return Ok(req);
    }
    if let (Some(note), Some(a)) = (req.extensions().get::<RequestNote>(), &actor) {
        note.set_user(a.id.0);
    }
    let Some(actor) = actor else {
        return Err(if api || unsafe_method {
            AppError::Unauthenticated.into_response()
        } else {
            let next = req
                .uri()
                .path_and_query()
                .map(|p| p.as_str().to_string())
                .unwrap_or_else(|| "/".into());
            crate::http::see_other(&format!("/login?next={}", urlencode(&next))).into_response()
        });
    };
    permitted(state, &actor, spec, api).await?;
    if unsafe_method {
        req = check_csrf(req, &actor, api).await?;
    }
    req.extensions_mut().insert(actor);
    Ok(req)
}

/// Integrations: a bearer token, limited to registering and reading its channel's orders.
async fn integration(
    state: &AppState,
    mut req: Request,
    spec: &routes::RouteSpec,
    token: String,
) -> Result<Request, Response> {
    let found = blocking(state, move |app| {
        crate::service::tokens::authenticate(app, &token)
    })
    .await
    .map_err(IntoResponse::into_response)?;
    let Some((actor, kind)) = found else {
        return Err(AppError::Unauthenticated.into_response());
    };
    let allowed = match kind {
        TokenKind::Channel => matches!(
            (spec.method, spec.path),
            ("POST", "/api/v1/orders")
                | ("GET", "/api/v1/orders")
                | ("GET", "/api/v1/orders/{id}")
                | ("GET", "/api/v1/categories")
                | ("GET", "/api/v1/lookup/{query_code}")
        ),
        TokenKind::Cti => spec.access == Access::Token,
    };
    if !allowed {
        return Err(AppError::Forbidden.into_response());
    }
    req.extensions_mut().insert(actor);
    Ok(req)
}

/// A signed-in user may take the route: password changed when it must be, and the route's
/// permission granted to the role (a refusal is audited).
async fn permitted(
    state: &AppState,
    actor: &Actor,
    spec: &routes::RouteSpec,
    api: bool,
) -> Result<(), Response> {
    // Routes for the phone system's token alone.
    if spec.access == Access::Token {
        return Err(AppError::Forbidden.into_response());
    }
    if actor.must_change_password && spec.access != Access::Password {
        return Err(if api {
            AppError::PasswordChangeRequired.into_response()
        } else {
            crate::http::see_other("/password").into_response()
        });
    }
    if let Access::Perm(p) = spec.access
        && !allows(actor.role, p)
    {
        let ev = actor.event(
            "permission.denied",
            None,
            format!("{} {} 被拒绝（需要 {p:?}）", spec.method, spec.path),
        );
        let _ = blocking(state, move |app| audit::record(app, ev)).await;
        return Err(AppError::Forbidden.into_response());
    }
    Ok(())
}

/// API calls send the token in `X-CSRF-Token`; forms in a `csrf` field (the body is read
/// here and handed on unchanged).
async fn check_csrf(req: Request, actor: &Actor, api: bool) -> Result<Request, Response> {
    let denied = || AppError::Csrf.into_response();
    let header_token = req
        .headers()
        .get("x-csrf-token")
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    if let Some(t) = header_token {
        return if auth::tokens_equal(&t, &actor.csrf_token) {
            Ok(req)
        } else {
            Err(denied())
        };
    }
    let ctype = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    // A file upload from a page cannot put the token in a header: it rides in the query.
    if !api && ctype.starts_with("multipart/form-data") {
        let q: CsrfField =
            serde_urlencoded_from(req.uri().query().unwrap_or("").as_bytes()).ok_or_else(denied)?;
        return if auth::tokens_equal(&q.csrf, &actor.csrf_token) {
            Ok(req)
        } else {
            Err(denied())
        };
    }
    let is_form = ctype.starts_with("application/x-www-form-urlencoded");
    if api || !is_form {
        return Err(denied());
    }
    let (parts, body) = req.into_parts();
    let bytes = to_bytes(body, BODY_LIMIT)
        .await
        .map_err(|_| AppError::TooLarge.into_response())?;
    let field: CsrfField = serde_urlencoded_from(&bytes).ok_or_else(denied)?;
    if !auth::tokens_equal(&field.csrf, &actor.csrf_token) {
        return Err(denied());
    }
    Ok(Request::from_parts(parts, Body::from(bytes)))
}

fn serde_urlencoded_from<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Option<T> {
    serde_urlencoded::from_bytes(bytes).ok()
}

pub fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
