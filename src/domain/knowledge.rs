//! Knowledge base articles (知识库): versioned; answers cite the version they used.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Article {
    pub id: u64,
    pub version: u32,
    pub title: String,
    pub body: String,
    pub category: Option<String>,
    /// 文号 of the source document.
    pub doc_no: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub valid_from: Option<String>,
    /// `YYYY-MM-DD`, inclusive.
    pub valid_to: Option<String>,
    pub owner_unit: Option<u64>,
    pub updated_at: Timestamp,
    pub updated_by: String,
}

impl Article {
    /// Whether the article applies on a `YYYY-MM-DD` day (ISO dates compare as strings).
    pub fn valid_on(&self, day: &str) -> bool {
        self.valid_from.as_deref().is_none_or(|f| f <= day)
            && self.valid_to.as_deref().is_none_or(|t| day <= t)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity() {
        let a = Article {
            id: 1,
            version: 1,
            title: String::new(),
            body: String::new(),
            category: None,
            doc_no: None,
            valid_from: Some("2026-01-01".into()),
            valid_to: Some("2026-12-31".into()),
            owner_unit: None,
            updated_at: Timestamp(0),
            updated_by: String::new(),
        };
        assert!(a.valid_on("2026-06-30"));
        assert!(a.valid_on("2026-12-31"));
        assert!(!a.valid_on("2027-01-01"));
        assert!(!a.valid_on("2025-12-31"));
    }
}
