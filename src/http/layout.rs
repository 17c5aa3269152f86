//! The layout context every page renders with: organisation, user bar, CSRF token, flash.

use axum::response::Html;
use serde::Serialize;

use super::{AppState, templates};
use crate::domain::role::Role;
use crate::error::AppError;
use crate::service::Actor;

#[derive(Serialize)]
pub struct UserBar {
    pub username: String,
    pub display_name: String,
    pub role: Role,
    pub role_label: String,
    pub must_change_password: bool,
    /// Whether the reports (报表) are open to this role.
    pub reports: bool,
    /// Whether the assessment appeals (考核申诉) are.
    pub appeals: bool,
    /// Whether the QA pages (质检) are.
    pub qa: bool,
    /// Whether this role registers calls: its pages listen for the phone system's
    /// screen-pop.
    pub screen_pop: bool,
    /// Whether the duty roster (排班) is open to this role.
    pub roster: bool,
}

#[derive(Serialize)]
pub struct Layout {
    pub org_name: String,
    pub user: Option<UserBar>,
    /// Which navigation entry is current.
    pub active: &'static str,
    pub csrf: String,
    /// A flash key from `?ok=…`; the text lives in the template.
    pub flash: Option<String>,
    /// Role display names, for templates that name roles.
    pub role_names: Vec<(String, String)>,
    /// For the print watermark.
    pub now: String,
    /// Names this session's intake draft in the browser: a draft saved under any other key
    /// (another user, an ended session) is erased by the page script.
    pub draft_key: String,
    /// The session's idle timeout: the intake page erases its draft when it passes.
    pub idle_secs: u64,
    /// `disk_full` / `failed` while the store cannot write: every page says so.
    pub store_problem: Option<&'static str>,
}

/// A key for this session's browser-side draft, derived from its CSRF token (so it changes
/// with every session and says nothing about the token).
fn draft_key(actor: &Actor) -> String {
    let d = ring::digest::digest(
        &ring::digest::SHA256,
        format!("intake-draft:{}", actor.csrf_token).as_bytes(),
    );
    crate::domain::audit::hex(&d.as_ref()[..8])
}

pub fn layout(state: &AppState, actor: Option<&Actor>, active: &'static str) -> Layout {
    let settings = state.app.settings();
    Layout {
        org_name: settings.org_name.clone(),
        user: actor.map(|a| UserBar {
            username: a.username.clone(),
            display_name: a.display_name.clone(),
            role: a.role,
            role_label: settings.role_name(a.role),
            must_change_password: a.must_change_password,
            reports: crate::domain::role::allows(
                a.role,
                crate::domain::role::Permission::ReportsRead,
            ),
            appeals: crate::domain::role::allows(
                a.role,
                crate::domain::role::Permission::AppealsRead,
            ),
            qa: crate::domain::role::allows(a.role, crate::domain::role::Permission::QaRead),
            roster: crate::domain::role::allows(
                a.role,
                crate::domain::role::Permission::RosterRead,
            ),
            screen_pop: !a.must_change_password
                && crate::domain::role::allows(
                    a.role,
                    crate::domain::role::Permission::OrdersCreate,
                ),
        }),
        active,
        csrf: actor.map(|a| a.csrf_token.clone()).unwrap_or_default(),
        flash: None,
        role_names: Role::ALL
            .iter()
            .map(|r| (r.code().to_string(), settings.role_name(*r)))
            .collect(),
        now: state.app.now().display_cst(),
        draft_key: actor.map(draft_key).unwrap_or_default(),
        idle_secs: settings.idle_secs().max(0) as u64,
        store_problem: match state.app.store.health() {
            crate::store::Health::Ok => None,
            crate::store::Health::DiskFull { .. } => Some("disk_full"),
            crate::store::Health::Failed { .. } => Some("failed"),
        },
    }
}

impl Layout {
    pub fn with_flash(mut self, flash: Option<String>) -> Self {
        self.flash = flash
            .filter(|f| f.len() <= 40 && f.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_'));
        self
    }
}

/// Renders `template` with `{layout, page}`.
pub fn page(
    layout: Layout,
    template: &str,
    page: impl Serialize,
) -> Result<Html<String>, AppError> {
    templates::render(
        template,
        minijinja::context! { layout => layout, page => page },
    )
    .map(Html)
}
