//! Login, logout, first-boot setup and the password change, as forms.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::{Flash, safe_next};
use crate::error::AppError;
use crate::http::extract::{PageForm, Peer, Q};
use crate::http::layout::{layout, page};
use crate::http::{
    AppState, PRE_COOKIE, SESSION_COOKIE, blocking, clear_session_cookie, cookie, hashing,
    pre_cookie, session_cookie,
};
use crate::service::{Actor, auth, setup};

/// The pre-session token that protects the login and setup forms (double submit).
fn pre_token(headers: &HeaderMap) -> Result<(String, bool), AppError> {
    match cookie(headers, PRE_COOKIE).filter(|t| t.len() == 64) {
        Some(t) => Ok((t.to_string(), false)),
        None => Ok((auth::random_token()?, true)),
    }
}

fn pre_ok(headers: &HeaderMap, submitted: &str) -> bool {
    cookie(headers, PRE_COOKIE).is_some_and(|c| auth::tokens_equal(c, submitted))
}

#[derive(Deserialize, Default)]
pub struct LoginQuery {
    #[serde(default)]
    next: Option<String>,
    #[serde(default)]
    ok: Option<String>,
}

#[derive(Serialize, Default)]
struct LoginPage {
    pre: String,
    next: String,
    username: String,
    error: Option<String>,
    setup_needed: bool,
}

fn login_page(
    state: &AppState,
    status: StatusCode,
    ctx: LoginPage,
    set_pre: bool,
    flash: Option<String>,
    extra: Option<(header::HeaderName, String)>,
) -> Result<Response, AppError> {
    let pre = ctx.pre.clone();
    let html = page(
        layout(state, None, "login").with_flash(flash),
        "login.html",
        ctx,
    )?;
    let mut resp = (status, html).into_response();
    if set_pre && let Ok(v) = pre_cookie(&pre).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    if let Some((k, v)) = extra
        && let Ok(v) = v.parse()
    {
        resp.headers_mut().insert(k, v);
    }
    Ok(resp)
}

pub async fn login_form(
    State(state): State<AppState>,
    headers: HeaderMap,
    actor: Option<Actor>,
    Q(q): Q<LoginQuery>,
) -> Result<Response, AppError> {
    if actor.is_some() {
        return Ok(crate::http::see_other(&safe_next(q.next.as_deref())).into_response());
    }
    let setup_needed = blocking(&state, setup::is_needed).await?;
    let (pre, set_pre) = pre_token(&headers)?;
    login_page(
        &state,
        StatusCode::OK,
        LoginPage {
            pre,
            next: safe_next(q.next.as_deref()),
            setup_needed,
            ..LoginPage::default()
        },
        set_pre,
        q.ok,
        None,
    )
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: Option<String>,
}

pub async fn login_submit(
    State(state): State<AppState>,
    Peer(ip): Peer,
    headers: HeaderMap,
    PageForm(form): PageForm<LoginForm>,
) -> Result<Response, AppError> {
    let next = safe_next(form.next.as_deref());
    let again = |status, error: String, extra| {
        let (pre, set_pre) = pre_token(&headers)?;
        login_page(
            &state,
            status,
            LoginPage {
                pre,
                next: next.clone(),
                username: form.username.clone(),
                error: Some(error),
                setup_needed: false,
            },
            set_pre,
            None,
            extra,
        )
    };
    if !pre_ok(&headers, &form.csrf) {
        return again(StatusCode::FORBIDDEN, AppError::Csrf.to_string(), None);
    }
    let previous = cookie(&headers, SESSION_COOKIE).map(str::to_string);
    let (username, password) = (form.username.clone(), form.password.clone());
    let result = hashing(&state, move |app| {
        auth::login(app, &username, &password, ip, previous.as_deref())
    })
    .await;
    match result {
        Ok(ok) => {
            let to = if ok.actor.must_change_password {
                "/password".to_string()
            } else {
                next.clone()
            };
            Ok((
                [(header::SET_COOKIE, session_cookie(&ok.token))],
                crate::http::see_other(&to),
            )
                .into_response())
        }
        Err(e @ AppError::Throttled { retry_after }) => again(
            StatusCode::TOO_MANY_REQUESTS,
            e.to_string(),
            Some((header::RETRY_AFTER, retry_after.to_string())),
        ),
        Err(e @ AppError::BadCredentials) => again(StatusCode::UNAUTHORIZED, e.to_string(), None),
        Err(e) => Err(e),
    }
}

pub async fn logout(State(state): State<AppState>, actor: Actor) -> Result<Response, AppError> {
    blocking(&state, move |app| auth::logout(app, &actor)).await?;
    Ok((
        [
            (header::SET_COOKIE, clear_session_cookie()),
            // The browser forgets what this user left in it (intake drafts, cached pages).
            (
                header::HeaderName::from_static("clear-site-data"),
                crate::http::CLEAR_SITE_DATA.to_string(),
            ),
        ],
        crate::http::see_other("/login?ok=logged_out"),
    )
        .into_response())
}

#[derive(Serialize, Default)]
struct SetupPage {
    pre: String,
    username: String,
    display_name: String,
    error: Option<String>,
    error_field: Option<String>,
}

fn setup_page(
    state: &AppState,
    status: StatusCode,
    ctx: SetupPage,
    set_pre: bool,
) -> Result<Response, AppError> {
    let pre = ctx.pre.clone();
    let html = page(layout(state, None, "setup"), "setup.html", ctx)?;
    let mut resp = (status, html).into_response();
    if set_pre && let Ok(v) = pre_cookie(&pre).parse() {
        resp.headers_mut().append(header::SET_COOKIE, v);
    }
    Ok(resp)
}

fn already_set_up() -> AppError {
    AppError::conflict("already_set_up", "系统已完成初始化，请直接登录")
}

pub async fn setup_form(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    if !blocking(&state, setup::is_needed).await? {
        return Err(already_set_up());
    }
    let (pre, set_pre) = pre_token(&headers)?;
    setup_page(
        &state,
        StatusCode::OK,
        SetupPage {
            pre,
            ..SetupPage::default()
        },
        set_pre,
    )
}

#[derive(Deserialize)]
pub struct SetupForm {
    #[serde(default)]
    code: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    password2: String,
    #[serde(default)]
    csrf: String,
}

pub async fn setup_submit(
    State(state): State<AppState>,
    Peer(ip): Peer,
    headers: HeaderMap,
    PageForm(form): PageForm<SetupForm>,
) -> Result<Response, AppError> {
    if !blocking(&state, setup::is_needed).await? {
        return Err(already_set_up());
    }
    let again = |status, field: Option<&str>, error: String| {
        let (pre, set_pre) = pre_token(&headers)?;
        setup_page(
            &state,
            status,
            SetupPage {
                pre,
                username: form.username.clone(),
                display_name: form.display_name.clone(),
                error: Some(error),
                error_field: field.map(str::to_string),
            },
            set_pre,
        )
    };
    if !pre_ok(&headers, &form.csrf) {
        return again(StatusCode::FORBIDDEN, None, AppError::Csrf.to_string());
    }
    if form.password != form.password2 {
        return again(
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("password2"),
            "两次输入的密码不一致".into(),
        );
    }
    let (code, username, display_name, password) = (
        form.code.clone(),
        form.username.clone(),
        form.display_name.clone(),
        form.password.clone(),
    );
    match hashing(&state, move |app| {
        setup::complete(app, &code, &username, &display_name, &password, ip)
    })
    .await
    {
        Ok(_) => Ok(crate::http::see_other("/login?ok=setup_done").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            again(StatusCode::UNPROCESSABLE_ENTITY, e.field(), e.to_string())
        }
        Err(e @ AppError::Throttled { .. }) => {
            again(StatusCode::TOO_MANY_REQUESTS, None, e.to_string())
        }
        Err(e) => Err(e),
    }
}

#[derive(Serialize, Default)]
struct PasswordPage {
    forced: bool,
    error: Option<String>,
    error_field: Option<String>,
}

pub async fn password_form(
    State(state): State<AppState>,
    actor: Actor,
) -> Result<Response, AppError> {
    let ctx = PasswordPage {
        forced: actor.must_change_password,
        ..PasswordPage::default()
    };
    Ok(page(
        layout(&state, Some(&actor), "password"),
        "password.html",
        ctx,
    )?
    .into_response())
}

#[derive(Deserialize)]
pub struct PasswordForm {
    #[serde(default)]
    old_password: String,
    #[serde(default)]
    new_password: String,
    #[serde(default)]
    new_password2: String,
}

pub async fn password_submit(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<PasswordForm>,
) -> Result<Response, AppError> {
    let again = |field: Option<&str>, error: String| -> Result<Response, AppError> {
        let ctx = PasswordPage {
            forced: actor.must_change_password,
            error: Some(error),
            error_field: field.map(str::to_string),
        };
        let html = page(
            layout(&state, Some(&actor), "password"),
            "password.html",
            ctx,
        )?;
        Ok((StatusCode::UNPROCESSABLE_ENTITY, html).into_response())
    };
    if form.new_password != form.new_password2 {
        return again(Some("new_password2"), "两次输入的新密码不一致".into());
    }
    let a = actor.clone();
    match hashing(&state, move |app| {
        auth::change_password(app, &a, &form.old_password, &form.new_password)
    })
    .await
    {
        Ok(()) => Ok(crate::http::see_other("/?ok=password_changed").into_response()),
        Err(e @ AppError::Invalid { .. }) => again(e.field(), e.to_string()),
        Err(e) => Err(e),
    }
}

/// Used by the home page to show a flash after redirects.
pub fn flash_of(f: Flash) -> Option<String> {
    f.ok
}
