//! `hotline serve --demo`: a realistic demo county on an empty data directory — the units of
//! 衡东县, one user per role with one-time passwords, and a few hundred orders in every state,
//! spread over the last eight weeks.

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

pub(crate) const TOWNS: &[(&str, &str)] = &[
    ("mishui", "洣水镇"),
    ("wuji", "吴集镇"),
    ("sanzhang", "三樟镇"),
    ("caoshi", "草市镇"),
    ("dapu", "大浦镇"),
    ("xintang", "新塘镇"),
    ("xialiu", "霞流镇"),
    ("ganxi", "甘溪镇"),
    ("yangqiao", "杨桥镇"),
    ("ronghuan", "荣桓镇"),
    ("pengyuan", "蓬源镇"),
    ("shiwan", "石湾镇"),
    ("bailian", "白莲镇"),
    ("yanglin", "杨林镇"),
    ("gaohu", "高湖镇"),
    ("shitan", "石滩乡"),
    ("nanwan", "南湾乡"),
    ("dapu-park", "大浦工业园"),
];

pub(crate) const BUREAUS: &[(&str, &str)] = &[
    ("cgj", "县城市管理和综合执法局"),
    ("zjj", "县住房和城乡建设局"),
    ("rsj", "县人力资源和社会保障局"),
    ("zrzyj", "县自然资源局"),
    ("sthj", "县生态环境分局"),
    ("scjg", "县市场监督管理局"),
    ("jtysj", "县交通运输局"),
    ("jyj", "县教育局"),
    ("wjj", "县卫生健康局"),
    ("gaj", "县公安局"),
    ("mzj", "县民政局"),
    ("nyncj", "县农业农村局"),
    ("slj", "县水利局"),
    ("ybj", "县医疗保障局"),
    ("tyjrj", "县退役军人事务局"),
    ("swj", "县商务局"),
    ("fgj", "县发展和改革局"),
    ("spj", "县行政审批服务局"),
    ("xfj", "县信访局"),
];

pub(crate) const ENTERPRISES: &[(&str, &str)] = &[
    ("power", "国网衡东县供电公司"),
    ("water", "衡东县自来水公司"),
    ("gas", "衡东县燃气公司"),
    ("mobile", "中国移动衡东分公司"),
    ("unicom", "中国联通衡东分公司"),
    ("telecom", "中国电信衡东分公司"),
    ("bus", "衡东县公交公司"),
];

/// (category, kind, title, content, unit code)
pub(crate) const MATTERS: &[(&str, &str, &str, &str, &str)] = &[
    (
        "1001",
        "complaint",
        "菜市场门口占道经营",
        "每天早上菜市场门口占道经营严重，车辆和行人无法通行，希望城管处理。",
        "cgj",
    ),
    (
        "1002",
        "complaint",
        "夜间施工噪音扰民",
        "小区旁边工地晚上十一点以后还在施工，噪音很大影响休息。",
        "cgj",
    ),
    (
        "1003",
        "help",
        "垃圾清运不及时",
        "村口垃圾站已经三天没有清运，气味很大。",
        "mishui",
    ),
    (
        "0701",
        "help",
        "小区停水未通知",
        "小区从早上开始停水，没有提前通知，请问什么时候恢复。",
        "water",
    ),
    (
        "0702",
        "help",
        "频繁停电",
        "我们村这个月已经停电五次了，冰箱里的东西都坏了。",
        "power",
    ),
    (
        "0703",
        "inquiry",
        "燃气开户咨询",
        "新房子想开通管道燃气，需要什么材料，到哪里办理。",
        "gas",
    ),
    (
        "0102",
        "complaint",
        "工地拖欠工资",
        "在工地做了三个月，老板拖欠工资一万二，一直不给。",
        "rsj",
    ),
    (
        "0101",
        "inquiry",
        "灵活就业社保缴费",
        "灵活就业人员社保怎么缴费，每年缴费标准是多少。",
        "rsj",
    ),
    (
        "0201",
        "complaint",
        "物业服务差",
        "小区物业不管事，电梯经常坏，楼道灯也不修。",
        "zjj",
    ),
    (
        "0202",
        "complaint",
        "新房漏水",
        "去年交房的新房子卫生间漏水，开发商一直推脱不修。",
        "zjj",
    ),
    (
        "0401",
        "help",
        "农田水渠堵塞",
        "村里灌溉水渠堵塞，马上要插秧了，请帮忙协调疏通。",
        "slj",
    ),
    (
        "0402",
        "inquiry",
        "耕地地力保护补贴",
        "今年的耕地地力保护补贴什么时候发放，标准是多少。",
        "nyncj",
    ),
    (
        "0501",
        "report",
        "超市销售过期食品",
        "某超市在卖过期的牛奶和面包，我买到了。",
        "scjg",
    ),
    (
        "0502",
        "complaint",
        "网购商品退货难",
        "在本地商店买的电器有质量问题，商家不给退换。",
        "scjg",
    ),
    (
        "1201",
        "report",
        "企业偷排废气",
        "工业园一家企业晚上偷偷排放刺鼻气体。",
        "sthj",
    ),
    (
        "1202",
        "report",
        "河道有人倾倒垃圾",
        "洣水河边有人倾倒建筑垃圾，污染河道。",
        "sthj",
    ),
    (
        "06",
        "suggestion",
        "建议增设公交站点",
        "建议在新建小区门口增设一个公交站点，方便居民出行。",
        "bus",
    ),
    (
        "09",
        "inquiry",
        "小学入学政策",
        "孩子明年上小学，户口不在学区，需要什么条件才能入学。",
        "jyj",
    ),
    (
        "03",
        "help",
        "医保报销咨询",
        "在外地住院的医疗费用回来怎么报销，需要什么材料。",
        "ybj",
    ),
    (
        "11",
        "help",
        "低保申请",
        "家里老人生病没有收入，想申请低保，需要怎么办理。",
        "mzj",
    ),
    (
        "13",
        "complaint",
        "宅基地审批慢",
        "申请宅基地建房半年了还没有审批下来。",
        "zrzyj",
    ),
    (
        "0704",
        "complaint",
        "手机信号差",
        "我们村手机信号很差，打电话经常断线。",
        "mobile",
    ),
    (
        "14",
        "help",
        "企业开办咨询",
        "想注册一家小公司，需要准备哪些材料，多久能办好。",
        "spj",
    ),
    (
        "15",
        "praise",
        "表扬供电公司抢修及时",
        "昨晚停电后供电公司半小时就到现场抢修，服务很好，特此表扬。",
        "power",
    ),
];

pub(crate) const NAMES: &[&str] = &[
    "刘", "李", "王", "张", "陈", "谭", "罗", "彭", "周", "文", "肖", "邓", "欧阳", "贺", "曾",
];
pub(crate) const GIVEN: &[&str] = &[
    "建国", "秀英", "志强", "丽华", "伟", "芳", "国庆", "小红", "德明", "桂兰", "海军", "春梅",
];

pub(crate) const PLATFORM_CHANNELS: &[&str] = &[
    "county_mailbox",
    "province_12345",
    "city_mailbox",
    "governor_mailbox",
    "xiangyiban",
    "cppcc_cloud",
    "gov_cn",
    "wechat",
    "city_12345",
];

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
    let (cat, kind, title, content, unit) = *rng.pick(MATTERS);
    let platform = rng.chance(8);
    let channel = if platform {
        *rng.pick(PLATFORM_CHANNELS)
    } else {
        "phone"
    };
    let town = rng.pick(TOWNS).1;
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
    // Eight weeks back, on a Monday morning; the clock walks forward through the orders.
    let start = now.plus_secs(-56 * 86400);
    let clock = Arc::new(ManualClock::new(start));
    let app = App::new(store, clock.clone(), dir.to_path_buf()).map_err(|e| anyhow!("{e}"))?;
    let console = AuditEvent {
        actor: "demo".into(),
        ..AuditEvent::default()
    };

    // Units, created by a temporary admin identity.
    let admin_pw = auth::random_token().map_err(|e| anyhow!("{e}"))?[..12].to_string();
    create_unchecked(
        &app,
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
    let admin = actor_for(&app, "admin")?;
    for (list, league) in [
        (TOWNS, League::Township),
        (BUREAUS, League::County),
        (ENTERPRISES, League::Enterprise),
    ] {
        for (code, name) in list {
            crate::service::units::create(
                &app,
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
            &app,
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

    let op = actor_for(&app, "operator")?;
    let op2 = actor_for(&app, "operator2")?;
    let lead = actor_for(&app, "shiftlead")?;
    let qa = actor_for(&app, "qa01")?;
    let sup = actor_for(&app, "supervisor")?;
    let unit_ids = app.store.read(units::list).map_err(|e| anyhow!("{e}"))?;
    let unit_actor = |code: &str| -> Actor {
        let id = unit_ids.iter().find(|u| u.code == code).map(|u| u.id);
        Actor {
            id: crate::domain::user::UserId(0),
            username: format!("demo-{code}"),
            display_name: format!(
                "{}经办人",
                unit_ids
                    .iter()
                    .find(|u| u.code == code)
                    .map(|u| u.name.as_str())
                    .unwrap_or(code)
            ),
            role: Role::Unit,
            unit: id,
            must_change_password: false,
            session_key: Vec::new(),
            csrf_token: String::new(),
            ip: None,
            channel: None,
        }
    };

    let mut rng = Rng(0x1234_5678_9abc_def1);
    let total = 320;
    let step = (now.secs() - start.secs()) / total as i64;
    let act = |actor: &Actor,
               id: OrderId,
               a: Action,
               body: serde_json::Value,
               clock: &ManualClock,
               mins: i64|
     -> Result<()> {
        clock.advance_secs(mins * 60);
        orders::actions::act(&app, actor, id, a, body).map_err(|e| anyhow!("{a:?}: {e}"))?;
        Ok(())
    };
    for i in 0..total {
        let at = start.plus_secs(step * i as i64 + (rng.below(3600) as i64));
        clock.set(at);
        let (body, unit) = request(&mut rng, i);
        let kind = body["kind"].as_str().unwrap_or("help").to_string();
        let kind = kind.as_str();
        let new: NewOrder = serde_json::from_value(body).map_err(|e| anyhow!("{e}"))?;
        let who = if i % 3 == 0 { &op2 } else { &op };
        let id = orders::intake(&app, who, new.clone())
            .map_err(|e| anyhow!("{e}"))?
            .order
            .id;
        if i % 40 == 7 {
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
        let age_days = (now.secs() - at.secs()) / 86400;
        let roll = rng.below(100);
        if roll < 50 && matches!(kind, "inquiry" | "praise" | "help") {
            act(
                who,
                id,
                Action::Answer,
                json!({"reply": "已按政策向来电人解答，来电人表示清楚。"}),
                &clock,
                4,
            )?;
            continue;
        }
        if roll < 53 {
            act(
                who,
                id,
                Action::Reject,
                json!({"reason_code": 1 + rng.below(10) as u64, "note": "已告知来电人相关途径", "transferred_to": "110"}),
                &clock,
                3,
            )?;
            continue;
        }
        if roll < 55 {
            act(
                who,
                id,
                Action::Withdraw,
                json!({"note": "来电人表示问题已自行解决"}),
                &clock,
                10,
            )?;
            continue;
        }
        if roll < 60 && age_days < 2 {
            continue; // still waiting for dispatch
        }
        act(who, id, Action::Dispatch, json!({"unit": unit}), &clock, 6)?;
        let clerk = unit_actor(unit);
        if age_days < 1 && rng.chance(50) {
            continue; // waiting to be signed
        }
        act(
            &clerk,
            id,
            Action::Sign,
            json!({}),
            &clock,
            60 + rng.below(240) as i64,
        )?;
        if rng.chance(6) {
            act(
                &clerk,
                id,
                Action::Return,
                json!({"reason": "该事项不属于本单位职责", "basis": "三定方案"}),
                &clock,
                30,
            )?;
            if age_days < 3 {
                continue;
            }
            act(
                &lead,
                id,
                Action::DecideReturn,
                json!({"approve": false, "note": "属于你单位职责，请继续办理"}),
                &clock,
                60,
            )?;
        }
        if age_days < 6 && rng.chance(60) {
            if rng.chance(30) {
                act(
                    &sup,
                    id,
                    Action::Urge,
                    json!({"note": "请加快办理进度"}),
                    &clock,
                    120,
                )?;
            }
            if rng.chance(20) {
                act(
                    &clerk,
                    id,
                    Action::RequestExtension,
                    json!({"days": 3, "reason": "需协调多个部门现场核查"}),
                    &clock,
                    60,
                )?;
            }
            continue; // in progress
        }
        act(
            &clerk,
            id,
            Action::Progress,
            json!({"note": "已安排人员现场核查"}),
            &clock,
            240,
        )?;
        act(
            &clerk,
            id,
            Action::Reply,
            json!({
                "result": "经现场核查，已督促相关责任人整改到位，并电话告知来电人处理结果。",
                "resolved": if rng.chance(85) { "yes" } else { "partly" },
                "contacted": true, "contact_method": "电话"
            }),
            &clock,
            600 + rng.below(2000) as i64,
        )?;
        if age_days < 4 && rng.chance(40) {
            continue; // reply waiting for review
        }
        act(
            &lead,
            id,
            Action::ReviewReply,
            json!({"approve": true}),
            &clock,
            90,
        )?;
        if age_days < 3 && rng.chance(50) {
            continue; // waiting for callback
        }
        let unhappy = rng.chance(14);
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
        act(
            &qa,
            id,
            Action::Callback,
            json!({"satisfaction": sat, "resolved": if unhappy { "no" } else { "yes" }}),
            &clock,
            300,
        )?;
        if unhappy && rng.chance(60) {
            act(
                &sup,
                id,
                Action::Reopen,
                json!({"reason": "来电人反映问题未解决"}),
                &clock,
                60,
            )?;
            continue;
        }
        if age_days < 6 && rng.chance(40) {
            continue; // waiting to be closed
        }
        act(&lead, id, Action::Close, json!({}), &clock, 120)?;
    }
    // A couple of orders are overdue and supervised, as in any real week.
    drop(app);
    Ok(accounts)
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
