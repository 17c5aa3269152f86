//! Integration tokens: a platform (省长信箱, 湘易办, …) registers and reads orders of its own
//! channel with `Authorization: Bearer <token>`. Only the hash is stored; the admin sees the
//! token once, when issuing it.

use serde::{Deserialize, Serialize};

use super::auth::{random_token, session_key};
use super::{Actor, App};
use crate::domain::audit::hex;
use crate::domain::order::Channel;
use crate::domain::role::{Permission, Role};
use crate::domain::time::Timestamp;
use crate::domain::user::UserId;
use crate::error::AppError;
use crate::store::{audit, meta};

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: u64,
    pub name: String,
    pub channel: Channel,
    /// Hex SHA-256 of the token.
    pub hash: String,
    pub created_at: Timestamp,
    pub revoked: bool,
}

#[derive(Default, Serialize, Deserialize)]
struct Tokens {
    items: Vec<TokenRecord>,
}

impl crate::store::codec::Record for Tokens {
    const KIND: &'static str = "tokens";
    const VERSION: u8 = 1;
}

#[derive(Serialize)]
pub struct TokenView {
    pub id: u64,
    pub name: String,
    pub channel: Channel,
    pub created_at: String,
    pub revoked: bool,
}

fn view(t: &TokenRecord) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name.clone(),
        channel: t.channel,
        created_at: t.created_at.rfc3339_cst(),
        revoked: t.revoked,
    }
}

/// Issues a token; returns it in clear this once.
pub fn issue(
    app: &App,
    actor: &Actor,
    name: &str,
    channel: Channel,
) -> Result<(TokenView, String), AppError> {
    actor.require(Permission::SettingsManage)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 32 {
        return Err(AppError::invalid("name", "名称须为 1–32 个字"));
    }
    if channel == Channel::Phone {
        return Err(AppError::invalid(
            "channel",
            "电话渠道由话务员登记，不发放接口令牌",
        ));
    }
    let token = format!("hl_{}", random_token()?);
    let now = app.now();
    let rec = app.store.write(|tx| -> Result<TokenRecord, AppError> {
        let mut all: Tokens = meta::get(tx, "tokens")?.unwrap_or_default();
        let rec = TokenRecord {
            id: all.items.iter().map(|t| t.id).max().unwrap_or(0) + 1,
            name: name.to_string(),
            channel,
            hash: hex(&session_key(&token)),
            created_at: now,
            revoked: false,
        };
        all.items.push(rec.clone());
        meta::put(tx, "tokens", &all)?;
        audit::append(
            tx,
            now,
            actor.event(
                "token.issue",
                Some(format!("token:{}", rec.id)),
                format!("为 {} 发放接口令牌", channel.label()),
            ),
        )?;
        Ok(rec)
    })?;
    Ok((view(&rec), token))
}

pub fn list(app: &App, actor: &Actor) -> Result<Vec<TokenView>, AppError> {
    actor.require(Permission::SettingsManage)?;
    let all: Tokens = app
        .store
        .read(|tx| meta::get(tx, "tokens"))?
        .unwrap_or_default();
    Ok(all.items.iter().map(view).collect())
}

pub fn revoke(app: &App, actor: &Actor, id: u64) -> Result<TokenView, AppError> {
    actor.require(Permission::SettingsManage)?;
    let now = app.now();
    app.store.write(|tx| -> Result<TokenView, AppError> {
        let mut all: Tokens = meta::get(tx, "tokens")?.unwrap_or_default();
        let t = all
            .items
            .iter_mut()
            .find(|t| t.id == id)
            .ok_or(AppError::NotFound)?;
        t.revoked = true;
        let v = view(t);
        meta::put(tx, "tokens", &all)?;
        audit::append(
            tx,
            now,
            actor.event(
                "token.revoke",
                Some(format!("token:{id}")),
                "吊销接口令牌".into(),
            ),
        )?;
        Ok(v)
    })
}

/// The integration behind a bearer token, as an actor limited to its channel.
pub fn authenticate(app: &App, token: &str) -> Result<Option<Actor>, AppError> {
    let hash = hex(&session_key(token.trim()));
    let all: Tokens = app
        .store
        .read(|tx| meta::get(tx, "tokens"))?
        .unwrap_or_default();
    Ok(all
        .items
        .iter()
        .find(|t| !t.revoked && super::auth::tokens_equal(&t.hash, &hash))
        .map(|t| Actor {
            id: UserId(0),
            username: format!("integration-{}", t.id),
            display_name: format!("{}（接口）", t.name),
            role: Role::Operator,
            unit: None,
            must_change_password: false,
            session_key: Vec::new(),
            csrf_token: String::new(),
            ip: None,
            channel: Some(t.channel),
        }))
}
