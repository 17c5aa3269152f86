//! Reading and verifying the audit log; writing happens inside each change's transaction.

use serde::Deserialize;

use super::{Actor, App};
use crate::domain::audit::{AuditEntry, AuditEvent, ChainBreak, ChainChecker};
use crate::domain::role::Permission;
use crate::domain::time::Timestamp;
use crate::error::AppError;
use crate::store::{Store, StoreError, audit};

/// Records an event on its own (for events that change nothing else, e.g. a denial).
pub fn record(app: &App, event: AuditEvent) -> Result<(), AppError> {
    let now = app.now();
    app.store
        .write(|tx| audit::append(tx, now, event).map(|_| ()))?;
    Ok(())
}

#[derive(Clone, Debug, Default, Deserialize)]
pub struct AuditFilter {
    /// Prefix of the action code, e.g. `login` or `user.`.
    #[serde(default)]
    pub action: Option<String>,
    /// Username of the actor.
    #[serde(default)]
    pub user: Option<String>,
    /// `YYYY-MM-DD`, Beijing time, inclusive.
    #[serde(default)]
    pub from: Option<String>,
    /// `YYYY-MM-DD`, Beijing time, exclusive.
    #[serde(default)]
    pub to: Option<String>,
    #[serde(default)]
    pub page: Option<u32>,
}

pub struct AuditPage {
    pub items: Vec<AuditLine>,
    pub page: u32,
    pub has_more: bool,
}

/// One entry as the log's readers see it: the event and its subject in plain Chinese
/// (`登录`, `用户 张三（zhangsan）`), with a link to the subject where there is a page.
#[derive(serde::Serialize)]
pub struct AuditLine {
    #[serde(flatten)]
    pub entry: AuditEntry,
    pub action_label: String,
    pub subject: Option<String>,
    pub link: Option<String>,
}

/// The subject of a target, named from the store (a page's 50 reads at most).
fn subject(tx: &impl crate::store::Tx, target: &str) -> Result<(String, Option<String>), AppError> {
    use crate::domain::audit::target_parts;
    let Some((kind, id)) = target_parts(target) else {
        return Ok((target.to_string(), None));
    };
    Ok(match kind {
        "user" => match crate::store::users::get(tx, crate::domain::user::UserId(id))? {
            Some(u) => (
                format!("用户 {}（{}）", u.display_name, u.username),
                Some("/admin/users".into()),
            ),
            None => (format!("用户 #{id}（已不存在）"), None),
        },
        "unit" => match crate::store::units::get(tx, crate::domain::unit::UnitId(id))? {
            Some(u) => (format!("单位 {}", u.name), Some("/admin/units".into())),
            None => (format!("单位 #{id}（已不存在）"), None),
        },
        "order" => match crate::store::orders::row(tx, crate::domain::order::OrderId(id))? {
            Some(r) => (format!("工单 {}", r.number), Some(format!("/orders/{id}"))),
            None => (format!("工单 #{id}"), None),
        },
        "token" => (format!("接口令牌 #{id}"), None),
        _ => (target.to_string(), None),
    })
}

pub const PAGE_SIZE: usize = 50;

fn parse_date(field: &'static str, v: &Option<String>) -> Result<Option<Timestamp>, AppError> {
    match v.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(None),
        Some(s) => Timestamp::parse_cst_date(s).map(Some).ok_or_else(|| {
            AppError::invalid(field, "日期应为 YYYY-MM-DD 的真实日期（2000—2099 年）")
        }),
    }
}

/// Newest first, filtered, one page of 50.
pub fn list(app: &App, actor: &Actor, f: &AuditFilter) -> Result<AuditPage, AppError> {
    actor.require(Permission::AuditRead)?;
    let from = parse_date("from", &f.from)?;
    let to = parse_date("to", &f.to)?;
    let action = f.action.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let user = f.user.as_deref().map(str::trim).filter(|s| !s.is_empty());
    let page = f.page.unwrap_or(1).clamp(1, 100_000);
    let skip = (page as usize - 1) * PAGE_SIZE;
    let mut seen = 0usize;
    let mut has_more = false;
    let mut entries: Vec<AuditEntry> = Vec::new();
    let items = &mut entries;
    let lines = app.store.read(|tx| -> Result<Vec<AuditLine>, AppError> {
        audit::scan_rev(tx, |e| {
            if to.is_some_and(|t| e.at >= t) {
                return true;
            }
            if from.is_some_and(|t| e.at < t) {
                return false;
            }
            let matches = action.is_none_or(|a| e.action.starts_with(a))
                && user.is_none_or(|u| e.actor.eq_ignore_ascii_case(u));
            if matches {
                if seen >= skip + PAGE_SIZE {
                    has_more = true;
                    return false;
                }
                if seen >= skip {
                    items.push(e);
                }
                seen += 1;
            }
            true
        })?;
        let mut lines = Vec::new();
        for e in std::mem::take(items) {
            let (subject, link) = match e.target.as_deref() {
                Some(t) => {
                    let (s, l) = subject(tx, t)?;
                    (Some(s), l)
                }
                None => (None, None),
            };
            lines.push(AuditLine {
                action_label: crate::domain::audit::action_label(&e.action),
                subject,
                link,
                entry: e,
            });
        }
        Ok(lines)
    })?;
    Ok(AuditPage {
        items: lines,
        page,
        has_more,
    })
}

/// The outcome of walking the whole chain.
pub enum Verdict {
    Intact { entries: u64 },
    Broken { checked: u64, first_bad: ChainBreak },
    Unreadable { seq: u64, error: String },
}

pub fn verify(store: &Store) -> Result<Verdict, StoreError> {
    let mut checker = ChainChecker::default();
    let mut verdict = None;
    store.read(|tx| {
        audit::scan(tx, 1, |row| match row {
            Ok(e) => match checker.check(&e) {
                Ok(()) => true,
                Err(b) => {
                    verdict = Some(Verdict::Broken {
                        checked: checker.checked(),
                        first_bad: b,
                    });
                    false
                }
            },
            Err(err) => {
                verdict = Some(Verdict::Unreadable {
                    seq: checker.checked() + 1,
                    error: err.to_string(),
                });
                false
            }
        })
    })?;
    Ok(verdict.unwrap_or(Verdict::Intact {
        entries: checker.checked(),
    }))
}
