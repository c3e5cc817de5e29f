//! Operation builders end to end: `Client::operate` with the builders of
//! `operations`, `operations::list` and `operations::map` against the cluster
//! under test (embedded, or `AEROSPIKE_HOSTS`). The bytes each builder sends
//! are checked in the unit tests of `src/operations`; these tests check what a
//! server makes of them.

mod common;

use aerospike_blocking::operations::list::{self, ListOrder, ListPolicy, ListReturnType};
use aerospike_blocking::operations::map::{self, MapOrder, MapPolicy, MapReturnType};
use aerospike_blocking::operations::{self, CdtContext};
use aerospike_blocking::{Bin, Key, Value, WritePolicy};
use common::{unique_set, TestEnv, NAMESPACE};

fn wp() -> WritePolicy {
    WritePolicy::default()
}

#[test]
fn get_header_reads_metadata_without_bins() {
    let env = TestEnv::new();
    let c = &env.client;
    let key = Key::new(NAMESPACE, &unique_set("ops_header"), "h").unwrap();
    c.put(&wp(), &key, &[Bin::new("a", 1), Bin::new("b", "x")])
        .unwrap();

    let rec = c.operate(&wp(), &key, &[operations::get_header()]).unwrap();
    assert!(rec.bins.is_empty(), "{:?}", rec.bins);
    assert_eq!(rec.generation, 1);

    let rec = c.operate(&wp(), &key, &[operations::get()]).unwrap();
    assert_eq!(rec.bins.len(), 2);

    // Another op reading a bin makes the request read bins again.
    let ops = [operations::get_header(), operations::get_bin("a")];
    let rec = c.operate(&wp(), &key, &ops).unwrap();
    assert_eq!(rec.bin("a"), Some(&Value::from(1)));

    // With a write, the header read still returns no bins.
    let ops = [operations::add("a", 1), operations::get_header()];
    let rec = c.operate(&wp(), &key, &ops).unwrap();
    assert!(rec.bins.is_empty(), "{:?}", rec.bins);
    assert_eq!(rec.generation, 2);
    c.delete(&wp(), &key).unwrap();
}

#[test]
fn list_and_map_builders_round_trip() {
    let env = TestEnv::new();
    let c = &env.client;
    let key = Key::new(NAMESPACE, &unique_set("ops_cdt"), "c").unwrap();
    let ordered = ListPolicy::new(ListOrder::Ordered, Default::default());
    let ops = [
        list::append_items_with_policy(&ordered, "l", vec![5.into(), 1.into(), 9.into()]),
        list::get_by_value_range("l", 2, Value::Nil, ListReturnType::VALUE),
        list::remove_by_value_range("l", Value::Nil, 5, ListReturnType::COUNT),
    ];
    let rec = c.operate(&wp(), &key, &ops).unwrap();
    assert_eq!(
        rec.bin("l"),
        Some(&Value::List(vec![
            Value::from(3),
            Value::List(vec![5.into(), 9.into()]),
            Value::from(1),
        ]))
    );

    let kv = MapPolicy::new(MapOrder::KeyOrdered, Default::default());
    let items = vec![
        ("b".into(), 2.into()),
        ("a".into(), 1.into()),
        ("c".into(), 3.into()),
    ];
    let ops = [
        map::put_items(&kv, "m", items),
        map::get_by_key_range("m", "b", Value::Nil, MapReturnType::KEY),
        map::remove_by_value_range("m", 3, Value::Nil, MapReturnType::KEY),
        map::create("m", MapOrder::KeyOrdered, &[CdtContext::map_key("d")]),
        map::put(&MapPolicy::default(), "m", "x", 7).with_context(&[CdtContext::map_key("d")]),
        map::size("m"),
    ];
    // Map operations always ask for every result (RESPOND_ALL_OPS, as the
    // official clients do), so create's nil keeps its place.
    let rec = c.operate(&wp(), &key, &ops).unwrap();
    assert_eq!(
        rec.bin("m"),
        Some(&Value::List(vec![
            Value::from(3),
            Value::List(vec!["b".into(), "c".into()]),
            Value::List(vec!["c".into()]),
            Value::Nil,
            Value::from(1),
            Value::from(3),
        ]))
    );
    c.delete(&wp(), &key).unwrap();
}

#[test]
fn exp_write_and_exp_read_round_trip() {
    use aerospike_blocking::exp::Expression;
    use aerospike_blocking::operations::{ExpReadFlags, ExpWriteFlags};
    use aerospike_blocking::ResultCode;
    let env = TestEnv::new();
    let c = &env.client;
    let key = Key::new(NAMESPACE, &unique_set("ops_exp"), "e").unwrap();
    c.put(&wp(), &key, &[Bin::new("a", 2), Bin::new("b", 5)])
        .unwrap();
    let sum = Expression::from_ael_value("$.a + $.b").unwrap();

    // Write a + b into "sum", then read it back with a plain read.
    let ops = [operations::exp_write("sum", &sum, ExpWriteFlags::DEFAULT)];
    c.operate(&wp(), &key, &ops).unwrap();
    let rec = c
        .get(&Default::default(), &key, aerospike_blocking::Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(rec.bin("sum"), Some(&Value::from(7)));
    assert_eq!(rec.generation, 2);

    // An expression read returns its value under its name and writes nothing.
    let doubled = Expression::from_ael_value("$.sum * 2").unwrap();
    let ops = [
        operations::put("a", 10),
        operations::exp_read("twice", &doubled, ExpReadFlags::DEFAULT),
        operations::exp_read("ab", &sum, ExpReadFlags::DEFAULT),
    ];
    let rec = c.operate(&wp(), &key, &ops).unwrap();
    assert_eq!(rec.bin("twice"), Some(&Value::from(14)));
    assert_eq!(rec.bin("ab"), Some(&Value::from(15)));
    let rec = c
        .get(&Default::default(), &key, aerospike_blocking::Bins::All)
        .unwrap()
        .unwrap();
    assert!(rec.bin("twice").is_none() && rec.bin("ab").is_none());

    // Flags: CREATE_ONLY on an existing bin, UPDATE_ONLY on a missing one,
    // an unknown result (missing bin); each fails unless its NO_FAIL flag.
    let code =
        |ops: &[operations::Operation]| c.operate(&wp(), &key, ops).unwrap_err().result_code();
    let w = |bin: &str, e: &Expression, f| [operations::exp_write(bin, e, f)];
    assert_eq!(
        code(&w("sum", &sum, ExpWriteFlags::CREATE_ONLY)),
        Some(ResultCode::BIN_EXISTS)
    );
    assert_eq!(
        code(&w("new", &sum, ExpWriteFlags::UPDATE_ONLY)),
        Some(ResultCode::BIN_NOT_FOUND)
    );
    let unknown = Expression::from_ael_value("$.missing + 1").unwrap();
    assert_eq!(
        code(&w("x", &unknown, ExpWriteFlags::DEFAULT)),
        Some(ResultCode::OP_NOT_APPLICABLE)
    );
    let read_unknown = [operations::exp_read("x", &unknown, ExpReadFlags::DEFAULT)];
    assert_eq!(code(&read_unknown), Some(ResultCode::OP_NOT_APPLICABLE));
    c.operate(
        &wp(),
        &key,
        &w(
            "sum",
            &sum,
            ExpWriteFlags::CREATE_ONLY | ExpWriteFlags::POLICY_NO_FAIL,
        ),
    )
    .unwrap();
    c.operate(&wp(), &key, &w("x", &unknown, ExpWriteFlags::EVAL_NO_FAIL))
        .unwrap();
    let rec = c
        .get(&Default::default(), &key, aerospike_blocking::Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(rec.bin("sum"), Some(&Value::from(7)), "left as it was");
    assert!(rec.bin("x").is_none() && rec.bin("new").is_none());
    assert_eq!(rec.generation, 5);
    c.delete(&wp(), &key).unwrap();
}
