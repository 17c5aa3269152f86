//! Versioned records: one version byte, then the serde body.
//!
//! A record type names its current version; reading any other version is an error that
//! only a migration step (which knows the old shape) may resolve.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::StoreError;

pub trait Record: Serialize + DeserializeOwned {
    const KIND: &'static str;
    const VERSION: u8;
}

pub fn encode<T: Record>(value: &T) -> Result<Vec<u8>, StoreError> {
    let mut out = vec![T::VERSION];
    serde_json::to_writer(&mut out, value).map_err(|e| StoreError::Codec {
        kind: T::KIND,
        detail: e.to_string(),
    })?;
    Ok(out)
}

pub fn decode<T: Record>(bytes: &[u8]) -> Result<T, StoreError> {
    match bytes.split_first() {
        Some((v, body)) if *v == T::VERSION => {
            serde_json::from_slice(body).map_err(|e| StoreError::Codec {
                kind: T::KIND,
                detail: e.to_string(),
            })
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
