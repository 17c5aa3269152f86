//! Knowledge base pages: search, read, write and revise.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::Flash;
use crate::domain::role::{Permission, allows};
use crate::error::AppError;
use crate::http::extract::{PageForm, Q};
use crate::http::layout::{layout, page};
use crate::http::{AppState, blocking};
use crate::service::Actor;
use crate::service::knowledge::{self, ArticleInput};

#[derive(Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    ok: Option<String>,
}

pub async fn index(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<SearchQuery>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let text = q.q.clone();
    let items = blocking(&state, move |app| knowledge::search(app, &a, &text)).await?;
    let ctx = minijinja::context! { items => items, q => q.q, can_manage => allows(actor.role, Permission::KnowledgeManage) };
    let l = layout(&state, Some(&actor), "kb").with_flash(q.ok);
    Ok(page(l, "kb/index.html", ctx)?.into_response())
}

async fn edit_page(
    state: &AppState,
    actor: &Actor,
    id: Option<u64>,
    input: ArticleInput,
    status: StatusCode,
    error: Option<AppError>,
    flash: Option<String>,
) -> Result<Response, AppError> {
    let versions = match id {
        Some(id) => {
            let a = actor.clone();
            blocking(state, move |app| knowledge::get(app, &a, id))
                .await?
                .1
        }
        None => Vec::new(),
    };
    let ctx = minijinja::context! {
        id => id, a => input, versions => versions,
        can_manage => allows(actor.role, Permission::KnowledgeManage),
        error => error.as_ref().map(|e| e.to_string()),
        error_field => error.as_ref().and_then(|e| e.field()),
    };
    let l = layout(state, Some(actor), "kb").with_flash(flash);
    Ok((status, page(l, "kb/edit.html", ctx)?).into_response())
}

pub async fn new_form(State(state): State<AppState>, actor: Actor) -> Result<Response, AppError> {
    actor.require(Permission::KnowledgeManage)?;
    edit_page(
        &state,
        &actor,
        None,
        ArticleInput::default(),
        StatusCode::OK,
        None,
        None,
    )
    .await
}

pub async fn create(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(f): PageForm<ArticleInput>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let input = f.clone();
    match blocking(&state, move |app| knowledge::save(app, &a, None, input)).await {
        Ok(art) => {
            Ok(crate::http::see_other(&format!("/kb/{}?ok=kb_saved", art.id)).into_response())
        }
        Err(e @ AppError::Invalid { .. }) => {
            edit_page(
                &state,
                &actor,
                None,
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

pub async fn show(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    Q(flash): Q<Flash>,
) -> Result<Response, AppError> {
    let id = crate::http::extract::path_id(&id)?;
    let a = actor.clone();
    let (art, _) = blocking(&state, move |app| knowledge::get(app, &a, id)).await?;
    let input = ArticleInput {
        title: art.title,
        body: art.body,
        category: art.category,
        doc_no: art.doc_no,
        valid_from: art.valid_from,
        valid_to: art.valid_to,
        owner_unit: art.owner_unit,
    };
    edit_page(
        &state,
        &actor,
        Some(id),
        input,
        StatusCode::OK,
        None,
        flash.ok,
    )
    .await
}

pub async fn update(
    State(state): State<AppState>,
    actor: Actor,
    Path(id): Path<String>,
    PageForm(f): PageForm<ArticleInput>,
) -> Result<Response, AppError> {
    let id = crate::http::extract::path_id(&id)?;
    let a = actor.clone();
    let input = f.clone();
    match blocking(&state, move |app| knowledge::save(app, &a, Some(id), input)).await {
        Ok(_) => Ok(crate::http::see_other(&format!("/kb/{id}?ok=kb_saved")).into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            edit_page(
                &state,
                &actor,
                Some(id),
                f,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(e),
                None,
            )
            .await
        }
        Err(e) => Err(e),
    }
}

/// The office's synonyms for knowledge base search: one group a line.
pub async fn synonyms_form(
    State(state): State<AppState>,
    actor: Actor,
    Q(q): Q<SearchQuery>,
) -> Result<Response, AppError> {
    let a = actor.clone();
    let s = blocking(&state, move |app| knowledge::synonyms(app, &a)).await?;
    synonyms_page(&state, &actor, s.text(), q.ok, None).await
}

async fn synonyms_page(
    state: &AppState,
    actor: &Actor,
    text: String,
    flash: Option<String>,
    error: Option<AppError>,
) -> Result<Response, AppError> {
    let ctx = minijinja::context! {
        text => text,
        max => crate::domain::knowledge::MAX_SYNONYM_GROUPS,
        error => error.as_ref().map(|e| e.to_string()),
    };
    let status = super::status_of(error.as_ref());
    let l = layout(state, Some(actor), "kb").with_flash(flash);
    Ok((status, page(l, "kb/synonyms.html", ctx)?).into_response())
}

pub async fn save_synonyms(
    State(state): State<AppState>,
    actor: Actor,
    PageForm(form): PageForm<std::collections::BTreeMap<String, String>>,
) -> Result<Response, AppError> {
    use crate::domain::knowledge::Synonyms;
    let text = form.get("groups").cloned().unwrap_or_default();
    let parsed = match Synonyms::parse(&text) {
        Ok(s) => s,
        Err(m) => {
            let e = AppError::invalid("groups", m);
            return synonyms_page(&state, &actor, text, None, Some(e)).await;
        }
    };
    let a = actor.clone();
    match blocking(&state, move |app| knowledge::save_synonyms(app, &a, parsed)).await {
        Ok(_) => Ok(crate::http::see_other("/kb/synonyms?ok=synonyms_saved").into_response()),
        Err(e @ AppError::Invalid { .. }) => {
            synonyms_page(&state, &actor, text, None, Some(e)).await
        }
        Err(e) => Err(e),
    }
}
