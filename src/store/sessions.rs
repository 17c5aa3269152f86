//! Server-side sessions, keyed by the SHA-256 of the token the browser holds.

use redb::{ReadableMultimapTable, ReadableTable};

use super::codec::{decode, encode};
use super::tables::{SESSIONS, USER_SESSIONS};
use super::{StoreError, Tx, WriteTx};
use crate::domain::session::Session;
use crate::domain::user::UserId;

pub fn get(tx: &impl Tx, key: &[u8]) -> Result<Option<Session>, StoreError> {
    let table = tx.open(SESSIONS)?;
    let v = table.get(key)?;
    v.map(|v| decode(v.value())).transpose()
}

pub fn put(tx: &WriteTx, key: &[u8], session: &Session) -> Result<(), StoreError> {
    tx.open_table(SESSIONS)?
        .insert(key, encode(session)?.as_slice())?;
    tx.open_multimap_table(USER_SESSIONS)?
        .insert(session.user.0, key)?;
    Ok(())
}

pub fn delete(tx: &WriteTx, key: &[u8]) -> Result<(), StoreError> {
    let user = {
        let mut table = tx.open_table(SESSIONS)?;
        let removed = table.remove(key)?;
        match removed {
            Some(v) => Some(decode::<Session>(v.value())?.user),
            None => None,
        }
    };
    if let Some(user) = user {
        tx.open_multimap_table(USER_SESSIONS)?.remove(user.0, key)?;
    }
    Ok(())
}

/// Ends every session of a user; returns how many there were.
pub fn delete_for_user(tx: &WriteTx, user: UserId) -> Result<usize, StoreError> {
    let keys: Vec<Vec<u8>> = {
        let index = tx.open_multimap_table(USER_SESSIONS)?;
        let mut keys = Vec::new();
        for k in index.get(user.0)? {
            keys.push(k?.value().to_vec());
        }
        keys
    };
    let mut sessions = tx.open_table(SESSIONS)?;
    for k in &keys {
        sessions.remove(k.as_slice())?;
    }
    tx.open_multimap_table(USER_SESSIONS)?.remove_all(user.0)?;
    Ok(keys.len())
}

/// Removes sessions whose absolute lifetime has passed or that went idle.
pub fn purge_expired(
    tx: &WriteTx,
    now: crate::domain::time::Timestamp,
    idle_secs: i64,
) -> Result<usize, StoreError> {
    use crate::domain::session::SessionState;
    let mut dead = Vec::new();
    {
        let table = tx.open_table(SESSIONS)?;
        for row in table.iter()? {
            let (k, v) = row?;
            let s: Session = decode(v.value())?;
            if !matches!(s.state(now, idle_secs), SessionState::Live { .. }) {
                dead.push(k.value().to_vec());
            }
        }
    }
    for k in &dead {
        delete(tx, k)?;
    }
    Ok(dead.len())
}

/// The people signed in now: the distinct users with a live session, and the live sessions
/// (the table holds live sessions only, give or take the minute's purge: it stays small).
pub fn signed_in(
    tx: &impl Tx,
    now: crate::domain::time::Timestamp,
    idle_secs: i64,
) -> Result<(u64, u64), StoreError> {
    use crate::domain::session::SessionState;
    let mut users = std::collections::BTreeSet::new();
    let mut live = 0u64;
    for row in tx.open(SESSIONS)?.iter()? {
        let (_, v) = row?;
        let s: Session = decode(v.value())?;
        if matches!(s.state(now, idle_secs), SessionState::Live { .. }) {
            users.insert(s.user.0);
            live += 1;
        }
    }
    Ok((users.len() as u64, live))
}

/// Who is signed in now: each live session's user and seat (a session table holds the
/// people signed in, not history: expired sessions are purged).
pub fn live(
    tx: &impl Tx,
    now: crate::domain::time::Timestamp,
    idle_secs: i64,
) -> Result<Vec<(UserId, Option<u8>)>, StoreError> {
    use crate::domain::session::SessionState;
    let mut out = Vec::new();
    for row in tx.open(SESSIONS)?.iter()? {
        let (_, v) = row?;
        let s: Session = decode(v.value())?;
        if matches!(s.state(now, idle_secs), SessionState::Live { .. }) {
            out.push((s.user, s.seat));
        }
    }
    Ok(out)
}

/// The people signed in on seat `seat` now, with their names.
pub fn on_seat(
    tx: &impl Tx,
    seat: u8,
    now: crate::domain::time::Timestamp,
    idle_secs: i64,
) -> Result<Vec<(UserId, String)>, StoreError> {
    let mut out = Vec::new();
    for (user, s) in live(tx, now, idle_secs)? {
        if s == Some(seat)
            && let Some(u) = super::users::get(tx, user)?
        {
            out.push((user, u.display_name));
        }
    }
    Ok(out)
}

/// The live sessions on seat `seat` now: each session's key and user.
pub fn sessions_on_seat(
    tx: &impl Tx,
    seat: u8,
    now: crate::domain::time::Timestamp,
    idle_secs: i64,
) -> Result<Vec<(Vec<u8>, UserId)>, StoreError> {
    use crate::domain::session::SessionState;
    let mut out = Vec::new();
    for row in tx.open(SESSIONS)?.iter()? {
        let (k, v) = row?;
        let s: Session = decode(v.value())?;
        if s.seat == Some(seat) && matches!(s.state(now, idle_secs), SessionState::Live { .. }) {
            out.push((k.value().to_vec(), s.user));
        }
    }
    Ok(out)
}
