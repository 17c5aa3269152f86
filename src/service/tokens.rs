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

/// What a token is for.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenKind {
    /// A platform: registers and reads orders of its channel, looks up 查询码, and may
    /// receive results back (回传) at its callback URL.
    #[default]
    Channel,
    /// The phone system: posts call events (`/api/v1/cti/events`) and nothing else.
    Cti,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct TokenRecord {
    pub id: u64,
    pub name: String,
    #[serde(default)]
    pub kind: TokenKind,
    /// The channel a platform's token registers in (`phone` for the phone system's).
    pub channel: Channel,
    /// Where results go back to the platform (回传), if it takes them.
    #[serde(default)]
    pub callback_url: Option<String>,
    /// The HMAC-SHA256 key deliveries are signed with (shown to the admin once).
    #[serde(default)]
    pub callback_secret: Option<String>,
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
    pub kind: TokenKind,
    pub channel: Channel,
    pub channel_label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub callback_url: Option<String>,
    pub created_at: String,
    pub revoked: bool,
}

fn view(t: &TokenRecord) -> TokenView {
    TokenView {
        id: t.id,
        name: t.name.clone(),
        kind: t.kind,
        channel: t.channel,
        channel_label: t.channel.label(),
        callback_url: t.callback_url.clone(),
        created_at: t.created_at.rfc3339_cst(),
        revoked: t.revoked,
    }
}

/// What the admin asks for when issuing a token.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    pub name: String,
    #[serde(default)]
    pub kind: TokenKind,
    /// A platform's channel (not for the phone system).
    #[serde(default)]
    pub channel: Option<Channel>,
    /// Where a platform takes results back (回传), `http://` or `https://`.
    #[serde(default)]
    pub callback_url: Option<String>,
}

/// A token as issued: the token and the callback signing key in clear, this once.
pub struct Issued {
    pub view: TokenView,
    pub token: String,
    pub callback_secret: Option<String>,
}

/// A callback URL as the admin typed it, checked: `http(s)://host[:port]/path`, at most 512
/// characters; empty is none.
pub fn check_callback_url(url: Option<&str>) -> Result<Option<String>, AppError> {
    let Some(u) = url.map(str::trim).filter(|u| !u.is_empty()) else {
        return Ok(None);
    };
    if u.len() > 512 || crate::service::outbox::Target::parse(u).is_none() {
        return Err(AppError::invalid(
            "callback_url",
            "回传地址应为 http:// 或 https:// 开头的完整网址（不超过 512 个字符）",
        ));
    }
    Ok(Some(u.to_string()))
}

/// Issues a token; returns it in clear this once.
pub fn issue(app: &App, actor: &Actor, new: &NewToken) -> Result<Issued, AppError> {
    actor.require(Permission::SettingsManage)?;
    let name = new.name.trim();
    if name.is_empty() || name.chars().count() > 32 {
        return Err(AppError::invalid("name", "名称须为 1–32 个字"));
    }
    let channel = match (new.kind, new.channel) {
        (TokenKind::Cti, _) => Channel::Phone,
        (TokenKind::Channel, Some(Channel::Phone)) => {
            return Err(AppError::invalid(
                "channel",
                "电话渠道由话务员登记，不发放接口令牌（电话系统请选「电话系统（CTI）」）",
            ));
        }
        (TokenKind::Channel, Some(c)) => c,
        (TokenKind::Channel, None) => {
            return Err(AppError::invalid("channel", "请选择平台渠道"));
        }
    };
    let callback_url = match new.kind {
        TokenKind::Cti
            if new
                .callback_url
                .as_deref()
                .is_some_and(|u| !u.trim().is_empty()) =>
        {
            return Err(AppError::invalid(
                "callback_url",
                "电话系统令牌不回传结果，无需回传地址",
            ));
        }
        TokenKind::Cti => None,
        TokenKind::Channel => check_callback_url(new.callback_url.as_deref())?,
    };
    let token = format!("hl_{}", random_token()?);
    let secret = match callback_url {
        Some(_) => Some(format!("whsec_{}", random_token()?)),
        None => None,
    };
    let now = app.now();
    let rec = app.store.write(|tx| -> Result<TokenRecord, AppError> {
        let mut all: Tokens = meta::get(tx, "tokens")?.unwrap_or_default();
        let rec = TokenRecord {
            id: all.items.iter().map(|t| t.id).max().unwrap_or(0) + 1,
            name: name.to_string(),
            kind: new.kind,
            channel,
            callback_url: callback_url.clone(),
            callback_secret: secret.clone(),
            hash: hex(&session_key(&token)),
            created_at: now,
            revoked: false,
        };
        all.items.push(rec.clone());
        meta::put(tx, "tokens", &all)?;
        let what = match new.kind {
            TokenKind::Cti => "为电话系统（CTI）发放接口令牌".to_string(),
            TokenKind::Channel => format!("为 {} 发放接口令牌", channel.label()),
        };
        audit::append(
            tx,
            now,
            actor.event("token.issue", Some(format!("token:{}", rec.id)), what),
        )?;
        Ok(rec)
    })?;
    Ok(Issued {
        view: view(&rec),
        token,
        callback_secret: secret,
    })
}

/// Sets (or clears) a platform token's callback URL; a token without a signing key gets one,
/// returned in clear this once.
pub fn set_callback(
    app: &App,
    actor: &Actor,
    id: u64,
    url: Option<&str>,
) -> Result<(TokenView, Option<String>), AppError> {
    actor.require(Permission::SettingsManage)?;
    let url = check_callback_url(url)?;
    let fresh = format!("whsec_{}", random_token()?);
    let now = app.now();
    app.store
        .write(|tx| -> Result<(TokenView, Option<String>), AppError> {
            let mut all: Tokens = meta::get(tx, "tokens")?.unwrap_or_default();
            let t = all
                .items
                .iter_mut()
                .find(|t| t.id == id)
                .ok_or(AppError::NotFound)?;
            if t.kind != TokenKind::Channel || t.revoked {
                return Err(AppError::conflict(
                    "not_a_platform",
                    "只有有效的平台令牌可以设置回传地址",
                ));
            }
            let mut shown = None;
            if url.is_some() && t.callback_secret.is_none() {
                t.callback_secret = Some(fresh.clone());
                shown = Some(fresh.clone());
            }
            t.callback_url = url.clone();
            let v = view(t);
            meta::put(tx, "tokens", &all)?;
            audit::append(
                tx,
                now,
                actor.event(
                    "token.callback",
                    Some(format!("token:{id}")),
                    match &url {
                        Some(u) => format!("设置回传地址 {u}"),
                        None => "取消回传".into(),
                    },
                ),
            )?;
            Ok((v, shown))
        })
}

/// Where results of `channel`'s orders go back: the newest live token of the channel with a
/// callback URL — its id, URL and signing key.
pub fn callback_for(
    tx: &impl crate::store::Tx,
    channel: Channel,
) -> Result<Option<(u64, String, String)>, AppError> {
    if channel == Channel::Phone {
        return Ok(None);
    }
    let all: Tokens = meta::get(tx, "tokens")?.unwrap_or_default();
    Ok(all
        .items
        .iter()
        .rev()
        .filter(|t| !t.revoked && t.kind == TokenKind::Channel && t.channel == channel)
        .find_map(|t| Some((t.id, t.callback_url.clone()?, t.callback_secret.clone()?))))
}

/// A token's signing key and URL by id (the delivery worker re-reads them for each try).
pub fn callback_of(
    tx: &impl crate::store::Tx,
    id: u64,
) -> Result<Option<(String, String)>, AppError> {
    let all: Tokens = meta::get(tx, "tokens")?.unwrap_or_default();
    Ok(all
        .items
        .iter()
        .find(|t| t.id == id && !t.revoked)
        .and_then(|t| Some((t.callback_url.clone()?, t.callback_secret.clone()?))))
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

/// The integration behind a bearer token, as an actor limited to its channel, and what
/// kind of token it is.
pub fn authenticate(app: &App, token: &str) -> Result<Option<(Actor, TokenKind)>, AppError> {
    let hash = hex(&session_key(token.trim()));
    let all: Tokens = app
        .store
        .read(|tx| meta::get(tx, "tokens"))?
        .unwrap_or_default();
    Ok(all
        .items
        .iter()
        .find(|t| !t.revoked && super::auth::tokens_equal(&t.hash, &hash))
        .map(|t| {
            (
                Actor {
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
                },
                t.kind,
            )
        }))
}
