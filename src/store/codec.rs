//! Versioned records: one version byte, then the serde body — LZ4-compressed (size first)
//! for record types that ask for it when the body is large, which the version byte's high
//! bit says.
//!
//! A record type names its current version; reading any other version is an error that
//! only a migration step (which knows the old shape) may resolve.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

pub trait Record: Serialize + DeserializeOwned {
    const KIND: &'static str;
    /// Below 0x80 (the high bit marks a compressed body).
    const VERSION: u8;
    /// Whether large bodies are stored compressed.
    const COMPRESS: bool = false;
}

/// The version byte's mark of an LZ4 body.
const COMPRESSED: u8 = 0x80;
/// Bodies shorter than this are stored as they are.
const COMPRESS_FROM: usize = 256;
/// No record is larger than this uncompressed (a damaged size is refused, not allocated).
const MAX_RECORD: usize = 64 << 20;

pub fn encode<T: Record>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![T::VERSION];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Codec {
        kind: T::KIND,
        detail: e.to_string(),
    })?;
    if T::COMPRESS && out.len() > COMPRESS_FROM {
        let mut packed = vec![T::VERSION | COMPRESSED];
        packed.extend(lz4_flex::block::compress_prepend_size(&out[1..]));
        return Ok(packed);
    }
    Ok(out)
}

fn unpack(kind: &'static str, body: &[u8]) -> Result<Vec<u8>, StoreError> {
    let bad = |detail: String| StoreError::Codec { kind, detail };
    let (size, rest) = lz4_flex::block::uncompressed_size(body).map_err(|e| bad(e.to_string()))?;
    if size > MAX_RECORD {
        return Err(bad(format!("compressed record claims {size} bytes")));
    }
    lz4_flex::block::decompress(rest, size).map_err(|e| bad(e.to_string()))
}

pub fn decode<T: Record>(bytes: &[u8]) -> Result<T, StoreError> {
    let json = |body: &[u8]| {
        serde_json::from_slice(body).map_err(|e| StoreError::Codec {
            kind: T::KIND,
            detail: e.to_string(),
        })
    };
    match bytes.split_first() {
        Some((v, body)) if *v == T::VERSION => json(body),
        Some((v, body)) if *v == T::VERSION | COMPRESSED => json(&unpack(T::KIND, body)?),
        Some((v, _)) => Err(StoreError::RecordVersion {
            kind: T::KIND,
            found: *v,
        }),
        None => Err(StoreError::Codec {
            kind: T::KIND,
            detail: "empty record".into(),
        }),
    }
}

mod impls {
    use super::Record;
    use crate::domain::{
        audit::AuditEntry, calendar::Calendar, category::Categories, limits::Limits, order::Order,
        session::Session, settings::Settings, unit::Unit, user::User,
    };

    impl Record for crate::domain::blacklist::BlacklistEntry {
        const KIND: &'static str = "blacklist";
        const VERSION: u8 = 1;
    }
    impl Record for crate::domain::blacklist::HarassPolicy {
        const KIND: &'static str = "harass_policy";
        const VERSION: u8 = 1;
    }
    impl Record for crate::domain::knowledge::Article {
        const KIND: &'static str = "article";
        const VERSION: u8 = 1;
    }
    impl Record for Order {
        const KIND: &'static str = "order";
        const VERSION: u8 = 1;
        /// Orders are most of the store and of its backups; their JSON shrinks to about a
        /// third.
        const COMPRESS: bool = true;
    }
    impl Record for Calendar {
        const KIND: &'static str = "calendar";
        const VERSION: u8 = 1;
    }
    impl Record for Limits {
        const KIND: &'static str = "limits";
        const VERSION: u8 = 1;
    }
    impl Record for Categories {
        const KIND: &'static str = "categories";
        const VERSION: u8 = 1;
    }

    impl Record for User {
        const KIND: &'static str = "user";
        const VERSION: u8 = 1;
    }
    impl Record for Unit {
        const KIND: &'static str = "unit";
        const VERSION: u8 = 1;
    }
    impl Record for Session {
        const KIND: &'static str = "session";
        const VERSION: u8 = 1;
    }
    impl Record for AuditEntry {
        const KIND: &'static str = "audit";
        const VERSION: u8 = 1;
    }
    impl Record for Settings {
        const KIND: &'static str = "settings";
        const VERSION: u8 = 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Big {
        text: String,
    }
    impl Record for Big {
        const KIND: &'static str = "big";
        const VERSION: u8 = 3;
        const COMPRESS: bool = true;
    }

    #[test]
    fn large_records_are_compressed_and_read_back_small_ones_stay_plain() {
        let big = Big {
            text: "衡东县城关镇路灯不亮，夜间出行不便。".repeat(40),
        };
        let bytes = encode(&big).unwrap();
        assert_eq!(bytes[0], 3 | COMPRESSED);
        assert!(bytes.len() * 3 < serde_json::to_vec(&big).unwrap().len());
        assert_eq!(decode::<Big>(&bytes).unwrap(), big);
        let small = Big { text: "短".into() };
        let bytes = encode(&small).unwrap();
        assert_eq!(bytes[0], 3);
        assert_eq!(decode::<Big>(&bytes).unwrap(), small);
    }

    #[test]
    fn damaged_compressed_records_are_errors_not_panics_or_huge_allocations() {
        let big = Big {
            text: "工单".repeat(500),
        };
        let good = encode(&big).unwrap();
        // A size of 4 GiB claimed.
        let mut huge = good.clone();
        huge[1..5].copy_from_slice(&u32::MAX.to_le_bytes());
        assert!(decode::<Big>(&huge).is_err());
        // Every truncation and every flipped byte: an error or the record, never a panic.
        for n in 0..good.len() {
            let _ = decode::<Big>(&good[..n]);
            let mut flipped = good.clone();
            flipped[n] ^= 0x5A;
            let _ = decode::<Big>(&flipped);
        }
        assert!(decode::<Big>(&[3 | COMPRESSED]).is_err());
    }
}
