//! Versioned records: one version byte, then the serde body — LZ4-compressed (size first)
//! for record types that ask for it when the body is large, which the version byte's high
//! bit says. A record type may name a dictionary: its bodies are compressed against it and
//! the byte after the version names the dictionary (bit 0x40 of the version byte says so).
//! A small record compressed alone finds few repeats; against a dictionary of what orders
//! share (field names, labels, timeline notes, towns, units) an order shrinks about four
//! times more than alone. A shipped dictionary never changes (a test pins its digest): a new
//! one takes a new id, and records written with the old one still read.
//!
//! A record type names its current version; reading any other version is an error that
//! only a migration step (which knows the old shape) may resolve.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

pub trait Record: Serialize + DeserializeOwned {
    const KIND: &'static str;
    /// Below 0x40 (the two high bits mark a compressed body and a dictionary).
    const VERSION: u8;
    /// Whether large bodies are stored compressed.
    const COMPRESS: bool = false;
    /// The dictionary large bodies are compressed against (with `COMPRESS`).
    const DICTIONARY: Option<Dictionary> = None;
}

/// A compression dictionary: the last 64 KiB LZ4 looks back into before the record.
#[derive(Clone, Copy)]
pub struct Dictionary {
    pub id: u8,
    pub bytes: &'static [u8],
}

/// Orders' dictionary: trained (zstd's trainer, 64 KiB) on 2,000 generated orders with
/// names, phone and ID numbers, order numbers and addresses blanked out, so it holds what
/// orders share and nobody's data.
pub const ORDERS_1: Dictionary = Dictionary {
    id: 1,
    bytes: include_bytes!("order-dict-1.bin"),
};

/// Every dictionary a record may name, shipped ones kept forever.
const DICTIONARIES: &[Dictionary] = &[ORDERS_1];

/// The version byte's mark of an LZ4 body.
const COMPRESSED: u8 = 0x80;
/// The version byte's mark of a dictionary id before the LZ4 body.
const WITH_DICTIONARY: u8 = 0x40;
/// Bodies shorter than this are stored as they are.
const COMPRESS_FROM: usize = 256;
/// No record is larger than this uncompressed (a damaged size is refused, not allocated).
const MAX_RECORD: usize = 64 << 20;

pub fn encode<T: Record>(value: &T) -> Result<Vec<u8>, StoreError> {
    // A version must leave the mark bits free: checked when the program is built.
    const { assert!(T::VERSION < WITH_DICTIONARY) };
    let mut out = vec![T::VERSION];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Codec {
        kind: T::KIND,
        detail: e.to_string(),
    })?;
    if T::COMPRESS && out.len() > COMPRESS_FROM {
        let (mut packed, dict) = match T::DICTIONARY {
            Some(d) => (
                vec![T::VERSION | COMPRESSED | WITH_DICTIONARY, d.id],
                d.bytes,
            ),
            None => (vec![T::VERSION | COMPRESSED], &[][..]),
        };
        // An empty dictionary is plain LZ4.
        packed.extend(lz4_flex::block::compress_prepend_size_with_dict(
            &out[1..],
            dict,
        ));
        return Ok(packed);
    }
    Ok(out)
}

/// The body of a compressed record, decompressed (against `dictionary` when it names one).
fn unpack(
    kind: &'static str,
    body: &[u8],
    dictionary: Option<&[u8]>,
) -> Result<Vec<u8>, StoreError> {
    let bad = |detail: String| StoreError::Codec { kind, detail };
    let (size, rest) = lz4_flex::block::uncompressed_size(body).map_err(|e| bad(e.to_string()))?;
    if size > MAX_RECORD {
        return Err(bad(format!("compressed record claims {size} bytes")));
    }
    match dictionary {
        Some(d) => lz4_flex::block::decompress_with_dict(rest, size, d),
        None => lz4_flex::block::decompress(rest, size),
    }
    .map_err(|e| bad(e.to_string()))
}

/// The dictionary a record's id byte names.
fn dictionary<'a>(
    kind: &'static str,
    body: &'a [u8],
) -> Result<(&'static [u8], &'a [u8]), StoreError> {
    let (id, rest) = body.split_first().ok_or_else(|| StoreError::Codec {
        kind,
        detail: "no dictionary id".into(),
    })?;
    let d = DICTIONARIES
        .iter()
        .find(|d| d.id == *id)
        .ok_or_else(|| StoreError::Codec {
            kind,
            detail: format!("unknown dictionary {id}"),
        })?;
    Ok((d.bytes, rest))
}

/// Whether a stored record is in the form `encode` writes today (compressed against the
/// record type's dictionary when it has one, or too small to compress).
pub fn current<T: Record>(bytes: &[u8]) -> bool {
    match (T::COMPRESS, T::DICTIONARY, bytes.first()) {
        (true, Some(d), Some(v)) if *v == T::VERSION | COMPRESSED | WITH_DICTIONARY => {
            bytes.get(1) == Some(&d.id)
        }
        (true, Some(_), Some(v)) => *v == T::VERSION && bytes.len() <= COMPRESS_FROM + 1,
        (_, _, Some(v)) => *v == T::VERSION || *v == T::VERSION | COMPRESSED,
        (_, _, None) => false,
    }
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
        Some((v, body)) if *v == T::VERSION | COMPRESSED => json(&unpack(T::KIND, body, None)?),
        Some((v, body)) if *v == T::VERSION | COMPRESSED | WITH_DICTIONARY => {
            let (dict, body) = dictionary(T::KIND, body)?;
            json(&unpack(T::KIND, body, Some(dict))?)
        }
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
        /// Orders are most of the store and of its backups.
        const COMPRESS: bool = true;
        const DICTIONARY: Option<super::Dictionary> = Some(super::ORDERS_1);
    }
    /// Read-only view of a stored order (never written): the same record, fewer fields.
    impl Record for crate::domain::order::OrderGist {
        const KIND: &'static str = "order";
        const VERSION: u8 = <Order as Record>::VERSION;
        const COMPRESS: bool = <Order as Record>::COMPRESS;
        const DICTIONARY: Option<super::Dictionary> = <Order as Record>::DICTIONARY;
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

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Worded {
        text: String,
    }
    impl Record for Worded {
        const KIND: &'static str = "worded";
        const VERSION: u8 = 2;
        const COMPRESS: bool = true;
        const DICTIONARY: Option<Dictionary> = Some(ORDERS_1);
    }

    #[test]
    fn records_compressed_against_a_dictionary_read_back_and_old_ones_still_read() {
        let w = Worded {
            text: "{\"state\":\"closed\",\"channel\":\"phone\",\"timeline\":[]}".repeat(12),
        };
        let bytes = encode(&w).unwrap();
        assert_eq!(bytes[0], 2 | COMPRESSED | WITH_DICTIONARY);
        assert_eq!(bytes[1], ORDERS_1.id);
        assert_eq!(decode::<Worded>(&bytes).unwrap(), w);
        // Written before dictionaries: plain LZ4.
        let mut old = vec![2 | COMPRESSED];
        old.extend(lz4_flex::block::compress_prepend_size(
            &serde_json::to_vec(&w).unwrap(),
        ));
        assert_eq!(decode::<Worded>(&old).unwrap(), w);
        assert!(current::<Worded>(&bytes));
        assert!(!current::<Worded>(&old));
        // An unknown dictionary, a missing id, damage: errors, never panics.
        let mut unknown = bytes.clone();
        unknown[1] = 200;
        assert!(decode::<Worded>(&unknown).is_err());
        assert!(decode::<Worded>(&bytes[..1]).is_err());
        for n in 0..bytes.len() {
            let _ = decode::<Worded>(&bytes[..n]);
            let mut flipped = bytes.clone();
            flipped[n] ^= 0x5A;
            let _ = decode::<Worded>(&flipped);
        }
    }

    #[test]
    fn shipped_dictionaries_never_change() {
        // Records on every box were written against these bytes: a changed dictionary
        // would make them unreadable. Add a new one with a new id instead.
        let digest = ring::digest::digest(&ring::digest::SHA256, ORDERS_1.bytes);
        assert_eq!(
            crate::domain::audit::hex(digest.as_ref()),
            "799c91815f006bf2c86ebfc4274f4725b787b5b1ca6edf14c5a6e6adacf29d5e"
        );
        assert_eq!(ORDERS_1.bytes.len(), 65536);
        for d in DICTIONARIES {
            assert!(d.id > 0);
        }
    }
}
