//! The admin's connections page (对接): tokens for the platforms and the phone system, the
//! platforms' callback URLs, and the outbox of results going back to them (回传).

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Flash;
use crate::domain::order::Channel;
use crate::error::AppError;
use crate::http::extract::{IdPath, PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::tokens::{NewToken, TokenKind};
use crate::service::{Actor, outbox, tokens};

/// What the page shows once after an issue or a new callback URL: the token and the signing
/// key in clear.
#[derive(Default)]
struct Shown {
    token: Option<String>,
    secret: Option<String>,
    name: Option<String>,
}

async fn render(
    state: &AppState,
    actor: &Actor,
    flash: Option<String>,
    status: StatusCode,
    shown: Shown,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let (items, out) = blocking(state, move |app| {
        Ok((tokens::list(app, &a)?, outbox::overview(app, &a)?))
    })
    .await?;
    let channels: Vec<Value> = Channel::ALL
        .iter()
        .filter(|c| **c != Channel::Phone)
        .map(|c| json!([c.code(), c.label()]))
        .collect();
    let ctx = json!({
        "tokens": items,
        "outbox": out,
        "channels": channels,
        "shown_token": shown.token,
        "shown_secret": shown.secret,
        "shown_name": shown.name,
        "callback_timeout": state.app.settings().callback_timeout_secs,
        "error_field": error.as_ref().and_then(|e| e.field()),
        "error": error.map(|e| e.to_string()),
    });
    let l = layout(state, Some(actor), "connections").with_flash(flash);
    Ok((status, page(l, "admin/connections.html", ctx)?).into_response())
}

/// A form the service refused: the page again, saying why (other errors as errors).
async fn refused(state: &AppState, actor: &Actor, e: AppError) -> Result<Response, AppError> {
    match e {
        AppError::Invalid { .. } | AppError::Conflict { .. } => {
            render(
                state,
                actor,
                None,
                StatusCode::UNPROCESSABLE_ENTITY,
                Shown::default(),
                Some(e),
            )
            .await
        }
        e => Err(e),
    }
}

pub async fn index(
    State(state): State<AppState>,
    actor: Actor,
    Q(f): Q<Flash>,
) -> Result<Response, AppError> {
    render(&state, &actor, f.ok, StatusCode::OK, Shown::default(), None).await
}

#[derive(Deserialize)]
pub struct IssueForm {
    #[serde(default)]
    name: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    channel: String,
    #[serde(default)]
    callback_url: String,
}

/// Issues a token and shows it (and the callback signing key) this once.
pub async fn issue(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<IssueForm>,
) -> Result<Response, AppError> {
    let kind = if f.kind == "cti" {
        TokenKind::Cti
    } else {
        TokenKind::Channel
    };
    let new = NewToken {
        name: f.name.clone(),
        kind,
        channel: Channel::parse(f.channel.trim()),
        callback_url: Some(f.callback_url.clone()),
    };
    let a = actor.clone();
    match blocking(&state, move |app| tokens::issue(app, &a, &new)).await {
        Ok(issued) => {
            let shown = Shown {
                token: Some(issued.token),
                secret: issued.callback_secret,
                name: Some(issued.view.name),
            };
            render(&state, &actor, None, StatusCode::OK, shown, None).await
        }
        Err(e) => refused(&state, &actor, e).await,
    }
}

pub async fn revoke(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    blocking(&state, move |app| tokens::revoke(app, &actor, id)).await?;
    Ok(crate::http::see_other("/admin/connections?ok=token_revoked").into_response())
}

#[derive(Deserialize)]
pub struct CallbackForm {
    #[serde(default)]
    callback_url: String,
}

/// Sets a platform's callback URL; a new signing key is shown this once.
pub async fn callback(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
    PageForm(f): PageForm<CallbackForm>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let result = blocking(&state, move |app| {
        tokens::set_callback(app, &a, id, Some(&f.callback_url))
    })
    .await;
    match result {
        Ok((view, Some(secret))) => {
            let shown = Shown {
                token: None,
                secret: Some(secret),
                name: Some(view.name),
            };
            render(&state, &actor, None, StatusCode::OK, shown, None).await
        }
        Ok((_, None)) => {
            Ok(crate::http::see_other("/admin/connections?ok=callback_saved").into_response())
        }
        Err(e) => refused(&state, &actor, e).await,
    }
}

pub async fn retry(
    State(state): State<AppState>,
    actor: Actor,
    IdPath(id): IdPath,
) -> Result<Response, AppError> {
    blocking(&state, move |app| outbox::retry(app, &actor, id)).await?;
    Ok(crate::http::see_other("/admin/connections?ok=delivery_retried").into_response())
}
