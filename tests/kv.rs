//! Key-value commands and every policy knob, against the cluster under test.

mod common;

use aerospike_blocking::{
    operations, Bin, Bins, Error, Expiration, GenerationPolicy, Key, ReadPolicy,
    RecordExistsAction, ResultCode, Value, WritePolicy,
};
use common::{unique_set, TestEnv, NAMESPACE};

fn wp() -> WritePolicy {
    WritePolicy::default()
}

fn rp() -> ReadPolicy {
    ReadPolicy::default()
}

fn server_code(e: &Error) -> Option<ResultCode> {
    match e {
        Error::Server { code, .. } => Some(*code),
        _ => None,
    }
}

#[test]
#[allow(clippy::approx_constant)] // any float will do
fn put_get_delete_round_trip_every_type() {
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_types");
    let key = Key::new(NAMESPACE, &set, "k1").unwrap();
    let bins = vec![
        Bin::new("i", 1),
        Bin::new("neg", -42),
        Bin::new("big", i64::MAX),
        Bin::new("f", 3.14),
        Bin::new("s", "hello"),
        Bin::new("u", "héllo 世界"),
        Bin::new("e", ""),
        Bin::new("b", Value::Blob(vec![0, 1, 2, 255])),
        Bin::new("t", true),
        Bin::new(
            "l",
            Value::List(vec![1.into(), "a".into(), 2.5.into(), Value::Nil]),
        ),
        Bin::new(
            "m",
            Value::Map(vec![("x".into(), 1.into()), ("y".into(), "z".into())]),
        ),
    ];
    c.put(&wp(), &key, &bins).unwrap();
    let rec = c
        .get(&rp(), &key, Bins::All)
        .unwrap()
        .expect("record exists");
    assert_eq!(rec.generation, 1);
    for b in &bins {
        assert_eq!(rec.bin(&b.name), Some(&b.value), "bin {}", b.name);
    }
    assert_eq!(rec.bins.len(), bins.len());

    let some = c
        .get(&rp(), &key, Bins::only(&["i", "s"]))
        .unwrap()
        .unwrap();
    assert_eq!(some.bins.len(), 2);
    assert_eq!(some.bin("s"), Some(&Value::from("hello")));

    let header = c.get(&rp(), &key, Bins::None).unwrap().unwrap();
    assert!(header.bins.is_empty());
    assert_eq!(header.generation, 1);

    assert!(c.exists(&rp(), &key).unwrap());
    assert!(c.delete(&wp(), &key).unwrap());
    assert!(!c.exists(&rp(), &key).unwrap());
    assert!(c.get(&rp(), &key, Bins::All).unwrap().is_none());
    assert!(
        !c.delete(&wp(), &key).unwrap(),
        "second delete finds nothing"
    );
}

#[test]
fn append_prepend_add_touch_and_operate() {
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_ops");
    let key = Key::new(NAMESPACE, &set, 7).unwrap();
    c.put(&wp(), &key, &[Bin::new("s", "hello"), Bin::new("i", 1)])
        .unwrap();
    c.append(&wp(), &key, &[Bin::new("s", "!")]).unwrap();
    c.prepend(&wp(), &key, &[Bin::new("s", ">")]).unwrap();
    c.add(&wp(), &key, &[Bin::new("i", 5)]).unwrap();
    let rec = c.get(&rp(), &key, Bins::All).unwrap().unwrap();
    assert_eq!(rec.bin("s"), Some(&Value::from(">hello!")));
    assert_eq!(rec.bin("i"), Some(&Value::from(6)));
    assert_eq!(rec.generation, 4);

    let rec = c
        .operate(
            &wp(),
            &key,
            &[
                operations::append("s", "?"),
                operations::prepend("s", "<"),
                operations::get_bin("s"),
                operations::add("i", 10),
                operations::get_bin("i"),
            ],
        )
        .unwrap();
    assert_eq!(rec.bin("s"), Some(&Value::from("<>hello!?")));
    assert_eq!(rec.bin("i"), Some(&Value::from(16)));
    assert_eq!(rec.generation, 5);

    // A read-only operate.
    let rec = c.operate(&wp(), &key, &[operations::get_bin("i")]).unwrap();
    assert_eq!(rec.bin("i"), Some(&Value::from(16)));
    assert_eq!(rec.generation, 5);

    let touch = WritePolicy {
        expiration: Expiration::Seconds(600),
        ..wp()
    };
    c.touch(&touch, &key).unwrap();
    let rec = c.get(&rp(), &key, Bins::None).unwrap().unwrap();
    assert_eq!(rec.generation, 6);
    let ttl = rec.ttl().expect("touched record expires");
    assert!((590..=600).contains(&ttl), "ttl {ttl}");

    // Removing a bin by writing nil.
    c.operate(&wp(), &key, &[operations::remove_bin("s")])
        .unwrap();
    let rec = c.get(&rp(), &key, Bins::All).unwrap().unwrap();
    assert!(rec.bin("s").is_none());
    assert!(c.delete(&wp(), &key).unwrap());

    // Touching or operating on a missing record fails with KEY_NOT_FOUND.
    let e = c.touch(&wp(), &key).unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::KEY_NOT_FOUND));
}

#[test]
fn expiration_variants_show_in_the_record() {
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_ttl");
    let key = Key::new(NAMESPACE, &set, "t").unwrap();
    let with = |e: Expiration| WritePolicy {
        expiration: e,
        ..wp()
    };
    c.put(&with(Expiration::Seconds(3600)), &key, &[Bin::new("a", 1)])
        .unwrap();
    let ttl_now = || {
        c.get(&rp(), &key, Bins::None)
            .unwrap()
            .unwrap()
            .ttl()
            .unwrap()
    };
    let ttl = ttl_now();
    assert!((3590..=3600).contains(&ttl), "ttl {ttl}");

    // Keep the current expiration.
    c.put(&with(Expiration::DontUpdate), &key, &[Bin::new("a", 2)])
        .unwrap();
    let ttl = ttl_now();
    assert!((3590..=3600).contains(&ttl), "ttl kept: {ttl}");

    c.put(&with(Expiration::NeverExpire), &key, &[Bin::new("a", 3)])
        .unwrap();
    let rec = c.get(&rp(), &key, Bins::None).unwrap().unwrap();
    assert_eq!(rec.expiration, 0);
    assert_eq!(rec.ttl(), None);
    c.delete(&wp(), &key).unwrap();
}

#[test]
fn generation_and_exists_policies() {
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_gen");
    let key = Key::new(NAMESPACE, &set, "g").unwrap();
    c.put(&wp(), &key, &[Bin::new("a", 1)]).unwrap();
    c.put(&wp(), &key, &[Bin::new("a", 2)]).unwrap();

    let eq = |g| WritePolicy {
        generation: GenerationPolicy::ExpectEqual(g),
        ..wp()
    };
    let e = c.put(&eq(99), &key, &[Bin::new("a", 9)]).unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::GENERATION_ERROR));
    assert!(!e.in_doubt());
    c.put(&eq(2), &key, &[Bin::new("a", 3)]).unwrap();

    let gt = |g| WritePolicy {
        generation: GenerationPolicy::ExpectGreater(g),
        ..wp()
    };
    let e = c.put(&gt(3), &key, &[Bin::new("a", 4)]).unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::GENERATION_ERROR));
    c.put(&gt(4), &key, &[Bin::new("a", 4)]).unwrap();

    let action = |a| WritePolicy {
        record_exists_action: a,
        ..wp()
    };
    let e = c
        .put(
            &action(RecordExistsAction::CreateOnly),
            &key,
            &[Bin::new("a", 5)],
        )
        .unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::KEY_EXISTS));

    // Replace drops the other bins.
    c.put(&wp(), &key, &[Bin::new("other", 1)]).unwrap();
    c.put(
        &action(RecordExistsAction::Replace),
        &key,
        &[Bin::new("a", 6)],
    )
    .unwrap();
    let rec = c.get(&rp(), &key, Bins::All).unwrap().unwrap();
    assert_eq!(rec.bins.len(), 1);
    c.put(
        &action(RecordExistsAction::ReplaceOnly),
        &key,
        &[Bin::new("a", 7)],
    )
    .unwrap();
    c.put(
        &action(RecordExistsAction::UpdateOnly),
        &key,
        &[Bin::new("b", 1)],
    )
    .unwrap();
    let rec = c.get(&rp(), &key, Bins::All).unwrap().unwrap();
    assert_eq!(rec.bin("a"), Some(&Value::from(7)));
    assert_eq!(rec.bin("b"), Some(&Value::from(1)));

    // Durable deletes are an Enterprise feature: a Community server refuses
    // them with ENTERPRISE_ONLY and keeps the record.
    let durable = WritePolicy {
        durable_delete: true,
        ..wp()
    };
    if c.info("edition").unwrap().contains("Enterprise") {
        assert!(c.delete(&durable, &key).unwrap());
    } else {
        let e = c.delete(&durable, &key).unwrap_err();
        assert_eq!(server_code(&e), Some(ResultCode::ENTERPRISE_ONLY));
        assert!(c.exists(&rp(), &key).unwrap());
        assert!(c.delete(&wp(), &key).unwrap());
    }

    for a in [
        RecordExistsAction::UpdateOnly,
        RecordExistsAction::ReplaceOnly,
    ] {
        let e = c.put(&action(a), &key, &[Bin::new("a", 1)]).unwrap_err();
        assert_eq!(server_code(&e), Some(ResultCode::KEY_NOT_FOUND), "{a:?}");
    }
    c.put(
        &action(RecordExistsAction::CreateOnly),
        &key,
        &[Bin::new("a", 1)],
    )
    .unwrap();
    c.delete(&wp(), &key).unwrap();
}

/// The KEY field's bytes are checked by the golden request test; here every
/// key type is accepted by the server with it.
#[test]
fn send_key_is_accepted_for_every_key_type() {
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_sendkey");
    for user in [
        Value::from("k2"),
        Value::from(7),
        Value::Blob(vec![1, 2, b'k', b'b']),
    ] {
        let key = Key::new(NAMESPACE, &set, user.clone()).unwrap();
        let p = WritePolicy {
            send_key: true,
            ..wp()
        };
        c.put(&p, &key, &[Bin::new("a", 1)]).unwrap();
        let rec = c.get(&rp(), &key, Bins::All).unwrap().unwrap();
        assert_eq!(rec.bin("a"), Some(&Value::from(1)));
        let rsend = ReadPolicy {
            send_key: true,
            ..rp()
        };
        assert!(c.exists(&rsend, &key).unwrap());
        assert!(c.delete(&p, &key).unwrap());
    }
}

#[test]
fn client_side_validation() {
    let env = TestEnv::new();
    let c = &env.client;
    let key = Key::new(NAMESPACE, &unique_set("kv_val"), 1).unwrap();
    assert!(matches!(
        c.put(&wp(), &key, &[Bin::new("a_bin_name_too_long", 1)]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.put(&wp(), &key, &[]),
        Err(Error::InvalidArgument(_))
    ));
    assert!(matches!(
        c.operate(&wp(), &key, &[]),
        Err(Error::InvalidArgument(_))
    ));
    let missing_ns = Key::new("no_such_ns", "s", 1).unwrap();
    assert!(matches!(
        c.get(&rp(), &missing_ns, Bins::All),
        Err(Error::NoNode(_))
    ));
}

#[test]
fn filter_expression_guards_reads_and_writes() {
    use aerospike_blocking::exp::{self, Expression};
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_filter");
    let key = Key::new(NAMESPACE, &set, "f").unwrap();
    c.put(&wp(), &key, &[Bin::new("age", 30), Bin::new("name", "ann")])
        .unwrap();

    let older = |n: i64| Some(exp::gt(exp::int_bin("age"), exp::int_val(n)));
    let read_if = |e| ReadPolicy {
        filter_expression: e,
        ..rp()
    };
    let rec = c
        .get(&read_if(older(20)), &key, Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(rec.bin("name"), Some(&Value::from("ann")));
    let e = c.get(&read_if(older(40)), &key, Bins::All).unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::FILTERED_OUT));
    let e = c.exists(&read_if(older(40)), &key).unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::FILTERED_OUT));

    let write_if = |e| WritePolicy {
        filter_expression: e,
        ..wp()
    };
    let e = c
        .put(&write_if(older(40)), &key, &[Bin::new("age", 99)])
        .unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::FILTERED_OUT));
    assert!(!e.in_doubt());
    let ael = Expression::from_ael("$.name == 'ann' and $.age < 40").unwrap();
    c.put(&write_if(Some(ael)), &key, &[Bin::new("age", 31)])
        .unwrap();
    let e = c.delete(&write_if(older(40)), &key).unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::FILTERED_OUT));
    let rec = c
        .operate(
            &write_if(older(30)),
            &key,
            &[aerospike_blocking::operations::get_bin("age")],
        )
        .unwrap();
    assert_eq!(rec.bin("age"), Some(&Value::from(31)));
    assert!(c.delete(&write_if(older(30)), &key).unwrap());
}

/// A stored key is visible to expressions: the record written with
/// `send_key` matches a filter on its key, the one written without does not.
#[test]
fn send_key_stores_the_key_on_the_server() {
    use aerospike_blocking::exp::{self, ExpType};
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_storedkey");
    let with_key = Key::new(NAMESPACE, &set, "stored").unwrap();
    let without = Key::new(NAMESPACE, &set, "digest-only").unwrap();
    let send = WritePolicy {
        send_key: true,
        ..wp()
    };
    c.put(&send, &with_key, &[Bin::new("a", 1)]).unwrap();
    c.put(&wp(), &without, &[Bin::new("a", 1)]).unwrap();
    let key_is = |v: &str| ReadPolicy {
        filter_expression: Some(exp::eq(exp::key(ExpType::String), exp::string_val(v))),
        ..rp()
    };
    assert!(c
        .get(&key_is("stored"), &with_key, Bins::All)
        .unwrap()
        .is_some());
    let has_key = ReadPolicy {
        filter_expression: Some(exp::key_exists()),
        ..rp()
    };
    assert!(c.exists(&has_key, &with_key).unwrap());
    let e = c.get(&has_key, &without, Bins::All).unwrap_err();
    assert_eq!(server_code(&e), Some(ResultCode::FILTERED_OUT));
    c.delete(&wp(), &with_key).unwrap();
    c.delete(&wp(), &without).unwrap();
}

/// `respond_all_ops`: every operation answers, writes with nil, so a bin
/// written then read holds both results in order; without it only reads
/// answer.
#[test]
fn respond_all_ops_answers_every_operation() {
    let env = TestEnv::new();
    let c = &env.client;
    let set = unique_set("kv_respond");
    let key = Key::new(NAMESPACE, &set, 1).unwrap();
    let ops = [operations::add("n", 5), operations::get_bin("n")];
    let rec = c.operate(&wp(), &key, &ops).unwrap();
    assert_eq!(rec.bin("n"), Some(&Value::from(5)));
    let all = WritePolicy {
        respond_all_ops: true,
        ..wp()
    };
    let rec = c.operate(&all, &key, &ops).unwrap();
    assert_eq!(
        rec.bin("n"),
        Some(&Value::List(vec![Value::Nil, Value::from(10)]))
    );
    // A header-only operate reads metadata and no bins (info1 NOBINDATA);
    // before the fix it read every bin, like `get()`.
    let rec = c.operate(&wp(), &key, &[operations::get_header()]).unwrap();
    assert!(rec.bins.is_empty(), "{:?}", rec.bins);
    assert_eq!(rec.generation, 2);
    let rec = c.operate(&wp(), &key, &[operations::get()]).unwrap();
    assert_eq!(rec.bin("n"), Some(&Value::from(10)));
    c.delete(&wp(), &key).unwrap();
}
