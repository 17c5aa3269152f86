//! Login, sessions, logout and password changes.

use std::net::IpAddr;

use ring::digest::{SHA256, digest};
use ring::rand::{SecureRandom, SystemRandom};
use subtle::ConstantTimeEq;

use super::{Actor, App, password};
use crate::domain::audit::{AuditEvent, hex};
use crate::domain::session::{Session, SessionState};
use crate::domain::user::{self, User};
use crate::error::AppError;
use crate::store::{audit, sessions, users};

pub struct LoginOk {
    /// The secret for the cookie; only its hash is stored.
    pub token: String,
    pub actor: Actor,
}

pub fn random_token() -> Result<String, AppError> {
    let mut bytes = [0u8; 32];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| AppError::Internal("random source failed".into()))?;
    Ok(hex(&bytes))
}

pub fn session_key(token: &str) -> Vec<u8> {
    digest(&SHA256, token.as_bytes()).as_ref().to_vec()
}

pub fn tokens_equal(a: &str, b: &str) -> bool {
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

fn actor_for(user: &User, key: Vec<u8>, session: &Session, ip: Option<IpAddr>) -> Actor {
    Actor {
        id: user.id,
        username: user.username.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        unit: user.unit,
        must_change_password: user.must_change_password,
        session_key: key,
        csrf_token: session.csrf_token.clone(),
        ip,
        channel: None,
    }
}

fn anonymous_event(action: &str, ip: Option<IpAddr>, detail: String) -> AuditEvent {
    AuditEvent {
        actor: "anonymous".into(),
        ip: ip.map(|i| i.to_string()),
        action: action.into(),
        detail,
        ..AuditEvent::default()
    }
}

/// Checks the credentials and opens a new session; `previous` (the session the browser
/// still held, if any) is ended so the id always rotates at login. Blocking: run it on the
/// blocking pool under `App::hashing`.
pub fn login(
    app: &App,
    username: &str,
    password_text: &str,
    ip: Option<IpAddr>,
    previous: Option<&str>,
) -> Result<LoginOk, AppError> {
    let account = username.trim().to_ascii_lowercase();
    let now = app.now();
    app.throttle
        .check(&account, ip, now)
        .map_err(|retry_after| AppError::Throttled { retry_after })?;

    let found = match user::normalize_username(&account) {
        Ok(u) => app.store.read(|tx| users::by_username(tx, &u))?,
        Err(_) => None,
    };
    let ok = match &found {
        Some(u) => password::verify(password_text, &u.password_hash) && !u.disabled,
        None => {
            password::verify_dummy(password_text);
            false
        }
    };
    let Some(user) = found.filter(|_| ok) else {
        app.throttle.failure(&account, ip, now);
        // The attempted name is only recorded when it is a real account: people type
        // passwords into the username field.
        let (target, detail) = match app.store.read(|tx| users::id_by_username(tx, &account))? {
            Some(id) => (
                Some(format!("user:{}", id.0)),
                format!("账号 {account} 登录失败"),
            ),
            None => (None, "不存在的账号登录失败".to_string()),
        };
        app.store.write(|tx| {
            let mut ev = anonymous_event("login.failure", ip, detail);
            ev.target = target;
            audit::append(tx, now, ev)
        })?;
        return Err(AppError::BadCredentials);
    };
    app.throttle.success(&account, ip);

    let token = random_token()?;
    let key = session_key(&token);
    let session = Session {
        user: user.id,
        csrf_token: random_token()?,
        created_at: now,
        last_seen: now,
        seat: None,
    };
    let actor = actor_for(&user, key.clone(), &session, ip);
    app.store.write(|tx| {
        if let Some(prev) = previous {
            sessions::delete(tx, &session_key(prev))?;
        }
        sessions::put(tx, &key, &session)?;
        audit::append(
            tx,
            now,
            actor.event(
                "login.success",
                Some(format!("user:{}", user.id.0)),
                "登录成功".into(),
            ),
        )
        .map(|_| ())
    })?;
    Ok(LoginOk { token, actor })
}

/// The actor behind a session token, if the session is alive and its user may still work.
/// `keep_alive`: whether the request counts as the person's activity (a page polling by
/// itself does not, so an unattended browser still signs out when idle).
pub fn authenticate(
    app: &App,
    token: &str,
    ip: Option<IpAddr>,
    keep_alive: bool,
) -> Result<Option<Actor>, AppError> {
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(None);
    }
    let key = session_key(token);
    let now = app.now();
    let idle = app.settings().idle_secs();
    let found = app.store.read(|tx| -> Result<_, AppError> {
        let Some(s) = sessions::get(tx, &key)? else {
            return Ok(None);
        };
        let u = users::get(tx, s.user)?;
        Ok(Some((s, u)))
    })?;
    let Some((session, user)) = found else {
        return Ok(None);
    };
    let live = match (session.state(now, idle), &user) {
        (SessionState::Live { touch }, Some(u)) if !u.disabled => Some(touch),
        _ => None,
    };
    match (live, user) {
        (Some(touch), Some(user)) => {
            // Keeping the session alive is best effort: on a full disk the user still reads.
            if touch && keep_alive {
                let touched = Session {
                    last_seen: now,
                    ..session.clone()
                };
                let k = key.clone();
                if let Err(e) = app
                    .store
                    .write_batched(move |tx| sessions::put(tx, &k, &touched))
                {
                    tracing::warn!(error = %e, "session not touched");
                }
            }
            Ok(Some(actor_for(&user, key, &session, ip)))
        }
        _ => {
            // An ended session is refused whether or not its record can be removed now.
            if let Err(e) = app.store.write(|tx| sessions::delete(tx, &key)) {
                tracing::warn!(error = %e, "ended session not removed");
            }
            Ok(None)
        }
    }
}

pub fn logout(app: &App, actor: &Actor) -> Result<(), AppError> {
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        sessions::delete(tx, &actor.session_key)?;
        audit::append(
            tx,
            now,
            actor.event(
                "logout",
                Some(format!("user:{}", actor.id.0)),
                "退出登录".into(),
            ),
        )?;
        Ok(())
    })
}

/// Changes the actor's own password; every other session of the user ends. Blocking.
pub fn change_password(
    app: &App,
    actor: &Actor,
    old_password: &str,
    new_password: &str,
) -> Result<(), AppError> {
    let now = app.now();
    let current = app
        .store
        .read(|tx| users::get(tx, actor.id))?
        .ok_or(AppError::Unauthenticated)?;
    // The old-password check is a password guess like a login: throttled the same way.
    app.throttle
        .check(&current.username, actor.ip, now)
        .map_err(|retry_after| AppError::Throttled { retry_after })?;
    if !password::verify(old_password, &current.password_hash) {
        app.throttle.failure(&current.username, actor.ip, now);
        return Err(AppError::invalid("old_password", "原密码不正确"));
    }
    app.throttle.success(&current.username, actor.ip);
    user::validate_password(&current.username, new_password)
        .map_err(|e| AppError::invalid("new_password", e.to_string()))?;
    if old_password == new_password {
        return Err(AppError::invalid("new_password", "新密码不能与原密码相同"));
    }
    let hash = password::hash(new_password)?;
    app.store.write(|tx| {
        let mut u = users::get(tx, actor.id)?.ok_or(AppError::Unauthenticated)?;
        u.password_hash = hash;
        u.must_change_password = false;
        u.password_changed_at = now;
        users::put(tx, &u)?;
        let current = sessions::get(tx, &actor.session_key)?;
        sessions::delete_for_user(tx, actor.id)?;
        if let Some(s) = current {
            sessions::put(tx, &actor.session_key, &s)?;
        }
        audit::append(
            tx,
            now,
            actor.event(
                "password.change",
                Some(format!("user:{}", actor.id.0)),
                "修改本人密码".into(),
            ),
        )?;
        Ok(())
    })
}

/// Takes seat `seat` (1–4) for the actor's session, or leaves it (`None`); audited. A seat
/// taken by someone still signed in there is theirs until they leave or sign out.
pub fn take_seat(app: &App, actor: &Actor, seat: Option<u8>) -> Result<(), AppError> {
    actor.require(crate::domain::role::Permission::OrdersCreate)?;
    if actor.channel.is_some() || actor.session_key.is_empty() {
        return Err(AppError::Forbidden);
    }
    if seat.is_some_and(|s| s == 0 || s > crate::domain::session::SEATS) {
        return Err(AppError::invalid("seat", "席位应为 1—4"));
    }
    let now = app.now();
    let idle = app.settings().idle_secs();
    let actor = actor.clone();
    app.store.write(move |tx| -> Result<(), AppError> {
        if let Some(s) = seat {
            for (user, name) in crate::store::sessions::on_seat(tx, s, now, idle)? {
                if user != actor.id {
                    return Err(AppError::conflict(
                        "seat_taken",
                        format!("{s} 号席位已由{name}使用，请选择其他席位"),
                    ));
                }
            }
        }
        let mut session =
            sessions::get(tx, &actor.session_key)?.ok_or(AppError::Unauthenticated)?;
        session.seat = seat;
        sessions::put(tx, &actor.session_key, &session)?;
        let summary = match seat {
            Some(s) => format!("进入 {s} 号席位"),
            None => "离开席位".to_string(),
        };
        audit::append(tx, now, actor.event("seat.take", None, summary))?;
        Ok(())
    })
}

/// The seat the actor's session has taken, if any.
pub fn my_seat(app: &App, actor: &Actor) -> Result<Option<u8>, AppError> {
    Ok(app
        .store
        .read(|tx| sessions::get(tx, &actor.session_key))?
        .and_then(|s| s.seat))
}
