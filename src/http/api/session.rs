//! First-boot setup, login, logout and password change over JSON.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::http::extract::{ApiJson, Peer};
use crate::http::{
    AppState, SESSION_COOKIE, blocking, clear_session_cookie, cookie, hashing, session_cookie,
};
use crate::service::{Actor, auth, setup};

#[derive(Deserialize)]
pub struct SetupBody {
    code: String,
    username: String,
    password: String,
    #[serde(default)]
    display_name: String,
}

pub async fn setup(
    State(state): State<AppState>,
    Peer(ip): Peer,
    ApiJson(body): ApiJson<SetupBody>,
) -> Result<Response, AppError> {
    let user = hashing(&state, move |app| {
        setup::complete(
            app,
            &body.code,
            &body.username,
            &body.display_name,
            &body.password,
            ip,
        )
    })
    .await?;
    Ok((
        StatusCode::CREATED,
        Json(crate::service::users::UserView::from(&user)),
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct LoginBody {
    username: String,
    password: String,
}

#[derive(Serialize)]
pub struct SessionView {
    user: String,
    display_name: String,
    role: crate::domain::role::Role,
    csrf_token: String,
    must_change_password: bool,
}

impl From<&Actor> for SessionView {
    fn from(a: &Actor) -> Self {
        SessionView {
            user: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            csrf_token: a.csrf_token.clone(),
            must_change_password: a.must_change_password,
        }
    }
}

pub async fn login(
    State(state): State<AppState>,
    Peer(ip): Peer,
    headers: HeaderMap,
    ApiJson(body): ApiJson<LoginBody>,
) -> Result<Response, AppError> {
    let previous = cookie(&headers, SESSION_COOKIE).map(str::to_string);
    let ok = hashing(&state, move |app| {
        auth::login(app, &body.username, &body.password, ip, previous.as_deref())
    })
    .await?;
    Ok((
        [(header::SET_COOKIE, session_cookie(&ok.token))],
        Json(SessionView::from(&ok.actor)),
    )
        .into_response())
}

pub async fn current(actor: Actor) -> Json<SessionView> {
    Json(SessionView::from(&actor))
}

pub async fn logout(State(state): State<AppState>, actor: Actor) -> Result<Response, AppError> {
    blocking(&state, move |app| auth::logout(app, &actor)).await?;
    Ok((
        StatusCode::NO_CONTENT,
        [
            (header::SET_COOKIE, clear_session_cookie()),
            (
                header::HeaderName::from_static("clear-site-data"),
                crate::http::CLEAR_SITE_DATA.to_string(),
            ),
        ],
    )
        .into_response())
}

#[derive(Deserialize)]
pub struct PasswordBody {
    old_password: String,
    new_password: String,
}

pub async fn change_password(
    State(state): State<AppState>,
    actor: Actor,
    ApiJson(body): ApiJson<PasswordBody>,
) -> Result<StatusCode, AppError> {
    hashing(&state, move |app| {
        auth::change_password(app, &actor, &body.old_password, &body.new_password)
    })
    .await?;
    Ok(StatusCode::NO_CONTENT)
}
