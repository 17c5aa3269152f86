//! Server-rendered pages, in Simplified Chinese.

pub mod admin;
pub mod appliance;
pub mod auth;
pub mod backups;
pub mod blacklist;
pub mod connections;
pub mod home;
pub mod intake;
pub mod kb;
pub mod orders;
pub mod qa;
pub mod reports;
pub mod roster;
pub mod rules;
pub mod units;

use serde::Deserialize;

/// `?ok=…` after a successful form post: which flash line to show.
#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    pub ok: Option<String>,
}

/// A redirect target from a query string, kept on this site: a path of visible ASCII that
/// starts with one `/` (no `//`, no backslash, no whitespace or control character that a
/// browser would drop to turn `/\t/host` into `//host`), at most 512 bytes; else home.
pub fn safe_next(next: Option<&str>) -> String {
    const ALLOWED: &[u8] = b"-._~!$&'()*+,;=:@/?%#";
    match next {
        Some(n)
            if n.len() <= 512
                && n.starts_with('/')
                && !n.starts_with("//")
                && n.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || ALLOWED.contains(&b)) =>
        {
            n.to_string()
        }
        _ => "/".to_string(),
    }
}

/// A page shown again with an error in a form is 422; otherwise 200.
pub(crate) fn status_of(error: Option<&crate::error::AppError>) -> axum::http::StatusCode {
    if error.is_some() {
        axum::http::StatusCode::UNPROCESSABLE_ENTITY
    } else {
        axum::http::StatusCode::OK
    }
}

#[cfg(test)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_on_site() {
        assert_eq!(safe_next(Some("/admin/users")), "/admin/users");
        assert_eq!(safe_next(Some("//evil.example")), "/");
        assert_eq!(safe_next(Some("https://evil.example")), "/");
        assert_eq!(safe_next(Some("/\\evil")), "/");
        assert_eq!(safe_next(None), "/");
        assert_eq!(
            safe_next(Some("/orders?state=closed&page=2")),
            "/orders?state=closed&page=2"
        );
        for bad in [
            "/\t/evil.example/",
            "/\n",
            "/\r\nSet-Cookie: x",
            "/ /evil",
            "/\u{0}",
            "/\u{7f}",
            "/订单",
            "/%09/host/\u{8}",
        ] {
            assert_eq!(safe_next(Some(bad)), "/", "{bad:?}");
        }
    }
}
