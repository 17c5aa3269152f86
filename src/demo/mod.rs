//! `hotline serve --demo`: a realistic demo county on an empty data directory — the units of
//! 衡东县, one user per role with one-time passwords, a knowledge base with its 文号, and a few
//! thousand orders in every state over the last four months, each sent to the unit whose duty it
//! is (the town of the address for the towns' own matters), none with an event after now.

use std::sync::Arc;

use anyhow::{Result, anyhow};
use serde_json::json;

use crate::clock::ManualClock;
use crate::domain::audit::AuditEvent;
use crate::domain::order::OrderId;
use crate::domain::order_state::Action;
use crate::domain::role::Role;
use crate::domain::time::Timestamp;
use crate::domain::unit::League;
use crate::service::orders::{self, NewOrder};
use crate::service::users::{NewUser, UnitRef, create_unchecked};
use crate::service::{Actor, App, auth};
use crate::store::{Store, units, users};

mod data;
pub(crate) use data::*;

/// A small deterministic generator: the same demo every time.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    pub(crate) fn pick<'a, T>(&mut self, v: &'a [T]) -> &'a T {
        &v[self.below(v.len())]
    }
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn actor_for(app: &App, username: &str) -> Result<Actor> {
    let u = app
        .store
        .read(|tx| users::by_username(tx, username))
        .map_err(|e| anyhow!("{e}"))?
        .ok_or_else(|| anyhow!("demo user {username} missing"))?;
    Ok(Actor {
        id: u.id,
        username: u.username.clone(),
        display_name: u.display_name.clone(),
        role: u.role,
        unit: u.unit,
        must_change_password: false,
        session_key: Vec::new(),
        csrf_token: String::new(),
        ip: None,
        channel: None,
    })
}

/// One citizen's request as the intake API takes it: a matter of the county's list in one of
/// its towns, from a random caller (an ID number for complaints and reports), by phone or now
/// and then from a platform; and the code of the unit whose duty it is.
fn request(rng: &mut Rng, i: usize) -> (serde_json::Value, &'static str) {
    let (cat, kind, title, content, unit) = if rng.chance(20) {
        *rng.pick(TOWN_MATTERS)
    } else {
        *rng.pick(MATTERS)
    };
    let platform = rng.chance(8);
    let channel = if platform {
        *rng.pick(PLATFORM_CHANNELS)
    } else {
        "phone"
    };
    let (town_code, town) = *rng.pick(TOWNS);
    let unit = if unit == "town" { town_code } else { unit };
    let name = format!("{}{}", rng.pick(NAMES), rng.pick(GIVEN));
    let phone = format!(
        "1{}{:09}",
        [3, 5, 7, 8, 9][rng.below(5)],
        rng.next() % 1_000_000_000
    );
    let mut body = json!({
        "channel": channel, "line": "general", "kind": kind,
        "urgency": if rng.chance(5) { "urgent" } else { "normal" },
        "category": cat, "title": title, "content": content,
        "caller": {"name": name, "phone": phone, "consent_phone": rng.chance(60)},
        "address": {"town": town, "detail": format!("{town}{}号", rng.below(300) + 1)},
    });
    if platform {
        body["external_id"] = json!(format!("{}-{:06}", channel.to_uppercase(), i));
    }
    if matches!(kind, "complaint" | "report") {
        body["caller"]["id_number"] = json!(demo_id(rng));
    }
    (body, unit)
}

/// The `n`th of a stream of realistic phone intake requests seeded by `seed` (for the
/// benchmark): the demo's matters, towns and callers, each with its own caller and address.
pub fn sample_request(seed: u64, n: u64) -> serde_json::Value {
    let mut rng = Rng((seed ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1);
    rng.next();
    rng.next();
    let mut body = request(&mut rng, n as usize).0;
    body["channel"] = json!("phone");
    if let Some(o) = body.as_object_mut() {
        o.remove("external_id");
    }
    body
}

/// Loads the demo into `dir` if it holds no users yet. Returns (username, role, password).
pub fn load(dir: &std::path::Path, now: Timestamp) -> Result<Vec<(String, Role, String)>> {
    let store = Store::open(dir).map_err(|e| anyhow!("{e}"))?;
    if store.read(users::count).map_err(|e| anyhow!("{e}"))? > 0 {
        return Ok(Vec::new());
    }
    // Four months back from midnight; each day's calls come in its own order, most of them
    // between 08:00 and 21:00, fewer at weekends.
    let midnight = |t: Timestamp| {
        Timestamp(i64::from(crate::domain::order_index::cst_day(t)) * 86_400_000 - 8 * 3_600_000)
    };
    let start = midnight(now.plus_secs(-DAYS * 86400));
    let clock = Arc::new(ManualClock::new(start));
    let app = App::new(store, clock.clone(), dir.to_path_buf()).map_err(|e| anyhow!("{e}"))?;
    let accounts = accounts(&app)?;
    let cast = Cast::of(&app)?;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    knowledge(&app)?;
    let mut times = Vec::new();
    for d in 0..=DAYS {
        let day = start.plus_secs(d * 86_400);
        // Day 0 of the count (1970-01-01) was a Thursday: the weekday from Monday = 0.
        let weekday = (crate::domain::order_index::cst_day(day) + 3) % 7;
        let n = if weekday >= 5 { PER_DAY / 2 } else { PER_DAY } + rng.below(7) - 3;
        let mut secs: Vec<i64> = (0..n)
            .map(|_| {
                if rng.chance(90) {
                    8 * 3600 + rng.below(13 * 3600) as i64
                } else {
                    rng.below(24 * 3600) as i64
                }
            })
            .collect();
        secs.sort_unstable();
        times.extend(
            secs.into_iter()
                .map(|s| day.plus_secs(s))
                .filter(|t| *t < now),
        );
    }
    for (i, at) in times.into_iter().enumerate() {
        clock.set(at);
        let (body, unit) = request(&mut rng, i);
        let kind = body["kind"].as_str().unwrap_or("help").to_string();
        let new: NewOrder = serde_json::from_value(body).map_err(|e| anyhow!("{e}"))?;
        let who = if i % 3 == 0 { &cast.op2 } else { &cast.op };
        let id = orders::intake(&app, who, new.clone())
            .map_err(|e| anyhow!("{e}"))?
            .order
            .id;
        if i % 40 == 7 && at.plus_secs(3600) < now {
            // The same caller rings again the next hour: merged into the first order.
            clock.advance_secs(3600);
            let mut again = new;
            again.external_id = None;
            let dup = orders::intake(&app, who, again)
                .map_err(|e| anyhow!("{e}"))?
                .order
                .id;
            orders::actions::act(&app, who, dup, Action::Merge, json!({"into": id.0}))
                .map_err(|e| anyhow!("{e}"))?;
        }
        let play = Play {
            app: &app,
            cast: &cast,
            clock: &clock,
            id,
            who,
            age_days: (now.secs() - at.secs()) / 86400,
            now,
            unit,
            reopened: std::cell::Cell::new(false),
        };
        // A life stops where the next step would be later than now.
        match play.desk(&mut rng, &kind, unit) {
            Err(e) if e.is::<Later>() => {}
            other => other?,
        }
    }
    roster(&app, &clock, &cast, now)?;
    drop(app);
    Ok(accounts)
}

/// The demo's duty roster for this week and the next: the two operators on seat 1 by turns,
/// early and late, the second seat in the busy mornings, the shift lead at night.
fn roster(app: &App, clock: &ManualClock, cast: &Cast, now: Timestamp) -> Result<()> {
    clock.set(now);
    let this = crate::service::roster::this_week(app);
    for week in [
        Some(this.clone()),
        crate::domain::roster::shift_week(&this, 1),
    ]
    .into_iter()
    .flatten()
    {
        let mut cells = Vec::new();
        for day in 0..7u8 {
            let (a, b) = if day % 2 == 0 {
                ("operator", "operator2")
            } else {
                ("operator2", "operator")
            };
            let mut put = |slot: u8, seat: u8, user: &str| {
                cells.push(crate::service::roster::CellIn {
                    day,
                    slot,
                    seat,
                    user: Some(user.to_string()),
                });
            };
            put(0, 1, a);
            if day < 5 {
                put(0, 2, b);
            } else {
                put(1, 1, b);
            }
            if day < 5 {
                put(1, 2, a);
            }
            put(2, 1, "shiftlead");
        }
        let body = crate::service::roster::RosterPut {
            slots: None,
            cells,
            version: None,
        };
        crate::service::roster::put(app, &cast.lead, &week, &body).map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

/// Calls a working day in the demo (half at weekends), and the days they are spread over:
/// about 2,400 orders.
const PER_DAY: usize = 22;
const DAYS: i64 = 120;

/// The step an order's life would take next falls after now: its life stops before it.
#[derive(Debug)]
struct Later;

impl std::fmt::Display for Later {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("later than now")
    }
}

impl std::error::Error for Later {}

/// The demo's knowledge base: the county's policies the operators answer from, with 文号.
fn knowledge(app: &App) -> Result<()> {
    let admin = actor_for(app, "admin")?;
    for (title, doc_no, category, body) in ARTICLES {
        crate::service::knowledge::save(
            app,
            &admin,
            None,
            crate::service::knowledge::ArticleInput {
                title: (*title).into(),
                body: (*body).into(),
                category: Some((*category).into()),
                doc_no: Some((*doc_no).into()),
                valid_from: Some("2026-01-01".into()),
                valid_to: None,
                owner_unit: None,
            },
        )
        .map_err(|e| anyhow!("{e}"))?;
    }
    Ok(())
}

/// The admin (a random password), the county's units and the staff of the demo, each with a
/// random password: (username, role, password).
fn accounts(app: &App) -> Result<Vec<(String, Role, String)>> {
    let console = AuditEvent {
        actor: "demo".into(),
        ..AuditEvent::default()
    };
    let admin_pw = auth::random_token().map_err(|e| anyhow!("{e}"))?[..12].to_string();
    create_unchecked(
        app,
        &console,
        NewUser {
            username: "admin".into(),
            display_name: "热线管理员".into(),
            role: Role::Admin,
            unit: None,
            password: admin_pw.clone(),
        },
    )
    .map_err(|e| anyhow!("{e}"))?;
    let admin = actor_for(app, "admin")?;
    for (list, league) in [
        (TOWNS, League::Township),
        (BUREAUS, League::County),
        (ENTERPRISES, League::Enterprise),
    ] {
        for (code, name) in list {
            crate::service::units::create(
                app,
                &admin,
                crate::service::units::NewUnit {
                    code: (*code).into(),
                    name: (*name).into(),
                    league,
                },
            )
            .map_err(|e| anyhow!("{e}"))?;
        }
    }
    let mut accounts = vec![("admin".to_string(), Role::Admin, admin_pw)];
    for (username, name, role, unit) in [
        ("operator", "王芳", Role::Operator, None),
        ("operator2", "李静", Role::Operator, None),
        ("shiftlead", "陈志强", Role::ShiftLead, None),
        ("qa01", "周丽华", Role::Qa, None),
        ("supervisor", "谭国庆", Role::Supervisor, None),
        ("mishui", "洣水镇经办人", Role::Unit, Some("mishui")),
        ("cgj", "城管局经办人", Role::Unit, Some("cgj")),
        ("water", "自来水公司经办人", Role::Unit, Some("water")),
    ] {
        let pw = auth::random_token().map_err(|e| anyhow!("{e}"))?[..12].to_string();
        create_unchecked(
            app,
            &console,
            NewUser {
                username: username.into(),
                display_name: name.into(),
                role,
                unit: unit.map(|u: &str| UnitRef::Code(u.into())),
                password: pw.clone(),
            },
        )
        .map_err(|e| anyhow!("{e}"))?;
        accounts.push((username.to_string(), role, pw));
    }
    Ok(accounts)
}

/// Who acts in the demo's orders.
struct Cast {
    op: Actor,
    op2: Actor,
    lead: Actor,
    qa: Actor,
    sup: Actor,
    units: Vec<crate::domain::unit::Unit>,
}

impl Cast {
    fn of(app: &App) -> Result<Cast> {
        Ok(Cast {
            op: actor_for(app, "operator")?,
            op2: actor_for(app, "operator2")?,
            lead: actor_for(app, "shiftlead")?,
            qa: actor_for(app, "qa01")?,
            sup: actor_for(app, "supervisor")?,
            units: app.store.read(units::list).map_err(|e| anyhow!("{e}"))?,
        })
    }

    /// A clerk of the unit `code`.
    fn clerk(&self, code: &str) -> Actor {
        let unit = self.units.iter().find(|u| u.code == code);
        Actor {
            id: crate::domain::user::UserId(0),
            username: format!("demo-{code}"),
            display_name: format!("{}经办人", unit.map(|u| u.name.as_str()).unwrap_or(code)),
            role: Role::Unit,
            unit: unit.map(|u| u.id),
            must_change_password: false,
            session_key: Vec::new(),
            csrf_token: String::new(),
            ip: None,
            channel: None,
        }
    }
}

/// One demo order's life after its registration, as far as its age lets it go.
struct Play<'a> {
    app: &'a App,
    cast: &'a Cast,
    clock: &'a ManualClock,
    id: OrderId,
    /// The operator who registered it.
    who: &'a Actor,
    age_days: i64,
    /// No step of the demo may be later than this.
    now: Timestamp,
    /// The unit whose duty it is.
    unit: &'static str,
    /// Reopened once already: the second round satisfies the caller.
    reopened: std::cell::Cell<bool>,
}

impl Play<'_> {
    /// `mins` minutes on, `actor` takes action `a`.
    fn act(&self, actor: &Actor, a: Action, body: serde_json::Value, mins: i64) -> Result<()> {
        use crate::clock::Clock;
        if self.clock.now().plus_secs(mins * 60) > self.now {
            return Err(Later.into());
        }
        self.clock.advance_secs(mins * 60);
        orders::actions::act(self.app, actor, self.id, a, body)
            .map_err(|e| anyhow!("{a:?}: {e}"))?;
        Ok(())
    }

    /// At the operator's desk: answered, rejected, withdrawn, left waiting or dispatched.
    fn desk(&self, rng: &mut Rng, kind: &str, unit: &str) -> Result<()> {
        let roll = rng.below(100);
        if roll < 50 && matches!(kind, "inquiry" | "praise" | "help") {
            let reply = json!({"reply": "已按政策向来电人解答，来电人表示清楚。"});
            return self.act(self.who, Action::Answer, reply, 4);
        }
        if roll < 53 {
            let body = json!({"reason_code": 1 + rng.below(10) as u64, "note": "已告知来电人相关途径", "transferred_to": "110"});
            return self.act(self.who, Action::Reject, body, 3);
        }
        if roll < 55 {
            let body = json!({"note": "来电人表示问题已自行解决"});
            return self.act(self.who, Action::Withdraw, body, 10);
        }
        use crate::clock::Clock;
        let fresh = self.now.secs() - self.clock.now().secs() < 3 * 3600;
        if (roll < 60 && self.age_days < 2) || fresh {
            return Ok(()); // still waiting for dispatch
        }
        self.act(self.who, Action::Dispatch, json!({"unit": unit}), 6)?;
        self.unit(rng, &self.cast.clerk(unit))
    }

    /// At the unit: signed, perhaps returned, urged or extended, then answered.
    fn unit(&self, rng: &mut Rng, clerk: &Actor) -> Result<()> {
        if self.age_days < 1 && rng.chance(50) {
            return Ok(()); // waiting to be signed
        }
        self.act(clerk, Action::Sign, json!({}), 60 + rng.below(240) as i64)?;
        if rng.chance(6) {
            let body = json!({"reason": "该事项不属于本单位职责", "basis": "三定方案"});
            self.act(clerk, Action::Return, body, 30)?;
            if self.age_days < 3 {
                return Ok(());
            }
            let body = json!({"approve": false, "note": "属于你单位职责，请继续办理"});
            self.act(&self.cast.lead, Action::DecideReturn, body, 60)?;
        }
        if self.age_days < 6 && rng.chance(60) {
            if rng.chance(30) {
                let body = json!({"note": "请加快办理进度"});
                self.act(&self.cast.sup, Action::Urge, body, 120)?;
            }
            if rng.chance(20) {
                let body = json!({"days": 3, "reason": "需协调多个部门现场核查"});
                self.act(clerk, Action::RequestExtension, body, 60)?;
            }
            return Ok(()); // in progress
        }
        let body = json!({"note": "已安排人员现场核查"});
        self.act(clerk, Action::Progress, body, 240)?;
        let body = json!({
            "result": "经现场核查，已督促相关责任人整改到位，并电话告知来电人处理结果。",
            "resolved": if rng.chance(85) { "yes" } else { "partly" },
            "contacted": true, "contact_method": "电话"
        });
        self.act(clerk, Action::Reply, body, 600 + rng.below(2000) as i64)?;
        self.close(rng)
    }

    /// Back at the centre: the reply reviewed, the caller called back, then closed (or
    /// reopened when the caller is not satisfied).
    fn close(&self, rng: &mut Rng) -> Result<()> {
        if self.age_days < 4 && rng.chance(40) {
            return Ok(()); // reply waiting for review
        }
        let lead = &self.cast.lead;
        self.act(lead, Action::ReviewReply, json!({"approve": true}), 90)?;
        if self.age_days < 3 && rng.chance(50) {
            return Ok(()); // waiting for callback
        }
        let unhappy = !self.reopened.get() && rng.chance(14);
        let sat = if unhappy {
            "unsatisfied"
        } else {
            *rng.pick(&[
                "very_satisfied",
                "satisfied",
                "satisfied",
                "basically_satisfied",
            ])
        };
        let body = json!({"satisfaction": sat, "resolved": if unhappy { "no" } else { "yes" }});
        self.act(&self.cast.qa, Action::Callback, body, 300)?;
        if unhappy && rng.chance(60) {
            let body = json!({"reason": "来电人反映问题未解决"});
            self.act(&self.cast.sup, Action::Reopen, body, 60)?;
            // The unit takes it up again; the second answer satisfies the caller.
            self.reopened.set(true);
            return self.unit(rng, &self.cast.clerk(self.unit));
        }
        if self.age_days < 6 && rng.chance(40) {
            return Ok(()); // waiting to be closed
        }
        self.act(lead, Action::Close, json!({}), 120)
    }
}

/// A valid-looking local identity number (county code 430424, check digit computed).
pub(crate) fn demo_id(rng: &mut Rng) -> String {
    const W: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: &[u8; 11] = b"10X98765432";
    let body = format!(
        "430424{:04}{:02}{:02}{:03}",
        1950 + rng.below(55),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(1000)
    );
    let sum: u32 = body
        .bytes()
        .zip(W)
        .map(|(d, w)| u32::from(d - b'0') * w)
        .sum();
    format!("{body}{}", char::from(CHECK[(sum % 11) as usize]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_ids_are_valid() {
        let mut r = Rng(7);
        for _ in 0..50 {
            assert!(crate::domain::validate::valid_id_number(&demo_id(&mut r)));
        }
    }

    #[test]
    fn sample_requests_are_phone_intakes_that_vary() {
        let mut titles = std::collections::BTreeSet::new();
        let mut towns = std::collections::BTreeSet::new();
        for n in 0..200 {
            let body = sample_request(42, n);
            assert_eq!(body["channel"], "phone");
            assert!(body.get("external_id").is_none());
            let new: NewOrder = serde_json::from_value(body.clone()).expect("a valid intake");
            titles.insert(new.title);
            towns.insert(body["address"]["town"].to_string());
        }
        assert!(titles.len() > 20, "{} matters", titles.len());
        assert!(towns.len() > 10, "{} towns", towns.len());
        assert_eq!(sample_request(42, 7), sample_request(42, 7));
    }
}
