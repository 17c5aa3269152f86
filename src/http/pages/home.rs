//! Each role's home page: its work queues.

use axum::extract::State;
use axum::response::{IntoResponse, Response};

use super::Flash;
use crate::domain::role::Role;
use crate::error::AppError;
use crate::http::extract::Q;
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::orders::queues;

pub async fn home(
    State(state): State<AppState>,
    actor: Actor,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    if actor.role == Role::Admin {
        return super::admin::overview_page(&state, &actor, flash.ok).await;
    }
    let a = actor.clone();
    let qs = blocking(&state, move |app| queues::for_actor(app, &a)).await?;
    let l = layout(&state, Some(&actor), "home").with_flash(flash.ok);
    Ok(page(l, "home.html", minijinja::context! { queues => qs })?.into_response())
}
