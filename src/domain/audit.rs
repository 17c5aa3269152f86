//! The hash-chained audit log: each entry commits to the one before it.

use ring::digest::{SHA256, digest};
use serde::{Deserialize, Serialize};

use super::time::Timestamp;

/// The hash that stands before the first entry.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// What an audit entry says happened; the hash covers every field but `hash`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub seq: u64,
    pub at: Timestamp,
    /// User id of the actor; `None` for the system or the console.
    pub actor_id: Option<u64>,
    /// Username, `system` or `console`.
    pub actor: String,
    pub role: Option<String>,
    /// Remote address, for security events.
    pub ip: Option<String>,
    /// Dotted event code, e.g. `login.failure`, `user.create`.
    pub action: String,
    /// What was acted on, e.g. `user:3`.
    pub target: Option<String>,
    /// A short description with no personal data of callers.
    pub detail: String,
    pub prev_hash: String,
    pub hash: String,
}

/// The fields of an entry as the caller supplies them.
#[derive(Clone, Debug, Default)]
pub struct AuditEvent {
    pub actor_id: Option<u64>,
    pub actor: String,
    pub role: Option<String>,
    pub ip: Option<String>,
    pub action: String,
    pub target: Option<String>,
    pub detail: String,
}

/// The hashed form; field order is fixed by this struct, so serialisation is canonical.
#[derive(Serialize)]
struct Hashed<'a> {
    seq: u64,
    at: i64,
    actor_id: Option<u64>,
    actor: &'a str,
    role: Option<&'a str>,
    ip: Option<&'a str>,
    action: &'a str,
    target: Option<&'a str>,
    detail: &'a str,
    prev_hash: &'a str,
}

pub fn compute_hash(e: &AuditEntry) -> String {
    let body = Hashed {
        seq: e.seq,
        at: e.at.0,
        actor_id: e.actor_id,
        actor: &e.actor,
        role: e.role.as_deref(),
        ip: e.ip.as_deref(),
        action: &e.action,
        target: e.target.as_deref(),
        detail: &e.detail,
        prev_hash: &e.prev_hash,
    };
    // Serialising plain strings and integers cannot fail.
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    hex(digest(&SHA256, &bytes).as_ref())
}

/// Builds the entry that follows `prev` (seq and hash), sealed with its own hash.
pub fn seal(event: AuditEvent, at: Timestamp, prev: Option<(u64, &str)>) -> AuditEntry {
    let (seq, prev_hash) = match prev {
        Some((s, h)) => (s + 1, h.to_string()),
        None => (1, GENESIS_HASH.to_string()),
    };
    let mut e = AuditEntry {
        seq,
        at,
        actor_id: event.actor_id,
        actor: event.actor,
        role: event.role,
        ip: event.ip,
        action: event.action,
        target: event.target,
        detail: event.detail,
        prev_hash,
        hash: String::new(),
    };
    e.hash = compute_hash(&e);
    e
}

/// Why an entry breaks the chain.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ChainBreak {
    #[error("entry {seq}: sequence gap (expected {expected})")]
    Gap { seq: u64, expected: u64 },
    #[error("entry {seq}: previous-hash link does not match entry {}", seq - 1)]
    Link { seq: u64 },
    #[error("entry {seq}: content does not match its hash (altered)")]
    Content { seq: u64 },
}

/// Walks entries in order and reports the first break.
pub struct ChainChecker {
    expected_seq: u64,
    prev_hash: String,
}

impl Default for ChainChecker {
    fn default() -> Self {
        Self {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_string(),
        }
    }
}

impl ChainChecker {
    pub fn check(&mut self, e: &AuditEntry) -> Result<(), ChainBreak> {
        if e.seq != self.expected_seq {
            return Err(ChainBreak::Gap {
                seq: e.seq,
                expected: self.expected_seq,
            });
        }
        if e.prev_hash != self.prev_hash {
            return Err(ChainBreak::Link { seq: e.seq });
        }
        if compute_hash(e) != e.hash {
            return Err(ChainBreak::Content { seq: e.seq });
        }
        self.expected_seq += 1;
        self.prev_hash = e.hash.clone();
        Ok(())
    }

    pub fn checked(&self) -> u64 {
        self.expected_seq - 1
    }
}

pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// What an audit event was, in plain Chinese for the log's readers (the code stays in the
/// chain). An unknown code is shown as it is.
pub fn action_label(code: &str) -> String {
    if let Some(a) = code.strip_prefix("order.") {
        let what = match a {
            "register" => "受理登记",
            "repeat_call" => "重复来电",
            "reveal" => "查看完整来电信息",
            "attach" => "上传附件",
            "auto_urge" => "自动催办",
            other => match super::order_state::Action::parse(other) {
                Some(x) => x.label(),
                None => return code.to_string(),
            },
        };
        return format!("工单：{what}");
    }
    let label = match code {
        "login.success" => "登录",
        "seat.take" => "进出席位",
        "login.failure" => "登录失败",
        "logout" => "退出登录",
        "password.change" => "修改密码",
        "permission.denied" => "越权访问被拒",
        "setup.complete" => "首次启动设置",
        "user.create" => "新建用户",
        "user.update" => "修改用户",
        "user.reset_password" => "重置密码",
        "unit.create" => "新建承办单位",
        "unit.update" => "修改承办单位",
        "settings.update" => "修改系统设置",
        "calendar.update" => "修改工作日历",
        "limits.update" => "修改办理时限",
        "category.update" => "修改诉求分类",
        "screening.update" => "修改甄别口径",
        "assessment.rules" => "修改考核规则",
        "reports.stop_words" => "修改热点停用词",
        "qa.rules" => "修改质检评分表",
        "qa.inspect" => "质检评分",
        "qa.appeal" => "质检申诉",
        "qa.decide" => "质检申诉裁定",
        "appeal.file" => "考核申诉",
        "appeal.decide" => "考核申诉裁定",
        "case.mark" => "标记典型案例",
        "kb.save" => "保存知识库文章",
        "kb.synonyms" => "修改知识库同义词",
        "blacklist.add" => "加入黑名单",
        "blacklist.lift" => "解除黑名单",
        "handover.add" => "交接班记录",
        "token.issue" => "签发接口令牌",
        "token.revoke" => "吊销接口令牌",
        "token.callback" => "设置回传地址",
        "outbox.retry" => "重新发送回传",
        "roster.save" => "保存排班",
        "roster.template" => "保存排班模板",
        "roster.swap" => "申请换班",
        "roster.swap_decide" => "审批换班",
        "backup.ok" => "备份完成",
        "backup.failed" => "备份失败",
        "backup.restore" => "从备份恢复",
        "tls.local" => "生成本机证书",
        "tls.upload" => "上传证书",
        "update.upload" => "上传升级包",
        "update.install" => "安装升级",
        "update.installed" => "升级已安装",
        "update.installed_forced" => "升级已强制安装",
        "update.confirmed" => "升级已确认",
        "update.failed" => "升级失败",
        "update.rolled_back" => "升级已回退",
        other => return other.to_string(),
    };
    label.to_string()
}

/// What kind of thing an audit target (`user:7`, `order:12`, …) names, and its id.
pub fn target_parts(target: &str) -> Option<(&str, u64)> {
    let (kind, id) = target.split_once(':')?;
    Some((kind, id.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(action: &str) -> AuditEvent {
        AuditEvent {
            actor: "admin".into(),
            action: action.into(),
            detail: "d".into(),
            ..AuditEvent::default()
        }
    }

    #[test]
    fn chain_detects_alteration_and_gaps() {
        let a = seal(ev("a"), Timestamp(1), None);
        let b = seal(ev("b"), Timestamp(2), Some((a.seq, &a.hash)));
        let c = seal(ev("c"), Timestamp(3), Some((b.seq, &b.hash)));
        let mut ok = ChainChecker::default();
        for e in [&a, &b, &c] {
            assert_eq!(ok.check(e), Ok(()));
        }
        assert_eq!(ok.checked(), 3);

        let mut altered = b.clone();
        altered.detail = "changed".into();
        let mut chk = ChainChecker::default();
        assert_eq!(chk.check(&a), Ok(()));
        assert_eq!(chk.check(&altered), Err(ChainBreak::Content { seq: 2 }));

        // Rehashing the altered entry moves the break to the link of the next one.
        altered.hash = compute_hash(&altered);
        let mut chk = ChainChecker::default();
        assert_eq!(chk.check(&a), Ok(()));
        assert_eq!(chk.check(&altered), Ok(()));
        assert_eq!(chk.check(&c), Err(ChainBreak::Link { seq: 3 }));

        let mut chk = ChainChecker::default();
        assert_eq!(chk.check(&a), Ok(()));
        assert_eq!(
            chk.check(&c),
            Err(ChainBreak::Gap {
                seq: 3,
                expected: 2
            })
        );
    }
}
