//! Record UDFs: one key (`Client::execute_udf`) and many
//! (`Client::batch_execute_udf`): return values, nil, errors raised by the
//! function, records created by it. Runs on the embedded cluster or, with
//! `AEROSPIKE_HOSTS`, on a real one.

mod common;

use aerospike_blocking::batch::{BatchPolicy, BatchResult};
use aerospike_blocking::{
    Bins, Error, Key, ReadPolicy, ResultCode, UdfLanguage, Value, WritePolicy,
};
use common::{unique_set, TestEnv, NAMESPACE};

const CODE: &str = r#"
function bump(rec, n)
  rec['c'] = (rec['c'] or 0) + n
  if aerospike:exists(rec) then
    aerospike:update(rec)
  else
    aerospike:create(rec)
  end
  return rec['c']
end

function boom(rec)
  error('boom')
end

function nothing(rec)
end
"#;

/// A registered module, removed again when dropped (a real cluster is
/// shared: tests leave no module behind, even when they fail).
struct Module<'a> {
    env: &'a TestEnv,
    name: String,
}

impl Drop for Module<'_> {
    fn drop(&mut self) {
        let _ = self.env.client.remove_udf(&format!("{}.lua", self.name));
    }
}

fn module(env: &TestEnv) -> Module<'_> {
    let name = unique_set("udf_apply");
    env.client
        .register_udf_bytes(&format!("{name}.lua"), CODE.as_bytes(), UdfLanguage::Lua)
        .unwrap();
    Module { env, name }
}

#[test]
fn one_key_return_values_nil_and_errors() {
    let env = TestEnv::new();
    let module = module(&env);
    let m = module.name.as_str();
    let set = unique_set("udf_apply_one");
    let key = Key::new(NAMESPACE, &set, 1).unwrap();
    let wp = WritePolicy::default();
    // The function creates the missing record, then updates it.
    let got = env
        .client
        .execute_udf(&wp, &key, m, "bump", &[Value::from(5)]);
    assert_eq!(got.unwrap(), Some(Value::Int(5)));
    let got = env
        .client
        .execute_udf(&wp, &key, m, "bump", &[Value::from(2)]);
    assert_eq!(got.unwrap(), Some(Value::Int(7)));
    let rec = env
        .client
        .get(&ReadPolicy::default(), &key, Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(rec.bin("c"), Some(&Value::Int(7)));
    assert_eq!(rec.generation, 2);
    // A function returning nothing.
    assert_eq!(
        env.client
            .execute_udf(&wp, &key, m, "nothing", &[])
            .unwrap(),
        None
    );
    // An error raised by the function: its text, and the record unchanged.
    match env.client.execute_udf(&wp, &key, m, "boom", &[]) {
        Err(Error::Udf { message }) => assert!(message.contains("boom"), "{message}"),
        other => panic!("{other:?}"),
    }
    let rec = env
        .client
        .get(&ReadPolicy::default(), &key, Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(rec.bin("c"), Some(&Value::Int(7)));
    // Bad input is refused before anything is sent.
    assert!(matches!(
        env.client.execute_udf(&wp, &key, "", "bump", &[]),
        Err(Error::InvalidArgument(_))
    ));
}

#[test]
fn many_keys_each_with_its_own_outcome() {
    let env = TestEnv::new();
    let module = module(&env);
    let m = module.name.as_str();
    let set = unique_set("udf_apply_many");
    let keys: Vec<Key> = (0..30)
        .map(|i| Key::new(NAMESPACE, &set, i).unwrap())
        .collect();
    let wp = WritePolicy::default();
    for k in &keys[..10] {
        env.client
            .execute_udf(&wp, k, m, "bump", &[Value::from(100)])
            .unwrap();
    }
    let policy = BatchPolicy::default();
    let done = env
        .client
        .batch_execute_udf(&policy, &keys, m, "bump", &[Value::from(1)])
        .unwrap();
    assert_eq!(done.len(), keys.len());
    for (i, r) in done.iter().enumerate() {
        assert_eq!(r.key, keys[i]);
        let want = if i < 10 { 101 } else { 1 };
        let BatchResult::Found(rec) = &r.result else {
            panic!("key {i}: {:?}", r.result);
        };
        assert_eq!(rec.bin("SUCCESS"), Some(&Value::Int(want)), "key {i}");
    }
    let failed = env
        .client
        .batch_execute_udf(&policy, &keys[..5], m, "boom", &[])
        .unwrap();
    for r in &failed {
        match &r.result {
            BatchResult::Failed {
                code,
                message,
                in_doubt,
            } => {
                assert_eq!(*code, Some(ResultCode::UDF_BAD_RESPONSE));
                assert!(message.contains("boom"), "{message}");
                assert!(!in_doubt);
            }
            other => panic!("{other:?}"),
        }
    }
    // Nothing the failing function did was kept.
    let rec = env
        .client
        .get(&ReadPolicy::default(), &keys[0], Bins::All)
        .unwrap()
        .unwrap();
    assert_eq!(rec.bin("c"), Some(&Value::Int(101)));
}
