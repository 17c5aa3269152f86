//! Pure domain types and rules: no I/O, no storage, no HTTP.

pub mod appeal;
pub mod assessment;
pub mod attachment;
pub mod audit;
pub mod blacklist;
pub mod calendar;
pub mod category;
pub mod exclusion;
pub mod intake;
pub mod knowledge;
pub mod limits;
pub mod order;
pub mod order_facts;
pub mod order_index;
pub mod order_state;
pub mod pinyin;
pub mod qa;
pub mod role;
pub mod session;
pub mod settings;
pub mod time;
pub mod timeline;
pub mod unit;
pub mod user;
pub mod validate;
pub mod words;
