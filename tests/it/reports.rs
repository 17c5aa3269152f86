//! Issue 10: unit assessment (考核) against figures computed by hand on a fixed data set —
//! extensions, a reopen round, a co-unit, an unreachable callback, orders crossing the month
//! end, an empty unit — with the orders behind each figure, CSV and XLSX read back, the
//! rules the admin sets, and who may read it all.

use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::Session;
use crate::orders::{Centre, create, ok, order_body};

/// The unit row of `code` in a units report.
fn row<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["unit"]["code"] == code)
        .unwrap_or_else(|| panic!("no row for {code}: {report}"))
}

fn approx(v: &Value, want: f64) -> bool {
    v.as_f64().is_some_and(|x| (x - want).abs() < 0.006)
}

async fn report(s: &crate::helpers::Session, from: &str, to: &str) -> Value {
    let r = s
        .get(&format!("/api/v1/reports/units?from={from}&to={to}"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// The order numbers behind a figure, from its page.
async fn behind(
    s: &crate::helpers::Session,
    unit: u64,
    figure: &str,
    from: &str,
    to: &str,
) -> usize {
    let r = s
        .get(&format!(
            "/reports/units/{unit}/orders?figure={figure}&from={from}&to={to}"
        ))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let html = r.text().await.unwrap();
    html.matches("<td class=\"mono nowrap\"><a href=\"/orders/")
        .count()
}

struct Data {
    c: Centre,
    a: u64,
    ids: Vec<u64>,
    numbers: Vec<String>,
}

/// Monday 2026-11-30 09:00: six orders to unit A (one with B as co-unit), then into
/// December (see each step). Returns the centre at Thursday 2026-12-10 09:00.
async fn build() -> Data {
    let mut c = Centre::new().await;
    let r = c
        .admin
        .post(
            "/api/v1/units",
            json!({"code": "u-empty", "name": "空闲单位", "league": "county"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut ids = Vec::new();
    let mut numbers = Vec::new();
    for i in 0..6 {
        let o = create(&c.op, order_body(&format!("1390000000{i}"), "路灯不亮")).await;
        ids.push(o["id"].as_u64().unwrap());
        numbers.push(o["number"].as_str().unwrap().to_string());
    }
    let a = {
        let v = ok(&c.op, ids[0], "dispatch", json!({"unit": "u-clerk-a"})).await;
        v["rounds"][0]["unit"]["id"].as_u64().unwrap()
    };
    ok(
        &c.op,
        ids[1],
        "dispatch",
        json!({"unit": "u-clerk-a", "co_units": ["u-clerk-b"]}),
    )
    .await;
    for id in &ids[2..] {
        ok(&c.op, *id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    }
    // November: A signs four on time; o1 replied, approved, very satisfied, closed; o3
    // returned (approved) and sent to B; o4 extended by two working days.
    for id in &ids[..4] {
        ok(&c.unit_a, *id, "sign", json!({})).await;
    }
    ok(&c.unit_b, ids[1], "co_sign", json!({})).await;
    ok(&c.unit_a, ids[0], "reply", json!({"result": "已安排人员修复路灯，现已恢复照明。", "resolved": "yes", "contacted": true})).await;
    ok(&c.lead, ids[0], "review_reply", json!({"approve": true})).await;
    ok(
        &c.qa,
        ids[0],
        "callback",
        json!({"satisfaction": "very_satisfied", "resolved": "yes"}),
    )
    .await;
    ok(&c.lead, ids[0], "close", json!({})).await;
    ok(
        &c.unit_a,
        ids[2],
        "return",
        json!({"reason": "不属于本单位职责"}),
    )
    .await;
    ok(&c.lead, ids[2], "decide_return", json!({"approve": true})).await;
    ok(&c.op, ids[2], "dispatch", json!({"unit": "u-clerk-b"})).await;
    ok(
        &c.unit_a,
        ids[3],
        "request_extension",
        json!({"days": 2, "reason": "需协调电力公司"}),
    )
    .await;
    ok(&c.sup, ids[3], "decide_extension", json!({"approve": true})).await;

    // Wednesday 2 December: the overdue job urges o5, o6 (A) and o3 (B), whose signing was
    // due Tuesday 09:00; A signs o5 late; o2 replied, one unreachable callback, then
    // unsatisfied, reopened to A (with B again); the supervisor urges o6.
    c.advance(2 * 86_400).await;
    let app = c.app.running.as_ref().unwrap().app.clone();
    assert_eq!(
        hotline::service::orders::actions::urge_overdue(&app).unwrap(),
        3
    );
    ok(&c.unit_a, ids[4], "sign", json!({})).await;
    ok(&c.unit_a, ids[1], "reply", json!({"result": "已更换灯泡，线路老化问题待改造。", "resolved": "partly", "contacted": true})).await;
    ok(&c.lead, ids[1], "review_reply", json!({"approve": true})).await;
    ok(
        &c.qa,
        ids[1],
        "callback",
        json!({"satisfaction": "unreachable"}),
    )
    .await;
    ok(
        &c.qa,
        ids[1],
        "callback",
        json!({"satisfaction": "unsatisfied", "resolved": "no"}),
    )
    .await;
    ok(
        &c.lead,
        ids[1],
        "reopen",
        json!({"reason": "来电人反映路灯仍不亮"}),
    )
    .await;
    ok(&c.sup, ids[5], "urge", json!({"note": "请尽快签收"})).await;

    // Thursday 10 December: o4 replied a day after its extended deadline (9 December 09:00).
    c.advance(8 * 86_400).await;
    ok(&c.unit_a, ids[3], "reply", json!({"result": "已协调电力公司更换线路，路灯恢复。", "resolved": "yes", "contacted": true})).await;
    Data { c, a, ids, numbers }
}

#[tokio::test]
async fn unit_assessment_matches_figures_computed_by_hand() {
    let Data { c, a, numbers, .. } = build().await;

    // November: A's six dispatched, four signed on time, o1 finished and very satisfied.
    let nov = report(&c.sup, "2026-11-01", "2026-12-01").await;
    let ra = row(&nov, "u-clerk-a");
    assert_eq!(ra["dispatched"], 6);
    assert_eq!(ra["co_dispatched"], 0);
    assert!(approx(&ra["signed_on_time_rate"], 100.0), "{ra}");
    assert!(approx(&ra["finished_on_time_rate"], 100.0), "{ra}");
    assert_eq!(ra["overdue_finished"], 0);
    assert_eq!(ra["overdue_open"], 0, "nothing fell due in November");
    assert!(approx(&ra["return_rate"], 16.67), "1 of 6: {ra}");
    assert!(approx(&ra["extension_rate"], 16.67), "{ra}");
    assert!(approx(&ra["reopen_rate"], 0.0), "{ra}");
    assert!(approx(&ra["callback_rate"], 100.0), "{ra}");
    assert!(approx(&ra["satisfaction_rate"], 100.0), "{ra}");
    assert!(approx(&ra["resolved_rate"], 100.0), "{ra}");
    assert_eq!(ra["urges"], 0);
    // (10×100 + 25×100 + 30×100 + 15×100 + 5×83.33 + 5×83.33 + 10×100) ÷ 100
    assert!(approx(&ra["score"], 98.33), "{ra}");
    assert_eq!(ra["grade"], "A");
    assert_eq!(ra["rank"], 1);
    let rb = row(&nov, "u-clerk-b");
    assert_eq!(rb["dispatched"], 1, "o3 after the return");
    assert_eq!(rb["co_dispatched"], 1, "o2's co-unit");
    assert!(rb["signed_on_time_rate"].is_null());
    assert!(approx(&rb["return_rate"], 0.0));
    assert!(
        rb["score"].is_null(),
        "one order is below the minimum sample"
    );
    assert!(rb["rank"].is_null());
    let empty = row(&nov, "u-empty");
    assert_eq!(empty["dispatched"], 0);
    assert!(empty["satisfaction_rate"].is_null() && empty["score"].is_null());
    assert_eq!(empty["unit"]["league"], "county");

    // December: the reopen round, a late signing, o2 and o4 finished (o4 late), urges.
    let dec = report(&c.sup, "2026-12-01", "2027-01-01").await;
    let ra = row(&dec, "u-clerk-a");
    assert_eq!(ra["dispatched"], 1, "the reopen round");
    assert!(
        approx(&ra["signed_on_time_rate"], 0.0),
        "o5 signed late: {ra}"
    );
    assert!(approx(&ra["finished_on_time_rate"], 50.0), "{ra}");
    assert_eq!(ra["overdue_finished"], 1);
    assert_eq!(
        ra["overdue_open"], 3,
        "o6 and o2 unsigned, o5 past its deadline: {ra}"
    );
    assert!(approx(&ra["reopen_rate"], 50.0), "{ra}");
    assert!(
        approx(&ra["callback_rate"], 50.0),
        "one reached of two finished: {ra}"
    );
    assert!(
        approx(&ra["satisfaction_rate"], 0.0),
        "unreachable left out: {ra}"
    );
    assert!(approx(&ra["resolved_rate"], 0.0), "{ra}");
    assert_eq!(ra["urges"], 3, "two by the job, one by hand");
    assert!(ra["score"].is_null());
    let rb = row(&dec, "u-clerk-b");
    assert_eq!(
        rb["co_dispatched"], 1,
        "the reopen round keeps B as co-unit"
    );
    assert_eq!(rb["urges"], 1);
    assert_eq!(rb["overdue_open"], 1);
    assert!(
        rb["return_rate"].is_null(),
        "nothing dispatched to B in December"
    );

    // Both months: crossing the month end adds up.
    let all = report(&c.sup, "2026-11-01", "2027-01-01").await;
    let ra = row(&all, "u-clerk-a");
    assert_eq!(ra["dispatched"], 7);
    assert!(approx(&ra["signed_on_time_rate"], 80.0), "{ra}");
    assert!(approx(&ra["finished_on_time_rate"], 66.67), "{ra}");
    assert!(approx(&ra["return_rate"], 14.29), "{ra}");
    assert!(approx(&ra["reopen_rate"], 33.33), "{ra}");
    assert!(approx(&ra["callback_rate"], 66.67), "{ra}");
    assert!(approx(&ra["satisfaction_rate"], 50.0), "{ra}");
    assert!(approx(&ra["resolved_rate"], 50.0), "{ra}");
    // (10×80 + 25×66.67 + 30×50 + 15×50 + 5×85.71 + 5×85.71 + 10×66.67) ÷ 100
    assert!(approx(&ra["score"], 62.41), "{ra}");
    assert_eq!(ra["grade"], "C");

    // The orders behind the figures.
    assert_eq!(
        behind(&c.sup, a, "dispatched", "2026-11-01", "2026-12-01").await,
        6
    );
    assert_eq!(
        behind(&c.sup, a, "finished_late", "2026-12-01", "2027-01-01").await,
        1
    );
    assert_eq!(
        behind(&c.sup, a, "unsatisfied", "2026-11-01", "2027-01-01").await,
        1
    );
    assert_eq!(
        behind(&c.sup, a, "overdue_open", "2026-12-01", "2027-01-01").await,
        3
    );
    assert_eq!(
        behind(&c.sup, a, "returned", "2026-11-01", "2026-12-01").await,
        1
    );
    let page = c
        .sup
        .get(&format!(
            "/reports/units/{a}/orders?figure=finished_late&from=2026-12-01&to=2027-01-01"
        ))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains(&numbers[3]), "o4 finished late");
    let r = c
        .sup
        .get(&format!("/reports/units/{a}/orders?figure=nonsense"))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // The admin counts unreachable callbacks: one satisfied of three in both months.
    let mut rules: Value = c
        .admin
        .get("/api/v1/admin/assessment")
        .await
        .json()
        .await
        .unwrap();
    rules["unreachable_counts"] = json!(true);
    let r = c
        .admin
        .client
        .put(c.admin.url("/api/v1/admin/assessment"))
        .header("x-csrf-token", &c.admin.csrf)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let all = report(&c.sup, "2026-11-01", "2027-01-01").await;
    assert!(approx(&row(&all, "u-clerk-a")["satisfaction_rate"], 33.33));
    // Weights must add up to 100; a bad rule changes nothing.
    rules["weights"]["satisfaction"] = json!(50);
    let r = c
        .admin
        .client
        .put(c.admin.url("/api/v1/admin/assessment"))
        .header("x-csrf-token", &c.admin.csrf)
        .json(&rules)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::helpers::error_code(r).await, "invalid_field");
    let again: Value = c
        .admin
        .get("/api/v1/admin/assessment")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(again["weights"]["satisfaction"], 30);
}

#[tokio::test]
async fn the_assessment_downloads_as_csv_and_xlsx_with_the_same_figures() {
    let Data { c, .. } = build().await;
    let q = "from=2026-11-01&to=2026-12-01";
    let json = report(&c.sup, "2026-11-01", "2026-12-01").await;
    let r = c
        .sup
        .get(&format!("/api/v1/reports/units?{q}&format=csv"))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    let bytes = r.bytes().await.unwrap();
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 with a BOM");
    let text = String::from_utf8(bytes[3..].to_vec()).unwrap();
    let lines: Vec<&str> = text.split("\r\n").collect();
    assert_eq!(lines[0], "承办单位考核（2026-11-01 至 2026-11-30）");
    assert!(lines[1].starts_with("分组,排名,单位编码,承办单位,派单,协办,签收及时率(%)"));
    let a: Vec<&str> = lines
        .iter()
        .find(|l| l.contains(",u-clerk-a,"))
        .unwrap()
        .split(',')
        .collect();
    let ra = row(&json, "u-clerk-a");
    assert_eq!(a[0], "乡镇");
    assert_eq!(a[1], "1");
    assert_eq!(a[4], "6");
    assert_eq!(a[10], ra["return_rate"].as_f64().unwrap().to_string());
    assert_eq!(a[17], ra["score"].as_f64().unwrap().to_string());
    assert_eq!(a[18], "A");

    // The page offers the same download.
    let r = c.sup.get(&format!("/reports?{q}&format=xlsx")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("报表").unwrap();
    let cell = |r: u32, c: u32| sheet.get_value((r, c)).cloned();
    assert_eq!(
        cell(0, 0),
        Some(calamine::Data::String(
            "承办单位考核（2026-11-01 至 2026-11-30）".into()
        ))
    );
    assert_eq!(cell(1, 3), Some(calamine::Data::String("承办单位".into())));
    let a_row = (2..sheet.height() as u32)
        .find(|r| cell(*r, 2) == Some(calamine::Data::String("u-clerk-a".into())))
        .unwrap();
    assert_eq!(
        cell(a_row, 4),
        Some(calamine::Data::Float(6.0)),
        "a real number"
    );
    assert_eq!(
        cell(a_row, 17),
        Some(calamine::Data::Float(ra["score"].as_f64().unwrap()))
    );
    let r = c
        .sup
        .get(&format!("/api/v1/reports/units?{q}&format=pdf"))
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

#[tokio::test]
async fn reports_are_for_the_centre_staff_and_rules_for_the_admin() {
    let c = Centre::new().await;
    for s in [&c.op, &c.unit_a] {
        for path in [
            "/api/v1/reports/units",
            "/reports",
            "/api/v1/admin/assessment",
            "/reports/units/1/orders?figure=dispatched",
        ] {
            assert_eq!(s.get(path).await.status(), StatusCode::FORBIDDEN, "{path}");
        }
    }
    for s in [&c.lead, &c.qa, &c.sup, &c.admin] {
        assert_eq!(s.get("/reports").await.status(), StatusCode::OK);
        assert_eq!(
            s.get("/api/v1/reports/units").await.status(),
            StatusCode::OK
        );
    }
    assert_eq!(
        c.sup.get("/admin/assessment").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.admin.get("/admin/assessment").await.status(),
        StatusCode::OK
    );
    let r = c
        .admin
        .form(
            "/admin/assessment",
            &[
                ("w_signed_on_time", "10"),
                ("w_finished_on_time", "30"),
                ("w_satisfaction", "30"),
                ("w_resolved", "10"),
                ("w_returns", "5"),
                ("w_extensions", "5"),
                ("w_reopens", "10"),
                ("min_sample", "3"),
                ("grade_a", "95"),
                ("grade_b", "85"),
                ("grade_c", "70"),
                ("sat_very_satisfied", "on"),
                ("sat_satisfied", "on"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let rules: Value = c
        .sup
        .get("/api/v1/admin/assessment")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(rules["min_sample"], 3);
    assert_eq!(rules["satisfied"], json!(["very_satisfied", "satisfied"]));
    assert_eq!(rules["grade_floors"], json!([95, 85, 70]));
    let r = c
        .admin
        .form("/admin/assessment", &[("w_signed_on_time", "abc")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("权重"));
    // Bad dates: a clear message, never a 500.
    for q in [
        "from=2026-13-01&to=2026-12-01",
        "from=2026-12-05&to=2026-12-01",
        "from=x",
    ] {
        let r = c.sup.get(&format!("/api/v1/reports/units?{q}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
        let r = c.sup.get(&format!("/reports?{q}")).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{q}");
    }
}

#[tokio::test]
async fn an_upheld_unit_appeal_takes_the_order_out_of_its_figure() {
    let Data { c, a, ids, numbers } = build().await;
    let (o1, o2, o4) = (ids[0], ids[1], ids[3]);
    let file = |id: u64, figure: &str| {
        let body = json!({"figure": figure, "reason": "电力公司停电检修，已提前报备延期原因"});
        let path = format!("/api/v1/orders/{id}/appeals");
        let s = &c.unit_a;
        async move { s.post(&path, body).await }
    };
    // Only what counts against the unit can be contested, once, by that unit.
    let r = file(o1, "overdue").await;
    assert_eq!(r.status(), StatusCode::CONFLICT);
    assert_eq!(crate::helpers::error_code(r).await, "not_counted");
    let r = file(o4, "sideways").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .unit_b
        .post(
            &format!("/api/v1/orders/{o4}/appeals"),
            json!({"figure": "overdue", "reason": "不是我们的工单"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let r =
        c.op.post(
            &format!("/api/v1/orders/{o4}/appeals"),
            json!({"figure": "overdue", "reason": "话务员不能申诉"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    let r = file(o4, "overdue").await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let late: Value = r.json().await.unwrap();
    assert_eq!(late["state"], "pending");
    assert_eq!(
        crate::helpers::error_code(file(o4, "overdue").await).await,
        "already_appealed"
    );
    let unhappy: Value = file(o2, "unsatisfied").await.json().await.unwrap();

    // The unit sees its appeals and the 申诉 panel is gone once used; B sees none.
    let mine: Value = c.unit_a.get("/api/v1/appeals").await.json().await.unwrap();
    assert_eq!(mine["total"], 2);
    let theirs: Value = c.unit_b.get("/api/v1/appeals").await.json().await.unwrap();
    assert_eq!(theirs["total"], 0);
    let page = c
        .unit_a
        .get(&format!("/orders/{o4}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("待审核") && !page.contains("id=\"act-appeal\""));

    // The supervisor decides: uphold the late reply, reject the unsatisfied callback.
    let decide = |id: &Value, body: Value| {
        let path = format!("/api/v1/appeals/{}/decide", id["id"]);
        let s = &c.sup;
        async move { s.post(&path, body).await }
    };
    let r = decide(&unhappy, json!({"uphold": false})).await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "a rejection says why"
    );
    let r = c
        .unit_a
        .post(
            &format!("/api/v1/appeals/{}/decide", late["id"]),
            json!({"uphold": true}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        decide(&late, json!({"uphold": true, "note": "停电属实"}))
            .await
            .status(),
        StatusCode::OK
    );
    assert_eq!(
        decide(
            &unhappy,
            json!({"uphold": false, "note": "回访录音显示来电人不满意"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    assert_eq!(
        decide(&late, json!({"uphold": false, "note": "再审"}))
            .await
            .status(),
        StatusCode::CONFLICT
    );
    let pending: Value = c
        .sup
        .get("/api/v1/appeals?state=pending")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(pending["total"], 0);
    let upheld: Value = c
        .sup
        .get("/api/v1/appeals?state=upheld")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(upheld["total"], 1);

    // December for A: the late finish no longer counts; the unsatisfied callback still does.
    let dec = report(&c.sup, "2026-12-01", "2027-01-01").await;
    let ra = row(&dec, "u-clerk-a");
    assert_eq!(ra["overdue_finished"], 0, "{ra}");
    assert!(approx(&ra["finished_on_time_rate"], 100.0), "{ra}");
    assert!(approx(&ra["satisfaction_rate"], 0.0), "{ra}");
    assert_eq!(ra["adjusted"][0]["figure"], "overdue");
    assert_eq!(ra["adjusted"][0]["number"], numbers[3].as_str());
    assert_eq!(ra["adjusted"].as_array().unwrap().len(), 1);
    assert_eq!(
        behind(&c.sup, a, "finished_late", "2026-12-01", "2027-01-01").await,
        0
    );
    // November is untouched (the late reply fell in December).
    let nov = report(&c.sup, "2026-11-01", "2026-12-01").await;
    assert!(
        row(&nov, "u-clerk-a")["adjusted"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    // The report page says which figure was adjusted and why.
    let page = c
        .sup
        .get("/reports?from=2026-12-01&to=2027-01-01")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("申诉调整") && page.contains("停电属实"));
    let page = c.unit_a.get("/appeals").await.text().await.unwrap();
    assert!(page.contains("申诉成立") && page.contains("申诉不成立"));
}

/// The number a home page's tile shows.
fn tile(html: &str, key: &str) -> String {
    let at = html
        .find(&format!("id=\"tile-{key}\""))
        .unwrap_or_else(|| panic!("no tile {key}"));
    let rest = &html[at..];
    let v = rest.find("tile-value\">").unwrap() + "tile-value\">".len();
    rest[v..v + rest[v..].find('<').unwrap()].to_string()
}

async fn home(s: &crate::helpers::Session) -> String {
    s.get("/").await.text().await.unwrap()
}

#[tokio::test]
async fn each_home_shows_live_figures_and_a_30_day_trend_from_counters() {
    let mut c = Centre::new().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let o = create(&c.op, order_body(&format!("1370000111{i}"), "噪音扰民")).await;
        ids.push(o["id"].as_u64().unwrap());
    }
    ok(&c.op, ids[0], "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.op, ids[1], "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, ids[1], "sign", json!({})).await;
    let sup = home(&c.sup).await;
    assert_eq!(tile(&sup, "intake_today"), "3");
    assert_eq!(tile(&sup, "to_dispatch"), "1");
    assert_eq!(tile(&sup, "overdue"), "0");
    assert_eq!(tile(&sup, "satisfaction_month"), "—");
    assert!(sup.contains("<svg class=\"chart\""), "the trend chart");
    assert_eq!(sup.matches("<rect").count(), 31, "30 days and the legend");
    let unit = home(&c.unit_a).await;
    assert_eq!(tile(&unit, "to_sign"), "1");
    assert_eq!(tile(&unit, "in_progress"), "1");
    assert!(
        !unit.contains("tile-intake_today"),
        "a unit sees its own figures"
    );

    // Two days on: the unsigned order is late; it shows on the centre's and the unit's home.
    c.advance(2 * 86_400).await;
    let sup = home(&c.sup).await;
    assert_eq!(tile(&sup, "overdue"), "1");
    assert_eq!(tile(&sup, "intake_today"), "0");
    let unit = home(&c.unit_a).await;
    assert_eq!(tile(&unit, "overdue"), "1");
    let op = home(&c.op).await;
    assert_eq!(tile(&op, "to_dispatch"), "1");
}

#[tokio::test]
async fn operator_figures_match_the_hand_count() {
    let mut c = Centre::new().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let o = create(&c.op, order_body(&format!("1350000444{i}"), "社保卡补办")).await;
        ids.push(o["id"].as_u64().unwrap());
    }
    let lead_order = create(&c.lead, order_body("13500004449", "公交线路")).await["id"]
        .as_u64()
        .unwrap();
    // Answered ten minutes after registration.
    c.advance(600).await;
    ok(
        &c.op,
        ids[0],
        "answer",
        json!({"reply": "可在湘易办补办社保卡。"}),
    )
    .await;
    ok(
        &c.lead,
        lead_order,
        "dispatch",
        json!({"unit": "u-clerk-a"}),
    )
    .await;
    let full = json!({"norms": 20, "attitude": 15, "competence": 25, "record": 25, "handling": 15});
    let mut less = full.clone();
    less["competence"] = json!(15);
    for (id, body) in [
        (ids[0], json!({"scores": less})),
        (
            ids[1],
            json!({"scores": full, "veto": ["abuse"], "comment": "与来电人争吵"}),
        ),
    ] {
        let r =
            c.qa.post(&format!("/api/v1/orders/{id}/inspection"), body)
                .await;
        assert_eq!(r.status(), StatusCode::CREATED);
    }
    // After-call work: the answer at 10 minutes, a dispatch at 20 (15 on average); the
    // third order's dispatch by the shift lead is not the operator's.
    c.advance(600).await;
    ok(&c.op, ids[1], "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.lead, ids[2], "dispatch", json!({"unit": "u-clerk-a"})).await;
    let list: Value = c.op.get("/api/v1/inspections").await.json().await.unwrap();
    let vetoed = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["total"] == 0)
        .unwrap()["id"]
        .clone();
    let r =
        c.op.post(
            &format!("/api/v1/inspections/{vetoed}/appeal"),
            json!({"reason": "来电人先辱骂，我方未还口，有录音"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);

    let r: Value = c
        .sup
        .get("/api/v1/reports/operators?from=2026-11-01&to=2026-12-01")
        .await
        .json()
        .await
        .unwrap();
    let op = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["user"]["username"] == "op1")
        .unwrap();
    assert_eq!(op["registered"], 3);
    assert_eq!(op["answered"], 1);
    assert!(approx(&op["direct_answer_rate"], 33.33), "{op}");
    assert!(approx(&op["avg_handle_minutes"], 10.0), "{op}");
    assert!(approx(&op["avg_wrap_up_minutes"], 15.0), "{op}");
    assert_eq!(op["dispatched"], 1);
    assert_eq!(op["inspected"], 2);
    assert!(approx(&op["qa_score"], 45.0), "(90 + 0) ÷ 2: {op}");
    assert_eq!(op["appeals"], 1);
    let lead = r["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["user"]["username"] == "lead1")
        .unwrap();
    assert_eq!(lead["registered"], 1);
    assert_eq!(lead["dispatched"], 2);
    // The lead dispatched their own order ten minutes after registering it.
    assert!(approx(&lead["avg_wrap_up_minutes"], 10.0), "{lead}");
    assert!(lead["qa_score"].is_null());
    // The same figures as a spreadsheet, and the page.
    let csv = c
        .sup
        .get("/reports/operators?from=2026-11-01&to=2026-12-01&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("测试用户,op1,3,1,33.33,10,15,1,2,45,1"),
        "{csv}"
    );
    let page = c
        .sup
        .get("/reports/operators?from=2026-11-01&to=2026-12-01")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("33.33%") && page.contains("10.0 分钟") && page.contains("15.0 分钟"),
        "{page}"
    );
    assert_eq!(
        c.op.get("/api/v1/reports/operators").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn the_bulletin_counts_the_period_by_every_dimension() {
    let c = Centre::new().await;
    let mut ids = Vec::new();
    for i in 0..3 {
        let o = create(&c.op, order_body(&format!("1340000555{i}"), "占道经营")).await;
        ids.push(o["id"].as_u64().unwrap());
    }
    ok(
        &c.op,
        ids[0],
        "answer",
        json!({"reply": "已告知城管执法电话。"}),
    )
    .await;
    ok(&c.op, ids[1], "dispatch", json!({"unit": "u-clerk-a"})).await;
    // The supervisor picks a typical case for the bulletin.
    let r = c
        .sup
        .form(&format!("/orders/{}/typical", ids[1]), &[("note", "")])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .sup
        .form(
            &format!("/orders/{}/typical", ids[1]),
            &[("note", "占道经营反复投诉，城管已建立长效机制")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let r =
        c.op.form(
            &format!("/orders/{}/typical", ids[1]),
            &[("note", "话务员不能选")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Monday 30 November: the day, its week and its month hold the same three orders.
    for q in [
        "kind=daily&date=2026-11-30",
        "kind=weekly&date=2026-12-02",
        "kind=monthly&date=2026-11-15",
    ] {
        let r = c.sup.get(&format!("/reports/bulletin?{q}")).await;
        assert_eq!(r.status(), StatusCode::OK, "{q}");
        let html = r.text().await.unwrap();
        assert!(html.contains("共受理群众诉求 <strong>3</strong> 件"), "{q}");
        assert!(html.contains("直接办结 1 件（直接办结率 33.33%）"), "{q}");
        assert!(html.contains("<svg class=\"chart hbars\""), "{q}");
        assert!(html.contains("城管已建立长效机制"), "the typical case: {q}");
    }
    let v: Value = c
        .sup
        .get("/api/v1/reports/summary?from=2026-11-30&to=2026-12-01")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["overview"]["registered"], 3);
    assert_eq!(v["overview"]["dispatched"], 1);
    let by = |key: &str| -> Vec<(String, u64)> {
        v["breakdowns"]
            .as_array()
            .unwrap()
            .iter()
            .find(|b| b["key"] == key)
            .unwrap()["rows"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| (r[0].as_str().unwrap().to_string(), r[1].as_u64().unwrap()))
            .collect()
    };
    assert_eq!(by("channel"), vec![("12345热线电话".to_string(), 3)]);
    assert_eq!(by("kind"), vec![("求助".to_string(), 3)]);
    assert_eq!(by("town"), vec![("洣水镇".to_string(), 3)]);
    let states = by("state");
    assert_eq!(states.len(), 3, "{states:?}");
    assert!(states.contains(&("已办结".to_string(), 1)), "{states:?}");
    assert_eq!(by("unit"), vec![("u-clerk-a 单位".to_string(), 1)]);
    // The next day had none.
    let next: Value = c
        .sup
        .get("/api/v1/reports/summary?from=2026-12-01&to=2026-12-02")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(next["overview"]["registered"], 0);
    // CSV and XLSX.
    let csv = c
        .sup
        .get("/reports/bulletin?kind=daily&date=2026-11-30&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        csv.contains("运行概况,受理,3,") && csv.contains("按渠道,12345热线电话,3,100"),
        "{csv}"
    );
    let r = c
        .sup
        .get("/api/v1/reports/summary?from=2026-11-30&to=2026-12-01&format=xlsx")
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let bytes = r.bytes().await.unwrap().to_vec();
    use calamine::Reader;
    let mut book = calamine::Xlsx::new(std::io::Cursor::new(bytes)).unwrap();
    let sheet = book.worksheet_range("报表").unwrap();
    assert_eq!(
        sheet.get_value((2, 2)),
        Some(&calamine::Data::Float(3.0)),
        "受理 as a number"
    );
    let r = c.sup.get("/reports/bulletin?kind=yearly").await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        c.op.get("/reports/bulletin").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[tokio::test]
async fn hot_topics_rise_against_the_period_before() {
    let mut c = Centre::new().await;
    for i in 0..2 {
        create(&c.op, order_body(&format!("1320000777{i}"), "占道经营")).await;
    }
    c.advance(86_400).await;
    for (i, town) in ["洣水镇", "洣水镇", "吴集镇"].iter().enumerate() {
        let mut b = order_body(&format!("1320000778{i}"), "占道经营");
        b["address"]["town"] = json!(town);
        create(&c.op, b).await;
    }
    let h: Value = c
        .sup
        .get("/api/v1/reports/hot?from=2026-12-01&to=2026-12-02")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(h["previous"]["from"], "2026-11-30");
    assert_eq!(h["categories"][0]["count"], 3, "{h}");
    assert_eq!(h["categories"][0]["previous"], 2, "{h}");
    // 吴集镇 rose by one from none; 洣水镇 stayed at two.
    assert_eq!(h["towns"][0]["name"], "吴集镇", "{h}");
    assert_eq!(h["towns"][0]["previous"], 0);
    assert_eq!(h["towns"][1]["name"], "洣水镇");
    assert_eq!(
        (
            h["towns"][1]["count"].as_u64(),
            h["towns"][1]["previous"].as_u64()
        ),
        (Some(2), Some(2))
    );
    let page = c
        .sup
        .get("/reports/hot?from=2026-12-01&to=2026-12-02")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("↑ 1") && page.contains("持平"), "{page}");
    let csv = c
        .sup
        .get("/api/v1/reports/hot?from=2026-12-01&to=2026-12-02&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("乡镇（街道）,吴集镇,1,0,1"), "{csv}");
}

async fn put_stop_words(s: &Session, words: Value) -> reqwest::Response {
    s.client
        .put(s.url("/api/v1/admin/stopwords"))
        .header("x-csrf-token", &s.csrf)
        .json(&json!({ "words": words }))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn hot_words_are_cut_from_titles_and_rise_against_the_period_before() {
    let mut c = Centre::new().await;
    // 2026-11-30: the period before.
    for (i, t) in [
        "菜市场门口占道经营",
        "菜市场门口占道经营",
        "反映噪音扰民问题",
    ]
    .iter()
    .enumerate()
    {
        create(&c.op, order_body(&format!("1320000779{i}"), t)).await;
    }
    c.advance(86_400).await;
    // 2026-12-01: the period. A word twice in one title counts once.
    for (i, t) in [
        "菜市场门口占道经营",
        "夜间施工噪音扰民",
        "夜间施工噪音扰民",
        "路灯不亮 路灯不亮",
    ]
    .iter()
    .enumerate()
    {
        create(&c.op, order_body(&format!("1320000780{i}"), t)).await;
    }
    let hot = |s: &Session| {
        let s = s.clone();
        async move {
            let h: Value = s
                .get("/api/v1/reports/hot?from=2026-12-01&to=2026-12-02")
                .await
                .json()
                .await
                .unwrap();
            h["words"]
                .as_array()
                .unwrap()
                .iter()
                .map(|w| {
                    (
                        w["word"].as_str().unwrap().to_string(),
                        w["count"].as_u64().unwrap(),
                        w["previous"].as_u64().unwrap(),
                    )
                })
                .collect::<Vec<_>>()
        }
    };
    let w = |s: &str, n, p| (s.to_string(), n, p);
    // Rising most first, then by count, then by the word; 反映 and 问题 are stop words.
    assert_eq!(
        hot(&c.sup).await,
        [
            w("夜间", 2, 0),
            w("施工", 2, 0),
            w("噪音扰民", 2, 1),
            w("不亮", 1, 0),
            w("路灯", 1, 0),
            w("占道经营", 1, 2),
            w("菜市场", 1, 2),
            w("门口", 1, 2),
        ]
    );
    let csv = c
        .sup
        .get("/api/v1/reports/hot?from=2026-12-01&to=2026-12-02&format=csv")
        .await
        .text()
        .await
        .unwrap();
    assert!(csv.contains("热词,噪音扰民,2,1,1"), "{csv}");
    let page = c
        .sup
        .get("/reports/hot?from=2026-12-01&to=2026-12-02")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("<h2>热词</h2>") && page.contains("噪音扰民"),
        "{page}"
    );
    assert!(
        !page.contains("/admin/stopwords"),
        "only the admin edits them"
    );

    // The county's own stop words leave every period at once.
    assert_eq!(
        put_stop_words(&c.sup, json!(["夜间"])).await.status(),
        StatusCode::FORBIDDEN
    );
    let r = put_stop_words(&c.admin, json!(["夜间", " 施工 ", "夜间"])).await;
    assert_eq!(r.status(), StatusCode::OK);
    let saved: Value = r.json().await.unwrap();
    assert_eq!(saved["words"], json!(["夜间", "施工"]));
    assert_eq!(hot(&c.sup).await[0], w("噪音扰民", 2, 1));
    // A bad list is refused whole and changes nothing.
    let r = put_stop_words(
        &c.admin,
        json!(["反映", "一二三四五六七八九十一二三四五六七八九十一"]),
    )
    .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(crate::helpers::error_code(r).await, "invalid_field");
    let kept: Value = c
        .sup
        .get("/api/v1/admin/stopwords")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["words"], json!(["夜间", "施工"]));
    // The admin's page: the list in a textarea, saved by form; a bad one says why in Chinese.
    let form = c.admin.get("/admin/stopwords").await.text().await.unwrap();
    assert!(form.contains("夜间\n施工"), "{form}");
    let r = c
        .admin
        .form("/admin/stopwords", &[("words", "反映，问题、 施工\n夜间")])
        .await;
    assert!(r.status().is_success() || r.status().is_redirection());
    let kept: Value = c
        .admin
        .get("/api/v1/admin/stopwords")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(kept["words"], json!(["反映", "问题", "施工", "夜间"]));
    let r = c
        .admin
        .form("/admin/stopwords", &[("words", &"长".repeat(21))])
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("停用词每个最多 20 个字"));
    assert_eq!(
        c.unit_a.get("/api/v1/reports/hot").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.sup.get("/admin/stopwords").await.status(),
        StatusCode::FORBIDDEN
    );
    // The write path kept the word facts that the titles give.
    let dir = c.app.stop().await;
    hotline::store::Store::open(dir.path())
        .unwrap()
        .read(crate::helpers::assert_derived_in_step)
        .unwrap();
}
