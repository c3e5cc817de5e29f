//! UDF module management: register (from bytes and from a file), list,
//! remove, compile errors. Runs on the embedded cluster or, with
//! `AEROSPIKE_HOSTS`, on a real one.

mod common;

use aerospike_blocking::{Error, ResultCode, UdfLanguage};
use common::{unique_set, TestEnv};

const CODE: &str = "function one(rec)\n  return 1\nend\n";

#[test]
fn register_list_and_remove_on_every_node() {
    let env = TestEnv::new();
    let name = format!("{}.lua", unique_set("udf_reg"));
    env.client
        .register_udf_bytes(&name, CODE.as_bytes(), UdfLanguage::Lua)
        .unwrap();
    // Registration returns once every node lists the module with one hash.
    let nodes = env.client.nodes();
    let mut hashes = Vec::new();
    for n in &nodes {
        let listed = env.client.info_on(&n.name, &["udf-list"]).unwrap();
        let value = &listed[0].1;
        let entry = value
            .split(';')
            .find(|e| e.contains(&format!("filename={name},")))
            .unwrap_or_else(|| panic!("{} does not list {name}: {value}", n.name));
        hashes.push(
            entry
                .split(',')
                .find(|p| p.starts_with("hash="))
                .unwrap()
                .to_owned(),
        );
    }
    assert!(hashes.windows(2).all(|w| w[0] == w[1]), "{hashes:?}");

    let m = env
        .client
        .list_udfs()
        .unwrap()
        .into_iter()
        .find(|m| m.name == name)
        .expect("listed");
    assert_eq!(m.language, UdfLanguage::Lua);
    assert_eq!(format!("hash={}", m.hash), hashes[0]);
    assert_eq!(m.package(), name.trim_end_matches(".lua"));

    // Registering the same name again with new content replaces it.
    env.client
        .register_udf_bytes(
            &name,
            b"function two(rec)\n  return 2\nend\n",
            UdfLanguage::Lua,
        )
        .unwrap();
    let again = env.client.list_udfs().unwrap();
    let m2 = again.iter().find(|m| m.name == name).unwrap();
    assert_ne!(m2.hash, m.hash);

    env.client.remove_udf(&name).unwrap();
    for n in &nodes {
        let listed = env.client.info_on(&n.name, &["udf-list"]).unwrap();
        assert!(
            !listed[0].1.contains(&name),
            "{} still lists {name}",
            n.name
        );
    }
    let err = env.client.remove_udf(&name).unwrap_err();
    assert_eq!(err.result_code(), Some(ResultCode::KEY_NOT_FOUND));
}

#[test]
fn register_from_a_file_and_compile_errors() {
    let env = TestEnv::new();
    let name = format!("{}.lua", unique_set("udf_file"));
    let path = std::env::temp_dir().join(&name);
    std::fs::write(&path, CODE).unwrap();
    env.client.register_udf(&path).unwrap();
    assert!(env
        .client
        .list_udfs()
        .unwrap()
        .iter()
        .any(|m| m.name == name));
    env.client.remove_udf(&name).unwrap();
    std::fs::remove_file(&path).unwrap();

    let broken = format!("{}.lua", unique_set("udf_broken"));
    let err = env
        .client
        .register_udf_bytes(&broken, b"function broken(rec\n", UdfLanguage::Lua)
        .unwrap_err();
    assert!(matches!(err, Error::Info { .. }), "{err}");
    assert!(err.to_string().contains("compile_error"), "{err}");
    assert!(!env
        .client
        .list_udfs()
        .unwrap()
        .iter()
        .any(|m| m.name == broken));

    let err = env
        .client
        .register_udf("/no/such/dir/file.lua")
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err = env
        .client
        .register_udf_bytes("bad;name.lua", CODE.as_bytes(), UdfLanguage::Lua)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
    let err = env
        .client
        .register_udf_bytes("empty.lua", b"", UdfLanguage::Lua)
        .unwrap_err();
    assert!(matches!(err, Error::InvalidArgument(_)), "{err}");
}
