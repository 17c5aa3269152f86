//! Issue 12: the centre's connections — the phone system's screen-pop (CTI), 查询码 lookups,
//! results back to the platforms (回传), driven over real HTTP on loopback the way a PBX, a
//! platform and a platform's receiver would.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Session, error_code};
use crate::orders::{Centre, create, get, ok, order_body};

/// Issues a token of the phone system.
async fn cti_token(admin: &Session) -> String {
    let r = admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "呼叫中心交换机", "kind": "cti"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["item"]["kind"], "cti");
    v["token"].as_str().unwrap().to_string()
}

/// What a PBX does: one call event.
async fn pbx(c: &Centre, token: &str, body: Value) -> reqwest::Response {
    c.app
        .client()
        .post(c.app.url("/api/v1/cti/events"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// Reads a server-sent event stream until an event named `name` arrives; its data.
async fn next_event(r: &mut reqwest::Response, buf: &mut String, name: &str) -> Value {
    let wanted = format!("event: {name}\n");
    let found = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            if let Some(at) = buf.find(&wanted) {
                let rest = &buf[at + wanted.len()..];
                if let Some(end) = rest.find("\n\n") {
                    let data: String = rest[..end]
                        .lines()
                        .filter_map(|l| l.strip_prefix("data: "))
                        .collect();
                    let consumed = at + wanted.len() + end + 2;
                    buf.drain(..consumed);
                    return serde_json::from_str::<Value>(&data).unwrap();
                }
            }
            let chunk = r.chunk().await.unwrap().expect("the stream ended");
            buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    })
    .await;
    found.unwrap_or_else(|_| panic!("no `{name}` event within 10 s; got {buf:?}"))
}

/// Issue 12, point 1: the PBX reports a call ringing at seat 2; the operator signed in there
/// has the intake form popped up with the number and the caller's history; the order keeps
/// the call id and the talk time.
#[tokio::test]
async fn a_ringing_call_pops_the_intake_form_at_the_seat_and_the_order_keeps_the_call() {
    let c = Centre::new().await;
    // The caller has been here before.
    let before = create(&c.op, order_body("13812345678", "上月反映的路灯")).await;
    let token = cti_token(&c.admin).await;

    // Only the phone system's token posts call events; it does nothing else.
    let ev = json!({"event": "ringing", "seat": 2, "caller": "+86 138 1234 5678", "call_id": "1733300000.17"});
    let r = c.op.post("/api/v1/cti/events", ev.clone()).await;
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a person is no PBX");
    let r = c
        .app
        .client()
        .post(c.app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .json(&order_body("13900000000", "x"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN, "a PBX registers nothing");

    // op1 takes seat 2 and has the desk open (its event stream); lead1 is on no seat.
    let r = c.op.form("/me/seat", &[("seat", "2")]).await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let mut stream = c.op.get("/api/v1/me/events").await;
    assert_eq!(stream.status(), StatusCode::OK);
    assert!(
        stream.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream")
    );
    let mut buf = String::new();
    next_event(&mut stream, &mut buf, "hello").await;
    let mut lead_stream = c.lead.get("/api/v1/me/events").await;
    let mut lead_buf = String::new();
    next_event(&mut lead_stream, &mut lead_buf, "hello").await;

    // Bad events are refused, said why, and change nothing.
    for (bad, field) in [
        (
            json!({"event": "ringing", "seat": 9, "caller": "1", "call_id": "a"}),
            "seat",
        ),
        (
            json!({"event": "ringing", "caller": "1", "call_id": "a"}),
            "seat",
        ),
        (
            json!({"event": "dialing", "seat": 1, "call_id": "a"}),
            "event",
        ),
        (
            json!({"event": "ringing", "seat": 1, "call_id": "a b"}),
            "call_id",
        ),
        (
            json!({"event": "hangup", "call_id": "never-rang"}),
            "call_id",
        ),
    ] {
        let r = pbx(&c, &token, bad.clone()).await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        let v: Value = r.json().await.unwrap();
        assert!(
            v["error"]["message"].as_str().unwrap().contains(field),
            "{bad}: {v}"
        );
    }
    let r = pbx(
        &c,
        &token,
        json!({"event": "ringing", "seat": 1, "call_id": "x", "extra": 1}),
    )
    .await;
    assert_eq!(
        r.status(),
        StatusCode::UNPROCESSABLE_ENTITY,
        "unknown fields are refused"
    );

    // It rings at seat 2.
    let r = pbx(&c, &token, ev).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["at_seat"], 1, "{v}");
    let pop = next_event(&mut stream, &mut buf, "call").await;
    assert_eq!(pop["caller"], "13812345678");
    assert_eq!(pop["seat"], 2);
    let href = pop["href"].as_str().unwrap().to_string();
    assert_eq!(href, "/orders/new?call=1733300000.17");
    assert!(!href.contains("138"), "no caller number in a URL");

    // The form it opens: the number filled in, the call named, the cursor on the name.
    let page = c.op.get(&href).await.text().await.unwrap();
    assert!(page.contains(r#"value="13812345678""#), "{page}");
    assert!(page.contains("2 号席") && page.contains("1733300000.17"));
    assert!(page.contains(r#"name="call_id" value="1733300000.17""#));
    // The caller's history is what the form asks the hints for with that number.
    let hints: Value =
        c.op.get("/api/v1/intake/hints?phone=13812345678")
            .await
            .json()
            .await
            .unwrap();
    assert!(
        hints
            .to_string()
            .contains(before["number"].as_str().unwrap()),
        "{hints}"
    );

    // Answered; the operator registers the call while talking.
    assert_eq!(
        pbx(
            &c,
            &token,
            json!({"event": "answered", "call_id": "1733300000.17"})
        )
        .await
        .status(),
        StatusCode::OK
    );
    let state = next_event(&mut stream, &mut buf, "call_state").await;
    assert_eq!(state["event"], "answered");
    let r =
        c.op.form(
            "/orders/new",
            &[
                ("caller_phone", "13812345678"),
                ("caller_name", "王五"),
                ("kind", "help"),
                ("title", "路灯又坏了"),
                (
                    "content",
                    "建设路路灯又不亮了，晚上走路不安全，请尽快修复。",
                ),
                ("town", "洣水镇"),
                ("call_id", "1733300000.17"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let loc = r.headers()["location"].to_str().unwrap().to_string();
    let id: u64 = loc
        .trim_start_matches("/orders/")
        .split('?')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let o = get(&c.op, id).await;
    assert_eq!(o["call"]["call_id"], "1733300000.17");
    assert_eq!(o["call"]["seat"], 2);
    assert!(o["call"].get("talk_secs").is_none(), "still talking");

    // 3 min 12 s later the caller hangs up: the order has the talk time.
    c.app.clock.advance_secs(192);
    let r = pbx(
        &c,
        &token,
        json!({"event": "hangup", "call_id": "1733300000.17"}),
    )
    .await;
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["talk_secs"], 192);
    assert_eq!(v["orders"], json!([o["number"]]));
    let o = get(&c.op, id).await;
    assert_eq!(o["call"]["talk_secs"], 192);
    let page =
        c.op.get(&format!("/orders/{id}"))
            .await
            .text()
            .await
            .unwrap();
    assert!(
        page.contains("通话 3分12秒"),
        "the order page says how long they talked"
    );
    // A unit never sees the call.
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let seen = get(&c.unit_a, id).await;
    assert!(
        seen.get("call").is_none() && seen.get("query_code").is_none(),
        "{seen}"
    );

    // The shift lead, on no seat, was never told; a form for an unknown call says so.
    let r = tokio::time::timeout(Duration::from_millis(500), lead_stream.chunk()).await;
    if let Ok(Ok(Some(chunk))) = r {
        assert!(!String::from_utf8_lossy(&chunk).contains("event: call"));
    }
    let page =
        c.op.get("/orders/new?call=nope")
            .await
            .text()
            .await
            .unwrap();
    assert!(page.contains("没有找到这个来电"));
    // An operator on another seat learns nothing by guessing the call's id.
    let other = c
        .app
        .user(&c.admin, "op9", hotline::domain::role::Role::Operator)
        .await;
    other.form("/me/seat", &[("seat", "4")]).await;
    let page = other.get(&href).await.text().await.unwrap();
    assert!(page.contains("没有找到这个来电") && !page.contains("13812345678"));
    // A registration naming a call that never rang is refused, nothing registered.
    let mut body = order_body("13812345678", "假来电");
    body["call_id"] = json!("no-such-call");
    let r = c.op.post("/api/v1/orders", body).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
}

/// Issue 12, point 1: a browser that connects just after the call rang is still offered it.
#[tokio::test]
async fn a_browser_connecting_a_moment_late_still_gets_the_ringing_call() {
    let c = Centre::new().await;
    let token = cti_token(&c.admin).await;
    c.op.form("/me/seat", &[("seat", "3")]).await;
    let r = pbx(
        &c,
        &token,
        json!({"event": "ringing", "seat": "3", "caller": "0734-5212345", "call_id": "late-1"}),
    )
    .await;
    assert_eq!(r.json::<Value>().await.unwrap()["at_seat"], 1);
    let mut stream = c.op.get("/api/v1/me/events").await;
    let mut buf = String::new();
    let pop = next_event(&mut stream, &mut buf, "call").await;
    assert_eq!(pop["call_id"], "late-1");
    assert_eq!(pop["caller"], "0734-5212345");
    // Once answered it is no longer offered.
    pbx(
        &c,
        &token,
        json!({"event": "answered", "call_id": "late-1"}),
    )
    .await;
    let mut again = c.op.get("/api/v1/me/events").await;
    let mut buf = String::new();
    next_event(&mut again, &mut buf, "hello").await;
    let r = tokio::time::timeout(Duration::from_millis(300), again.chunk()).await;
    if let Ok(Ok(Some(chunk))) = r {
        assert!(!String::from_utf8_lossy(&chunk).contains("late-1"));
    }
}

/// Issue 12, point 4: a platform looks an order up by the 查询码 told to the caller — where
/// it stands and the public reply, nothing of the caller; staff find it by the code too.
#[tokio::test]
async fn a_query_code_tells_a_platform_where_an_order_stands_and_nothing_else() {
    let c = Centre::new().await;
    let o = create(&c.op, order_body("13812345678", "噪音扰民")).await;
    let code = o["query_code"].as_str().unwrap().to_string();
    assert_eq!(code.len(), 6);
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "湘易办", "channel": "xiangyiban"}),
        )
        .await;
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let client = c.app.client();
    let look = |path: String| {
        let req = client.get(c.app.url(&path)).bearer_auth(&token);
        async move { req.send().await.unwrap() }
    };
    let r = look(format!("/api/v1/lookup/{code}")).await;
    assert_eq!(r.status(), StatusCode::OK);
    let v: Value = r.json().await.unwrap();
    assert_eq!(v["items"][0]["state"], "registered");
    assert_eq!(v["items"][0]["status"], "open");
    let text = v.to_string();
    for secret in [
        "13812345678",
        "张三",
        "噪音扰民",
        "建设路",
        "caller",
        "content",
    ] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
    // Answered on the spot: the public reply is there.
    let id = o["id"].as_u64().unwrap();
    ok(
        &c.op,
        id,
        "answer",
        json!({"reply": "已告知来电人：夜间施工须办理许可，可向县住建局举报。"}),
    )
    .await;
    let v: Value = look(format!("/api/v1/lookup/{code}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(v["items"][0]["status"], "closed");
    assert!(
        v["items"][0]["public_reply"]
            .as_str()
            .unwrap()
            .contains("县住建局")
    );

    // Not six digits, or no such code.
    let r = look("/api/v1/lookup/12ab".into()).await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let other = if code == "000000" { "000001" } else { "000000" };
    assert_eq!(
        look(format!("/api/v1/lookup/{other}")).await.status(),
        StatusCode::NOT_FOUND
    );
    // A unit never looks up by a caller's code; an operator does, and finds it by search.
    assert_eq!(
        c.unit_a
            .get(&format!("/api/v1/lookup/{code}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.unit_a
            .get(&format!("/api/v1/orders?code={code}"))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        c.op.get(&format!("/api/v1/lookup/{code}")).await.status(),
        StatusCode::OK
    );
    let found: Value =
        c.op.get(&format!("/api/v1/orders?code={code}"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["id"], id);
    let found: Value =
        c.op.get(&format!("/api/v1/orders?q={code}"))
            .await
            .json()
            .await
            .unwrap();
    assert_eq!(
        found["items"][0]["id"], id,
        "six digits in the search box are a code"
    );
    let r = c.op.get(&format!("/orders?q={code}")).await;
    assert_eq!(
        r.headers()["location"],
        format!("/orders/{id}"),
        "the code goes to the order"
    );

    // Guessing is slow: a token has 120 lookups a minute.
    let mut limited = false;
    for n in 0..130 {
        let r = look(format!("/api/v1/lookup/{:06}", 100_000 + n)).await;
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(error_code(r).await, "throttled");
            limited = true;
            break;
        }
    }
    assert!(limited, "lookups are rate-limited");
}

/// Issue 12, point 4: codes are unique among a year's orders.
#[tokio::test]
async fn query_codes_do_not_repeat_within_a_year() {
    let c = Centre::new().await;
    let mut seen = std::collections::HashSet::new();
    for i in 0..40 {
        let o = create(&c.op, order_body("13812345678", &format!("第{i}件"))).await;
        assert!(seen.insert(o["query_code"].as_str().unwrap().to_string()));
    }
}

/// What the test's platform receiver answers, one behaviour per request, then `Ok` forever.
#[derive(Clone, Copy, Debug)]
enum Reply {
    Status(u16),
    /// Holds the request without answering (longer than the box waits).
    Hang,
}

#[derive(Clone, Debug)]
struct Received {
    key: String,
    event: String,
    signature: String,
    body: String,
    answered: u16,
}

/// A platform's callback receiver on loopback.
struct Receiver {
    port: u16,
    script: Arc<Mutex<Vec<Reply>>>,
    got: Arc<Mutex<Vec<Received>>>,
}

impl Receiver {
    async fn start(script: Vec<Reply>) -> Receiver {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let script = Arc::new(Mutex::new(script));
        let got = Arc::new(Mutex::new(Vec::new()));
        let (s, g) = (script.clone(), got.clone());
        tokio::spawn(async move {
            loop {
                let Ok((mut sock, _)) = listener.accept().await else {
                    return;
                };
                let (s, g) = (s.clone(), g.clone());
                tokio::spawn(async move {
                    let mut buf = Vec::new();
                    let mut tmp = [0u8; 4096];
                    let (head, body) = loop {
                        let n = sock.read(&mut tmp).await.unwrap_or(0);
                        if n == 0 {
                            return;
                        }
                        buf.extend_from_slice(&tmp[..n]);
                        let text = String::from_utf8_lossy(&buf).to_string();
                        if let Some(at) = text.find("\r\n\r\n") {
                            let head = text[..at].to_string();
                            let len: usize = head
                                .lines()
                                .find_map(|l| {
                                    l.to_lowercase()
                                        .strip_prefix("content-length:")
                                        .map(|v| v.trim().parse().unwrap())
                                })
                                .unwrap_or(0);
                            if buf.len() >= at + 4 + len {
                                break (
                                    head,
                                    String::from_utf8_lossy(&buf[at + 4..at + 4 + len]).to_string(),
                                );
                            }
                        }
                    };
                    let header = |name: &str| {
                        head.lines()
                            .find_map(|l| {
                                let (k, v) = l.split_once(':')?;
                                k.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
                            })
                            .unwrap_or_default()
                    };
                    let reply = {
                        let mut s = s.lock().unwrap();
                        if s.is_empty() {
                            Reply::Status(200)
                        } else {
                            s.remove(0)
                        }
                    };
                    let answered = match reply {
                        Reply::Status(c) => c,
                        Reply::Hang => 0,
                    };
                    g.lock().unwrap().push(Received {
                        key: header("idempotency-key"),
                        event: header("x-hotline-event"),
                        signature: header("x-hotline-signature"),
                        body,
                        answered,
                    });
                    match reply {
                        Reply::Hang => tokio::time::sleep(Duration::from_secs(5)).await,
                        Reply::Status(c) => {
                            let _ = sock
                                .write_all(format!("HTTP/1.1 {c} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").as_bytes())
                                .await;
                        }
                    }
                });
            }
        });
        Receiver { port, script, got }
    }

    fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `n` requests have come in.
    async fn wait_for(&self, n: usize) -> Vec<Received> {
        for _ in 0..200 {
            let g = self.got();
            if g.len() >= n {
                return g;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the receiver got {:?}, not {n} requests", self.got());
    }
}

/// The platform's check of a delivery: the HMAC-SHA256 of "<t>.<body>" under its key.
fn signed_by(secret: &str, r: &Received) -> bool {
    let mut t = "";
    let mut v1 = "";
    for part in r.signature.split(',') {
        if let Some(x) = part.strip_prefix("t=") {
            t = x;
        }
        if let Some(x) = part.strip_prefix("v1=") {
            v1 = x;
        }
    }
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    let Ok(tag) = (0..v1.len() / 2)
        .map(|i| u8::from_str_radix(&v1[2 * i..2 * i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    ring::hmac::verify(&key, format!("{t}.{}", r.body).as_bytes(), &tag).is_ok()
}

async fn outbox(c: &Centre) -> Value {
    let r = c.admin.get("/api/v1/admin/outbox").await;
    assert_eq!(r.status(), StatusCode::OK);
    r.json().await.unwrap()
}

/// Waits until the outbox has nothing pending or failed.
async fn drained(c: &Centre) -> Value {
    for _ in 0..200 {
        let v = outbox(c).await;
        if v["pending_total"] == 0 && v["failed_total"] == 0 {
            return v;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the outbox did not drain: {}", outbox(c).await);
}

/// Issue 12, point 2: each change a platform needs is queued with the change and delivered
/// signed, once, retried with backoff while the receiver fails or hangs, in order per order.
#[tokio::test]
async fn results_go_back_to_the_platform_signed_retried_and_never_twice() {
    let c = Centre::new().await;
    let rx = Receiver::start(vec![Reply::Status(500), Reply::Hang]).await;
    // The box waits one second for an answer in this test.
    let mut s: Value = c.admin.get("/api/v1/settings").await.json().await.unwrap();
    s["callback_timeout_secs"] = json!(1);
    assert_eq!(
        c.admin.put("/api/v1/settings", s).await.status(),
        StatusCode::OK
    );

    // A callback URL must be a web address.
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "省长信箱", "channel": "governor_mailbox", "callback_url": "ftp://x"}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "省长信箱", "channel": "governor_mailbox",
                   "callback_url": format!("http://127.0.0.1:{}/hotline/results", rx.port)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let v: Value = r.json().await.unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    let secret = v["callback_secret"].as_str().unwrap().to_string();

    let client = c.app.client();
    let platform = |body: Value| {
        let req = client
            .post(c.app.url("/api/v1/orders"))
            .bearer_auth(&token)
            .json(&body);
        async move { req.send().await.unwrap() }
    };
    let mut body = order_body("13812345678", "来信：路面塌陷");
    body["channel"] = json!("governor_mailbox");
    body["external_id"] = json!("SZXX-2026-0001");
    let o: Value = platform(body).await.json().await.unwrap();
    let id = o["id"].as_u64().unwrap();
    // Registering tells the platform nothing yet; a phone order never goes anywhere.
    let phone = create(&c.op, order_body("13900001111", "电话来的")).await;
    ok(
        &c.op,
        phone["id"].as_u64().unwrap(),
        "dispatch",
        json!({"unit": "u-clerk-a"}),
    )
    .await;
    assert_eq!(outbox(&c).await["pending_total"], 0);

    // 受理: dispatched. The first try meets a 500, and is queued again.
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    rx.wait_for(1).await;
    let v = outbox(&c).await;
    assert_eq!(v["pending_total"], 1, "{v}");
    let d = &v["pending"][0];
    assert_eq!(d["event"], "accepted");
    assert_eq!(d["attempts"], 1);
    assert!(d["last_error"].as_str().unwrap().contains("500"), "{d}");

    // 30 s later the second try hangs: one second and it counts as failed.
    c.app.clock.advance_secs(31);
    rx.wait_for(2).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let v = outbox(&c).await;
    assert_eq!(v["pending"][0]["attempts"], 2, "{v}");
    assert!(
        v["pending"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("无应答")
    );

    // A minute on it goes through.
    c.app.clock.advance_secs(61);
    rx.wait_for(3).await;
    let v = drained(&c).await;
    assert_eq!(v["delivered"][0]["event"], "accepted");

    // 办结 and 回访结果 follow, each once, in the order they happened.
    ok(&c.unit_a, id, "sign", json!({})).await;
    ok(
        &c.unit_a,
        id,
        "reply",
        json!({"result": "已组织施工队对塌陷路面进行回填修复，已恢复通行。", "resolved": "yes", "contacted": true,
               "public_reply": "塌陷路面已回填修复，恢复通行。"}),
    )
    .await;
    ok(&c.lead, id, "review_reply", json!({"approve": true})).await;
    ok(
        &c.qa,
        id,
        "callback",
        json!({"satisfaction": "satisfied", "resolved": "yes"}),
    )
    .await;
    ok(&c.lead, id, "close", json!({})).await;
    drained(&c).await;
    let got = rx.got();
    let delivered: Vec<&Received> = got.iter().filter(|r| r.answered == 200).collect();
    let events: Vec<&str> = delivered.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(
        events,
        ["accepted", "callback_result", "finished"],
        "{got:?}"
    );
    // Every try carried the same key for the same result; each result was taken once.
    let tries_of_first: Vec<&str> = got[..3].iter().map(|r| r.key.as_str()).collect();
    assert!(tries_of_first.iter().all(|k| *k == tries_of_first[0]));
    let mut keys: Vec<&str> = delivered.iter().map(|r| r.key.as_str()).collect();
    keys.dedup();
    assert_eq!(keys.len(), 3);
    for r in &got {
        assert!(signed_by(&secret, r), "signature checks: {r:?}");
        assert!(!signed_by("another-key", r));
        let b: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(b["order"]["external_id"], "SZXX-2026-0001");
        assert_eq!(b["idempotency_key"], r.key.as_str());
        for secret in ["13812345678", "张三"] {
            assert!(
                !r.body.contains(secret),
                "caller data in a delivery: {}",
                r.body
            );
        }
    }
    let finished: Value = serde_json::from_str(&delivered[2].body).unwrap();
    assert_eq!(finished["public_reply"], "塌陷路面已回填修复，恢复通行。");
    let cb: Value = serde_json::from_str(&delivered[1].body).unwrap();
    assert_eq!(cb["satisfaction"]["code"], "satisfied");

    // 不予受理 with the reason.
    let mut body = order_body("13812345679", "来信：不属本县");
    body["channel"] = json!("governor_mailbox");
    body["external_id"] = json!("SZXX-2026-0002");
    let o2: Value = platform(body).await.json().await.unwrap();
    ok(
        &c.op,
        o2["id"].as_u64().unwrap(),
        "reject",
        json!({"reason_code": 1, "note": "事发地在衡山县"}),
    )
    .await;
    drained(&c).await;
    let last = rx.got().last().unwrap().clone();
    assert_eq!(last.event, "rejected");
    let b: Value = serde_json::from_str(&last.body).unwrap();
    assert_eq!(b["reason"]["code"], 1);
    assert_eq!(b["reason"]["label"], "非本县管辖");
}

/// Issue 12, point 2: a delivery queued before a restart is delivered after it, once; the
/// admin sends a waiting one again at once.
#[tokio::test]
async fn the_outbox_survives_a_restart_and_the_admin_can_send_again() {
    let c = Centre::new().await;
    let rx = Receiver::start(vec![Reply::Status(503)]).await;
    let r = c
        .admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "人民网", "channel": "people_cn"}),
        )
        .await;
    let v: Value = r.json().await.unwrap();
    let token = v["token"].as_str().unwrap().to_string();
    let tid = v["item"]["id"].as_u64().unwrap();
    assert!(v.get("callback_secret").is_none());
    // The URL is set afterwards; the signing key is shown then, once.
    let r = c
        .admin
        .patch(
            &format!("/api/v1/admin/tokens/{tid}"),
            json!({"callback_url": format!("http://127.0.0.1:{}/cb", rx.port)}),
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let secret = r.json::<Value>().await.unwrap()["callback_secret"]
        .as_str()
        .unwrap()
        .to_string();
    let mut body = order_body("13812345678", "留言：路灯");
    body["channel"] = json!("people_cn");
    body["external_id"] = json!("RMW-77");
    let o: Value = c
        .app
        .client()
        .post(c.app.url("/api/v1/orders"))
        .bearer_auth(&token)
        .json(&body)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = o["id"].as_u64().unwrap();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    rx.wait_for(1).await;
    let v = outbox(&c).await;
    let did = v["pending"][0]["id"].as_u64().unwrap();

    // The admin sends it again now (no waiting for the backoff).
    let r = c
        .admin
        .post(&format!("/api/v1/admin/outbox/{did}/retry"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    rx.wait_for(2).await;
    drained(&c).await;
    let r = c
        .admin
        .post(&format!("/api/v1/admin/outbox/{did}/retry"), json!({}))
        .await;
    assert_eq!(r.status(), StatusCode::CONFLICT, "delivered is done");
    assert_eq!(
        c.op.get("/api/v1/admin/outbox").await.status(),
        StatusCode::FORBIDDEN
    );

    // Another result is queued while the platform is down; the box restarts.
    rx.script.lock().unwrap().extend([Reply::Status(502)]);
    ok(&c.unit_a, id, "sign", json!({})).await;
    ok(
        &c.unit_a,
        id,
        "reply",
        json!({"result": "路灯已更换灯泡并恢复照明，经现场核实正常。", "resolved": "yes", "contacted": true, "public_reply": "路灯已修复。"}),
    )
    .await;
    ok(&c.lead, id, "review_reply", json!({"approve": true})).await;
    ok(
        &c.qa,
        id,
        "callback",
        json!({"satisfaction": "very_satisfied", "resolved": "yes"}),
    )
    .await;
    rx.wait_for(3).await;
    let at = hotline::clock::Clock::now(&*c.app.clock).secs();
    let Centre { app, .. } = c;
    let dir = app.stop().await;
    let app = crate::helpers::TestApp::start_in(dir).await;
    app.clock
        .set(hotline::domain::time::Timestamp::from_secs(at + 40));
    for _ in 0..200 {
        if rx.got().iter().filter(|r| r.answered == 200).count() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let got = rx.got();
    let ok_keys: Vec<&str> = got
        .iter()
        .filter(|r| r.answered == 200)
        .map(|r| r.key.as_str())
        .collect();
    assert_eq!(ok_keys.len(), 2, "{got:?}");
    assert_ne!(ok_keys[0], ok_keys[1]);
    assert!(got.iter().all(|r| signed_by(&secret, r)));
    assert_eq!(got.last().unwrap().event, "callback_result");
    // Nothing more arrives: delivered is delivered.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(rx.got().len(), got.len());
}

/// Issue 12, point 3: a GeoReport v2 client's requests — services, a new request with its
/// token while it awaits screening, its id once accepted, its status, the list by date — in
/// JSON and XML, errors in the spec's format.
#[tokio::test]
async fn open311_georeport_v2_client_round_trip() {
    let c = Centre::new().await;
    let client = c.app.client();
    let get = |path: String| {
        let req = client.get(c.app.url(&path));
        async move { req.send().await.unwrap() }
    };
    let post = |path: &str, form: Vec<(&str, String)>| {
        let req = client.post(c.app.url(path)).form(&form);
        async move { req.send().await.unwrap() }
    };
    let issue = |channel: &'static str| {
        let admin = c.admin.clone();
        async move {
            let r = admin
                .post(
                    "/api/v1/admin/tokens",
                    json!({"name": channel, "channel": channel}),
                )
                .await;
            r.json::<Value>().await.unwrap()["token"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let key = issue("wechat").await;
    let other = issue("gov_cn").await;

    // Services: the categories, no key needed.
    let r = get("/open311/v2/services.json".into()).await;
    assert_eq!(r.status(), StatusCode::OK);
    let services: Value = r.json().await.unwrap();
    let s = services
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["service_code"] == "1001")
        .unwrap();
    assert_eq!(s["service_name"], "占道经营");
    assert_eq!(s["group"], "城市管理");
    assert_eq!(s["metadata"], false);
    assert_eq!(s["type"], "realtime");
    let r = get("/open311/v2/services.xml".into()).await;
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/xml")
    );
    let x = r.text().await.unwrap();
    assert!(
        x.starts_with("<?xml")
            && x.contains("<services><service>")
            && x.contains("<service_code>1001</service_code>")
    );
    let r = get("/open311/v2/services/1001.json".into()).await;
    assert_eq!(r.status(), StatusCode::NOT_FOUND);
    let t = r.text().await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&t).unwrap_or_else(|_| panic!("{t}"))[0]["code"],
        404
    );

    // Creating: the spec's errors.
    let good = |k: &str| {
        vec![
            ("api_key", k.to_string()),
            ("service_code", "1001".to_string()),
            ("address_string", "衡东县城关镇建设路菜市场".to_string()),
            (
                "description",
                "菜市场门口每天早上占道经营，车辆无法通行。".to_string(),
            ),
            ("first_name", "四".to_string()),
            ("last_name", "李".to_string()),
            ("phone", "13712345678".to_string()),
        ]
    };
    let without = |field: &str| {
        good(&key)
            .into_iter()
            .filter(|(k, _)| *k != field)
            .collect::<Vec<_>>()
    };
    for (form, status, what) in [
        (without("api_key"), 400, "api_key"),
        (good("hl_wrong"), 403, "api_key"),
        (without("service_code"), 400, "service_code"),
        (without("address_string"), 400, "address_string"),
        (without("description"), 400, "description"),
        (without("phone"), 400, "phone"),
    ] {
        let r = post("/open311/v2/requests.json", form).await;
        assert_eq!(r.status().as_u16(), status, "{what}");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v[0]["code"], status);
        assert!(v[0]["description"].as_str().unwrap().contains(what), "{v}");
    }
    let mut bad_code = good(&key);
    bad_code[1].1 = "9999".into();
    let r = post("/open311/v2/requests.xml", bad_code).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let x = r.text().await.unwrap();
    assert!(
        x.contains("<errors><error><code>400</code><description>"),
        "{x}"
    );

    // A request awaits screening: a token, no id yet.
    let r = post("/open311/v2/requests.json", good(&key)).await;
    assert_eq!(r.status(), StatusCode::CREATED);
    let created: Value = r.json().await.unwrap();
    let token = created[0]["token"].as_str().unwrap().to_string();
    assert!(created[0].get("service_request_id").is_none());
    let t: Value = get(format!("/open311/v2/tokens/{token}.json?api_key={key}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(t[0]["token"], token.as_str());
    assert!(t[0].get("service_request_id").is_none(), "{t}");
    // Another platform's key knows nothing of it.
    assert_eq!(
        get(format!("/open311/v2/tokens/{token}.json?api_key={other}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );

    // The operator screens and dispatches it; the token now gives the id.
    let list: Value =
        c.op.get("/api/v1/orders?channel=wechat")
            .await
            .json()
            .await
            .unwrap();
    let id = list["items"][0]["id"].as_u64().unwrap();
    let number = list["items"][0]["number"].as_str().unwrap().to_string();
    ok(&c.op, id, "dispatch", json!({"unit": "u-clerk-a"})).await;
    let t: Value = get(format!("/open311/v2/tokens/{token}.xml?api_key={key}"))
        .await
        .text()
        .await
        .map(|x| json!(x))
        .unwrap();
    assert!(t.as_str().unwrap().contains(&format!(
        "<service_request_id>{number}</service_request_id>"
    )));

    // Its status, in both formats.
    let r: Value = get(format!("/open311/v2/requests/{number}.json?api_key={key}"))
        .await
        .json()
        .await
        .unwrap();
    let req = &r[0];
    assert_eq!(req["service_request_id"], number.as_str());
    assert_eq!(req["status"], "open");
    assert_eq!(req["service_code"], "1001");
    assert_eq!(req["agency_responsible"], "u-clerk-a 单位");
    assert!(
        req["requested_datetime"]
            .as_str()
            .unwrap()
            .ends_with("+08:00")
    );
    assert!(!req["expected_datetime"].as_str().unwrap().is_empty());
    for secret in ["13712345678", "李四"] {
        assert!(!r.to_string().contains(secret), "{secret}: {r}");
    }
    let x = get(format!("/open311/v2/requests/{number}.xml?api_key={key}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(x.contains("<service_requests><request>") && x.contains("<status>open</status>"));
    assert_eq!(
        get(format!(
            "/open311/v2/requests/{number}.json?api_key={other}"
        ))
        .await
        .status(),
        StatusCode::NOT_FOUND
    );

    // The list by date, by status, by ids.
    let all: Value = get(format!("/open311/v2/requests.json?api_key={key}"))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(all.as_array().unwrap().len(), 1);
    let day: Value = get(format!(
        "/open311/v2/requests.json?api_key={key}&start_date=2026-11-30T00:00:00%2B08:00&end_date=2026-12-01T00:00:00%2B08:00&status=open"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(day[0]["service_request_id"], number.as_str());
    let closed: Value = get(format!(
        "/open311/v2/requests.json?api_key={key}&status=closed"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(closed, json!([]));
    let before: Value = get(format!(
        "/open311/v2/requests.json?api_key={key}&end_date=2026-11-29T00:00:00Z"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(before, json!([]));
    let by_id: Value = get(format!(
        "/open311/v2/requests.json?api_key={key}&service_request_id={number},HD2020010100001"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(by_id.as_array().unwrap().len(), 1);
    let r = get(format!(
        "/open311/v2/requests.json?api_key={key}&start_date=yesterday"
    ))
    .await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
    let r = get("/open311/v2/requests.json".into()).await;
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);
}

/// Issue 12, point 2: the admin's 对接 page issues tokens (shown once), sets callback URLs,
/// lists what waits to go back and sends it again.
#[tokio::test]
async fn the_admin_manages_connections_on_one_page() {
    let c = Centre::new().await;
    let page = c
        .admin
        .get("/admin/connections")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("接口令牌") && page.contains("没有待发送或失败的回传"));
    assert_eq!(
        c.op.get("/admin/connections").await.status(),
        StatusCode::FORBIDDEN
    );
    // A bad URL: the form says so, nothing issued.
    let r = c
        .admin
        .form(
            "/admin/connections/tokens",
            &[
                ("name", "政协云"),
                ("kind", "channel"),
                ("channel", "cppcc_cloud"),
                ("callback_url", "not a url"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(r.text().await.unwrap().contains("回传地址应为"));
    let r = c
        .admin
        .form(
            "/admin/connections/tokens",
            &[
                ("name", "政协云"),
                ("kind", "channel"),
                ("channel", "cppcc_cloud"),
                ("callback_url", "https://zxy.example.cn/hook"),
            ],
        )
        .await;
    assert_eq!(r.status(), StatusCode::OK);
    let shown = r.text().await.unwrap();
    assert!(shown.contains("只显示这一次") && shown.contains("hl_") && shown.contains("whsec_"));
    let r = c
        .admin
        .form(
            "/admin/connections/tokens",
            &[("name", "交换机"), ("kind", "cti")],
        )
        .await;
    assert!(r.text().await.unwrap().contains("hl_"));
    let list: Value = c
        .admin
        .get("/api/v1/admin/tokens")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["total"], 2);
    let id = list["items"][0]["id"].as_u64().unwrap();
    let page = c
        .admin
        .get("/admin/connections")
        .await
        .text()
        .await
        .unwrap();
    assert!(page.contains("zxy.example.cn") && page.contains("电话系统（CTI）"));
    assert!(!page.contains("whsec_"), "the key is shown once");
    let r = c
        .admin
        .form(&format!("/admin/connections/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let list: Value = c
        .admin
        .get("/api/v1/admin/tokens")
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(list["items"][0]["revoked"], true);
    let home = c.admin.get("/admin").await.text().await.unwrap();
    assert!(home.contains("/admin/connections"));
}
