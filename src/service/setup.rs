//! First boot: a one-time setup code creates the first admin; no default credentials.

use std::io::Write as _;
use std::net::IpAddr;
use std::path::PathBuf;

use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};

use super::auth::{session_key, tokens_equal};
use super::{App, password};
use crate::domain::audit::{AuditEvent, hex};
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::user::{self, User};
use crate::error::AppError;
use crate::store::codec::Record;
use crate::store::{audit, meta, users};

const META_KEY: &str = "setup_code";
pub const FILE_NAME: &str = "setup-code";
/// A setup code is good for 24 hours; a restart makes a new one.
const VALID_SECS: i64 = 24 * 3600;
/// No 0/O, 1/I/L: the code is read off a console and typed.
const ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";

#[derive(Serialize, Deserialize)]
pub struct SetupCode {
    /// Hex SHA-256 of the code.
    pub hash: String,
    pub expires_at: Timestamp,
}

impl Record for SetupCode {
    const KIND: &'static str = "setup_code";
    const VERSION: u8 = 1;
}

fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

fn code_hash(code: &str) -> String {
    hex(&session_key(&normalize(code)))
}

pub fn file_path(app: &App) -> PathBuf {
    app.data_dir.join(FILE_NAME)
}

/// At start: with no users, makes a fresh code, stores its hash and writes it to
/// `DATA/setup-code` (0600); with users, removes any leftover code. Returns the code.
pub fn prepare(app: &App) -> Result<Option<String>, AppError> {
    let path = file_path(app);
    if app.store.read(users::count)? > 0 {
        app.store.write(|tx| meta::delete(tx, META_KEY))?;
        if path.exists() {
            std::fs::remove_file(&path).map_err(|e| AppError::Internal(e.to_string()))?;
        }
        return Ok(None);
    }
    let mut raw = [0u8; 12];
    SystemRandom::new()
        .fill(&mut raw)
        .map_err(|_| AppError::Internal("random source failed".into()))?;
    let chars: String = raw
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    let code = format!("{}-{}-{}", &chars[0..4], &chars[4..8], &chars[8..12]);
    let record = SetupCode {
        hash: code_hash(&code),
        expires_at: app.now().plus_secs(VALID_SECS),
    };
    app.store.write(|tx| meta::put(tx, META_KEY, &record))?;
    write_private(&path, &format!("{code}\n")).map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(Some(code))
}

fn write_private(path: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::remove_file(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}

pub fn is_needed(app: &App) -> Result<bool, AppError> {
    Ok(app.store.read(users::count)? == 0)
}

/// Creates the first admin with the setup code, once. Blocking (hashes the password).
pub fn complete(
    app: &App,
    code: &str,
    username: &str,
    display_name: &str,
    password_text: &str,
    ip: Option<IpAddr>,
) -> Result<User, AppError> {
    let now = app.now();
    if !is_needed(app)? {
        return Err(AppError::conflict(
            "already_set_up",
            "系统已完成初始化，请直接登录",
        ));
    }
    app.throttle
        .check_ip(ip, now)
        .map_err(|retry_after| AppError::Throttled { retry_after })?;
    let record: Option<SetupCode> = app.store.read(|tx| meta::get(tx, META_KEY))?;
    let valid = record
        .as_ref()
        .is_some_and(|r| r.expires_at > now && tokens_equal(&r.hash, &code_hash(code)));
    if !valid {
        app.throttle.failure("", ip, now);
        return Err(AppError::invalid(
            "code",
            "初始化码不正确或已过期（重启服务会生成新的初始化码）",
        ));
    }
    let username = user::normalize_username(username)?;
    let display_name = if display_name.trim().is_empty() {
        "管理员".to_string()
    } else {
        display_name.trim().to_string()
    };
    user::validate_display_name(&display_name)?;
    user::validate_password(&username, password_text)?;
    let hash = password::hash(password_text)?;
    let admin = app.store.write(|tx| -> Result<User, AppError> {
        // Checked again inside the transaction: two racing setups, one wins.
        if users::count(tx)? > 0 {
            return Err(AppError::conflict(
                "already_set_up",
                "系统已完成初始化，请直接登录",
            ));
        }
        let u = User {
            id: users::next_id(tx)?,
            username: username.clone(),
            display_name,
            role: Role::Admin,
            unit: None,
            password_hash: hash,
            must_change_password: false,
            disabled: false,
            created_at: now,
            password_changed_at: now,
        };
        users::put(tx, &u)?;
        meta::delete(tx, META_KEY)?;
        audit::append(
            tx,
            now,
            AuditEvent {
                actor: "setup".into(),
                ip: ip.map(|i| i.to_string()),
                action: "setup.complete".into(),
                target: Some(format!("user:{}", u.id.0)),
                detail: format!("首次启动：创建管理员 {username}"),
                ..AuditEvent::default()
            },
        )?;
        Ok(u)
    })?;
    let _ = std::fs::remove_file(file_path(app));
    Ok(admin)
}
