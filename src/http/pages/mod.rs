//! Server-rendered pages, in Simplified Chinese.

pub mod admin;
pub mod appliance;
pub mod auth;
pub mod backups;
pub mod blacklist;
pub mod home;
pub mod kb;
pub mod orders;
pub mod rules;

use serde::Deserialize;

/// `?ok=…` after a successful form post: which flash line to show.
#[derive(Deserialize, Default)]
pub struct Flash {
    #[serde(default)]
    pub ok: Option<String>,
}

/// A redirect target from a query string, kept on this site.
pub fn safe_next(next: Option<&str>) -> String {
    match next {
        Some(n) if n.starts_with('/') && !n.starts_with("//") && !n.contains('\\') => n.to_string(),
        _ => "/".to_string(),
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
    }
}
