//! The UI in a real browser: headless Chromium through chromedriver (WebDriver over HTTP,
//! spoken directly with reqwest). `.ci/run` installs both; where chromedriver is missing
//! outside CI the test says so and passes, in CI it fails.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::{ADMIN_PASSWORD, TestApp, USER_PASSWORD};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

pub struct Browser {
    http: reqwest::Client,
    base: String,
    child: Child,
}

fn find_driver() -> Option<String> {
    ["/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver"]
        .iter()
        .find(|p| std::path::Path::new(p).exists())
        .map(|p| p.to_string())
}

impl Browser {
    pub async fn start() -> Option<Browser> {
        let Some(driver) = find_driver() else {
            assert!(
                std::env::var_os("CI").is_none(),
                "chromedriver is missing in CI (.ci/run installs chromium-driver)"
            );
            eprintln!(
                "browser test skipped: chromedriver not installed (apt-get install chromium chromium-driver)"
            );
            return None;
        };
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let http = reqwest::Client::new();
        let driver_url = format!("http://127.0.0.1:{port}");
        for _ in 0..100 {
            if let Ok(r) = http.get(format!("{driver_url}/status")).send().await
                && r.status().is_success()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "acceptInsecureCerts": true,
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--window-size=1366,768", "--disable-quic", "--no-first-run",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync",
                    "--lang=zh-CN"
                ]
            }
        }}});
        let r: Value = http
            .post(format!("{driver_url}/session"))
            .json(&caps)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = r["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no WebDriver session: {r}"))
            .to_string();
        Some(Browser {
            http,
            base: format!("{driver_url}/session/{id}"),
            child,
        })
    }

    async fn try_cmd(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, String> {
        let mut req = self.http.request(method, format!("{}{}", self.base, path));
        if let Some(b) = body {
            req = req.json(&b);
        }
        let v: Value = req.send().await.unwrap().json().await.unwrap();
        match v["value"].get("error") {
            Some(err) => Err(format!("WebDriver {path}: {err} {}", v["value"]["message"])),
            None => Ok(v["value"].clone()),
        }
    }

    async fn cmd(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Value {
        self.try_cmd(method, path, body)
            .await
            .unwrap_or_else(|e| panic!("{e}"))
    }

    pub async fn goto(&self, url: &str) {
        self.cmd(reqwest::Method::POST, "/url", Some(json!({"url": url})))
            .await;
    }

    pub async fn find(&self, css: &str) -> String {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": css})),
            )
            .await;
        v[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element {css}: {v}"))
            .to_string()
    }

    pub async fn type_into(&self, css: &str, text: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/value"),
            Some(json!({"text": text})),
        )
        .await;
    }

    pub async fn click(&self, css: &str) {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::POST,
            &format!("/element/{el}/click"),
            Some(json!({})),
        )
        .await;
    }

    /// Presses Enter in the focused field: forms work from the keyboard.
    pub async fn enter(&self, css: &str) {
        self.type_into(css, "\u{E007}").await;
    }

    pub async fn select(&self, css: &str, value: &str) {
        self.click(&format!("{css} option[value=\"{value}\"]"))
            .await;
    }

    /// The visible text of the page; empty while a navigation replaces the page.
    pub async fn text(&self) -> String {
        let Ok(found) = self
            .try_cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": "body"})),
            )
            .await
        else {
            return String::new();
        };
        let Some(el) = found[ELEMENT].as_str() else {
            return String::new();
        };
        self.try_cmd(reqwest::Method::GET, &format!("/element/{el}/text"), None)
            .await
            .ok()
            .and_then(|v| v.as_str().map(str::to_string))
            .unwrap_or_default()
    }

    /// Waits (up to 5 s) until the page shows `needle`, after a navigation.
    pub async fn wait_for(&self, needle: &str) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            last = self.text().await;
            if last.contains(needle) {
                return last;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("page never showed {needle:?}; it shows:\n{last}");
    }

    pub async fn url(&self) -> String {
        self.cmd(reqwest::Method::GET, "/url", None)
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Saves a PNG under target/screenshots for a person to look at.
    pub async fn screenshot(&self, name: &str) {
        let v = self.cmd(reqwest::Method::GET, "/screenshot", None).await;
        let bytes = base64_decode(v.as_str().unwrap());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.png")), bytes).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        // End the WebDriver session first so chromedriver closes Chromium (killing only the
        // driver leaves the browser processes running).
        if let Some(rest) = self.base.strip_prefix("http://")
            && let Some((host, path)) = rest.split_once('/')
            && let Ok(mut s) = std::net::TcpStream::connect(host)
        {
            use std::io::{Read as _, Write as _};
            let _ = s.set_read_timeout(Some(Duration::from_secs(10)));
            let _ = write!(
                s,
                "DELETE /{path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
            );
            let mut sink = Vec::new();
            let _ = s.read_to_end(&mut sink);
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Standard base64 (the screenshot), without another dependency.
fn base64_decode(s: &str) -> Vec<u8> {
    let val = |c: u8| match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'+' => Some(62),
        b'/' => Some(63),
        _ => None,
    };
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for v in s.bytes().filter_map(val) {
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

#[tokio::test]
async fn first_boot_to_operator_home_in_a_real_browser() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = TestApp::new().await;
    let code = app.setup_code.clone().unwrap();

    // First boot: the login page points to setup.
    b.goto(&app.url("/")).await;
    assert!(b.url().await.ends_with("/login?next=/"));
    assert!(b.text().await.contains("系统尚未初始化"));
    b.screenshot("01-login-before-setup").await;
    b.click("a[href='/setup']").await;
    b.wait_for("创建管理员").await;
    b.type_into("#code", &code).await;
    b.type_into("#username", "admin").await;
    b.type_into("#display_name", "刘管理").await;
    b.type_into("#password", ADMIN_PASSWORD).await;
    b.type_into("#password2", ADMIN_PASSWORD).await;
    b.screenshot("02-setup").await;
    b.enter("#password2").await;
    b.wait_for("初始化完成").await;

    // The admin signs in with the keyboard.
    b.type_into("#username", "admin").await;
    b.type_into("#password", ADMIN_PASSWORD).await;
    b.enter("#password").await;
    let home = b.wait_for("系统概况").await;
    assert!(home.contains("刘管理"));
    b.screenshot("03-admin-home").await;

    // A unit, then an operator.
    b.goto(&app.url("/admin/units")).await;
    b.type_into("#un-code", "mishui").await;
    b.type_into("#un-name", "洣水镇人民政府").await;
    b.select("#un-league", "township").await;
    b.click("form[action='/admin/units'] button[type=submit]")
        .await;
    b.wait_for("承办单位已创建").await;
    b.screenshot("04-units").await;
    b.goto(&app.url("/admin/users")).await;
    b.type_into("#nu-username", "wangfang").await;
    b.type_into("#nu-name", "王芳").await;
    b.select("#nu-role", "operator").await;
    b.type_into("#nu-password", USER_PASSWORD).await;
    b.click("form[action='/admin/users'] button[type=submit]")
        .await;
    let users = b.wait_for("用户已创建").await;
    assert!(users.contains("王芳"));
    assert!(users.contains("待改初始密码"));
    b.screenshot("05-users").await;
    b.goto(&app.url("/admin/audit")).await;
    let audit = b.wait_for("新建用户").await;
    assert!(audit.contains("用户 王芳"), "the subject is named: {audit}");
    b.screenshot("06-audit").await;
    // The box's own pages: backups (立即备份), updates, certificate.
    b.goto(&app.url("/admin/backups")).await;
    b.wait_for("备份设置").await;
    b.click("form[action='/admin/backups'] button[type=submit]")
        .await;
    let backups = b.wait_for("备份已完成并通过校验").await;
    assert!(backups.contains(".hlbak"), "{backups}");
    b.screenshot("06b-backups").await;
    b.goto(&app.url("/admin/updates")).await;
    let updates = b.wait_for("系统升级").await;
    assert!(updates.contains("停止服务"), "{updates}");
    b.screenshot("06c-updates").await;
    b.goto(&app.url("/admin/tls")).await;
    let tls = b.wait_for("正在使用的证书").await;
    assert!(tls.contains("本机自动生成"), "{tls}");
    b.screenshot("06d-tls").await;
    b.click("button.link").await;
    b.wait_for("您已安全退出").await;

    // The operator must set a password before anything else.
    b.type_into("#username", "wangfang").await;
    b.type_into("#password", USER_PASSWORD).await;
    b.enter("#password").await;
    b.wait_for("初始密码").await;
    assert!(b.url().await.ends_with("/password"));
    b.screenshot("07-forced-password").await;
    b.type_into("#old_password", USER_PASSWORD).await;
    b.type_into("#new_password", "Wang-fang-2026").await;
    b.type_into("#new_password2", "Wang-fang-2026").await;
    b.enter("#new_password2").await;
    let home = b.wait_for("密码已修改").await;
    assert!(home.contains("话务员"));
    assert!(
        !home.contains("系统管理"),
        "an operator sees no admin navigation"
    );
    b.screenshot("08-operator-home").await;
}

impl Browser {
    async fn login(&self, app: &TestApp, user: &str, password: &str) {
        self.goto(&app.url("/login")).await;
        self.type_into("#username", user).await;
        self.type_into("#password", password).await;
        self.enter("#password").await;
        self.wait_for("退出").await;
    }

    async fn logout(&self) {
        self.click("button.link").await;
        self.wait_for("您已安全退出").await;
    }

    /// Opens an action's panel on the order page (unless it is already open).
    /// Waits until the element's visible text holds `want` (a page's script fills it).
    async fn wait_text(&self, css: &str, want: &str) -> String {
        let mut last = String::new();
        for _ in 0..50 {
            let el = self.find(css).await;
            let v = self
                .cmd(reqwest::Method::GET, &format!("/element/{el}/text"), None)
                .await;
            last = v.as_str().unwrap_or("").to_string();
            if last.contains(want) {
                return last;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        panic!("{css} never showed {want:?}; it shows {last:?}");
    }

    /// Answers the page's confirmation dialog (`window.confirm`), first checking that it
    /// asks about `about`; `accept` false presses 取消.
    async fn confirm(&self, about: &str, accept: bool) {
        let mut text = None;
        for _ in 0..50 {
            if let Ok(v) = self
                .try_cmd(reqwest::Method::GET, "/alert/text", None)
                .await
            {
                text = v.as_str().map(str::to_string);
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        let text = text.expect("a confirmation dialog");
        assert!(text.contains(about), "the dialog asks {text:?}");
        let path = if accept {
            "/alert/accept"
        } else {
            "/alert/dismiss"
        };
        self.cmd(reqwest::Method::POST, path, Some(json!({}))).await;
    }

    async fn open_action(&self, action: &str) {
        let open = self
            .try_cmd(
                reqwest::Method::POST,
                "/element",
                Some(json!({"using": "css selector", "value": format!("#act-{action}[open]")})),
            )
            .await
            .is_ok();
        if !open {
            self.click(&format!("#act-{action} summary")).await;
        }
    }
}

#[tokio::test]
async fn one_order_from_intake_to_close_through_the_pages() {
    use hotline::domain::role::Role;
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for (name, role) in [
        ("op1", Role::Operator),
        ("lead1", Role::ShiftLead),
        ("qa1", Role::Qa),
        ("clerk", Role::Unit),
    ] {
        app.user(&admin, name, role).await;
    }
    let pw = crate::helpers::NEW_PASSWORD;

    // The operator registers a call and dispatches it in one go, from the keyboard.
    b.login(&app, "op1", pw).await;
    b.goto(&app.url("/orders/new")).await;
    b.wait_for("来电人").await;
    b.type_into("#caller_phone", "13812345678").await;
    b.type_into("#caller_name", "张三").await;
    b.click("input[name=kind][value=help]").await;
    b.type_into("#title", "建设路菜市场占道经营").await;
    b.type_into(
        "#content",
        "每天早上建设路菜市场门口占道经营，车辆无法通行，请处理。",
    )
    .await;
    b.type_into("input[name=detail]", "建设路菜市场").await;
    b.click("input[name=outcome][value=dispatch]").await;
    b.type_into("input[name=dispatch_unit]", "u-clerk").await;
    b.screenshot("10-intake").await;
    // Ctrl+Enter submits the chosen outcome.
    b.type_into("#title", "\u{E009}\u{E007}\u{E009}").await;
    let page = b.wait_for("已派单").await;
    assert!(page.contains("待签收"), "{page}");
    let url = b.url().await;
    let order_path = url
        .split(&app.base)
        .nth(1)
        .unwrap()
        .split('?')
        .next()
        .unwrap()
        .to_string();
    b.screenshot("11-order-dispatched").await;
    b.logout().await;

    // The unit clerk signs and replies.
    b.login(&app, "clerk", pw).await;
    b.wait_for("待签收").await;
    // The top bar counts the unit's queues by itself.
    b.wait_text("[data-counters]", "待签收 1").await;
    b.screenshot("12-unit-home").await;
    b.goto(&app.url(&order_path)).await;
    b.wait_for("签收").await;
    let text = b.text().await;
    assert!(text.contains("张*"), "the unit sees the name masked");
    assert!(
        !text.contains("13812345678"),
        "no consent: no phone for the unit"
    );
    b.open_action("sign").await;
    b.click("#act-sign button.primary").await;
    b.wait_for("已签收").await;
    b.open_action("reply").await;
    b.type_into(
        "#act-reply textarea[name=result]",
        "已组织城管中队清理占道摊点，并安排每日早间巡查。",
    )
    .await;
    b.click("#act-reply input[name=resolved][value=yes]").await;
    b.click("#act-reply input[name=contacted]").await;
    b.screenshot("13-reply").await;
    b.click("#act-reply button.primary").await;
    b.wait_for("已答复待审核").await;
    b.logout().await;

    // The shift lead approves the reply.
    b.login(&app, "lead1", pw).await;
    b.wait_for("答复审核").await;
    b.goto(&app.url(&order_path)).await;
    b.open_action("review_reply").await;
    b.click("#act-review_reply button[name=approve][value='1']")
        .await;
    b.wait_for("待回访").await;
    b.logout().await;

    // QA calls back.
    b.login(&app, "qa1", pw).await;
    b.wait_for("待回访").await;
    b.screenshot("14-qa-home").await;
    b.goto(&app.url(&order_path)).await;
    b.open_action("callback").await;
    b.click("#act-callback input[name=satisfaction][value=satisfied]")
        .await;
    b.click("#act-callback button.primary").await;
    b.wait_for("待审结").await;
    b.logout().await;

    // The shift lead closes it.
    b.login(&app, "lead1", pw).await;
    b.goto(&app.url(&order_path)).await;
    b.open_action("close").await;
    // 审结 cannot be undone: it asks once; 取消 leaves the order as it was.
    b.click("#act-close button.primary").await;
    b.confirm("确定审结", false).await;
    assert!(b.text().await.contains("待审结"));
    b.click("#act-close button.primary").await;
    b.confirm("确定审结", true).await;
    let done = b.wait_for("已审结").await;
    assert!(done.contains("已办结"), "{done}");
    b.screenshot("15-closed").await;
    for step in [
        "受理登记",
        "派单",
        "签收",
        "答复",
        "答复审核",
        "回访",
        "审结",
    ] {
        assert!(done.contains(step), "timeline lacks {step}");
    }
}

impl Browser {
    /// The current value of a form field.
    async fn value(&self, css: &str) -> String {
        let el = self.find(css).await;
        self.cmd(
            reqwest::Method::GET,
            &format!("/element/{el}/property/value"),
            None,
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    /// Runs a script in the page and returns its result.
    async fn script(&self, js: &str) -> Value {
        self.cmd(
            reqwest::Method::POST,
            "/execute/sync",
            Some(json!({"script": js, "args": []})),
        )
        .await
    }

    /// Every key the site keeps in the browser's storage.
    async fn stored_keys(&self) -> String {
        self.script(
            "return JSON.stringify([Object.keys(window.sessionStorage), Object.keys(window.localStorage)]);",
        )
        .await
        .as_str()
        .unwrap_or_default()
        .to_string()
    }

    async fn start_intake(&self, app: &TestApp, phone: &str, name: &str) {
        self.goto(&app.url("/orders/new")).await;
        self.wait_for("来电人").await;
        self.type_into("#caller_phone", phone).await;
        self.type_into("#caller_name", name).await;
        self.type_into("#content", "小区门口路灯坏了一个月").await;
    }
}

/// Issue 8, point 2: the intake draft belongs to the user who typed it and is erased at
/// logout, at the end of the session and after a successful submit.
#[tokio::test]
async fn nothing_of_a_caller_stays_in_a_shared_office_browser() {
    use hotline::domain::role::Role;
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.user(&admin, "op1", Role::Operator).await;
    app.user(&admin, "op2", Role::Operator).await;
    let pw = crate::helpers::NEW_PASSWORD;

    // The draft survives a refresh for the one who typed it.
    b.login(&app, "op1", pw).await;
    b.start_intake(&app, "13912340001", "赵大海").await;
    b.goto(&app.url("/orders/new")).await;
    b.wait_for("来电人").await;
    assert_eq!(b.value("#caller_phone").await, "13912340001");
    assert_eq!(b.value("#caller_name").await, "赵大海");
    assert!(b.stored_keys().await.contains("hotline-draft:"));
    // Logout erases it: the next operator on the same PC starts empty.
    b.logout().await;
    assert!(
        !b.stored_keys().await.contains("hotline-draft"),
        "{}",
        b.stored_keys().await
    );
    b.login(&app, "op2", pw).await;
    b.goto(&app.url("/orders/new")).await;
    b.wait_for("来电人").await;
    assert_eq!(b.value("#caller_phone").await, "");
    assert_eq!(b.value("#caller_name").await, "");
    assert!(!b.text().await.contains("赵大海"));

    // A successful submit erases the draft.
    b.start_intake(&app, "13912340002", "钱小云").await;
    b.click("input[name=kind][value=help]").await;
    b.type_into("#title", "路灯不亮").await;
    b.click("#intake button[type=submit]").await;
    b.wait_for("已登记").await;
    assert!(!b.stored_keys().await.contains("hotline-draft"));
    b.goto(&app.url("/orders/new")).await;
    b.wait_for("来电人").await;
    assert_eq!(b.value("#caller_phone").await, "");

    // The end of the session (idle timeout) erases it too.
    b.start_intake(&app, "13912340003", "孙小雨").await;
    app.clock.advance_secs(9 * 3600);
    b.goto(&app.url("/orders/new")).await;
    b.wait_for("登录").await;
    assert!(b.url().await.contains("/login"));
    assert!(!b.stored_keys().await.contains("hotline-draft"));
    b.login(&app, "op2", pw).await;
    b.goto(&app.url("/orders/new")).await;
    b.wait_for("来电人").await;
    assert_eq!(b.value("#caller_phone").await, "");
    assert_eq!(b.value("#caller_name").await, "");
}

impl Browser {
    /// Prints the page as Chromium would to an A4 sheet; the PDF is saved under
    /// target/screenshots for a person to look at. Returns the PDF's bytes.
    async fn print_a4(&self, name: &str) -> Vec<u8> {
        let v = self
            .cmd(
                reqwest::Method::POST,
                "/print",
                Some(json!({"page": {"width": 21.0, "height": 29.7}, "background": false, "shrinkToFit": true})),
            )
            .await;
        let bytes = base64_decode(v.as_str().unwrap());
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join(format!("{name}.pdf")), &bytes).unwrap();
        bytes
    }
}

/// Pages in a PDF Chromium printed (its page objects are written uncompressed).
fn pdf_pages(pdf: &[u8]) -> usize {
    let needle = b"/Type /Page";
    pdf.windows(needle.len() + 1)
        .filter(|w| &w[..needle.len()] == needle && w[needle.len()] != b's')
        .count()
}

/// Issue 10, point 9: the reports in a real browser — the supervisor's home with its live
/// figures and trend, the unit assessment and the monthly bulletin — each printed on A4:
/// the assessment on one sheet (its table whole), the bulletin on a few, with the
/// organisation's name and the period on the page.
#[tokio::test]
async fn reports_show_and_print_on_a4_in_a_real_browser() {
    use hotline::domain::role::Role;
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let op = app.user(&admin, "op1", Role::Operator).await;
    app.user(&admin, "sup1", Role::Supervisor).await;
    let clerk = app.user(&admin, "clerk", Role::Unit).await;
    let mut last = 0;
    for i in 0..6 {
        let o: Value = op
            .post(
                "/api/v1/orders",
                crate::orders::order_body(&format!("1330000666{i}"), "小区停水"),
            )
            .await
            .json()
            .await
            .unwrap();
        let id = o["id"].as_u64().unwrap();
        let r = op
            .post(
                &format!("/api/v1/orders/{id}/actions/dispatch"),
                json!({"unit": "u-clerk"}),
            )
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::OK);
        last = id;
    }
    // The last order signed and worked on: a timeline of a few entries.
    for (action, body) in [
        ("sign", json!({})),
        (
            "progress",
            json!({"note": "已安排人员现场查看，正在联系自来水公司抢修。"}),
        ),
    ] {
        let r = clerk
            .post(&format!("/api/v1/orders/{last}/actions/{action}"), body)
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::OK, "{action}");
    }
    b.login(&app, "sup1", crate::helpers::NEW_PASSWORD).await;
    let home = b.wait_for("今日受理").await;
    assert!(home.contains("近 30 天受理和办结的工单"), "{home}");
    b.screenshot("20-supervisor-home-dashboard").await;

    b.goto(&app.url("/reports?from=2026-11-01&to=2026-12-01"))
        .await;
    let page = b.wait_for("承办单位考核").await;
    assert!(
        page.contains("u-clerk 单位") && page.contains("计算方法"),
        "{page}"
    );
    b.screenshot("21-unit-assessment").await;
    let pdf = b.print_a4("21-unit-assessment").await;
    assert!(pdf.starts_with(b"%PDF"));
    assert_eq!(
        pdf_pages(&pdf),
        1,
        "the assessment prints whole on one A4 sheet"
    );

    b.goto(&app.url("/reports/bulletin?kind=monthly&date=2026-11-30"))
        .await;
    let page = b.wait_for("运行概况").await;
    assert!(page.contains("共受理群众诉求 6 件"), "{page}");
    b.screenshot("22-monthly-bulletin").await;
    let pdf = b.print_a4("22-monthly-bulletin").await;
    let pages = pdf_pages(&pdf);
    assert!(
        (1..=6).contains(&pages),
        "the bulletin prints on a few A4 sheets: {pages}"
    );

    // Issue 11, point 4: the order printed is a 转办单 on one A4 sheet — one column, no
    // action panel.
    b.goto(&app.url(&format!("/orders/{last}"))).await;
    let page = b.wait_for("流转记录").await;
    assert!(page.contains("打印转办单"), "{page}");
    b.screenshot("23-order-before-print").await;
    let pdf = b.print_a4("23-transfer-slip").await;
    assert_eq!(pdf_pages(&pdf), 1, "the 转办单 prints on one A4 sheet");
}

impl Browser {
    /// Sets the window to `width` × `height`.
    async fn resize(&self, width: u32, height: u32) {
        self.cmd(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"width": width, "height": height})),
        )
        .await;
    }

    /// The id of the element that has the keyboard focus.
    async fn focused(&self) -> String {
        self.script("return document.activeElement ? document.activeElement.id : '';")
            .await
            .as_str()
            .unwrap_or_default()
            .to_string()
    }
}

/// Issue 11, point 1: intake at the speed of speech, at 1366×768 and 1920×1080.
#[tokio::test]
async fn intake_at_the_speed_of_speech() {
    use hotline::domain::role::Role;
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = TestApp::new().await;
    let admin = app.admin().await;
    for (code, name) in [
        ("mishui", "洣水镇"),
        ("cgj", "县城市管理和综合执法局"),
        ("rsj", "县人力资源和社会保障局"),
    ] {
        let r = admin
            .post(
                "/api/v1/units",
                json!({"code": code, "name": name, "league": "township"}),
            )
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    }
    let op = app.user(&admin, "op1", Role::Operator).await;
    // The caller rang last week about the same stall.
    let r = op
        .post(
            "/api/v1/orders",
            crate::orders::order_body("13812345678", "建设路菜市场占道经营"),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let pw = crate::helpers::NEW_PASSWORD;
    b.login(&app, "op1", pw).await;
    b.goto(&app.url("/orders/new")).await;
    b.wait_for("来电人").await;
    // The outcome bar is in sight without scrolling at 1366×768.
    let seen = b
        .script(
            "var r = document.querySelector('input[name=outcome][value=dispatch]').getBoundingClientRect();\
             var s = document.querySelector('#intake button[type=submit]').getBoundingClientRect();\
             return r.top >= 0 && r.bottom <= window.innerHeight && s.bottom <= window.innerHeight;",
        )
        .await;
    assert_eq!(seen, json!(true), "outcome choice visible at 1366×768");

    // Phone → Tab → name, even with the caller's history showing.
    b.type_into("#caller_phone", "13812345678").await;
    b.wait_text("#history", "历史来电").await;
    b.type_into("#caller_phone", "\u{E004}").await;
    assert_eq!(b.focused().await, "caller_name");
    b.type_into("#caller_name", "张三\u{E004}").await;
    // An ID number with a wrong check digit is named as the field is left.
    b.type_into("#caller_id_number", "430424199001011236\u{E004}")
        .await;
    b.wait_text("#caller_id_number-msg", "校验位").await;
    b.script("document.getElementById('caller_id_number').value = '';")
        .await;
    b.click("input[name=kind][value=help]").await;
    b.type_into("#category", "1001").await;
    b.wait_text("#category_name", "占道经营").await;
    b.type_into("#title", "建设路菜市场占道经营").await;
    b.type_into(
        "#content",
        "建设路菜市场门口每天早上占道经营，车辆无法通行，请相关部门处理。",
    )
    .await;
    // The duplicate shows when, where it stands and who has it; its actions are not in the
    // Tab order but have Alt+number keys shown.
    let dup = b.wait_text("#duplicates", "疑似重复件").await;
    assert!(dup.contains("待派单") && dup.contains("未派单"), "{dup}");
    assert!(dup.contains("Alt+1"), "{dup}");
    let tabbable = b
        .script(
            "return Array.prototype.filter.call(document.querySelectorAll('.hints a, .hints button, #history a'),\
             function (e) { return e.tabIndex >= 0; }).length;",
        )
        .await;
    assert_eq!(tabbable, json!(0), "hints stay out of the Tab order");
    // Alt+1 is the first duplicate's 合并: the outcome becomes 并单 with its number.
    b.type_into("#content", "\u{E00A}1\u{E000}").await;
    assert_eq!(b.value("#merge_into").await, "HD2026113000001");
    // Back to 派单: the deadlines show before it is pressed.
    b.click("input[name=outcome][value=dispatch]").await;
    b.wait_text("#deadline", "签收时限").await;
    // Units by 拼音 initials: msz → 洣水镇; co-units become tags; Backspace drops the last.
    b.type_into("#dispatch_unit", "msz").await;
    b.wait_text(".pick .picker-list", "洣水镇").await;
    b.screenshot("11-intake-picker-1366").await;
    b.type_into("#dispatch_unit", "\u{E007}").await;
    assert_eq!(b.value("#dispatch_unit").await, "洣水镇");
    b.type_into("#dispatch_co_units", "cs").await;
    b.wait_text(
        ".pick:nth-of-type(2) .picker-list",
        "县城市管理和综合执法局",
    )
    .await;
    b.type_into("#dispatch_co_units", "\u{E007}rlzy").await;
    b.wait_text(
        ".pick:nth-of-type(2) .picker-list",
        "县人力资源和社会保障局",
    )
    .await;
    b.type_into("#dispatch_co_units", "\u{E007}").await;
    b.wait_text(".tags-box", "县人力资源和社会保障局").await;
    b.type_into("#dispatch_co_units", "\u{E003}").await;
    let carried = b
        .script(
            "return document.querySelector('input[type=hidden][name=dispatch_co_units]').value;",
        )
        .await;
    assert_eq!(carried, json!("cgj"));
    b.screenshot("11-intake-1366").await;
    b.resize(1920, 1080).await;
    b.screenshot("11-intake-1920").await;
    // Ctrl+Enter: registered and dispatched, with number and query code to tell the caller.
    b.type_into("#title", "\u{E009}\u{E007}\u{E009}").await;
    let page = b.wait_for("已派单").await;
    assert!(page.contains("已登记，工单编号"), "{page}");
    assert!(page.contains("已派单至 洣水镇"), "{page}");
    let o: Value = op.get("/api/v1/orders/2").await.json().await.unwrap();
    assert_eq!(
        o["rounds"][0]["co_units"].as_array().map(Vec::len),
        Some(1),
        "{o}"
    );
    b.resize(1366, 768).await;
}

/// Issue 11: the browser walk of every desk on the demo county, at 1366×768 and 1920×1080 —
/// each role's pages open without a server error and without a sideways scroll bar, and each
/// leaves a screenshot (target/screenshots/walk-*) for a person to look at.
#[tokio::test]
async fn every_desk_at_1366_and_1920_on_the_demo_county() {
    let Some(b) = Browser::start().await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let now = hotline::domain::time::Timestamp::from_secs(crate::helpers::T0);
    let accounts = hotline::demo::load(dir.path(), now).unwrap();
    let app = TestApp::start_in(dir).await;
    let pw = "Walk-the-desks-2026";
    for (user, _, first) in &accounts {
        let s = app.login(user, first).await;
        let r = s
            .post(
                "/api/v1/session/password",
                json!({"old_password": first, "new_password": pw}),
            )
            .await;
        assert_eq!(r.status(), reqwest::StatusCode::NO_CONTENT, "{user}");
    }
    // An order of each kind of life to open: one waiting for a callback, one at the unit.
    let sup = app.login("supervisor", pw).await;
    let first_of = |state: &'static str| {
        let sup = sup.clone();
        async move {
            let v: Value = sup
                .get(&format!("/api/v1/orders?per_page=1&state={state}"))
                .await
                .json()
                .await
                .unwrap();
            v["items"][0]["id"].as_u64().unwrap()
        }
    };
    let callback = first_of("callback_pending").await;
    let v: Value = sup
        .get("/api/v1/orders?per_page=1&state=in_progress&unit=mishui")
        .await
        .json()
        .await
        .unwrap();
    let at_unit = v["items"][0]["id"].as_u64().unwrap_or(callback);
    let walks: Vec<(&str, Vec<String>)> = vec![
        (
            "operator",
            vec![
                "/".into(),
                "/orders/new".into(),
                "/orders".into(),
                "/kb".into(),
                "/roster".into(),
            ],
        ),
        (
            "shiftlead",
            vec![
                "/".into(),
                "/roster".into(),
                "/reports/operators".into(),
                format!("/orders/{at_unit}"),
            ],
        ),
        (
            "qa01",
            vec!["/".into(), format!("/orders/{callback}"), "/qa".into()],
        ),
        (
            "supervisor",
            vec![
                "/".into(),
                "/reports".into(),
                "/reports/hot".into(),
                "/reports/bulletin".into(),
            ],
        ),
        ("mishui", vec!["/".into(), format!("/orders/{at_unit}")]),
        (
            "admin",
            vec![
                "/".into(),
                "/admin/audit".into(),
                "/admin/limits".into(),
                "/admin/units".into(),
                "/admin/connections".into(),
            ],
        ),
    ];
    for (w, h) in [(1366, 768), (1920, 1080)] {
        b.resize(w, h).await;
        for (user, pages) in &walks {
            b.login(&app, user, pw).await;
            for (i, path) in pages.iter().enumerate() {
                b.goto(&app.url(path)).await;
                let text = b.wait_for("退出").await;
                assert!(
                    !text.contains("服务器出错了")
                        && !text.contains("页面不存在")
                        && !text.contains("无法执行此操作"),
                    "{user} {path}: {text}"
                );
                // Nothing wider than the window, and the top bar's last control (退出) in sight.
                let fits = b
                    .script(
                        "var out = document.querySelector('.me button.link');\
                         return document.documentElement.scrollWidth <= window.innerWidth + 1\
                           && (!out || out.getBoundingClientRect().right <= window.innerWidth);",
                    )
                    .await;
                b.screenshot(&format!("walk-{w}-{user}-{i}")).await;
                assert_eq!(fits, json!(true), "{user} {path} scrolls sideways at {w}");
            }
            b.goto(&app.url("/")).await;
            b.logout().await;
        }
    }
    b.resize(1366, 768).await;
}

/// Issue 12, point 1: the PBX reports a call ringing at seat 2 and the operator's browser,
/// on the home page, opens the intake form by itself — number filled in, the caller's
/// history shown, the cursor on the name; while a form is being filled in, a new call only
/// shows a link.
#[tokio::test]
async fn a_ringing_call_opens_the_intake_form_in_the_operators_browser() {
    use hotline::domain::role::Role;
    let Some(b) = Browser::start().await else {
        return;
    };
    let app = TestApp::new().await;
    let admin = app.admin().await;
    let op = app.user(&admin, "op1", Role::Operator).await;
    let r = op
        .post(
            "/api/v1/orders",
            crate::orders::order_body("13812345678", "建设路菜市场占道经营"),
        )
        .await;
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let r = admin
        .post(
            "/api/v1/admin/tokens",
            json!({"name": "交换机", "kind": "cti"}),
        )
        .await;
    let token = r.json::<Value>().await.unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let pbx = |body: Value| {
        let req = app
            .client()
            .post(app.url("/api/v1/cti/events"))
            .bearer_auth(&token)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert_eq!(r.status(), reqwest::StatusCode::OK);
            r.json::<Value>().await.unwrap()
        }
    };
    b.login(&app, "op1", crate::helpers::NEW_PASSWORD).await;
    b.click(".seat-form button[value='2']").await;
    b.wait_for("2 号").await;
    // The desk listens; give the stream a moment to open.
    tokio::time::sleep(std::time::Duration::from_millis(800)).await;
    let v = pbx(
        json!({"event": "ringing", "seat": 2, "caller": "13812345678", "call_id": "1733300000.42"}),
    )
    .await;
    assert_eq!(v["at_seat"], 1);
    b.wait_for("2 号席").await;
    assert!(b.url().await.contains("/orders/new?call=1733300000.42"));
    assert_eq!(b.value("#caller_phone").await, "13812345678");
    b.wait_text("#history", "历史来电").await;
    assert_eq!(b.focused().await, "caller_name");
    b.screenshot("30-screen-pop").await;

    // While this call is being registered a second one rings: a link, the words kept.
    b.type_into("#caller_name", "王五").await;
    pbx(json!({"event": "ringing", "seat": 2, "caller": "0734-5212345", "call_id": "1733300000.43"})).await;
    b.wait_text("#call-pop", "0734-5212345").await;
    assert!(b.url().await.contains("call=1733300000.42"));
    assert_eq!(b.value("#caller_name").await, "王五");
}
