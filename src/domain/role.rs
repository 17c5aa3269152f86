//! The six roles of the centre and what each may do: permissions as data.

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Operator,
    ShiftLead,
    Qa,
    Supervisor,
    Admin,
    Unit,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Operator,
        Role::ShiftLead,
        Role::Qa,
        Role::Supervisor,
        Role::Admin,
        Role::Unit,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Role::Operator => "operator",
            Role::ShiftLead => "shift_lead",
            Role::Qa => "qa",
            Role::Supervisor => "supervisor",
            Role::Admin => "admin",
            Role::Unit => "unit",
        }
    }

    pub fn parse(code: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The default display name; the office may rename roles in the settings.
    pub fn default_label(self) -> &'static str {
        match self {
            Role::Operator => "话务员",
            Role::ShiftLead => "值班长",
            Role::Qa => "质检回访员",
            Role::Supervisor => "督办员",
            Role::Admin => "热线管理",
            Role::Unit => "承办单位经办人",
        }
    }
}

/// Everything a route or a service function may require.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Create, disable, change role of, and reset the password of users.
    UsersManage,
    /// Create and edit units (承办单位).
    UnitsManage,
    /// Read the list of units (to dispatch, to report).
    UnitsRead,
    /// Browse and verify the audit log.
    AuditRead,
    /// Change the office's settings (names, timeouts).
    SettingsManage,
    /// Register orders (受理登记) and see intake hints.
    OrdersCreate,
    /// Read orders; unit users only their own unit's.
    OrdersRead,
    /// Reveal a caller's unmasked identity number, with a reason (audited).
    CallerReveal,
    /// Read who viewed an order's caller data.
    ViewLogRead,
    /// Put numbers on the blacklist and lift them (值班长).
    BlacklistManage,
    /// See the blacklist and a number's harassment record.
    BlacklistRead,
    /// Write and revise knowledge base articles.
    KnowledgeManage,
    /// Read and search the knowledge base.
    KnowledgeRead,
    /// Write the shift handover log.
    HandoverWrite,
    /// Urge all of a unit's overdue orders at once.
    UrgeUnits,
    /// Read the reports: unit assessment, 通报, hot topics.
    ReportsRead,
    /// Set the assessment's weights, minimum sample and rules.
    AssessmentManage,
    /// Contest one order's result in the assessment (a unit, for its own orders).
    AppealsFile,
    /// Read appeals: a unit its own, the supervisor and admin all.
    AppealsRead,
    /// Uphold or reject a unit's appeal.
    AppealsDecide,
    /// Score orders against the QA rubric (质检).
    QaInspect,
    /// Read QA scores: an operator their own, the centre's leads all.
    QaRead,
    /// Decide an operator's appeal against a QA score.
    QaAppealDecide,
    /// Choose the typical cases (典型案例) the bulletin reports.
    CasesManage,
    /// Work the callback queue (回访) from one order to the next.
    CallbacksWork,
    /// See the duty roster (排班).
    RosterRead,
    /// Plan the roster, keep templates, decide swaps.
    RosterManage,
    /// Ask to swap one's own shift.
    RosterSwap,
}

impl Permission {
    pub const ALL: [Permission; 28] = [
        Permission::UsersManage,
        Permission::UnitsManage,
        Permission::UnitsRead,
        Permission::AuditRead,
        Permission::SettingsManage,
        Permission::OrdersCreate,
        Permission::OrdersRead,
        Permission::CallerReveal,
        Permission::ViewLogRead,
        Permission::BlacklistManage,
        Permission::BlacklistRead,
        Permission::KnowledgeManage,
        Permission::KnowledgeRead,
        Permission::HandoverWrite,
        Permission::UrgeUnits,
        Permission::ReportsRead,
        Permission::AssessmentManage,
        Permission::AppealsFile,
        Permission::AppealsRead,
        Permission::AppealsDecide,
        Permission::QaInspect,
        Permission::QaRead,
        Permission::QaAppealDecide,
        Permission::CasesManage,
        Permission::CallbacksWork,
        Permission::RosterRead,
        Permission::RosterManage,
        Permission::RosterSwap,
    ];
}

/// The one place that decides whether a role holds a permission.
pub fn allows(role: Role, permission: Permission) -> bool {
    use Role::*;
    match permission {
        Permission::UsersManage => matches!(role, Admin),
        Permission::UnitsManage => matches!(role, Admin),
        Permission::UnitsRead => matches!(role, Operator | ShiftLead | Qa | Supervisor | Admin),
        Permission::AuditRead => matches!(role, Admin),
        Permission::SettingsManage => matches!(role, Admin),
        Permission::OrdersCreate => matches!(role, Operator | ShiftLead),
        Permission::OrdersRead => true,
        Permission::CallerReveal => matches!(role, Operator | ShiftLead | Qa | Supervisor),
        Permission::ViewLogRead => matches!(role, Supervisor | Admin),
        Permission::BlacklistManage => matches!(role, ShiftLead),
        Permission::BlacklistRead => matches!(role, Operator | ShiftLead | Supervisor | Admin),
        Permission::KnowledgeManage => matches!(role, Admin | ShiftLead),
        Permission::KnowledgeRead => true,
        Permission::HandoverWrite => matches!(role, ShiftLead),
        Permission::UrgeUnits => matches!(role, Supervisor | ShiftLead),
        Permission::ReportsRead => matches!(role, ShiftLead | Qa | Supervisor | Admin),
        Permission::AssessmentManage => matches!(role, Admin),
        Permission::AppealsFile => matches!(role, Unit),
        Permission::AppealsRead => matches!(role, Unit | Supervisor | Admin),
        Permission::AppealsDecide => matches!(role, Supervisor),
        Permission::QaInspect => matches!(role, Qa),
        Permission::CallbacksWork => matches!(role, Qa),
        Permission::QaRead => matches!(role, Operator | ShiftLead | Qa | Supervisor | Admin),
        Permission::QaAppealDecide => matches!(role, ShiftLead),
        Permission::CasesManage => matches!(role, Supervisor),
        Permission::RosterRead => matches!(role, Operator | ShiftLead | Qa | Supervisor | Admin),
        Permission::RosterManage => matches!(role, ShiftLead),
        Permission::RosterSwap => matches!(role, Operator),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn role_codes_round_trip() {
        for r in Role::ALL {
            assert_eq!(Role::parse(r.code()), Some(r));
            let json = serde_json::to_string(&r).unwrap_or_default();
            assert_eq!(json, format!("\"{}\"", r.code()));
        }
        assert_eq!(Role::parse("root"), None);
    }

    /// Prints the whole matrix (run with --nocapture) and pins the expected shape.
    #[test]
    fn permission_matrix() {
        let mut granted = 0;
        for p in Permission::ALL {
            let row: Vec<&str> = Role::ALL
                .iter()
                .filter(|r| allows(**r, p))
                .map(|r| r.code())
                .collect();
            println!("{p:?}: {}", row.join(", "));
            granted += row.len();
        }
        assert_eq!(granted, 65);
        assert!(Permission::ALL.iter().all(|p| !allows(Role::Unit, *p)
            || matches!(
                p,
                Permission::OrdersRead
                    | Permission::KnowledgeRead
                    | Permission::AppealsFile
                    | Permission::AppealsRead
            )));
        assert!(!allows(Role::Admin, Permission::OrdersCreate));
        assert!(!allows(Role::Admin, Permission::CallerReveal));
    }
}
