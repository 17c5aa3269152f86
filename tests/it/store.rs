//! The store: the table catalogue is complete, the database closes on shutdown, and the
//! server refuses unsafe configurations.

use std::sync::Arc;

use hotline::clock::SystemClock;
use hotline::domain::role::Role;
use hotline::server::{ServeOptions, start};
use hotline::store::{Store, tables};

use crate::helpers::TestApp;

#[tokio::test]
async fn every_table_in_the_file_is_in_the_backup_catalogue() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    // Touch every kind of record.
    let _unit_user = app.user(&admin, "clerk", Role::Unit).await;
    let dir = app.stop().await;
    let store = Store::open(dir.path()).unwrap();
    let (counts, unknown) = store.table_counts().unwrap();
    assert!(
        unknown.is_empty(),
        "tables missing from tables::ALL: {unknown:?}"
    );
    for t in tables::ALL {
        assert!(
            counts.iter().any(|(n, _)| *n == t.name),
            "catalogued table {} is not in the file",
            t.name
        );
    }
    let count = |n: &str| counts.iter().find(|(x, _)| *x == n).unwrap().1;
    assert_eq!(count("users-v1"), 2);
    assert_eq!(count("units-v1"), 1);
    assert!(count("audit-v1") >= 5);
    assert_eq!(hotline::store::SCHEMA_VERSION, 24);
}

#[tokio::test]
async fn shutdown_closes_the_database_and_data_survives_a_restart() {
    let app = TestApp::new().await;
    let admin = app.admin().await;
    app.user(&admin, "keeper", Role::Qa).await;
    let dir = app.stop().await;
    // The lock is released: the file opens again at once.
    drop(Store::open(dir.path()).unwrap());
    let app = TestApp::start_in(dir).await;
    let s = app.login("keeper", crate::helpers::NEW_PASSWORD).await;
    assert_eq!(s.body["role"], "qa");
    // The certificate is reused, not remade.
    let again = app.running.as_ref().unwrap();
    assert!(!again.cert_created);
}

#[tokio::test]
async fn plain_http_is_refused_off_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let err = start(ServeOptions {
        data: dir.path().to_path_buf(),
        listen: "0.0.0.0:0".parse().unwrap(),
        plain_http: true,
        clock: Arc::new(SystemClock),
        search: true,
        limits: hotline::http::server::Limits::default(),
    })
    .await
    .err()
    .expect("plain HTTP on 0.0.0.0 must be refused");
    assert!(err.to_string().contains("loopback"), "{err}");
    assert!(!dir.path().join(hotline::store::DB_FILE).exists());
}

#[tokio::test]
async fn plain_http_works_on_loopback() {
    let dir = tempfile::tempdir().unwrap();
    let running = start(ServeOptions {
        data: dir.path().to_path_buf(),
        listen: "127.0.0.1:0".parse().unwrap(),
        plain_http: true,
        clock: Arc::new(SystemClock),
        search: true,
        limits: hotline::http::server::Limits::default(),
    })
    .await
    .unwrap();
    let r = reqwest::get(format!("http://{}/healthz", running.addr))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    running.shutdown().await;
}

/// Duplicate hints read gists of the last quarter's orders: an order registered 93 days
/// before the newest loses its gist (and its hint), the others keep theirs in step.
#[tokio::test]
async fn gists_keep_to_the_last_quarter() {
    use crate::orders::{Centre, create, order_body};
    let mut c = Centre::new().await;
    let old = create(&c.op, order_body("13700000001", "路灯不亮")).await;
    let old = hotline::domain::order::OrderId(old["id"].as_u64().unwrap());
    c.advance(93 * 86400).await;
    let again = create(&c.op, order_body("13700000001", "路灯不亮")).await;
    assert!(
        again["warnings"]
            .as_array()
            .is_none_or(|w| w.iter().all(|w| w["code"] != "possible_duplicate")),
        "an order of 93 days ago is no duplicate: {again}"
    );
    let app = c.app.running.as_ref().unwrap().app.clone();
    app.store
        .read(|tx| -> Result<(), hotline::store::StoreError> {
            use redb::ReadableTableMetadata;
            let gists = tx.open_table(tables::ORDER_GISTS).map_err(redb_err)?;
            assert!(
                redb::ReadableTable::get(&gists, old.0)
                    .map_err(redb_err)?
                    .is_none(),
                "the old order's gist was removed"
            );
            assert_eq!(gists.len().map_err(redb_err)?, 1);
            assert!(hotline::store::gists::in_step(tx)?);
            Ok(())
        })
        .unwrap();
    let fresh = create(&c.op, order_body("13700000001", "路灯不亮")).await;
    assert!(
        fresh["warnings"]
            .as_array()
            .is_some_and(|w| w.iter().any(|w| w["code"] == "possible_duplicate")),
        "a recent order is: {fresh}"
    );
}

/// Changes refused inside a shared batch (a stale version, after the others of the batch
/// moved counters and facts) take their moves with them: the rest commit, and every sum
/// equals the one made anew from the orders.
#[tokio::test]
async fn refused_changes_in_a_batch_leave_the_sums_in_step() {
    use crate::orders::{Centre, create, order_body};
    use serde_json::json;
    let c = Centre::new().await;
    let mut ids = Vec::new();
    for i in 0..8 {
        let o = create(&c.op, order_body(&format!("1370000010{i}"), "占道经营")).await;
        ids.push(o["id"].as_u64().unwrap());
    }
    let op = Arc::new(c.op);
    let mut tasks = tokio::task::JoinSet::new();
    for round in 0..4u64 {
        for (k, id) in ids.iter().copied().enumerate() {
            let op = op.clone();
            tasks.spawn(async move {
                if k % 2 == 0 {
                    // A stale version: refused after the batch's other changes ran.
                    let r = op
                        .post(
                            &format!("/api/v1/orders/{id}/actions/dispatch"),
                            json!({"unit": "u-clerk-a", "version": 999}),
                        )
                        .await;
                    assert_eq!(r.status(), 409, "{}", r.text().await.unwrap());
                } else {
                    let body = order_body(&format!("13800{round}{k:05}"), "路灯不亮");
                    let r = op.post("/api/v1/orders", body).await;
                    assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
                }
            });
        }
    }
    while let Some(t) = tasks.join_next().await {
        t.unwrap();
    }
    let app = c.app.running.as_ref().unwrap().app.clone();
    app.store
        .read(|tx| -> Result<(), hotline::store::StoreError> {
            crate::helpers::assert_derived_in_step(tx)?;
            assert_eq!(hotline::store::orders::count_all(tx)?, 8 + 16);
            Ok(())
        })
        .unwrap();
}

/// The index (keys, counters, rows) the one write path keeps equals the one rebuilt from
/// the orders — after a working day of every kind of action, and after the migration that
/// builds it for a database of the previous schema.
#[tokio::test]
async fn the_write_path_keeps_keys_and_counters_in_step() {
    use crate::orders::{Centre, create, ok, order_body};
    use serde_json::json;
    let mut c = Centre::new().await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let o = create(&c.op, order_body(&format!("1370000000{i}"), "路灯不亮")).await;
        ids.push(o["id"].as_u64().unwrap());
    }
    ok(
        &c.op,
        ids[0],
        "dispatch",
        json!({"unit": "u-clerk-a", "co_units": ["u-clerk-b"]}),
    )
    .await;
    ok(&c.unit_a, ids[0], "sign", json!({})).await;
    ok(&c.unit_b, ids[0], "co_sign", json!({})).await;
    ok(
        &c.unit_a,
        ids[0],
        "request_extension",
        json!({"days": 2, "reason": "等材料"}),
    )
    .await;
    ok(&c.op, ids[1], "dispatch", json!({"unit": "u-clerk-a"})).await;
    ok(&c.unit_a, ids[1], "return", json!({"reason": "不归本单位"})).await;
    ok(&c.lead, ids[1], "decide_return", json!({"approve": true})).await;
    ok(&c.op, ids[1], "dispatch", json!({"unit": "u-clerk-b"})).await;
    ok(&c.op, ids[2], "merge", json!({"into": ids[3]})).await;
    ok(
        &c.op,
        ids[3],
        "answer",
        json!({"reply": "已告知办理流程。"}),
    )
    .await;
    ok(&c.sup, ids[1], "supervise", json!({"note": "尽快"})).await;
    ok(&c.sup, ids[1], "urge", json!({"note": "请抓紧"})).await;
    ok(&c.op, ids[4], "reject", json!({"reason_code": 1})).await;
    c.advance(5 * 86400).await;
    let app = c.app.running.as_ref().unwrap().app.clone();
    hotline::service::orders::actions::urge_overdue(&app).unwrap();
    let check = |store: &Store| {
        store
            .read(|tx| -> Result<(), hotline::store::StoreError> {
                crate::helpers::assert_derived_in_step(tx)?;
                assert!(!hotline::store::facts::derived(tx)?.is_empty());
                assert!(hotline::store::gists::in_step(tx)?, "gists");
                Ok(())
            })
            .unwrap();
    };
    check(&app.store);
    // What the reports read: the centre's and the units' facts over the days of the test.
    let sums = |dim| {
        use hotline::domain::order_facts::Measure;
        let mut by: std::collections::BTreeMap<Measure, u64> = Default::default();
        app.store
            .read(|tx| {
                hotline::store::facts::fold(tx, dim, 0, u32::MAX - 1, |f, n| {
                    *by.entry(f.measure).or_default() += n;
                })
            })
            .unwrap();
        by
    };
    {
        use hotline::domain::order_facts::{Dim, Measure};
        let centre = sums(Dim::Centre);
        assert_eq!(centre.get(&Measure::Dispatched), Some(&3), "{centre:?}");
        assert_eq!(centre.get(&Measure::Answered), Some(&1), "{centre:?}");
        assert_eq!(centre.get(&Measure::Rejected), Some(&1), "{centre:?}");
        let units = sums(Dim::Unit);
        assert_eq!(units.get(&Measure::Dispatched), Some(&3), "{units:?}");
        assert_eq!(units.get(&Measure::CoDispatched), Some(&1), "{units:?}");
        assert_eq!(units.get(&Measure::Returned), Some(&1), "{units:?}");
        assert_eq!(units.get(&Measure::ReturnApproved), Some(&1), "{units:?}");
        assert_eq!(units.get(&Measure::ExtensionAsked), Some(&1), "{units:?}");
        assert_eq!(units.get(&Measure::Supervised), Some(&1), "{units:?}");
        assert!(
            units.get(&Measure::Urged) >= Some(&2),
            "by hand and by the job: {units:?}"
        );
        assert_eq!(units.get(&Measure::Signed), Some(&1), "{units:?}");
    }
    drop(app);
    let dir = c.app.stop().await;

    // The previous schema: no keys, counters or rows; the old indexes instead.
    let store = Store::open(dir.path()).unwrap();
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            tx.delete_table(tables::ORDER_KEYS).map_err(redb_err)?;
            tx.delete_table(tables::ORDER_COUNTS).map_err(redb_err)?;
            tx.delete_table(tables::ORDER_ROWS).map_err(redb_err)?;
            tx.open_table(tables::retired::ORDER_BY_STATE)
                .map_err(redb_err)?;
            tx.open_table(tables::retired::ORDER_BY_UNIT)
                .map_err(redb_err)?;
            tx.open_table(tables::retired::ORDER_BY_PHONE)
                .map_err(redb_err)?;
            tx.open_table(tables::retired::ORDER_DUE)
                .map_err(redb_err)?;
            hotline::store::meta::set_schema_version(tx, 7)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);
    let (_, unknown) = store.table_counts().unwrap();
    assert!(unknown.is_empty(), "{unknown:?}");

    // Schema 9: no keys of two filters at once; the migration adds just those.
    let pair = hotline::domain::order_index::Kind::Pair as u8;
    let day = pair | hotline::domain::order_index::DAY_BIT;
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            let (keys, counts) = hotline::store::orders::stored(tx)?;
            let mut kt = tx.open_table(tables::ORDER_KEYS).map_err(redb_err)?;
            let mut removed = 0;
            for k in keys.iter().filter(|k| k[0] == pair) {
                kt.remove(k.as_slice()).map_err(redb_err)?;
                removed += 1;
            }
            assert!(removed > 10, "orders have keys of two filters");
            let mut ct = tx.open_table(tables::ORDER_COUNTS).map_err(redb_err)?;
            for k in counts.keys().filter(|k| k[0] == pair || k[0] == day) {
                ct.remove(k.as_slice()).map_err(redb_err)?;
            }
            drop((kt, ct));
            hotline::store::meta::set_schema_version(tx, 9)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);

    // Schema 10: no per-day facts; the migration makes them from the orders.
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            tx.delete_table(tables::ORDER_FACTS).map_err(redb_err)?;
            hotline::store::meta::set_schema_version(tx, 10)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);

    // Schema 11: orders compressed alone (LZ4 without the dictionary); the migration stores
    // them again against it, each the same order, a fraction of the size.
    use hotline::domain::order::Order;
    use hotline::store::codec;
    let before: Vec<(u64, Order, usize)> = store
        .write(|tx| -> Result<_, hotline::store::StoreError> {
            let mut t = tx.open_table(tables::ORDERS).map_err(redb_err)?;
            let rows: Vec<(u64, Vec<u8>)> = redb::ReadableTable::iter(&t)
                .map_err(redb_err)?
                .map(|r| {
                    let (k, v) = r.unwrap();
                    (k.value(), v.value().to_vec())
                })
                .collect();
            let mut out = Vec::new();
            for (id, bytes) in rows {
                assert!(codec::current::<Order>(&bytes));
                let o: Order = codec::decode(&bytes)?;
                let mut old = vec![1u8 | 0x80];
                old.extend(lz4_flex::block::compress_prepend_size(
                    &serde_json::to_vec(&o).unwrap(),
                ));
                assert!(!codec::current::<Order>(&old));
                t.insert(id, old.as_slice()).map_err(redb_err)?;
                out.push((id, o, old.len()));
            }
            drop(t);
            hotline::store::meta::set_schema_version(tx, 11)?;
            Ok(out)
        })
        .unwrap();
    assert!(before.len() >= 6);
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);
    let recompressed = |store: &Store| {
        store
            .read(|tx| -> Result<(), hotline::store::StoreError> {
                let t = tx.open_table(tables::ORDERS).map_err(redb_err)?;
                for (id, order, old_len) in &before {
                    let v = redb::ReadableTable::get(&t, *id)
                        .map_err(redb_err)?
                        .unwrap();
                    assert!(
                        codec::current::<Order>(v.value()),
                        "order {id} recompressed"
                    );
                    assert!(v.value().len() < *old_len, "order {id} smaller");
                    let again: Order = codec::decode(v.value())?;
                    assert_eq!(
                        serde_json::to_value(&again).unwrap(),
                        serde_json::to_value(order).unwrap()
                    );
                }
                Ok(())
            })
            .unwrap();
    };
    recompressed(&store);
    // In batches of two, each its own commit, resumed by the cursor: the same result.
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            let mut t = tx.open_table(tables::ORDERS).map_err(redb_err)?;
            for (id, order, _) in &before {
                let mut old = vec![1u8 | 0x80];
                old.extend(lz4_flex::block::compress_prepend_size(
                    &serde_json::to_vec(order).unwrap(),
                ));
                t.insert(*id, old.as_slice()).map_err(redb_err)?;
            }
            Ok(())
        })
        .unwrap();
    let (mut next, mut batches) = (0u64, 0);
    while !store
        .write(|tx| hotline::store::orders::recompress_batch(tx, &mut next, 2))
        .unwrap()
    {
        batches += 1;
    }
    assert!(batches >= before.len() / 2 - 1, "{batches} batches");
    recompressed(&store);

    // Schema 13: per-day counters keyed by the filter value, then the day; the migration keys
    // them by the day first.
    let day_bit = hotline::domain::order_index::DAY_BIT;
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            let (_, counts) = hotline::store::orders::stored(tx)?;
            let mut ct = tx.open_table(tables::ORDER_COUNTS).map_err(redb_err)?;
            let mut moved = 0;
            for (k, n) in counts.iter().filter(|(k, _)| k[0] & day_bit != 0) {
                ct.remove(k.as_slice()).map_err(redb_err)?;
                let mut old = vec![k[0]];
                old.extend_from_slice(&k[5..]);
                old.extend_from_slice(&k[1..5]);
                ct.insert(old.as_slice(), *n).map_err(redb_err)?;
                moved += 1;
            }
            assert!(moved > 10, "orders have per-day counters");
            drop(ct);
            hotline::store::meta::set_schema_version(tx, 13)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);

    // Schema 15: timeline entries as prose (what the program wrote before parameters); the
    // migration turns each back into its code, parameters and the user's words.
    let all_orders = |store: &Store| {
        store
            .read(|tx| -> Result<Vec<Order>, hotline::store::StoreError> {
                let t = tx.open_table(tables::ORDERS).map_err(redb_err)?;
                let mut out = Vec::new();
                for r in redb::ReadableTable::iter(&t).map_err(redb_err)? {
                    out.push(codec::decode(r.map_err(redb_err)?.1.value())?);
                }
                Ok(out)
            })
            .unwrap()
    };
    let typed = all_orders(&store);
    let mut prose_seen = std::collections::BTreeSet::new();
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            let mut t = tx.open_table(tables::ORDERS).map_err(redb_err)?;
            for o in &typed {
                let mut v = serde_json::to_value(o).unwrap();
                for (e, j) in o.timeline.iter().zip(v["timeline"].as_array_mut().unwrap()) {
                    let j = j.as_object_mut().unwrap();
                    j.remove("p");
                    j.insert("note".into(), json!(old_prose(o, e)));
                    prose_seen.insert(e.action.clone());
                }
                let old: Order = serde_json::from_value(v).unwrap();
                assert!(old.timeline.iter().all(|e| e.params.is_none()));
                t.insert(o.id.0, codec::encode(&old)?.as_slice())
                    .map_err(redb_err)?;
            }
            drop(t);
            hotline::store::meta::set_schema_version(tx, 15)
        })
        .unwrap();
    for a in [
        "register",
        "dispatch",
        "sign",
        "co_sign",
        "request_extension",
        "return",
        "decide_return",
        "merge",
        "merged_in",
        "answer",
        "supervise",
        "urge",
        "reject",
        "auto_urge",
    ] {
        assert!(prose_seen.contains(a), "the test data has a {a} entry");
    }
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);
    let upgraded = all_orders(&store);
    assert_eq!(upgraded.len(), typed.len());
    for (was, now) in typed.iter().zip(&upgraded) {
        assert_eq!(was.timeline.len(), now.timeline.len());
        for (a, b) in was.timeline.iter().zip(&now.timeline) {
            assert_eq!(a.action, b.action);
            assert_eq!(a.params, b.params, "{} of {}", a.action, was.number);
            assert_eq!(a.note, b.note, "{} of {}", a.action, was.number);
        }
    }

    // Schema 16: no keys of the units' events; the migration adds just those.
    let event = hotline::domain::order_index::Kind::UnitEvent as u8;
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            let (keys, _) = hotline::store::orders::stored(tx)?;
            let mut kt = tx.open_table(tables::ORDER_KEYS).map_err(redb_err)?;
            let mut removed = 0;
            for k in keys.iter().filter(|k| k[0] == event) {
                kt.remove(k.as_slice()).map_err(redb_err)?;
                removed += 1;
            }
            assert!(removed > 10, "the units' events have keys");
            drop(kt);
            hotline::store::meta::set_schema_version(tx, 16)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);

    // Schema 20: no word facts nor after-call work, and a stray word from a migration cut
    // short; the migration counts them anew, once.
    use hotline::domain::order_facts::{Dim, Fact, Measure, Value};
    use redb::ReadableTable;
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            let mut ft = tx.open_table(tables::ORDER_FACTS).map_err(redb_err)?;
            let words: Vec<Vec<u8>> = ft
                .iter()
                .map_err(redb_err)?
                .map(|r| r.map(|(k, _)| k.value().to_vec()))
                .collect::<Result<_, _>>()
                .map_err(redb_err)?;
            let words: Vec<Vec<u8>> = words
                .into_iter()
                .filter(|k| hotline::domain::order_facts::new_in_schema_21(k))
                .collect();
            assert!(
                words.iter().any(|k| k[0] == Dim::Word as u8),
                "the titles have words"
            );
            assert!(
                words.iter().any(|k| k[0] == Dim::Operator as u8),
                "an operator disposed of an order they registered"
            );
            for k in &words {
                ft.remove(k.as_slice()).map_err(redb_err)?;
            }
            let stray = Fact {
                dim: Dim::Word,
                day: 20_000,
                value: Value::Code("路灯".into()),
                measure: Measure::Mentioned,
                sub: 0,
            };
            ft.insert(stray.key().as_slice(), 5).map_err(redb_err)?;
            drop(ft);
            hotline::store::meta::set_schema_version(tx, 20)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);

    // Schema 21: no keys by the callers' last four digits; the migration adds them.
    let tail = hotline::domain::order_index::Kind::ByPhoneTail as u8;
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            let (keys, _) = hotline::store::orders::stored(tx)?;
            let mut kt = tx.open_table(tables::ORDER_KEYS).map_err(redb_err)?;
            let mut removed = 0;
            for k in keys.iter().filter(|k| k[0] == tail) {
                kt.remove(k.as_slice()).map_err(redb_err)?;
                removed += 1;
            }
            assert!(removed >= 6, "every order has a tail key");
            drop(kt);
            hotline::store::meta::set_schema_version(tx, 21)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);

    // Schema 22: no keys by 查询码 and no connection tables; the migrations add them.
    let codes = hotline::domain::order_index::Kind::ByQueryCode as u8;
    store
        .write(|tx| -> Result<(), hotline::store::StoreError> {
            hotline::store::pending::fold_all(tx)?;
            let (keys, _) = hotline::store::orders::stored(tx)?;
            let mut kt = tx.open_table(tables::ORDER_KEYS).map_err(redb_err)?;
            let mut removed = 0;
            for k in keys.iter().filter(|k| k[0] == codes) {
                kt.remove(k.as_slice()).map_err(redb_err)?;
                removed += 1;
            }
            assert!(removed >= 6, "every order has a 查询码 key");
            drop(kt);
            tx.delete_table(tables::CALLS).map_err(redb_err)?;
            tx.delete_table(tables::OUTBOX_KEYS).map_err(redb_err)?;
            tx.delete_table(tables::OUTBOX).map_err(redb_err)?;
            hotline::store::meta::set_schema_version(tx, 22)
        })
        .unwrap();
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    check(&store);
}

/// The words the program wrote into a timeline entry before parameters existed (schema
/// 15 and earlier), for the actions the migration test's orders have.
fn old_prose(
    o: &hotline::domain::order::Order,
    e: &hotline::domain::order::TimelineEntry,
) -> String {
    let p = e.params();
    let due = || p.due.map(|d| d.display_cst()).unwrap_or_default();
    let n = &e.note;
    let colon = |n: &str| {
        if n.is_empty() {
            String::new()
        } else {
            format!("：{n}")
        }
    };
    match e.action.as_str() {
        "register" => format!("{}登记，渠道：{}", o.kind.label(), o.channel.label()),
        "dispatch" => format!(
            "派至某单位{}，签收时限 {}{}",
            if p.co_units.is_empty() {
                ""
            } else {
                "，协办：某单位"
            },
            due(),
            if n.is_empty() {
                String::new()
            } else {
                format!("。{n}")
            }
        ),
        "sign" => format!("已签收，办理时限 {}", due()),
        "co_sign" => format!("协办单位已签收，协办意见时限 {}", due()),
        "request_extension" => format!("申请延期 {} 个工作日：{n}", p.days.unwrap()),
        "return" => format!("申请退单：{n}"),
        "decide_return" if p.approve == Some(true) => {
            format!("同意退单，工单回到待派单{}", colon(n))
        }
        "decide_return" => format!("不同意退单，退回承办单位继续办理{}", colon(n)),
        "merge" => format!("并入主工单 {}", p.order.clone().unwrap()),
        "merged_in" => format!("并入工单 {}", p.order.clone().unwrap()),
        "answer" => format!("直接答复：{n}"),
        "supervise" => format!("{}：{n}", p.level.clone().unwrap()),
        "urge" => format!("催办：{n}"),
        "reject" => format!(
            "不予受理（代码 {}）。已告知来电人：某某",
            p.reason_code.unwrap()
        ),
        "auto_urge" => format!(
            "已超过{}时限（{}），系统自动催办",
            if p.stage == Some(hotline::domain::order_state::State::Dispatched) {
                "签收"
            } else {
                "办理"
            },
            due()
        ),
        other => panic!("the test has no old prose for {other}"),
    }
}

fn redb_err(e: impl Into<redb::Error>) -> hotline::store::StoreError {
    hotline::store::StoreError::Db(e.into())
}

/// Issue 9, point 3: concurrent writers share commits; a change that fails is not committed
/// even when it wrote first, the others are all committed, and each runs exactly once in the
/// committed batch.
#[test]
fn group_commit_keeps_every_change_whole() {
    use std::sync::atomic::{AtomicU64, Ordering};
    let dir = tempfile::tempdir().unwrap();
    let store = Arc::new(Store::open(dir.path()).unwrap());
    let runs = Arc::new(AtomicU64::new(0));
    let mut threads = Vec::new();
    for t in 0..16u64 {
        let store = store.clone();
        let runs = runs.clone();
        threads.push(std::thread::spawn(move || {
            let mut ok = Vec::new();
            for i in 0..40u64 {
                let key = format!("t{t}-{i}");
                let fail = i % 7 == 3;
                let (runs, k) = (runs.clone(), key.clone());
                let r = store.write_batched(move |tx| -> Result<(), hotline::store::StoreError> {
                    runs.fetch_add(1, Ordering::Relaxed);
                    tx.open_table(tables::META)
                        .map_err(redb_err)?
                        .insert(k.as_str(), i.to_le_bytes().as_slice())
                        .map_err(redb_err)?;
                    if fail {
                        return Err(hotline::store::StoreError::Io(std::io::Error::other(
                            "refused after writing",
                        )));
                    }
                    Ok(())
                });
                assert_eq!(r.is_ok(), !fail, "{key}");
                if !fail {
                    ok.push(key);
                }
            }
            ok
        }));
    }
    let committed: Vec<String> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    assert_eq!(committed.len(), 16 * (40 - 6));
    let hotline::store::CommitStats {
        commits, changes, ..
    } = store.commit_stats();
    let migrations = hotline::store::SCHEMA_VERSION as usize;
    assert_eq!(
        changes as usize,
        committed.len() + migrations,
        "every change counted once"
    );
    assert!(commits < changes, "writers shared commits");
    eprintln!("{changes} changes in {commits} commits");
    drop(store);
    let store = Store::open(dir.path()).unwrap();
    store
        .read(|tx| -> Result<(), hotline::store::StoreError> {
            for t in 0..16u64 {
                for i in 0..40u64 {
                    let table = tx.open_table(tables::META).map_err(redb_err)?;
                    let got = redb::ReadableTable::get(&table, format!("t{t}-{i}").as_str())
                        .map_err(redb_err)?
                        .map(|v| u64::from_le_bytes(v.value().try_into().unwrap()));
                    if i % 7 == 3 {
                        assert_eq!(got, None, "a failed change left t{t}-{i}");
                    } else {
                        assert_eq!(got, Some(i), "t{t}-{i} was acknowledged");
                    }
                }
            }
            Ok(())
        })
        .unwrap();
    assert!(runs.load(Ordering::Relaxed) >= 16 * 40);
}
