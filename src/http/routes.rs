//! Every route, who may use it, and its handler: one table that builds the router and
//! drives the access guard, so no route can exist without an access rule.

use axum::Router;
use axum::routing::{MethodFilter, on};

use super::{AppState, api, assets, attachments, metrics, open311, pages};
use crate::domain::role::Permission;

/// Who may call a route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, no session needed (health, static files, login and setup forms).
    Public,
    /// Any signed-in user, even one who must still change the password.
    Password,
    /// Any signed-in user who has set their own password.
    Session,
    /// Signed-in users whose role holds the permission.
    Perm(Permission),
    /// The phone system's token only (`Authorization: Bearer`), no session.
    Token,
}

#[derive(Clone, Copy, Debug)]
pub struct RouteSpec {
    pub method: &'static str,
    pub path: &'static str,
    pub access: Access,
}

macro_rules! routes {
    ($( $method:ident $path:literal => $access:expr, $handler:path; )*) => {
        pub const ROUTES: &[RouteSpec] = &[
            $( RouteSpec { method: stringify!($method), path: $path, access: $access }, )*
        ];

        pub fn table_router() -> Router<AppState> {
            Router::new()
                $( .route($path, on(MethodFilter::$method, $handler)) )*
        }
    };
}

use Access::*;
use Permission::*;

routes! {
    // Operations
        GET    "/healthz"                      => Public, api::ops::healthz;
    GET    "/metrics"                      => Public, metrics::metrics;
    GET    "/static/{name}"                => Public, assets::serve;

    // API: first boot and session
    POST   "/api/v1/setup"                 => Public, api::session::setup;
    POST   "/api/v1/session"               => Public, api::session::login;
    GET    "/api/v1/session"               => Password, api::session::current;
    DELETE "/api/v1/session"               => Password, api::session::logout;
    POST   "/api/v1/session/password"      => Password, api::session::change_password;

    // API: administration
    GET    "/api/v1/users"                 => Perm(UsersManage), api::admin::list_users;
    POST   "/api/v1/users"                 => Perm(UsersManage), api::admin::create_user;
    GET    "/api/v1/users/{id}"            => Perm(UsersManage), api::admin::get_user;
    PATCH  "/api/v1/users/{id}"            => Perm(UsersManage), api::admin::update_user;
    GET    "/api/v1/units"                 => Perm(UnitsRead), api::admin::list_units;
    POST   "/api/v1/units"                 => Perm(UnitsManage), api::admin::create_unit;
    PATCH  "/api/v1/units/{id}"            => Perm(UnitsManage), api::admin::update_unit;
    GET    "/api/v1/audit"                 => Perm(AuditRead), api::admin::list_audit;
    GET    "/api/v1/settings"              => Perm(SettingsManage), api::admin::get_settings;
    GET    "/api/v1/admin/limits"          => Perm(SettingsManage), pages::rules::api_get_limits;
    PUT    "/api/v1/admin/limits"          => Perm(SettingsManage), pages::rules::api_put_limits;
    GET    "/api/v1/admin/calendar"        => Perm(SettingsManage), pages::rules::api_get_calendar;
        PUT    "/api/v1/admin/calendar/{year}" => Perm(SettingsManage), pages::rules::api_put_year;
        GET    "/api/v1/admin/screening"       => Perm(SettingsManage), pages::rules::api_get_screening;
        GET    "/api/v1/admin/tokens"          => Perm(SettingsManage), api::admin::list_tokens;
    GET    "/api/v1/admin/backups"         => Perm(SettingsManage), pages::backups::api_list;
    POST   "/api/v1/admin/backups"         => Perm(SettingsManage), pages::backups::api_run;
    POST   "/api/v1/admin/tokens"          => Perm(SettingsManage), api::admin::issue_token;
    POST   "/api/v1/admin/tokens/{id}/revoke" => Perm(SettingsManage), api::admin::revoke_token;
    PUT    "/api/v1/admin/screening"       => Perm(SettingsManage), pages::rules::api_put_screening;
    POST   "/api/v1/categories"            => Perm(SettingsManage), pages::rules::api_put_category;
    PUT    "/api/v1/settings"              => Perm(SettingsManage), api::admin::put_settings;

    // API: work orders
    GET    "/api/v1/categories"            => Session, api::orders::categories;
    GET    "/api/v1/orders"                => Perm(OrdersRead), api::orders::list;
    POST   "/api/v1/orders"                => Perm(OrdersCreate), api::orders::create;
    GET    "/api/v1/orders/{id}"           => Perm(OrdersRead), api::orders::get;
    POST   "/api/v1/orders/{id}/actions/{action}" => Perm(OrdersRead), api::orders::act;
    POST   "/api/v1/orders/{id}/reveal"    => Perm(CallerReveal), api::orders::reveal;
    GET    "/api/v1/orders/{id}/views"     => Perm(ViewLogRead), api::orders::views;
    GET    "/api/v1/intake/hints"          => Perm(OrdersCreate), api::orders::hints;
    GET    "/api/v1/intake/check"          => Perm(OrdersCreate), api::orders::check;
    POST   "/api/v1/orders/{id}/repeat_call" => Perm(OrdersCreate), api::orders::repeat_call;
    GET    "/api/v1/lookup/{query_code}"   => Perm(OrdersCreate), api::orders::lookup;

    // API: connections
    POST   "/api/v1/cti/events"            => Token, api::cti::event;
    GET    "/api/v1/me/events"             => Perm(OrdersCreate), api::cti::stream;
    GET    "/api/v1/admin/outbox"          => Perm(SettingsManage), api::admin::outbox;
    POST   "/api/v1/admin/outbox/{id}/retry" => Perm(SettingsManage), api::admin::retry_delivery;
    PATCH  "/api/v1/admin/tokens/{id}"     => Perm(SettingsManage), api::admin::update_token;
    GET    "/api/v1/suggest/units"         => Perm(OrdersCreate), api::suggest::units;
    GET    "/api/v1/admin/suggest"         => Perm(SettingsManage), api::suggest::accuracy;
    POST   "/api/v1/admin/suggest"         => Perm(SettingsManage), api::suggest::evaluate;
    GET    "/api/v1/roster"                => Perm(RosterRead), api::roster::get;
    PUT    "/api/v1/roster"                => Perm(RosterManage), api::roster::put;
    POST   "/api/v1/roster/swaps"          => Perm(RosterSwap), api::roster::request_swap;
    POST   "/api/v1/roster/swaps/{id}/decide" => Perm(RosterManage), api::roster::decide_swap;
    POST   "/api/v1/orders/{id}/attachments" => Perm(OrdersRead), attachments::api_upload;
    POST   "/api/v1/units/{id}/urge_overdue" => Perm(UrgeUnits), api::orders::urge_unit;

    // API: reports
    GET    "/api/v1/reports/units"         => Perm(ReportsRead), api::reports::units;
    GET    "/api/v1/reports/operators"     => Perm(ReportsRead), api::reports::operators;
    GET    "/api/v1/reports/summary"       => Perm(ReportsRead), api::reports::summary;
    GET    "/api/v1/reports/hot"           => Perm(ReportsRead), api::reports::hot;
    GET    "/api/v1/admin/assessment"      => Perm(ReportsRead), api::reports::get_rules;
    PUT    "/api/v1/admin/assessment"      => Perm(AssessmentManage), api::reports::put_rules;
    GET    "/api/v1/admin/stopwords"       => Perm(ReportsRead), api::reports::get_stop_words;
    PUT    "/api/v1/admin/stopwords"       => Perm(AssessmentManage), api::reports::put_stop_words;
    POST   "/api/v1/orders/{id}/appeals"   => Perm(AppealsFile), api::appeals::file;
    GET    "/api/v1/appeals"               => Perm(AppealsRead), api::appeals::list;
    POST   "/api/v1/appeals/{id}/decide"   => Perm(AppealsDecide), api::appeals::decide;
    GET    "/api/v1/qa/rubric"             => Perm(QaRead), api::qa::get_rubric;
    PUT    "/api/v1/qa/rubric"             => Perm(AssessmentManage), api::qa::put_rubric;
    GET    "/api/v1/qa/samples"            => Perm(QaInspect), api::qa::samples;
    POST   "/api/v1/orders/{id}/inspection" => Perm(QaInspect), api::qa::inspect;
    GET    "/api/v1/inspections"           => Perm(QaRead), api::qa::list;
    POST   "/api/v1/inspections/{id}/appeal" => Perm(QaRead), api::qa::appeal;
    POST   "/api/v1/inspections/{id}/decide" => Perm(QaAppealDecide), api::qa::decide;

    // API: screening
    GET    "/api/v1/blacklist"             => Perm(BlacklistRead), api::blacklist::list;
    POST   "/api/v1/blacklist"             => Perm(BlacklistManage), api::blacklist::add;
    POST   "/api/v1/blacklist/{phone}/lift" => Perm(BlacklistManage), api::blacklist::lift;
    GET    "/api/v1/phones/{phone}/record" => Perm(BlacklistRead), api::blacklist::record;

    // API: knowledge base
    GET    "/api/v1/kb"                    => Perm(KnowledgeRead), api::kb::list;
    POST   "/api/v1/kb"                    => Perm(KnowledgeManage), api::kb::create;
    GET    "/api/v1/kb/synonyms"           => Perm(KnowledgeRead), api::kb::get_synonyms;
    PUT    "/api/v1/kb/synonyms"           => Perm(KnowledgeManage), api::kb::put_synonyms;
    GET    "/api/v1/kb/{id}"               => Perm(KnowledgeRead), api::kb::get;
    PUT    "/api/v1/kb/{id}"               => Perm(KnowledgeManage), api::kb::update;

    // Open311 GeoReport v2 (the channel's token as `api_key`; errors in the spec's format)
    GET    "/open311/v2/services.json"     => Public, open311::services;
    GET    "/open311/v2/services.xml"      => Public, open311::services;
    GET    "/open311/v2/services/{file}"   => Public, open311::service_definition;
    GET    "/open311/v2/requests.json"     => Public, open311::list;
    GET    "/open311/v2/requests.xml"      => Public, open311::list;
    POST   "/open311/v2/requests.json"     => Public, open311::create;
    POST   "/open311/v2/requests.xml"      => Public, open311::create;
    GET    "/open311/v2/requests/{file}"   => Public, open311::get;
    GET    "/open311/v2/tokens/{file}"     => Public, open311::token;

    // Pages: sign-in
    GET    "/login"                        => Public, pages::auth::login_form;
    POST   "/login"                        => Public, pages::auth::login_submit;
    POST   "/logout"                       => Password, pages::auth::logout;
    GET    "/setup"                        => Public, pages::auth::setup_form;
    POST   "/setup"                        => Public, pages::auth::setup_submit;
    GET    "/password"                     => Password, pages::auth::password_form;
    POST   "/password"                     => Password, pages::auth::password_submit;

    // Pages: everyone's home
    GET    "/"                             => Session, pages::home::home;
    GET    "/api/v1/me/counters"           => Perm(OrdersRead), api::orders::counters;
    GET    "/callbacks/next"               => Perm(CallbacksWork), pages::orders::next_callback;
    POST   "/handover"                     => Perm(HandoverWrite), pages::home::handover_submit;
    POST   "/me/seat"                      => Perm(OrdersCreate), pages::home::seat_submit;

    // Pages: work orders
    GET    "/orders"                       => Perm(OrdersRead), pages::orders::search;
    GET    "/orders/new"                   => Perm(OrdersCreate), pages::intake::intake_form;
    POST   "/orders/new"                   => Perm(OrdersCreate), pages::intake::intake_submit;
    GET    "/orders/{id}"                  => Perm(OrdersRead), pages::orders::show;
    POST   "/orders/{id}/act/{action}"     => Perm(OrdersRead), pages::orders::act;
    POST   "/orders/{id}/reveal"           => Perm(CallerReveal), pages::orders::reveal;
        POST   "/orders/{id}/repeat_call"      => Perm(OrdersCreate), pages::orders::repeat_call;
    POST   "/orders/{id}/attachments"      => Perm(OrdersRead), attachments::page_upload;
    GET    "/orders/{id}/attachments/{hash}" => Perm(OrdersRead), attachments::download;
    POST   "/units/{id}/urge_overdue"      => Perm(UrgeUnits), pages::orders::urge_unit;

    // Pages: reports
    GET    "/reports"                      => Perm(ReportsRead), pages::reports::index;
    GET    "/reports/units/{id}/orders"    => Perm(ReportsRead), pages::reports::figure;
    GET    "/reports/operators"            => Perm(ReportsRead), pages::reports::operators;
    GET    "/reports/bulletin"             => Perm(ReportsRead), pages::reports::bulletin;
    GET    "/reports/hot"                  => Perm(ReportsRead), pages::reports::hot;
    GET    "/admin/assessment"             => Perm(AssessmentManage), pages::reports::rules_form;
    POST   "/admin/assessment"             => Perm(AssessmentManage), pages::reports::save_rules;
    GET    "/admin/stopwords"              => Perm(AssessmentManage), pages::reports::stop_words_form;
    POST   "/admin/stopwords"              => Perm(AssessmentManage), pages::reports::save_stop_words;
    GET    "/appeals"                      => Perm(AppealsRead), pages::reports::appeals_index;
    GET    "/qa"                           => Perm(QaRead), pages::qa::desk;
    GET    "/qa/orders/{id}"               => Perm(QaInspect), pages::qa::score_form;
    POST   "/qa/orders/{id}"               => Perm(QaInspect), pages::qa::score_submit;
    POST   "/qa/{id}/appeal"               => Perm(QaRead), pages::qa::appeal;
    POST   "/qa/{id}/decide"               => Perm(QaAppealDecide), pages::qa::decide;
    GET    "/admin/qa"                     => Perm(AssessmentManage), pages::qa::rubric_form;
    POST   "/admin/qa"                     => Perm(AssessmentManage), pages::qa::rubric_save;
    POST   "/orders/{id}/appeal"           => Perm(AppealsFile), pages::reports::file_appeal;
    POST   "/orders/{id}/typical"          => Perm(CasesManage), pages::reports::mark_case;
    POST   "/appeals/{id}/decide"          => Perm(AppealsDecide), pages::reports::decide_appeal;

    // Pages: duty roster
    GET    "/roster"                       => Perm(RosterRead), pages::roster::index;
    GET    "/roster/export"                => Perm(RosterRead), pages::roster::export;
    POST   "/roster"                       => Perm(RosterManage), pages::roster::save;
    POST   "/roster/copy"                  => Perm(RosterManage), pages::roster::copy;
    POST   "/roster/template"              => Perm(RosterManage), pages::roster::template;
    POST   "/roster/swaps"                 => Perm(RosterSwap), pages::roster::swap;
    POST   "/roster/swaps/{id}/decide"     => Perm(RosterManage), pages::roster::decide;

    // Pages: screening
    GET    "/blacklist"                    => Perm(BlacklistRead), pages::blacklist::index;
    POST   "/blacklist"                    => Perm(BlacklistManage), pages::blacklist::add;
    POST   "/blacklist/{phone}/lift"       => Perm(BlacklistManage), pages::blacklist::lift;
    GET    "/phones/{phone}/record"        => Perm(BlacklistRead), pages::blacklist::record;

    // Pages: knowledge base
    GET    "/kb"                           => Perm(KnowledgeRead), pages::kb::index;
    GET    "/kb/new"                       => Perm(KnowledgeManage), pages::kb::new_form;
    POST   "/kb"                           => Perm(KnowledgeManage), pages::kb::create;
    GET    "/kb/synonyms"                  => Perm(KnowledgeManage), pages::kb::synonyms_form;
    POST   "/kb/synonyms"                  => Perm(KnowledgeManage), pages::kb::save_synonyms;
    GET    "/kb/{id}"                      => Perm(KnowledgeRead), pages::kb::show;
    POST   "/kb/{id}"                      => Perm(KnowledgeManage), pages::kb::update;

    // Pages: administration
    GET    "/admin"                        => Perm(SettingsManage), pages::admin::overview;
    GET    "/admin/users"                  => Perm(UsersManage), pages::admin::users;
    POST   "/admin/users"                  => Perm(UsersManage), pages::admin::create_user;
    POST   "/admin/users/{id}"             => Perm(UsersManage), pages::admin::update_user;
    GET    "/admin/units"                  => Perm(UnitsManage), pages::units::units;
    POST   "/admin/units"                  => Perm(UnitsManage), pages::units::create_unit;
    POST   "/admin/units/{id}"             => Perm(UnitsManage), pages::units::update_unit;
    GET    "/admin/audit"                  => Perm(AuditRead), pages::admin::audit;
    GET    "/admin/calendar"               => Perm(SettingsManage), pages::rules::calendar;
    POST   "/admin/calendar/toggle"        => Perm(SettingsManage), pages::rules::toggle;
        GET    "/admin/limits"                 => Perm(SettingsManage), pages::rules::limits;
    GET    "/admin/screening"              => Perm(SettingsManage), pages::rules::screening;
    POST   "/admin/screening"              => Perm(SettingsManage), pages::rules::save_screening;
    GET    "/admin/categories"             => Perm(SettingsManage), pages::rules::categories;
    POST   "/admin/categories"             => Perm(SettingsManage), pages::rules::save_category;
    POST   "/admin/limits"                 => Perm(SettingsManage), pages::rules::save_limits;
        GET    "/admin/backups"                => Perm(SettingsManage), pages::backups::index;
    POST   "/admin/backups"                => Perm(SettingsManage), pages::backups::run;
    POST   "/admin/backups/settings"       => Perm(SettingsManage), pages::backups::save_settings;
    GET    "/admin/backups/{name}"         => Perm(SettingsManage), pages::backups::download;
    GET    "/admin/tls"                    => Perm(SettingsManage), pages::appliance::tls_index;
    POST   "/admin/tls"                    => Perm(SettingsManage), pages::appliance::tls_upload;
    POST   "/admin/tls/local"              => Perm(SettingsManage), pages::appliance::tls_local;
    GET    "/admin/updates"                => Perm(SettingsManage), pages::appliance::updates_index;
    POST   "/admin/updates/upload"         => Perm(SettingsManage), pages::appliance::updates_upload;
    POST   "/admin/updates/apply"          => Perm(SettingsManage), pages::appliance::updates_apply;
    GET    "/admin/connections"            => Perm(SettingsManage), pages::connections::index;
    POST   "/admin/connections/tokens"     => Perm(SettingsManage), pages::connections::issue;
    POST   "/admin/connections/tokens/{id}/revoke" => Perm(SettingsManage), pages::connections::revoke;
    POST   "/admin/connections/tokens/{id}/callback" => Perm(SettingsManage), pages::connections::callback;
    POST   "/admin/connections/outbox/{id}/retry" => Perm(SettingsManage), pages::connections::retry;
    GET    "/admin/suggestions"            => Perm(SettingsManage), pages::admin::suggestions;
    POST   "/admin/suggestions"            => Perm(SettingsManage), pages::admin::evaluate_suggestions;
    GET    "/admin/settings"               => Perm(SettingsManage), pages::admin::settings;
    POST   "/admin/settings"               => Perm(SettingsManage), pages::admin::save_settings;
}

pub fn find(method: &str, path: &str) -> Option<&'static RouteSpec> {
    ROUTES.iter().find(|r| r.method == method && r.path == path)
}
