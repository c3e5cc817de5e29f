//! The AEL where-clause language: parsing, typing, errors and printing.

use aerospike_blocking::exp::{self, ExpType, Expression};
use aerospike_blocking::operations::list::ListReturnType;
use aerospike_blocking::operations::map::MapReturnType;
use aerospike_blocking::operations::CdtContext;
use aerospike_blocking::{list, map, Error, Value};
use proptest::prelude::*;

fn table() -> Vec<(&'static str, Expression)> {
    use exp::*;
    let i = |n: i64| int_val(n);
    let s = |x: &str| string_val(x);
    let f = |x: f64| float_val(x);
    let lv = ListReturnType::VALUE;
    let mv = MapReturnType::VALUE;
    vec![
        // Literals and inference from the other side.
        ("$.active == true", eq(bool_bin("active"), bool_val(true))),
        ("$.i < 50", lt(int_bin("i"), i(50))),
        ("$.name == 'bob'", eq(string_bin("name"), s("bob"))),
        ("$.name == \"bob\"", eq(string_bin("name"), s("bob"))),
        ("'bob' == $.name", eq(s("bob"), string_bin("name"))),
        ("$.f >= 1.5", ge(float_bin("f"), f(1.5))),
        ("$.a != 0x1F", ne(int_bin("a"), i(31))),
        ("$.a > 0b101", gt(int_bin("a"), i(5))),
        ("$.a <= -7", le(int_bin("a"), i(-7))),
        ("$.a == -9223372036854775808", eq(int_bin("a"), i(i64::MIN))),
        ("$.a == $.b", eq(int_bin("a"), int_bin("b"))),
        (
            "$.l.get(type: LIST) == [1, 'a', 2.5]",
            eq(
                list_bin("l"),
                list_val(vec![Value::Int(1), Value::from("a"), Value::Float(2.5)]),
            ),
        ),
        (
            "$.m.get(type: MAP) == {1: 'x', 'k': 2}",
            eq(
                map_bin("m"),
                map_val(vec![
                    (Value::Int(1), Value::from("x")),
                    (Value::from("k"), Value::Int(2)),
                ]),
            ),
        ),
        (
            "$.b == blob('00ff')",
            eq(blob_bin("b"), blob_val(vec![0, 255])),
        ),
        ("$.g == geoJson('{}')", eq(geo_bin("g"), geo_val("{}"))),
        // Casts are conversions the server runs, on literals too (as the
        // official AEL parser builds them).
        ("$.f == 5.asFloat()", eq(float_bin("f"), to_float(i(5)))),
        ("$.a == 5.9.asInt()", eq(int_bin("a"), to_int(f(5.9)))),
        // A bare bin in a logical position is a boolean bin.
        ("$.active", bool_bin("active")),
        ("not($.deleted)", not(bool_bin("deleted"))),
        (
            "$.a and $.b or $.c",
            or(vec![and(vec![bool_bin("a"), bool_bin("b")]), bool_bin("c")]),
        ),
        (
            "$.a and ($.b or $.c)",
            and(vec![bool_bin("a"), or(vec![bool_bin("b"), bool_bin("c")])]),
        ),
        (
            "$.a or $.b or $.c",
            or(vec![bool_bin("a"), bool_bin("b"), bool_bin("c")]),
        ),
        (
            "($.a or $.b) or $.c",
            or(vec![or(vec![bool_bin("a"), bool_bin("b")]), bool_bin("c")]),
        ),
        (
            "exclusive($.trial, $.paid)",
            exclusive(vec![bool_bin("trial"), bool_bin("paid")]),
        ),
        (
            "not($.deleted == true) and $.lastUpdate() < 100",
            and(vec![
                not(eq(bool_bin("deleted"), bool_val(true))),
                lt(last_update(), i(100)),
            ]),
        ),
        // Arithmetic, precedence and associativity.
        (
            "$.a + $.b == 10",
            eq(add(vec![int_bin("a"), int_bin("b")]), i(10)),
        ),
        (
            "$.a + 1 * 2 == 3",
            eq(add(vec![int_bin("a"), mul(vec![i(1), i(2)])]), i(3)),
        ),
        (
            "($.a + 1) * 2 == 3",
            eq(mul(vec![add(vec![int_bin("a"), i(1)]), i(2)]), i(3)),
        ),
        (
            "$.a - 1 - 2 == 0",
            eq(sub(vec![sub(vec![int_bin("a"), i(1)]), i(2)]), i(0)),
        ),
        (
            "$.a / 2 % 3 == 1",
            eq(modulo(div(vec![int_bin("a"), i(2)]), i(3)), i(1)),
        ),
        (
            "$.f + 1.0 > 2.0",
            gt(add(vec![float_bin("f"), f(1.0)]), f(2.0)),
        ),
        (
            "$.f ** 2.0 ** 3.0 > 1.0",
            gt(pow(float_bin("f"), pow(f(2.0), f(3.0))), f(1.0)),
        ),
        ("-$.a == 3", eq(sub(vec![int_bin("a")]), i(3))),
        ("+$.a == 3", eq(int_bin("a"), i(3))),
        (
            "$.visits.get(type: INT) % 2 == 0",
            eq(modulo(int_bin("visits"), i(2)), i(0)),
        ),
        // `.asFloat()` reads an integer bin and converts it.
        ("$.a.asFloat() > 1.5", gt(to_float(int_bin("a")), f(1.5))),
        (
            "abs($.a) == 1 and min($.a, 2) == 1 and max(1.0, $.f) > 0.0",
            and(vec![
                eq(abs(int_bin("a")), i(1)),
                eq(min(vec![int_bin("a"), i(2)]), i(1)),
                gt(max(vec![f(1.0), float_bin("f")]), f(0.0)),
            ]),
        ),
        (
            "floor($.f) == ceil($.g)",
            eq(floor(float_bin("f")), ceil(float_bin("g"))),
        ),
        (
            "log($.f, 2.0) > pow($.g, 2.0)",
            gt(log(float_bin("f"), f(2.0)), pow(float_bin("g"), f(2.0))),
        ),
        (
            "toInt($.f) == 1 and toFloat($.a) == 1.0",
            and(vec![
                eq(to_int(float_bin("f")), i(1)),
                eq(to_float(int_bin("a")), f(1.0)),
            ]),
        ),
        // Bitwise: comparison binds looser than & | ^.
        (
            "$.flags & 4 == 4",
            eq(int_and(vec![int_bin("flags"), i(4)]), i(4)),
        ),
        (
            "($.flags & 0x0F) != 0",
            ne(int_and(vec![int_bin("flags"), i(15)]), i(0)),
        ),
        (
            "$.a | 1 ^ 2 == 3",
            eq(int_xor(vec![int_or(vec![int_bin("a"), i(1)]), i(2)]), i(3)),
        ),
        (
            "$.a << 2 >> 1 == 2",
            eq(int_arshift(int_lshift(int_bin("a"), i(2)), i(1)), i(2)),
        ),
        ("$.a >>> 1 == 2", eq(int_rshift(int_bin("a"), i(1)), i(2))),
        ("~$.a == 0", eq(int_not(int_bin("a")), i(0))),
        (
            "$.a + 1 << 2 == 8",
            eq(int_lshift(add(vec![int_bin("a"), i(1)]), i(2)), i(8)),
        ),
        (
            "countOneBits($.a) == findBitLeft($.b, true)",
            eq(
                int_count(int_bin("a")),
                int_lscan(int_bin("b"), bool_val(true)),
            ),
        ),
        (
            "findBitRight($.a, false) == 0",
            eq(int_rscan(int_bin("a"), bool_val(false)), i(0)),
        ),
        // Metadata.
        (
            "$.ttl() < 3600 and $.setName() == 'sessions'",
            and(vec![lt(ttl(), i(3600)), eq(set_name(), s("sessions"))]),
        ),
        (
            "$.voidTime() > 0 and $.sinceUpdate() > 10",
            and(vec![gt(void_time(), i(0)), gt(since_update(), i(10))]),
        ),
        (
            "$.keyExists() and not($.isTombstone())",
            and(vec![key_exists(), not(is_tombstone())]),
        ),
        (
            "$.deviceSize() + $.memorySize() + $.recordSize() > 0",
            gt(
                add(vec![add(vec![device_size(), memory_size()]), record_size()]),
                i(0),
            ),
        ),
        ("$.digestModulo(3) == 1", eq(digest_modulo(3), i(1))),
        (
            "$.lastUpdateTime() > 0 and $.timeSinceLastUpdate() > 10",
            and(vec![gt(last_update(), i(0)), gt(since_update(), i(10))]),
        ),
        ("$.key() == 'k'", eq(key(ExpType::String), s("k"))),
        (
            "$.key().get(type: INT) > $.a",
            gt(key(ExpType::Int), int_bin("a")),
        ),
        ("$.a.exists()", bin_exists("a")),
        ("$.a.binType() == 3", eq(bin_type("a"), i(3))),
        // Control structures.
        (
            "let(used = $.a + $.b, cap = 100) then (${used} < ${cap})",
            let_(
                vec![
                    def("used", add(vec![int_bin("a"), int_bin("b")])),
                    def("cap", i(100)),
                ],
                lt(var("used"), var("cap")),
            ),
        ),
        (
            "let(x = 'a') then (${x} == $.s)",
            let_(vec![def("x", s("a"))], eq(var("x"), string_bin("s"))),
        ),
        (
            "when($.country == 'US' => 1, $.country == 'CA' => 2, default => 0) == 5",
            eq(
                cond(vec![
                    eq(string_bin("country"), s("US")),
                    i(1),
                    eq(string_bin("country"), s("CA")),
                    i(2),
                    i(0),
                ]),
                i(5),
            ),
        ),
        (
            "when($.a > 1 => $.s, default => 'x') == 'y'",
            eq(
                cond(vec![gt(int_bin("a"), i(1)), string_bin("s"), s("x")]),
                s("y"),
            ),
        ),
        // Membership.
        (
            "$.status in ['inactive', 'banned']",
            list_get_by_value(
                ListReturnType::EXISTS,
                string_bin("status"),
                list_val(vec![Value::from("inactive"), Value::from("banned")]),
                &[],
            ),
        ),
        (
            "7 in $.l",
            list_get_by_value(ListReturnType::EXISTS, i(7), list_bin("l"), &[]),
        ),
        // Paths into maps and lists.
        (
            "$.prefs.theme == 'dark'",
            eq(
                map_get_by_key(mv, ExpType::String, s("theme"), map_bin("prefs"), &[]),
                s("dark"),
            ),
        ),
        (
            "$.prefs.\"theme\" == 'dark'",
            eq(
                map_get_by_key(mv, ExpType::String, s("theme"), map_bin("prefs"), &[]),
                s("dark"),
            ),
        ),
        (
            "$.m.42 == 1",
            eq(
                map_get_by_key(mv, ExpType::Int, i(42), map_bin("m"), &[]),
                i(1),
            ),
        ),
        (
            "$.scores.[0] >= 90",
            ge(
                list_get_by_index(lv, ExpType::Int, i(0), list_bin("scores"), &[]),
                i(90),
            ),
        ),
        (
            "$.scores.[=100].count() > 0",
            gt(
                list_get_by_value(ListReturnType::COUNT, i(100), list_bin("scores"), &[]),
                i(0),
            ),
        ),
        (
            "$.a.b.[1].c == 'x'",
            eq(
                map_get_by_key(
                    mv,
                    ExpType::String,
                    s("c"),
                    map_bin("a"),
                    &[CdtContext::map_key("b"), CdtContext::list_index(1)],
                ),
                s("x"),
            ),
        ),
        (
            "$.l.[].count() == 2",
            eq(list_size(list_bin("l"), &[]), i(2)),
        ),
        ("$.m.{}.count() == 2", eq(map_size(map_bin("m"), &[]), i(2))),
        // The size of the list found at `k` (official AEL: a read of the
        // element, then its size).
        (
            "$.m.k.[].count() == 2",
            eq(
                list_size(
                    map_get_by_key(mv, ExpType::List, s("k"), map_bin("m"), &[]),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.l.[#0] == 1 and $.l.[#-1] == 9",
            and(vec![
                eq(
                    list_get_by_rank(lv, ExpType::Int, i(0), list_bin("l"), &[]),
                    i(1),
                ),
                eq(
                    list_get_by_rank(lv, ExpType::Int, i(-1), list_bin("l"), &[]),
                    i(9),
                ),
            ]),
        ),
        (
            "$.l.[1:3] == [2, 3]",
            eq(
                list_get_by_index_range(lv, i(1), Some(i(2)), list_bin("l"), &[]),
                list_val(vec![Value::Int(2), Value::Int(3)]),
            ),
        ),
        (
            "$.l.[-2:].count() == 2",
            eq(
                list_get_by_index_range(ListReturnType::COUNT, i(-2), None, list_bin("l"), &[]),
                i(2),
            ),
        ),
        (
            "$.l.[=1:5].count() == 1",
            eq(
                list_get_by_value_range(
                    ListReturnType::COUNT,
                    Some(i(1)),
                    Some(i(5)),
                    list_bin("l"),
                    &[],
                ),
                i(1),
            ),
        ),
        (
            "$.l.[=a,b].exists()",
            list_get_by_value_list(
                ListReturnType::EXISTS,
                list_val(vec![Value::from("a"), Value::from("b")]),
                list_bin("l"),
                &[],
            ),
        ),
        (
            "$.l.[#0:3].get(type: LIST) == [1]",
            eq(
                list_get_by_rank_range(lv, i(0), Some(i(3)), list_bin("l"), &[]),
                list_val(vec![Value::Int(1)]),
            ),
        ),
        (
            "$.l.[#0:2~5].count() == 2",
            eq(
                list_get_by_value_relative_rank_range(
                    ListReturnType::COUNT,
                    i(5),
                    i(0),
                    Some(i(2)),
                    list_bin("l"),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.l.[!0:1].count() == 2",
            eq(
                list_get_by_index_range(
                    ListReturnType::COUNT.inverted(),
                    i(0),
                    Some(i(1)),
                    list_bin("l"),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.l.[!=1].count() == 2",
            eq(
                list_get_by_value(ListReturnType::COUNT.inverted(), i(1), list_bin("l"), &[]),
                i(2),
            ),
        ),
        (
            "$.m.{a-c}.count() == 2",
            eq(
                map_get_by_key_range(
                    MapReturnType::COUNT,
                    Some(s("a")),
                    Some(s("c")),
                    map_bin("m"),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.m.{a-}.count() == 2",
            eq(
                map_get_by_key_range(MapReturnType::COUNT, Some(s("a")), None, map_bin("m"), &[]),
                i(2),
            ),
        ),
        (
            "$.m.{a,b}.count() == 2",
            eq(
                map_get_by_key_list(
                    MapReturnType::COUNT,
                    list_val(vec![Value::from("a"), Value::from("b")]),
                    map_bin("m"),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.m.{!a,b}.count() == 2",
            eq(
                map_get_by_key_list(
                    MapReturnType::COUNT.inverted(),
                    list_val(vec![Value::from("a"), Value::from("b")]),
                    map_bin("m"),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.m.{1:3}.count() == 2",
            eq(
                map_get_by_index_range(MapReturnType::COUNT, i(1), Some(i(2)), map_bin("m"), &[]),
                i(2),
            ),
        ),
        (
            "$.m.{=5}.count() == 1",
            eq(
                map_get_by_value(MapReturnType::COUNT, i(5), map_bin("m"), &[]),
                i(1),
            ),
        ),
        (
            "$.m.{=1,2}.count() == 1",
            eq(
                map_get_by_value_list(
                    MapReturnType::COUNT,
                    list_val(vec![Value::Int(1), Value::Int(2)]),
                    map_bin("m"),
                    &[],
                ),
                i(1),
            ),
        ),
        (
            "$.m.{=1:9}.count() == 1",
            eq(
                map_get_by_value_range(
                    MapReturnType::COUNT,
                    Some(i(1)),
                    Some(i(9)),
                    map_bin("m"),
                    &[],
                ),
                i(1),
            ),
        ),
        (
            "$.m.{#0:3}.count() == 3",
            eq(
                map_get_by_rank_range(MapReturnType::COUNT, i(0), Some(i(3)), map_bin("m"), &[]),
                i(3),
            ),
        ),
        (
            "$.m.{#0:2~v}.count() == 2",
            eq(
                map_get_by_value_relative_rank_range(
                    MapReturnType::COUNT,
                    s("v"),
                    i(0),
                    Some(i(2)),
                    map_bin("m"),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.m.{0:2~k}.count() == 2",
            eq(
                map_get_by_key_relative_index_range(
                    MapReturnType::COUNT,
                    s("k"),
                    i(0),
                    Some(i(2)),
                    map_bin("m"),
                    &[],
                ),
                i(2),
            ),
        ),
        (
            "$.m.{0} == 1 and $.m.{#0} == 2",
            and(vec![
                eq(
                    map_get_by_index(mv, ExpType::Int, i(0), map_bin("m"), &[]),
                    i(1),
                ),
                eq(
                    map_get_by_rank(mv, ExpType::Int, i(0), map_bin("m"), &[]),
                    i(2),
                ),
            ]),
        ),
        (
            "$.m.{=1}.get(type: LIST, return: KEY) == ['a']",
            eq(
                map_get_by_value(MapReturnType::KEY, i(1), map_bin("m"), &[]),
                list_val(vec![Value::from("a")]),
            ),
        ),
        (
            "$.m.k.get(type: STRING) == $.s",
            eq(
                map_get_by_key(mv, ExpType::String, s("k"), map_bin("m"), &[]),
                string_bin("s"),
            ),
        ),
        (
            "$.l.[0].asFloat() > 1.0",
            gt(
                to_float(list_get_by_index(
                    lv,
                    ExpType::Int,
                    i(0),
                    list_bin("l"),
                    &[],
                )),
                f(1.0),
            ),
        ),
        (
            "$.l.[0].exists()",
            list_get_by_index(
                ListReturnType::EXISTS,
                ExpType::Bool,
                i(0),
                list_bin("l"),
                &[],
            ),
        ),
        (
            "$.l.[#1].[=2].{k}.count() == 1",
            eq(
                map_get_by_key_list(
                    MapReturnType::COUNT,
                    list_val(vec![Value::from("k")]),
                    list_bin("l"),
                    &[CdtContext::list_rank(1), CdtContext::list_value(2)],
                ),
                i(1),
            ),
        ),
        (
            "$.m.{1}.{#2}.{=x}.a == 1",
            eq(
                map_get_by_key(
                    mv,
                    ExpType::Int,
                    s("a"),
                    map_bin("m"),
                    &[
                        CdtContext::map_index(1),
                        CdtContext::map_rank(2),
                        CdtContext::map_value("x"),
                    ],
                ),
                i(1),
            ),
        ),
        ("$.a  ==\n  1", eq(int_bin("a"), i(1))),
        (
            "$.m.12.2 == 1.5",
            eq(
                map_get_by_key(
                    mv,
                    ExpType::Float,
                    i(2),
                    map_bin("m"),
                    &[CdtContext::map_key(12)],
                ),
                f(1.5),
            ),
        ),
        (
            "$.l.[0].get(return: INDEX) == 0",
            eq(
                list_get_by_index(
                    ListReturnType::INDEX,
                    ExpType::Int,
                    i(0),
                    list_bin("l"),
                    &[],
                ),
                i(0),
            ),
        ),
        (
            "$.l.[0:2].get(return: RANK) == [1]",
            eq(
                list_get_by_index_range(ListReturnType::RANK, i(0), Some(i(2)), list_bin("l"), &[]),
                list_val(vec![Value::Int(1)]),
            ),
        ),
    ]
}

#[test]
fn table_parses_to_the_builder_expressions() {
    let rows = table();
    assert!(rows.len() >= 60, "{} rows", rows.len());
    for (text, want) in rows {
        let got = Expression::from_ael(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!(got, want, "{text}");
        assert_eq!(got.to_bytes(), want.to_bytes(), "{text}");
    }
}

#[test]
fn table_prints_back_to_the_same_expression() {
    for (text, want) in table() {
        let printed = want.to_string();
        let again = Expression::from_ael(&printed)
            .unwrap_or_else(|e| panic!("{text} printed as {printed}: {e}"));
        assert_eq!(again, want, "{text} printed as {printed}");
    }
}

#[test]
fn display_is_readable() {
    for text in [
        "$.active == true",
        "$.tier == 'free' and $.lastLogin < 5",
        "$.prefs.theme == 'dark'",
        "$.scores.[0] >= 90",
        "$.scores.[=100].count() > 0",
        "$.flags & 15 != 0",
        "let(used = $.a + $.b, cap = 100) then (${used} < ${cap})",
        "exclusive($.trial, $.paid)",
        "not($.deleted == true) and $.lastUpdate() < 100",
        "$.a - ($.b - 1) == 2",
        "when($.c == 'US' => 1, default => 0) == 1",
    ] {
        assert_eq!(Expression::from_ael(text).unwrap().to_string(), text);
    }
}

#[test]
fn placeholders_take_typed_values() {
    let params = [
        Value::from("free"),
        Value::from(100),
        list!["a", "b"],
        Value::from(2.5),
        Value::Blob(vec![1]),
        map! {"k" => 1},
        Value::Bool(false),
    ];
    let e = Expression::from_ael_with(
        "$.tier == ?0 and $.last < ?1 and $.s in ?2 and $.f > ?3 and $.b == ?4 and $.m.get(type: MAP) == ?5 and $.ok == ?6 and $.n == -?1",
        &params,
    )
    .unwrap();
    let want = exp::and(vec![
        exp::eq(exp::string_bin("tier"), exp::string_val("free")),
        exp::lt(exp::int_bin("last"), exp::int_val(100)),
        exp::list_get_by_value(
            ListReturnType::EXISTS,
            exp::string_bin("s"),
            exp::list_val(vec![Value::from("a"), Value::from("b")]),
            &[],
        ),
        exp::gt(exp::float_bin("f"), exp::float_val(2.5)),
        exp::eq(exp::blob_bin("b"), exp::blob_val(vec![1])),
        exp::eq(
            exp::map_bin("m"),
            exp::map_val(vec![(Value::from("k"), Value::Int(1))]),
        ),
        exp::eq(exp::bool_bin("ok"), exp::bool_val(false)),
        exp::eq(exp::int_bin("n"), exp::int_val(-100)),
    ]);
    assert_eq!(e, want);
}

#[track_caller]
fn fails_at(text: &str, line: usize, column: usize, needle: &str) {
    match Expression::from_ael(text) {
        Err(Error::Expression {
            line: l,
            column: c,
            message,
        }) => {
            assert_eq!((l, c), (line, column), "{text}: {message}");
            assert!(
                message.contains(needle),
                "{text}: {message:?} lacks {needle:?}"
            );
            assert!(!message.contains('\n'));
        }
        other => panic!("{text}: expected an expression error, got {other:?}"),
    }
}

#[test]
fn errors_name_the_position_and_what_was_expected() {
    fails_at("", 1, 1, "expected a value");
    fails_at("$.a ==", 1, 7, "expected a value");
    fails_at("$.a == 1 )", 1, 10, "expected an operator or the end");
    fails_at("$.a == 'x", 1, 8, "closing quote");
    fails_at("$.a == 1 == 2", 1, 10, "do not chain");
    fails_at("($.a == 1", 1, 10, "expected ')'");
    fails_at("$.a == @", 1, 8, "unexpected character '@'");
    fails_at("$.", 1, 3, "bin name");
    fails_at("$.a.[1", 1, 7, "']' or ':'");
    fails_at("$.a.{1", 1, 7, "'}'");
    fails_at("$.a.get(type: WORD) == 1", 1, 15, "expected a type");
    fails_at(
        "$.a.get(return: WORD) == 1",
        1,
        17,
        "expected a return type",
    );
    fails_at("$.a.get(kind: INT) == 1", 1, 9, "'type' or 'return'");
    fails_at("$.nope() == 1", 1, 3, "metadata function");
    fails_at("$.digestModulo(0) == 0", 1, 16, "expected a modulus from 1");
    fails_at("$.digestModulo(-3) == 0", 1, 16, "found -3");
    fails_at("$.a == true and\n  $.b == 1 + 'x'", 2, 12, "same type");
    fails_at("$.a == true and $.b == 1 == 2", 1, 26, "do not chain");
    fails_at(
        "$.a.get(type: BOOL) == 1",
        1,
        21,
        "cannot compare BOOL with INT",
    );
    fails_at("true == 1", 1, 6, "cannot compare BOOL with INT");
    fails_at("$.a + 1", 1, 5, "expected a boolean expression, found INT");
    fails_at(
        "$.price * $.qty",
        1,
        9,
        "expected a boolean expression, found a number",
    );
    fails_at(
        "-$.a",
        1,
        1,
        "expected a boolean expression, found a number",
    );
    fails_at(
        "$.a and 5",
        1,
        9,
        "expected a boolean expression, found INT",
    );
    fails_at("${x} == 1", 1, 1, "unknown variable ${x}");
    fails_at("let(x = 1) (${x} == 1)", 1, 12, "expected 'then'");
    fails_at("when($.a => 1) == 1", 1, 14, "'default => value'");
    fails_at("$.a == ?3", 1, 8, "placeholder ?3 has no value");
    fails_at("nosuch(1) == 1", 1, 1, "unknown function 'nosuch'");
    fails_at("abs(1, 2) == 1", 1, 1, "wrong number of arguments");
    fails_at(
        "$.a == 99999999999999999999",
        1,
        8,
        "does not fit in 64 bits",
    );
    fails_at(
        "$.a == 9223372036854775808",
        1,
        8,
        "does not fit in 64 bits",
    );
    fails_at("$.a == 0xFFFFFFFFFFFFFFFF", 1, 8, "does not fit in 64 bits");
    fails_at(
        "$.a.[1:3].[0] == 1",
        1,
        5,
        "ranges and lists must be the last step",
    );
    fails_at("$.a.[3:1].count() == 1", 1, 5, "range end");
    fails_at("$.a in 5", 1, 8, "expected LIST, found INT");
    fails_at("$.a in 'x'", 1, 8, "expected a list after 'in'");
    fails_at("$.a.count() .x", 1, 13, "expected an operator or the end");
    fails_at("$.f ** 2 > 1.0", 1, 8, "expected FLOAT, found INT");
}

#[test]
fn keywords_are_words_not_prefixes() {
    // `andy`/`order` are bin names, not `and`/`or`.
    let e = Expression::from_ael("$.andy == 1 and $.order == 2").unwrap();
    assert_eq!(
        e,
        exp::and(vec![
            exp::eq(exp::int_bin("andy"), exp::int_val(1)),
            exp::eq(exp::int_bin("order"), exp::int_val(2)),
        ])
    );
}

#[test]
fn captured_bytes_decode_and_print() {
    let e = Expression::from_bytes(&[
        0x93, 0x01, 0x93, 0x51, 0x01, 0xa6, b'a', b'c', b't', b'i', b'v', b'e', 0xc3,
    ])
    .unwrap();
    assert_eq!(e.to_string(), "$.active == true");
}

// ---------------------------------------------------------------- property

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("a".to_owned()),
        Just("b2".to_owned()),
        Just("x_y".to_owned()),
        Just("with space".to_owned())
    ]
}

fn int_lit() -> impl Strategy<Value = Expression> {
    any::<i64>().prop_map(exp::int_val)
}

fn float_lit() -> impl Strategy<Value = Expression> {
    (-1e12f64..1e12).prop_map(exp::float_val)
}

fn str_lit() -> impl Strategy<Value = Expression> {
    "[a-z0-9 ]{0,6}".prop_map(|s| exp::string_val(&s))
}

fn int_exp() -> impl Strategy<Value = Expression> {
    let leaf = prop_oneof![
        int_lit(),
        name().prop_map(|n| exp::int_bin(&n)),
        Just(exp::ttl()),
        Just(exp::record_size()),
        (1i64..100).prop_map(exp::digest_modulo),
        name().prop_map(|n| exp::list_get_by_index(
            ListReturnType::VALUE,
            ExpType::Int,
            exp::int_val(0),
            exp::list_bin(&n),
            &[]
        )),
        (name(), "[a-z]{1,4}").prop_map(|(n, k)| exp::map_get_by_key(
            MapReturnType::VALUE,
            ExpType::Int,
            exp::string_val(&k),
            exp::map_bin(&n),
            &[]
        )),
        name().prop_map(|n| exp::list_size(exp::list_bin(&n), &[])),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::add(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::sub(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::mul(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::div(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::modulo(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::int_and(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::int_xor(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::int_lshift(a, b)),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::int_arshift(a, b)),
            inner.clone().prop_map(exp::int_not),
            inner.clone().prop_map(|a| exp::sub(vec![a])),
            inner.clone().prop_map(exp::abs),
            (inner.clone(), inner.clone(), inner.clone())
                .prop_map(|(a, b, c)| exp::add(vec![a, b, c])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::min(vec![a, b])),
        ]
    })
}

fn float_exp() -> impl Strategy<Value = Expression> {
    let leaf = prop_oneof![float_lit(), name().prop_map(|n| exp::float_bin(&n))];
    leaf.prop_recursive(2, 8, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::add(vec![a, b])),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| exp::pow(a, b)),
            inner.clone().prop_map(exp::floor),
        ]
    })
}

/// A context step and whether it steps into a map.
fn ctx_step() -> impl Strategy<Value = (bool, CdtContext)> {
    prop_oneof![
        "[a-z]{1,3}".prop_map(|k| (true, CdtContext::map_key(k))),
        Just((true, CdtContext::map_key("two words"))),
        (0i64..50).prop_map(|k| (true, CdtContext::map_key(k))),
        (-3i64..3).prop_map(|i| (false, CdtContext::list_index(i))),
        (-3i64..3).prop_map(|i| (false, CdtContext::list_rank(i))),
        (-3i64..3).prop_map(|v| (false, CdtContext::list_value(v))),
        (-3i64..3).prop_map(|i| (true, CdtContext::map_index(i))),
        (-3i64..3).prop_map(|i| (true, CdtContext::map_rank(i))),
        "[a-z]{1,3}".prop_map(|v| (true, CdtContext::map_value(v))),
    ]
}

/// A list or map read, made boolean by a comparison where needed.
fn cdt_read() -> impl Strategy<Value = Expression> {
    (
        prop::collection::vec(ctx_step(), 0..3),
        0u8..9,
        -3i64..4,
        0i64..3,
        any::<bool>(),
        prop::collection::vec((-5i64..5).prop_map(Value::Int), 1..3),
        0u8..3,
    )
        .prop_map(|(steps, kind, i, c, inv, list, ret)| {
            use aerospike_blocking::exp::*;
            let is_map_op = kind >= 5;
            let first_map = steps.first().map_or(is_map_op, |(m, _)| *m);
            let ctx: Vec<CdtContext> = steps.into_iter().map(|(_, c)| c).collect();
            let b = if first_map {
                map_bin("b")
            } else {
                list_bin("b")
            };
            let (lr, mr) = match ret {
                0 => (ListReturnType::COUNT, MapReturnType::COUNT),
                1 => (ListReturnType::EXISTS, MapReturnType::EXISTS),
                _ => (ListReturnType::INDEX, MapReturnType::RANK),
            };
            let (lr, mr) = if inv {
                (lr.inverted(), mr.inverted())
            } else {
                (lr, mr)
            };
            let single_type = if ret == 1 {
                ExpType::Bool
            } else {
                ExpType::Int
            };
            let read = match kind {
                0 => list_get_by_index(lr, single_type, int_val(i), b, &ctx),
                1 => list_get_by_rank(lr, single_type, int_val(i), b, &ctx),
                2 => list_get_by_index_range(lr, int_val(i), Some(int_val(c)), b, &ctx),
                3 => list_get_by_value_list(lr, list_val(list.clone()), b, &ctx),
                4 => {
                    list_get_by_value_relative_rank_range(lr, int_val(i), int_val(c), None, b, &ctx)
                }
                5 => map_get_by_rank_range(mr, int_val(i), Some(int_val(c)), b, &ctx),
                6 => map_get_by_key_range(
                    mr,
                    Some(string_val("a")),
                    (c > 0).then(|| string_val("m")),
                    b,
                    &ctx,
                ),
                7 => map_get_by_value(mr, int_val(i), b, &ctx),
                _ => map_get_by_key_list(mr, list_val(list.clone()), b, &ctx),
            };
            match ret {
                0 => gt(read, int_val(0)),
                1 => read,
                _ if kind < 2 => eq(read, int_val(1)),
                _ => ne(read, list_val(list)),
            }
        })
}

fn bool_exp() -> impl Strategy<Value = Expression> {
    let leaf = prop_oneof![
        cdt_read(),
        (int_exp(), int_exp()).prop_map(|(a, b)| exp::lt(a, b)),
        (int_exp(), int_exp()).prop_map(|(a, b)| exp::eq(a, b)),
        (float_exp(), float_exp()).prop_map(|(a, b)| exp::ge(a, b)),
        (name(), str_lit()).prop_map(|(n, s)| exp::ne(exp::string_bin(&n), s)),
        (str_lit(), name()).prop_map(|(s, n)| exp::le(s, exp::string_bin(&n))),
        name().prop_map(|n| exp::bool_bin(&n)),
        name().prop_map(|n| exp::bin_exists(&n)),
        Just(exp::key_exists()),
        any::<bool>().prop_map(exp::bool_val),
        (name(), int_lit()).prop_map(|(n, v)| exp::gt(
            exp::list_get_by_value(ListReturnType::COUNT, v, exp::list_bin(&n), &[]),
            exp::int_val(0)
        )),
    ];
    leaf.prop_recursive(3, 16, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4).prop_map(exp::and),
            prop::collection::vec(inner.clone(), 2..4).prop_map(exp::or),
            prop::collection::vec(inner.clone(), 1..3).prop_map(exp::exclusive),
            inner.clone().prop_map(exp::not),
            (inner.clone(), int_exp(), int_exp(), int_exp())
                .prop_map(|(c, a, b, d)| { exp::eq(exp::cond(vec![c, a, b]), d) }),
            // A server refuses a name defined again inside its own scope:
            // each `let` is named after the number of lets in its body.
            (int_exp(), inner.clone()).prop_map(|(v, body)| {
                let name = format!("v{}", body.to_string().matches("let(").count());
                exp::let_(
                    vec![exp::def(&name, v)],
                    exp::and(vec![body, exp::gt(exp::var(&name), exp::int_val(0))]),
                )
            }),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    #[test]
    fn display_parses_back(e in bool_exp()) {
        let text = e.to_string();
        let parsed = Expression::from_ael(&text);
        prop_assert!(parsed.is_ok(), "{} -> {:?}", text, parsed);
        prop_assert_eq!(parsed.unwrap(), e, "{}", text);
    }

    /// Any text either parses or gives one error line with a position inside
    /// the text (or just past its end); it never panics.
    #[test]
    fn errors_are_one_line_with_a_position_in_the_text(
        text in "[$.a-c0-9 '\"\n(){}\\[\\]=<>!&|^~+*/%?#:,@-]{0,40}|(\\$\\.[a-c](\\.[\\[{][0-9#=!:~a-c,-]{0,6}[\\]}])? [=<>!]{1,2} [0-9'a-c.\n]{0,6} ?(and|or)? ?){1,3}"
    ) {
        match Expression::from_ael(&text) {
            Ok(_) => {}
            Err(Error::Expression { line, column, message }) => {
                prop_assert!(!message.is_empty() && !message.contains('\n'), "{:?}: {:?}", text, message);
                let lines: Vec<&str> = text.split('\n').collect();
                prop_assert!(line >= 1 && line <= lines.len(), "{:?}: line {}", text, line);
                prop_assert!(
                    column >= 1 && column <= lines[line - 1].chars().count() + 1,
                    "{:?}: {}:{}", text, line, column
                );
            }
            Err(other) => prop_assert!(false, "{:?}: {:?}", text, other),
        }
    }

    #[test]
    fn bytes_decode_back(e in bool_exp()) {
        prop_assert_eq!(Expression::from_bytes(&e.to_bytes()).unwrap(), e);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    for text in [
        format!("{}$.a{} == 1", "(".repeat(10_000), ")".repeat(10_000)),
        format!("{}$.a == 1", "not(".repeat(10_000)),
        format!("$.l.get(type: LIST) == {}", "[".repeat(10_000)),
        format!("$.a == {}1", "-".repeat(10_000)),
        format!("$.f == {}", "2.0 ** ".repeat(10_000)),
        format!("$.a == {}1", "1 + ".repeat(10_000)),
    ] {
        match Expression::from_ael(&text) {
            Err(Error::Expression { message, .. }) => {
                assert!(message.contains("nested too deeply"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
    // Moderate nesting is fine.
    let text = format!("{}$.a{} == 1", "(".repeat(20), ")".repeat(20));
    assert_eq!(
        Expression::from_ael(&text).unwrap(),
        exp::eq(exp::int_bin("a"), exp::int_val(1))
    );
}
