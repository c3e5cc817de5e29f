//! Golden wire bytes of filter expressions (field 43).
//!
//! Two come from the real-server fixtures (the official client's own bytes);
//! the others follow the packing rules of the official clients' `Exp`,
//! `ListExp`, `MapExp` and `Packer` classes, cited beside each group.

use aerospike_blocking::exp::{self, ExpType, Expression};
use aerospike_blocking::operations::list::ListReturnType;
use aerospike_blocking::operations::map::MapReturnType;
use aerospike_blocking::operations::CdtContext;
use aerospike_blocking::{list, map, Value};

fn hex(e: &Expression) -> String {
    e.to_bytes().iter().map(|b| format!("{b:02x}")).collect()
}

#[track_caller]
fn golden(e: Expression, want: &str) {
    assert_eq!(hex(&e), want.replace(' ', ""), "{e}");
}

#[test]
fn fixture_bool_bin_eq_true() {
    // bg-ops-single.txt (b): Eq(BoolBin('active'), True), field 43.
    golden(
        exp::eq(exp::bool_bin("active"), exp::bool_val(true)),
        "9301935101a6616374697665c3",
    );
    let parsed = Expression::from_ael("$.active == true").unwrap();
    assert_eq!(hex(&parsed), "9301935101a6616374697665c3");
}

#[test]
fn fixture_int_bin_lt() {
    // bg-ops-single.txt (d): LT(IntBin('i'), 50), field 43.
    golden(
        exp::lt(exp::int_bin("i"), exp::int_val(50)),
        "9305935102a16932",
    );
    assert_eq!(
        hex(&Expression::from_ael("$.i < 50").unwrap()),
        "9305935102a16932"
    );
}

#[test]
fn bins_of_every_type() {
    // Bin: [81, type code, name as a plain msgpack string]; type codes NIL 0,
    // BOOL 1, INT 2, STRING 3, LIST 4, MAP 5, BLOB 6, FLOAT 7, GEO 8, HLL 9.
    golden(exp::int_bin("a"), "93 51 02 a1 61");
    golden(exp::float_bin("a"), "93 51 07 a1 61");
    golden(exp::string_bin("a"), "93 51 03 a1 61");
    golden(exp::bool_bin("a"), "93 51 01 a1 61");
    golden(exp::blob_bin("a"), "93 51 06 a1 61");
    golden(exp::list_bin("a"), "93 51 04 a1 61");
    golden(exp::map_bin("a"), "93 51 05 a1 61");
    golden(exp::geo_bin("a"), "93 51 08 a1 61");
    golden(exp::hll_bin("a"), "93 51 09 a1 61");
    // BIN_TYPE 82 with the name; bin_exists is binType(name) != 0.
    golden(exp::bin_type("a"), "92 52 a1 61");
    golden(exp::bin_exists("a"), "93 02 92 52 a1 61 00");
}

#[test]
fn literals() {
    // Str: packParticleString, a str header over (3, utf8 bytes).
    golden(exp::string_val("ab"), "a3 03 61 62");
    golden(
        exp::string_val(&"x".repeat(31)),
        &format!("d9 20 03 {}", "78".repeat(31)),
    );
    // Blob: packParticleBytes, str header codes over (4, bytes).
    golden(exp::blob_val(vec![1, 2]), "a3 04 01 02");
    // Geo: packGeoJSON, str header over (23, json).
    golden(exp::geo_val("{}"), "a3 17 7b 7d");
    // Ints in their shortest form, floats always as float64.
    golden(exp::int_val(1000), "cd 03 e8");
    golden(exp::int_val(-100), "d0 9c");
    golden(exp::float_val(1.5), "cb 3ff8000000000000");
    golden(exp::bool_val(false), "c2");
    golden(exp::nil(), "c0");
    // ListVal: [126 (QUOTED), list]; MapVal: key-ordered, with the
    // key-ordered map header first (`c7 00 01`, nil), as the official
    // parser and clients send map literals: the server compares maps that
    // way.
    golden(
        exp::list_val(vec![Value::Int(1), Value::from("a")]),
        "92 7e 92 01 a2 03 61",
    );
    golden(
        exp::map_val(vec![(Value::from("k"), Value::Int(1))]),
        "82 c7 00 01 c0 a2 03 6b 01",
    );
    golden(
        exp::map_val(vec![
            (Value::from("b"), Value::Int(2)),
            (Value::Int(9), Value::Int(1)),
        ]),
        "83 c7 00 01 c0 09 01 a2 03 62 02",
    );
}

#[test]
fn record_metadata() {
    // Cmd: [opcode]; CmdInt: [opcode, int].
    golden(exp::digest_modulo(3), "92 40 03");
    golden(exp::device_size(), "91 41");
    golden(exp::last_update(), "91 42");
    golden(exp::since_update(), "91 43");
    golden(exp::void_time(), "91 44");
    golden(exp::ttl(), "91 45");
    golden(exp::set_name(), "91 46");
    golden(exp::key_exists(), "91 47");
    golden(exp::is_tombstone(), "91 48");
    golden(exp::memory_size(), "91 49");
    golden(exp::record_size(), "91 4a");
    golden(exp::key(ExpType::Int), "92 50 02");
    golden(exp::key(ExpType::String), "92 50 03");
}

#[test]
fn comparisons_and_logic() {
    // CmdExp: [opcode, args...] with EQ 1 .. LE 6, AND 16, OR 17, NOT 18, EXCLUSIVE 19.
    let (a, b) = (|| exp::int_bin("a"), || exp::int_val(1));
    golden(exp::eq(a(), b()), "93 01 93 51 02 a1 61 01");
    golden(exp::ne(a(), b()), "93 02 93 51 02 a1 61 01");
    golden(exp::gt(a(), b()), "93 03 93 51 02 a1 61 01");
    golden(exp::ge(a(), b()), "93 04 93 51 02 a1 61 01");
    golden(exp::lt(a(), b()), "93 05 93 51 02 a1 61 01");
    golden(exp::le(a(), b()), "93 06 93 51 02 a1 61 01");
    let (x, y) = (|| exp::bool_bin("x"), || exp::bool_bin("y"));
    golden(
        exp::and(vec![x(), y()]),
        "93 10 93 51 01 a1 78 93 51 01 a1 79",
    );
    golden(
        exp::or(vec![x(), y(), x()]),
        "94 11 93 51 01 a1 78 93 51 01 a1 79 93 51 01 a1 78",
    );
    golden(exp::not(x()), "92 12 93 51 01 a1 78");
    golden(
        exp::exclusive(vec![x(), y()]),
        "93 13 93 51 01 a1 78 93 51 01 a1 79",
    );
    golden(
        exp::eq(exp::string_bin("s"), exp::string_val("ab")),
        "93 01 93 51 03 a1 73 a3 03 61 62",
    );
}

#[test]
fn arithmetic_and_bitwise() {
    // Opcodes ADD 20 .. TO_FLOAT 31, INT_AND 32 .. INT_RSCAN 41, MIN 50, MAX 51.
    let a = || exp::int_bin("a");
    let one = || exp::int_val(1);
    let f = || exp::float_bin("f");
    let two = || exp::float_val(2.0);
    let cases: Vec<(Expression, &str)> = vec![
        (exp::add(vec![a(), one()]), "93 14 93 51 02 a1 61 01"),
        (exp::sub(vec![a(), one()]), "93 15 93 51 02 a1 61 01"),
        (exp::sub(vec![a()]), "92 15 93 51 02 a1 61"),
        (exp::mul(vec![a(), one()]), "93 16 93 51 02 a1 61 01"),
        (exp::div(vec![a(), one()]), "93 17 93 51 02 a1 61 01"),
        (
            exp::pow(f(), two()),
            "93 18 93 51 07 a1 66 cb 4000000000000000",
        ),
        (
            exp::log(f(), two()),
            "93 19 93 51 07 a1 66 cb 4000000000000000",
        ),
        (exp::modulo(a(), one()), "93 1a 93 51 02 a1 61 01"),
        (exp::abs(a()), "92 1b 93 51 02 a1 61"),
        (exp::floor(f()), "92 1c 93 51 07 a1 66"),
        (exp::ceil(f()), "92 1d 93 51 07 a1 66"),
        (exp::to_int(f()), "92 1e 93 51 07 a1 66"),
        (exp::to_float(a()), "92 1f 93 51 02 a1 61"),
        (exp::int_and(vec![a(), one()]), "93 20 93 51 02 a1 61 01"),
        (exp::int_or(vec![a(), one()]), "93 21 93 51 02 a1 61 01"),
        (exp::int_xor(vec![a(), one()]), "93 22 93 51 02 a1 61 01"),
        (exp::int_not(a()), "92 23 93 51 02 a1 61"),
        (exp::int_lshift(a(), one()), "93 24 93 51 02 a1 61 01"),
        (exp::int_rshift(a(), one()), "93 25 93 51 02 a1 61 01"),
        (exp::int_arshift(a(), one()), "93 26 93 51 02 a1 61 01"),
        (exp::int_count(a()), "92 27 93 51 02 a1 61"),
        (
            exp::int_lscan(a(), exp::bool_val(true)),
            "93 28 93 51 02 a1 61 c3",
        ),
        (
            exp::int_rscan(a(), exp::bool_val(false)),
            "93 29 93 51 02 a1 61 c2",
        ),
        (exp::min(vec![a(), one()]), "93 32 93 51 02 a1 61 01"),
        (exp::max(vec![a(), one()]), "93 33 93 51 02 a1 61 01"),
    ];
    for (e, want) in cases {
        golden(e, want);
    }
}

#[test]
fn variables_and_cond() {
    // Let: [125, name1, exp1, ..., scope]; Var: [124, name]; Cond: [123, c1, v1, ..., default].
    golden(
        exp::let_(
            vec![exp::def("x", exp::int_bin("a"))],
            exp::lt(exp::var("x"), exp::int_val(10)),
        ),
        "94 7d a1 78 93 51 02 a1 61 93 05 92 7c a1 78 0a",
    );
    golden(
        exp::cond(vec![exp::bool_bin("a"), exp::int_val(1), exp::int_val(0)]),
        "94 7b 93 51 01 a1 61 01 00",
    );
    // Cmd without arguments: [0] (UNKNOWN).
    golden(exp::unknown(), "91 00");
}

#[test]
fn list_reads() {
    // Module: [127, result type, 0 (list/map module), cdt-op, bin]; the cdt-op
    // is [op, return type, args...] (ListOperation codes SIZE 16, GET_BY_INDEX 19,
    // GET_BY_RANK 21, GET_BY_VALUE 22, GET_BY_VALUE_LIST 23, GET_BY_INDEX_RANGE 24,
    // GET_BY_VALUE_INTERVAL 25, GET_BY_RANK_RANGE 26, GET_BY_VALUE_REL_RANK_RANGE 27).
    let l = || exp::list_bin("l");
    let bin = "93 51 04 a1 6c";
    golden(
        exp::list_size(l(), &[]),
        &format!("95 7f 02 00 91 10 {bin}"),
    );
    golden(
        exp::list_get_by_index(
            ListReturnType::VALUE,
            ExpType::Int,
            exp::int_val(0),
            l(),
            &[],
        ),
        &format!("95 7f 02 00 93 13 07 00 {bin}"),
    );
    golden(
        exp::list_get_by_rank(
            ListReturnType::VALUE,
            ExpType::String,
            exp::int_val(-1),
            l(),
            &[],
        ),
        &format!("95 7f 03 00 93 15 07 ff {bin}"),
    );
    // Inverted return types set bit 0x10000.
    golden(
        exp::list_get_by_value(ListReturnType::COUNT.inverted(), exp::int_val(5), l(), &[]),
        &format!("95 7f 02 00 93 16 ce 00 01 00 05 05 {bin}"),
    );
    golden(
        exp::list_get_by_value_list(
            ListReturnType::EXISTS,
            exp::list_val(vec![Value::Int(1), Value::Int(2)]),
            l(),
            &[],
        ),
        &format!("95 7f 01 00 93 17 0d 92 7e 92 01 02 {bin}"),
    );
    golden(
        exp::list_get_by_index_range(
            ListReturnType::VALUE,
            exp::int_val(1),
            Some(exp::int_val(2)),
            l(),
            &[],
        ),
        &format!("95 7f 04 00 94 18 07 01 02 {bin}"),
    );
    // Range with an open end: the end is left out; an open begin is nil.
    golden(
        exp::list_get_by_value_range(ListReturnType::COUNT, None, Some(exp::int_val(9)), l(), &[]),
        &format!("95 7f 02 00 94 19 05 c0 09 {bin}"),
    );
    golden(
        exp::list_get_by_rank_range(ListReturnType::COUNT, exp::int_val(0), None, l(), &[]),
        &format!("95 7f 02 00 93 1a 05 00 {bin}"),
    );
    golden(
        exp::list_get_by_value_relative_rank_range(
            ListReturnType::COUNT,
            exp::int_val(5),
            exp::int_val(0),
            Some(exp::int_val(2)),
            l(),
            &[],
        ),
        &format!("95 7f 02 00 95 1b 05 05 00 02 {bin}"),
    );
}

#[test]
fn map_reads() {
    // MapOperation codes SIZE 96, GET_BY_KEY 97, GET_BY_INDEX 98, GET_BY_RANK 100,
    // GET_BY_VALUE 102, GET_BY_KEY_INTERVAL 103, GET_BY_INDEX_RANGE 104,
    // GET_BY_VALUE_INTERVAL 105, GET_BY_RANK_RANGE 106, GET_BY_KEY_LIST 107,
    // GET_BY_VALUE_LIST 108, GET_BY_KEY_REL_INDEX_RANGE 109, GET_BY_VALUE_REL_RANK_RANGE 110.
    let m = || exp::map_bin("m");
    let bin = "93 51 05 a1 6d";
    golden(exp::map_size(m(), &[]), &format!("95 7f 02 00 91 60 {bin}"));
    golden(
        exp::map_get_by_key(
            MapReturnType::VALUE,
            ExpType::String,
            exp::string_val("k"),
            m(),
            &[],
        ),
        &format!("95 7f 03 00 93 61 07 a2 03 6b {bin}"),
    );
    golden(
        exp::map_get_by_index(
            MapReturnType::KEY,
            ExpType::String,
            exp::int_val(0),
            m(),
            &[],
        ),
        &format!("95 7f 03 00 93 62 06 00 {bin}"),
    );
    golden(
        exp::map_get_by_rank(
            MapReturnType::VALUE,
            ExpType::Int,
            exp::int_val(0),
            m(),
            &[],
        ),
        &format!("95 7f 02 00 93 64 07 00 {bin}"),
    );
    golden(
        exp::map_get_by_value(MapReturnType::KEY, exp::int_val(1), m(), &[]),
        &format!("95 7f 04 00 93 66 06 01 {bin}"),
    );
    golden(
        exp::map_get_by_key_range(
            MapReturnType::COUNT,
            Some(exp::string_val("a")),
            Some(exp::string_val("c")),
            m(),
            &[],
        ),
        &format!("95 7f 02 00 94 67 05 a2 03 61 a2 03 63 {bin}"),
    );
    golden(
        exp::map_get_by_index_range(MapReturnType::KEY_VALUE, exp::int_val(1), None, m(), &[]),
        &format!("95 7f 05 00 93 68 08 01 {bin}"),
    );
    golden(
        exp::map_get_by_value_range(MapReturnType::EXISTS, Some(exp::int_val(1)), None, m(), &[]),
        &format!("95 7f 01 00 93 69 0d 01 {bin}"),
    );
    golden(
        exp::map_get_by_rank_range(MapReturnType::VALUE, exp::int_val(-2), None, m(), &[]),
        &format!("95 7f 04 00 93 6a 07 fe {bin}"),
    );
    golden(
        exp::map_get_by_key_list(
            MapReturnType::COUNT,
            exp::list_val(vec![Value::from("a")]),
            m(),
            &[],
        ),
        &format!("95 7f 02 00 93 6b 05 92 7e 91 a2 03 61 {bin}"),
    );
    golden(
        exp::map_get_by_value_list(
            MapReturnType::COUNT,
            exp::list_val(vec![Value::Int(1)]),
            m(),
            &[],
        ),
        &format!("95 7f 02 00 93 6c 05 92 7e 91 01 {bin}"),
    );
    golden(
        exp::map_get_by_key_relative_index_range(
            MapReturnType::COUNT,
            exp::string_val("k"),
            exp::int_val(0),
            Some(exp::int_val(2)),
            m(),
            &[],
        ),
        &format!("95 7f 02 00 95 6d 05 a2 03 6b 00 02 {bin}"),
    );
    golden(
        exp::map_get_by_value_relative_rank_range(
            MapReturnType::COUNT,
            exp::int_val(5),
            exp::int_val(0),
            None,
            m(),
            &[],
        ),
        &format!("95 7f 02 00 94 6e 05 05 00 {bin}"),
    );
}

#[test]
fn context_paths() {
    // With a context the cdt-op becomes [0xff, [id, value, ...], [op, ...]];
    // ids LIST_INDEX 0x10, LIST_RANK 0x11, LIST_VALUE 0x13, MAP_INDEX 0x20,
    // MAP_RANK 0x21, MAP_KEY 0x22, MAP_VALUE 0x23; values packed as list items.
    golden(
        exp::list_get_by_index(
            ListReturnType::VALUE,
            ExpType::Int,
            exp::int_val(0),
            exp::map_bin("m"),
            &[CdtContext::map_key("k")],
        ),
        "95 7f 02 00 93 cc ff 92 22 a2 03 6b 93 13 07 00 93 51 05 a1 6d",
    );
    golden(
        exp::map_size(
            exp::list_bin("l"),
            &[CdtContext::list_index(-1), CdtContext::list_rank(0), CdtContext::list_value(list![1]), CdtContext::map_index(2), CdtContext::map_rank(3), CdtContext::map_value(map! {"a" => 1})],
        ),
        "95 7f 02 00 93 cc ff 9c 10 ff 11 00 13 91 01 20 02 21 03 23 81 a2 03 61 01 91 60 93 51 04 a1 6c",
    );
}

#[test]
fn parsed_text_packs_like_the_builder() {
    let e = Expression::from_ael("$.prefs.theme == 'dark' and $.scores.[0] >= 90").unwrap();
    assert_eq!(
        hex(&e),
        "93 10 93 01 95 7f 03 00 93 61 07 a6 03 74 68 65 6d 65 93 51 05 a5 70 72 65 66 73 a5 03 64 61 72 6b 93 04 95 7f 02 00 93 13 07 00 93 51 04 a6 73 63 6f 72 65 73 5a"
            .replace(' ', "")
    );
}
