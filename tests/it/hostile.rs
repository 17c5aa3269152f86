//! A small seeded generator of hostile input for the property and fuzz tests: strings with
//! control characters, huge and negative numbers, far dates, odd Unicode, deep JSON. Each
//! test prints its seed on failure, and `HOTLINE_FUZZ_SEED` / `HOTLINE_FUZZ_ROUNDS` replay
//! or lengthen a run.

use serde_json::{Map, Value, json};

pub struct Gen(u64);

/// Every field name the API and the forms take, so mutations hit real fields.
pub const FIELDS: &[&str] = &[
    "channel",
    "external_id",
    "external_due",
    "line",
    "kind",
    "urgency",
    "category",
    "title",
    "content",
    "caller",
    "name",
    "phone",
    "id_number",
    "gender",
    "consent_phone",
    "type",
    "confidential",
    "address",
    "town",
    "village",
    "detail",
    "risk_tags",
    "enterprise",
    "credit_code",
    "deputy",
    "level",
    "reason_code",
    "note",
    "reply",
    "articles",
    "unit",
    "co_units",
    "handle_days",
    "reason",
    "basis",
    "approve",
    "days",
    "result",
    "resolved",
    "contacted",
    "contacted_at",
    "contact_method",
    "public_reply",
    "satisfaction",
    "into",
    "version",
    "username",
    "password",
    "display_name",
    "role",
    "disabled",
    "code",
    "league",
    "old_password",
    "new_password",
    "from",
    "to",
    "page",
    "per_page",
    "q",
    "state",
    "date",
    "year",
    "holidays",
    "workdays",
    "csrf",
    "next",
    "review_date",
    "valid_from",
    "valid_to",
    "body",
    "doc_no",
    "text",
    "open",
    "form_token",
    "outcome",
    "caller_phone",
    "caller_name",
    "dispatch_unit",
    "reject_code",
    "answer_reply",
    "merge_into",
    "backup_time",
    "usb_path",
    "org_name",
    "number_prefix",
    "idle_timeout_minutes",
    "hours",
    "limits",
    "parent",
    "token",
    "id",
    "items",
    "emergency_words",
    "scripts",
    "force",
    "confirm",
    "file",
    "seat",
];

const NASTY: &[&str] = &[
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "null",
    "true",
    "9999-12-31",
    "9999-12-31T23:59:59Z",
    "0000-01-01",
    "2026-02-30",
    "2027-1-1",
    "-271821-04-20T00:00:00Z",
    "2026-11-30T25:61:00+08:00",
    "18446744073709551615",
    "-9223372036854775808",
    "%00",
    "%ZZ",
    "\u{0}",
    "\t",
    "\r\n",
    "\u{7f}",
    "\u{202e}",
    "\u{feff}",
    "../../etc/passwd",
    "/\t/evil.example/",
    "//evil.example",
    "<script>alert(1)</script>",
    "{{ layout }}",
    "' OR 1=1 --",
    "日日日日",
    "👩‍👩‍👧‍👦",
    "HD2026113000001",
    "13800138000",
    "+8613800138000",
    "0734-5212345",
    "430424199001011232",
    "91350100M000100Y43",
    "u-clerk-a",
    "phone",
    "dispatched",
];

impl Gen {
    pub fn new(salt: u64) -> Gen {
        let seed = std::env::var("HOTLINE_FUZZ_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0x5eed_2026_1201);
        Gen(seed ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
    }

    /// Rounds to run: `default`, or more with `HOTLINE_FUZZ_ROUNDS` (a multiplier).
    pub fn rounds(default: usize) -> usize {
        let k: usize = std::env::var("HOTLINE_FUZZ_ROUNDS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1);
        default * k.max(1)
    }

    pub fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    pub fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// One character from a hostile mix.
    pub fn char(&mut self) -> char {
        match self.below(8) {
            0 => char::from_u32(self.below(32) as u32).unwrap_or('\0'),
            1 => *self.pick(&['日', '张', '镇', '路', '号', '（', '，', '、']),
            2 => *self.pick(&[
                '/', '\\', '%', '&', '=', '?', '#', '"', '\'', '<', '>', '{', '}',
            ]),
            3 => char::from_u32(0x1F600 + self.below(80) as u32).unwrap_or('?'),
            4 => *self.pick(&[
                '\u{202e}', '\u{200b}', '\u{feff}', '\u{fffd}', '\u{7f}', '\u{85}',
            ]),
            5 => char::from(b'0' + self.below(10) as u8),
            _ => char::from(b'a' + self.below(26) as u8),
        }
    }

    pub fn string(&mut self) -> String {
        match self.below(10) {
            0..=3 => (*self.pick(NASTY)).to_string(),
            4 => {
                let base = (*self.pick(NASTY)).to_string();
                let n = self.below(5);
                let extra: String = (0..n).map(|_| self.char()).collect();
                format!("{base}{extra}")
            }
            5 => "长".repeat(self.pick(&[101, 5001, 20_001]).to_owned()),
            6 => (0..self.below(40))
                .map(|_| char::from(b'0' + self.below(10) as u8))
                .collect(),
            _ => (0..self.below(24)).map(|_| self.char()).collect(),
        }
    }

    pub fn number(&mut self) -> Value {
        match self.below(7) {
            0 => json!(u64::MAX),
            1 => json!(i64::MIN),
            2 => json!(-1),
            3 => json!(0),
            4 => json!(1.5e300),
            5 => json!(self.below(12)),
            _ => json!(4_294_967_296u64),
        }
    }

    pub fn value(&mut self, depth: usize) -> Value {
        match self.below(if depth > 3 { 5 } else { 8 }) {
            0 => Value::Null,
            1 => Value::Bool(self.chance(50)),
            2 => self.number(),
            3 | 4 => Value::String(self.string()),
            5 => Value::Array((0..self.below(4)).map(|_| self.value(depth + 1)).collect()),
            _ => self.object(depth + 1),
        }
    }

    pub fn object(&mut self, depth: usize) -> Value {
        let mut m = Map::new();
        for _ in 0..self.below(7) {
            let k = if self.chance(90) {
                (*self.pick(FIELDS)).to_string()
            } else {
                self.string()
            };
            m.insert(k, self.value(depth));
        }
        Value::Object(m)
    }

    /// A valid body with some fields replaced, removed or added.
    pub fn mutate(&mut self, base: &Value) -> Value {
        let mut v = base.clone();
        if let Value::Object(m) = &mut v {
            let keys: Vec<String> = m.keys().cloned().collect();
            for _ in 0..=self.below(3) {
                match self.below(3) {
                    0 if !keys.is_empty() => {
                        let k = self.pick(&keys).clone();
                        m.insert(k, self.value(1));
                    }
                    1 if !keys.is_empty() => {
                        let k = self.pick(&keys).clone();
                        m.remove(&k);
                    }
                    _ => {
                        let k = (*self.pick(FIELDS)).to_string();
                        m.insert(k, self.value(1));
                    }
                }
            }
        }
        v
    }

    /// A urlencoded body or query string: known keys, hostile values, broken encodings.
    pub fn urlencoded(&mut self) -> String {
        let mut parts = Vec::new();
        for _ in 0..self.below(8) {
            let k = if self.chance(85) {
                (*self.pick(FIELDS)).to_string()
            } else {
                self.string()
            };
            let v = self.string();
            let enc = |s: &str| -> String {
                s.bytes()
                    .map(|b| {
                        if b.is_ascii_alphanumeric() {
                            char::from(b).to_string()
                        } else {
                            format!("%{b:02X}")
                        }
                    })
                    .collect()
            };
            match self.below(6) {
                0 => parts.push(format!("{}={}", k, v.replace(['&', '#'], ""))),
                1 => parts.push(format!("{}=%{}", enc(&k), self.pick(&["", "Z", "0", "C3"]))),
                2 => parts.push(enc(&k)),
                _ => parts.push(format!("{}={}", enc(&k), enc(&v))),
            }
        }
        let mut q = parts.join("&");
        // Long values go in bodies; a URL stays under what clients send at all.
        if q.len() > 3000 {
            let mut end = 3000;
            while !q.is_char_boundary(end) {
                end -= 1;
            }
            q.truncate(end);
        }
        q
    }

    pub fn bytes(&mut self, max: usize) -> Vec<u8> {
        (0..self.below(max)).map(|_| self.next() as u8).collect()
    }
}
