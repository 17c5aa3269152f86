//! Attachments: images and PDFs, typed by their content, not by what the sender claims.

use serde::{Deserialize, Serialize};

use super::time::Timestamp;

pub const MAX_BYTES: usize = 5 * 1024 * 1024;
pub const MAX_PER_ORDER: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttachmentRef {
    /// Hex SHA-256 of the content: the key it is stored under, once.
    pub hash: String,
    pub name: String,
    pub mime: String,
    pub size: u64,
    pub at: Timestamp,
    pub by: String,
}

/// The MIME type from the first bytes; `None` for anything not allowed.
pub fn sniff(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(&[0xFF, 0xD8, 0xFF]) {
        Some("image/jpeg")
    } else if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(b"GIF87a") || bytes.starts_with(b"GIF89a") {
        Some("image/gif")
    } else if bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP" {
        Some("image/webp")
    } else if bytes.starts_with(b"%PDF-") {
        Some("application/pdf")
    } else {
        None
    }
}

/// A file name safe to show and to send back in a header.
pub fn clean_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or("");
    let cleaned: String = base
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';' | '<' | '>'))
        .take(80)
        .collect();
    if cleaned.trim().is_empty() {
        "附件".to_string()
    } else {
        cleaned.trim().to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn types_by_content() {
        assert_eq!(sniff(b"\x89PNG\r\n\x1a\nrest"), Some("image/png"));
        assert_eq!(sniff(b"%PDF-1.7"), Some("application/pdf"));
        assert_eq!(sniff(b"MZ\x90\x00"), None, "an executable is refused");
        assert_eq!(sniff(b"<html>"), None);
        assert_eq!(
            clean_name("C:\\\\Users\\\\张三\\\\现场照片.jpg"),
            "现场照片.jpg"
        );
        assert_eq!(clean_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_name("\"; rm"), "rm");
        assert_eq!(clean_name(""), "附件");
    }
}
