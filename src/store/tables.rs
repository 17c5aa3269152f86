//! Every redb table of the product, defined here and nowhere else.
//!
//! Names carry a version suffix so a changed layout gets a new table through a migration.
//! `ALL` is what backups and integrity checks iterate: a table missing from it would be
//! silently left out of backups, which a test guards against.

use redb::{MultimapTableDefinition, TableDefinition};

/// Schema version, setup code, settings: small named records.
pub const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta-v1");
/// UserId → User record.
pub const USERS: TableDefinition<u64, &[u8]> = TableDefinition::new("users-v1");
/// Lowercase username → UserId.
pub const USERNAMES: TableDefinition<&str, u64> = TableDefinition::new("usernames-v1");
/// SHA-256 of the session token → Session record.
pub const SESSIONS: TableDefinition<&[u8], &[u8]> = TableDefinition::new("sessions-v1");
/// UserId → SHA-256 of each of the user's session tokens.
pub const USER_SESSIONS: MultimapTableDefinition<u64, &[u8]> =
    MultimapTableDefinition::new("user-sessions-v1");
/// UnitId → Unit record.
pub const UNITS: TableDefinition<u64, &[u8]> = TableDefinition::new("units-v1");
/// Unit code → UnitId.
pub const UNIT_CODES: TableDefinition<&str, u64> = TableDefinition::new("unit-codes-v1");
/// Sequence number → AuditEntry record (hash-chained).
pub const AUDIT: TableDefinition<u64, &[u8]> = TableDefinition::new("audit-v1");

/// OrderId → Order record (with its rounds and timeline).
pub const ORDERS: TableDefinition<u64, &[u8]> = TableDefinition::new("orders-v1");
/// Order number → OrderId.
pub const ORDER_NUMBERS: TableDefinition<&str, u64> = TableDefinition::new("order-numbers-v1");
/// `channel:external_id` → OrderId (idempotent intake from platforms).
pub const ORDER_EXTERNAL: TableDefinition<&str, u64> = TableDefinition::new("order-external-v1");
/// `YYYYMMDD` → last daily serial used.
pub const ORDER_SERIALS: TableDefinition<&str, u32> = TableDefinition::new("order-serials-v1");
/// Every index key of every order (see `domain::order_index`): lists and queues are ranges.
pub const ORDER_KEYS: TableDefinition<&[u8], ()> = TableDefinition::new("order-keys-v1");
/// Counter key → how many index keys it counts (list totals, per-day counts).
pub const ORDER_COUNTS: TableDefinition<&[u8], u64> = TableDefinition::new("order-counts-v1");
/// Index keys written since the last fold (see `store::pending`) → 1 present, 0 absent.
pub const ORDER_KEYS_PENDING: TableDefinition<&[u8], u8> =
    TableDefinition::new("order-keys-pending-v1");
/// Counter key → how far it moved since the last fold.
pub const ORDER_COUNTS_PENDING: TableDefinition<&[u8], i64> =
    TableDefinition::new("order-counts-pending-v1");
/// OrderId → the compact list row (a list page decodes rows, not orders).
pub const ORDER_ROWS: TableDefinition<u64, &[u8]> = TableDefinition::new("order-rows-v1");
/// OrderId → the gist duplicate hints compare, for the orders of the last quarter
/// (see `store::gists`).
pub const ORDER_GISTS: TableDefinition<u64, &[u8]> = TableDefinition::new("order-gists-v1");
/// Per-day fact key (see `domain::order_facts`) → its sum: what the reports read.
pub const ORDER_FACTS: TableDefinition<&[u8], u64> = TableDefinition::new("order-facts-v1");
/// (OrderId, seq) → who viewed or revealed the caller, when.
pub const ORDER_VIEWS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("order-views-v1");

/// (phone, time in ms, OrderId): harassment incidents (rejections with code 9).
pub const HARASSMENT: TableDefinition<(&str, i64, u64), ()> = TableDefinition::new("harassment-v1");
/// Phone → BlacklistEntry record.
pub const BLACKLIST: TableDefinition<&str, &[u8]> = TableDefinition::new("blacklist-v1");

/// Article id → the current version of the article.
pub const KB_ARTICLES: TableDefinition<u64, &[u8]> = TableDefinition::new("kb-articles-v1");
/// (article id, version) → that version, kept for ever (answers cite them).
pub const KB_VERSIONS: TableDefinition<(u64, u32), &[u8]> = TableDefinition::new("kb-versions-v1");

/// Change sequence → OrderId: every order write, in order; the search index follows it.
pub const ORDER_CHANGES: TableDefinition<u64, u64> = TableDefinition::new("order-changes-v1");
/// SHA-256 (hex) of an attachment → its bytes, stored once however many orders hold it.
pub const BLOBS: TableDefinition<&str, &[u8]> = TableDefinition::new("blobs-v1");
/// Sequence → shift handover note (交接班).
pub const HANDOVER: TableDefinition<u64, &[u8]> = TableDefinition::new("handover-v1");

/// Appeal id → unit appeal against the assessment (考核申诉).
pub const APPEALS: TableDefinition<u64, &[u8]> = TableDefinition::new("appeals-v1");
/// The appeals' keys: by state, by unit, by order, one per contested result, and the
/// upheld ones by figure and day (see `store::appeals`).
pub const APPEAL_KEYS: TableDefinition<&[u8], ()> = TableDefinition::new("appeal-keys-v1");

/// Inspection id → QA inspection (质检) of an order.
pub const INSPECTIONS: TableDefinition<u64, &[u8]> = TableDefinition::new("inspections-v1");
/// The inspections' keys: by order, by operator, by time, appeals waiting (see
/// `store::inspections`).
pub const INSPECTION_KEYS: TableDefinition<&[u8], ()> = TableDefinition::new("inspection-keys-v1");

/// (Beijing day marked, OrderId) → a typical case (典型案例) the supervisor chose for the
/// bulletin, with its note.
pub const TYPICAL_CASES: TableDefinition<(u32, u64), &[u8]> =
    TableDefinition::new("typical-cases-v1");

/// Call id (the phone system's) → the call's record (CTI): seat, caller, times, orders.
pub const CALLS: TableDefinition<&str, &[u8]> = TableDefinition::new("calls-v1");
/// Delivery id → a result queued for a platform (回传 outbox).
pub const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox-v1");
/// The outbox's keys: deliveries due by time, by state, and the open ones of each order (see
/// `store::outbox`).
pub const OUTBOX_KEYS: TableDefinition<&[u8], ()> = TableDefinition::new("outbox-keys-v1");

/// Tables of earlier schema versions, named only by the migrations that create and retire
/// them (never backed up: the catalogue below does not list them).
pub mod retired {
    use redb::TableDefinition;

    /// (state, OrderId), replaced by `ORDER_KEYS`.
    pub const ORDER_BY_STATE: TableDefinition<(&str, u64), ()> =
        TableDefinition::new("order-by-state-v1");
    /// (UnitId, OrderId), replaced by `ORDER_KEYS`.
    pub const ORDER_BY_UNIT: TableDefinition<(u64, u64), ()> =
        TableDefinition::new("order-by-unit-v1");
    /// (phone, OrderId), replaced by `ORDER_KEYS`.
    pub const ORDER_BY_PHONE: TableDefinition<(&str, u64), ()> =
        TableDefinition::new("order-by-phone-v1");
    /// (due, OrderId) not yet urged, replaced by `ORDER_KEYS`.
    pub const ORDER_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("order-due-v1");
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Table,
    Multimap,
}

/// One line of the table catalogue.
#[derive(Clone, Copy, Debug)]
pub struct TableInfo {
    pub name: &'static str,
    pub kind: Kind,
}

/// The catalogue of every table, for backups, counts and integrity checks.
pub const ALL: &[TableInfo] = &[
    TableInfo {
        name: "meta-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "users-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "usernames-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "sessions-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "user-sessions-v1",
        kind: Kind::Multimap,
    },
    TableInfo {
        name: "units-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "unit-codes-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "audit-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "orders-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-numbers-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-external-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-serials-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-views-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "harassment-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "blacklist-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "kb-articles-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "kb-versions-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "handover-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "blobs-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-changes-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-keys-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-counts-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-keys-pending-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-counts-pending-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-rows-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-facts-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "order-gists-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "appeals-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "appeal-keys-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "inspections-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "inspection-keys-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "typical-cases-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "calls-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "outbox-v1",
        kind: Kind::Table,
    },
    TableInfo {
        name: "outbox-keys-v1",
        kind: Kind::Table,
    },
];
