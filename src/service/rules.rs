//! The rules the office edits without a release: work calendar, time limits, harassment policy.

use serde::{Deserialize, Serialize};

use super::{Actor, App};
use crate::domain::blacklist::HarassPolicy;
use crate::domain::calendar::{Calendar, Span, YearCalendar, parse_date};
use crate::domain::limits::Limits;
use crate::domain::role::Permission;
use crate::error::AppError;
use crate::store::{audit, meta};

pub fn calendar(app: &App) -> Result<Calendar, AppError> {
    Ok(app
        .store
        .read(|tx| meta::get::<Calendar>(tx, "calendar"))?
        .unwrap_or_default())
}

/// The admin's warning: next year's holidays are not entered (from October on), or this year's.
pub fn calendar_warning(app: &App) -> Result<Option<i32>, AppError> {
    let cal = calendar(app)?;
    let today = app.now().to_cst();
    let year: i32 = today.map(|t| t.year()).unwrap_or(2026);
    let month: u32 = today.map(|t| u32::from(u8::from(t.month()))).unwrap_or(1);
    if !cal.has_year(year) {
        return Ok(Some(year));
    }
    if month >= 10 && !cal.has_year(year + 1) {
        return Ok(Some(year + 1));
    }
    Ok(None)
}

/// Flips one day between working day and day off.
pub fn toggle_day(app: &App, actor: &Actor, date: &str) -> Result<bool, AppError> {
    actor.require(Permission::SettingsManage)?;
    let d = parse_date(date).ok_or_else(|| AppError::invalid("date", "日期格式应为 YYYY-MM-DD"))?;
    let now = app.now();
    app.store.write(|tx| -> Result<bool, AppError> {
        let mut cal: Calendar = meta::get(tx, "calendar")?.unwrap_or_default();
        let working = !cal.is_working_day(d);
        cal.set_day(d, working);
        meta::put(tx, "calendar", &cal)?;
        audit::append(
            tx,
            now,
            actor.event(
                "calendar.update",
                None,
                format!(
                    "{date} 设为{}",
                    if working {
                        "工作日（班）"
                    } else {
                        "休息日（休）"
                    }
                ),
            ),
        )?;
        Ok(working)
    })
}

#[derive(Deserialize, Serialize)]
pub struct YearInput {
    pub holidays: Vec<String>,
    pub workdays: Vec<String>,
}

/// Replaces a year's holidays and make-up days (e.g. from the State Council's notice).
pub fn put_year(
    app: &App,
    actor: &Actor,
    year: i32,
    input: YearInput,
) -> Result<YearCalendar, AppError> {
    actor.require(Permission::SettingsManage)?;
    if !(crate::domain::time::MIN_YEAR..=crate::domain::time::MAX_YEAR).contains(&year) {
        return Err(AppError::invalid("year", "年份无效"));
    }
    let mut y = YearCalendar::default();
    for (field, list, set) in [
        ("holidays", &input.holidays, &mut y.holidays),
        ("workdays", &input.workdays, &mut y.workdays),
    ] {
        for d in list {
            let date = parse_date(d).ok_or_else(|| {
                AppError::invalid(
                    field,
                    format!("日期 {d} 无效（应为 YYYY-MM-DD 的真实日期）"),
                )
            })?;
            if date.year() != year {
                return Err(AppError::invalid(field, format!("日期 {d} 不在 {year} 年")));
            }
            // Stored as `YYYY-MM-DD` whatever was typed, or it would match no day.
            set.insert(crate::domain::time::day_string(date));
        }
    }
    if y.holidays.intersection(&y.workdays).next().is_some() {
        return Err(AppError::invalid(
            "workdays",
            "同一天不能既是假日又是调休上班日",
        ));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        let mut cal: Calendar = meta::get(tx, "calendar")?.unwrap_or_default();
        cal.years.insert(year, y.clone());
        meta::put(tx, "calendar", &cal)?;
        audit::append(
            tx,
            now,
            actor.event("calendar.update", None, format!("录入 {year} 年节假日安排")),
        )?;
        Ok(())
    })?;
    Ok(y)
}

pub fn limits(app: &App) -> Result<Limits, AppError> {
    Ok(app
        .store
        .read(|tx| meta::get::<Limits>(tx, "limits"))?
        .unwrap_or_default())
}

pub fn harass_policy(app: &App) -> Result<HarassPolicy, AppError> {
    Ok(app
        .store
        .read(|tx| meta::get::<HarassPolicy>(tx, "harass_policy"))?
        .unwrap_or_default())
}

fn check_span(field: &'static str, s: Span) -> Result<(), AppError> {
    let ok = match s {
        Span::Minutes(m) => (5..=60 * 24 * 30).contains(&m),
        Span::WorkingDays(d) => (1..=60).contains(&d),
    };
    if ok {
        Ok(())
    } else {
        Err(AppError::invalid(field, "时限超出允许范围"))
    }
}

pub fn put_limits(
    app: &App,
    actor: &Actor,
    l: Limits,
    policy: Option<HarassPolicy>,
) -> Result<Limits, AppError> {
    actor.require(Permission::SettingsManage)?;
    for (f, s) in [
        ("sign_critical", l.sign_critical),
        ("sign_urgent", l.sign_urgent),
        ("sign_normal", l.sign_normal),
        ("handle_critical", l.handle_critical),
        ("handle_urgent", l.handle_urgent),
        ("handle_inquiry", l.handle_inquiry),
        ("handle_help", l.handle_help),
        ("handle_complaint", l.handle_complaint),
        ("handle_report", l.handle_report),
        ("handle_suggestion", l.handle_suggestion),
        ("handle_praise", l.handle_praise),
        ("handle_npc", l.handle_npc),
    ] {
        check_span(f, s)?;
    }
    if !(1..=30).contains(&l.max_extension_days) {
        return Err(AppError::invalid(
            "max_extension_days",
            "延期上限应为 1–30 个工作日",
        ));
    }
    if l.max_extensions_per_round > 5 {
        return Err(AppError::invalid(
            "max_extensions_per_round",
            "每轮延期次数应为 0–5 次",
        ));
    }
    if !(1..=10).contains(&l.return_window_days) || !(1..=10).contains(&l.callback_days) {
        return Err(AppError::invalid(
            "return_window_days",
            "退单、回访期限应为 1–10 个工作日",
        ));
    }
    if let Some(p) = policy
        && (!(1..=20).contains(&p.count) || !(1..=365).contains(&p.days))
    {
        return Err(AppError::invalid(
            "harass_count",
            "骚扰标准应为 1–20 次、1–365 天",
        ));
    }
    let now = app.now();
    app.store.write(|tx| -> Result<(), AppError> {
        meta::put(tx, "limits", &l)?;
        if let Some(p) = policy {
            meta::put(tx, "harass_policy", &p)?;
        }
        audit::append(
            tx,
            now,
            actor.event("limits.update", None, "修改办理时限".into()),
        )?;
        Ok(())
    })?;
    Ok(l)
}
