//! Pure encoding of the message that starts a background job on one node.
//!
//! Layout, as the official clients send it (bg-ops-single.txt,
//! bg-udf-single.txt, sindex-single.txt):
//!
//! ```text
//! header: info2 = WRITE (+ DURABLE_DELETE), record_ttl = expiry,
//!         transaction_ttl = total timeout in ms
//! fields: namespace (0), set (1), [records-per-second (10)],
//!         socket-timeout (9), task id (7),
//!         [index-range (22)], [filter-exp (43)],
//!         [udf-op (33) = 2, package (30), function (31), arglist (32)]
//! ops:    the write operations (none for a UDF job)
//! ```

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::background::DataSet;
use crate::exp::{self, Expression};
use crate::operations::Operation;
use crate::query::filter::MAX_BIN_NAME;
use crate::query::Filter;
use crate::wire::message::{field, info2, Field, Header, Message};
use crate::Value;
use crate::{Error, Result};

/// Longest namespace name, in bytes.
pub(crate) const MAX_NAMESPACE: usize = 31;
/// Longest set name, in bytes (a 64-byte name is refused with PARAMETER_ERROR).
pub(crate) const MAX_SET: usize = 63;
/// The server's default `background-query-max-rps`; a higher rate is refused.
pub(crate) const MAX_RECORDS_PER_SECOND: u32 = 10_000;
/// Value of the udf-op field for a background UDF job.
const UDF_OP_BACKGROUND: u8 = 2;

/// What a job does to each record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum JobAction {
    /// Apply these write operations.
    Ops(Vec<Operation>),
    /// Call a Lua function of a registered module.
    Udf {
        package: String,
        function: String,
        args: Vec<Value>,
    },
}

/// What a query-shaped request reads, and how fast: the part a background
/// job start and a foreground query share, encoded the same way by both.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Scope {
    pub(crate) namespace: String,
    /// Empty for a whole namespace.
    pub(crate) set: String,
    pub(crate) index_filter: Option<Filter>,
    /// Packed filter expression (field 43).
    pub(crate) filter_exp: Option<Vec<u8>>,
    /// 0 = not sent (the server's maximum applies).
    pub(crate) records_per_second: u32,
    pub(crate) socket_timeout_ms: u32,
}

impl Scope {
    /// The records of `dataset` that pass `index_filter` and both the AEL
    /// where-clause and the expression (ANDed when both are given). The rate
    /// is not limited and the socket timeout is 0 until the caller sets them.
    pub(crate) fn new(
        dataset: &DataSet,
        index_filter: Option<Filter>,
        ael: Option<&str>,
        filter_exp: Option<Expression>,
    ) -> Result<Scope> {
        if let Some(f) = &index_filter {
            f.validate()?;
        }
        let parsed = ael.map(Expression::from_ael).transpose()?;
        let filter = match (parsed, filter_exp) {
            (Some(a), Some(b)) => Some(exp::and(vec![a, b])),
            (a, b) => a.or(b),
        };
        Ok(Scope {
            namespace: dataset.namespace().to_owned(),
            set: dataset.set().to_owned(),
            index_filter,
            filter_exp: filter.map(|e| e.pack()),
            records_per_second: 0,
            socket_timeout_ms: 0,
        })
    }

    /// The leading fields: namespace, set (omitted for a whole namespace),
    /// [records-per-second], socket-timeout, task id, [index-range],
    /// [filter-exp].
    pub(crate) fn fields(&self, task_id: u64) -> Vec<Field> {
        let mut fields = vec![Field::new(field::NAMESPACE, self.namespace.as_str())];
        if !self.set.is_empty() {
            fields.push(Field::new(field::SET, self.set.as_str()));
        }
        if self.records_per_second > 0 {
            fields.push(Field::new(
                field::RECORDS_PER_SECOND,
                self.records_per_second.to_be_bytes(),
            ));
        }
        fields.push(Field::new(
            field::SOCKET_TIMEOUT,
            self.socket_timeout_ms.to_be_bytes(),
        ));
        fields.push(Field::new(field::TRID, task_id.to_be_bytes()));
        if let Some(f) = &self.index_filter {
            fields.push(Field::new(field::INDEX_RANGE, f.encode()));
        }
        if let Some(e) = &self.filter_exp {
            fields.push(Field::new(field::FILTER_EXP, e.as_slice()));
        }
        fields
    }
}

/// Everything that goes into a start message.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct StartRequest {
    pub(crate) scope: Scope,
    pub(crate) task_id: u64,
    pub(crate) action: JobAction,
    pub(crate) record_ttl: u32,
    pub(crate) durable_delete: bool,
    pub(crate) total_timeout_ms: u32,
}

impl StartRequest {
    /// Checks everything the server would refuse, so that a bad job is never
    /// started on some nodes only.
    pub(crate) fn validate(&self) -> Result<()> {
        if self.scope.namespace.is_empty() || self.scope.namespace.len() > MAX_NAMESPACE {
            return Err(Error::invalid(format!(
                "namespace {:?} must be 1 to {MAX_NAMESPACE} bytes",
                self.scope.namespace
            )));
        }
        if self.scope.set.len() > MAX_SET {
            return Err(Error::invalid(format!(
                "set name {:?} is {} bytes; at most {MAX_SET} are allowed",
                self.scope.set,
                self.scope.set.len()
            )));
        }
        if self.task_id == 0 {
            return Err(Error::invalid("task id must not be 0"));
        }
        if self.scope.records_per_second > MAX_RECORDS_PER_SECOND {
            return Err(Error::invalid(format!(
                "records_per_second {} is above the server maximum {MAX_RECORDS_PER_SECOND} \
                 (background-query-max-rps); the rate applies per node",
                self.scope.records_per_second
            )));
        }
        if let Some(f) = &self.scope.index_filter {
            f.validate()?;
        }
        if matches!(&self.scope.filter_exp, Some(e) if e.is_empty()) {
            return Err(Error::invalid("filter expression is empty"));
        }
        match &self.action {
            JobAction::Ops(ops) => {
                if ops.is_empty() {
                    return Err(Error::invalid(
                        "a background update needs at least one bin operation",
                    ));
                }
                for op in ops {
                    if op.is_read() {
                        return Err(Error::invalid(format!(
                            "read operation on bin {:?} in a background job: \
                             background jobs only write",
                            op.bin()
                        )));
                    }
                    if op.bin().len() > MAX_BIN_NAME {
                        return Err(Error::invalid(format!(
                            "bin name {:?} is longer than {MAX_BIN_NAME} bytes",
                            op.bin()
                        )));
                    }
                }
            }
            JobAction::Udf {
                package, function, ..
            } => {
                if package.is_empty() || function.is_empty() {
                    return Err(Error::invalid(format!(
                        "UDF package and function names must not be empty \
                         (package {package:?}, function {function:?})"
                    )));
                }
            }
        }
        Ok(())
    }

    /// The message, before framing.
    pub(crate) fn message(&self) -> Message {
        let mut info2 = info2::WRITE;
        if self.durable_delete {
            info2 |= info2::DURABLE_DELETE;
        }
        let mut fields = self.scope.fields(self.task_id);
        let ops = match &self.action {
            JobAction::Ops(ops) => ops.iter().map(Operation::to_wire).collect(),
            JobAction::Udf {
                package,
                function,
                args,
            } => {
                let arglist = crate::command::kv::udf_arglist(args);
                fields.push(Field::new(field::UDF_OP, [UDF_OP_BACKGROUND]));
                fields.push(Field::new(field::UDF_PACKAGE_NAME, package.as_str()));
                fields.push(Field::new(field::UDF_FUNCTION, function.as_str()));
                fields.push(Field::new(field::UDF_ARGLIST, arglist));
                Vec::new()
            }
        };
        Message {
            header: Header {
                info2,
                record_ttl: self.record_ttl,
                transaction_ttl: self.total_timeout_ms,
                ..Header::default()
            },
            fields,
            ops,
        }
    }

    /// The whole frame, proto header included.
    pub(crate) fn encode(&self) -> Vec<u8> {
        self.message().encode()
    }
}

/// A random non-zero task id. Uses the standard library only: the per-process
/// random keys of `RandomState`, the clock and a counter.
pub(crate) fn random_task_id() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    loop {
        let mut h = RandomState::new().build_hasher();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        h.write_u128(now);
        h.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
        let id = h.finish();
        if id != 0 {
            return id;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn base(set: &str, task_id: u64, action: JobAction) -> StartRequest {
        StartRequest {
            scope: Scope {
                namespace: "test".into(),
                set: set.into(),
                index_filter: None,
                filter_exp: None,
                records_per_second: 0,
                socket_timeout_ms: 30_000,
            },
            task_id,
            action,
            record_ttl: 0,
            durable_delete: false,
            total_timeout_ms: 1_000,
        }
    }

    fn from_hex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn golden_write_and_incr() {
        // bg-ops-single.txt (a): write('w','x'), increment('cnt',1), no filter.
        let r = base(
            "bgops",
            4358029658199175549,
            JobAction::Ops(vec![operations::put("w", "x"), operations::add("cnt", 1)]),
        );
        assert_eq!(hex(&r.encode()), "020300000000005c1600010000000000000000000000000003e800040002000000050074657374000000060162676f707300000005090000753000000009073c7ad4e26194317d000000060203000177780000000f05010003636e740000000000000001");
    }

    #[test]
    fn golden_filter_expression() {
        // bg-ops-single.txt (b): write flag=1, filter Eq(BoolBin('active'), True).
        let mut r = base(
            "bgops",
            9206660312799159840,
            JobAction::Ops(vec![operations::put("flag", 1)]),
        );
        r.scope.filter_exp = Some(from_hex("9301935101a6616374697665c3"));
        assert_eq!(hex(&r.encode()), "02030000000000651600010000000000000000000000000003e800050001000000050074657374000000060162676f707300000005090000753000000009077fc4a0c68814a6200000000e2b9301935101a6616374697665c30000001002010004666c61670000000000000001");
    }

    #[test]
    fn golden_ttl_and_rps() {
        // bg-ops-single.txt (c): write t=1, ttl 3600, records_per_second 100.
        let mut r = base(
            "bgops",
            15371179536120947104,
            JobAction::Ops(vec![operations::put("t", 1)]),
        );
        r.record_ttl = 3600;
        r.scope.records_per_second = 100;
        assert_eq!(hex(&r.encode()), "02030000000000591600010000000000000000000e10000003e800050001000000050074657374000000060162676f7073000000050a000000640000000509000075300000000907d55166591d3e21a00000000d02010001740000000000000001");
    }

    #[test]
    fn golden_delete_and_touch() {
        // bg-ops-single.txt (d): delete with filter LT(IntBin('i'), 50).
        let mut r = base(
            "bgops",
            4378155879910643737,
            JobAction::Ops(vec![operations::delete()]),
        );
        r.scope.filter_exp = Some(from_hex("9305935102a16932"));
        assert_eq!(hex(&r.encode()), "02030000000000541600010000000000000000000000000003e800050001000000050074657374000000060162676f707300000005090000753000000009073cc25593895c9819000000092b9305935102a16932000000040e000000");
        // (e): touch with ttl 7200.
        let mut r = base(
            "bgops",
            4083469842137720040,
            JobAction::Ops(vec![operations::touch()]),
        );
        r.record_ttl = 7200;
        assert_eq!(hex(&r.encode()), "02030000000000471600010000000000000000001c20000003e800040001000000050074657374000000060162676f7073000000050900007530000000090738ab662fafa3a4e8000000040b000000");
    }

    #[test]
    fn golden_udf_jobs() {
        // bg-udf-single.txt job 1: apply('bgudf', 'set_bin', ['u', 7]).
        let r = base(
            "bgudf",
            11781778581726353066,
            JobAction::Udf {
                package: "bgudf".into(),
                function: "set_bin".into(),
                args: vec![Value::from("u"), Value::from(7)],
            },
        );
        assert_eq!(hex(&r.encode()), "02030000000000651600010000000000000000000000000003e800080000000000050074657374000000060162677564660000000509000075300000000907a3814932921ad6aa000000022102000000061e6267756466000000081f7365745f62696e000000062092a2037507");
        // Job 2: apply('bgudf', 'mark', []), ttl 3600, rps 200.
        let mut r = base(
            "bgudf",
            11972699760397792598,
            JobAction::Udf {
                package: "bgudf".into(),
                function: "mark".into(),
                args: vec![],
            },
        );
        r.record_ttl = 3600;
        r.scope.records_per_second = 200;
        assert_eq!(hex(&r.encode()), "02030000000000671600010000000000000000000e10000003e80009000000000005007465737400000006016267756466000000050a000000c80000000509000075300000000907a62792ff7cea3556000000022102000000061e6267756466000000051f6d61726b000000022090");
    }

    #[test]
    fn golden_index_range() {
        // sindex-single.txt: where(between('age', 10, 20)), write s=1.
        let mut r = base(
            "bgops",
            13020062418150267160,
            JobAction::Ops(vec![operations::put("s", 1)]),
        );
        r.scope.index_filter = Some(Filter::range("age", 10, 20));
        assert_eq!(hex(&r.encode()), "02030000000000731600010000000000000000000000000003e800050001000000050074657374000000060162676f70730000000509000075300000000907b4b08dc93b4299180000001f1601036167650100000008000000000000000a0000000800000000000000140000000d02010001730000000000000001");
    }

    #[test]
    fn durable_delete_sets_the_bit() {
        let mut r = base("s", 1, JobAction::Ops(vec![operations::delete()]));
        r.durable_delete = true;
        assert_eq!(
            r.message().header.info2,
            info2::WRITE | info2::DURABLE_DELETE
        );
    }

    #[test]
    fn validation_errors_say_what_is_wrong() {
        let ok = base("s", 1, JobAction::Ops(vec![operations::put("a", 1)]));
        assert!(ok.validate().is_ok());
        let with = |change: &dyn Fn(&mut StartRequest)| {
            let mut r = ok.clone();
            change(&mut r);
            r
        };
        let udf = JobAction::Udf {
            package: String::new(),
            function: "f".into(),
            args: vec![],
        };
        let cases: Vec<(StartRequest, &str)> = vec![
            (with(&|r| r.scope.namespace.clear()), "namespace"),
            (with(&|r| r.scope.namespace = "n".repeat(32)), "namespace"),
            (with(&|r| r.scope.set = "s".repeat(64)), "set name"),
            (with(&|r| r.task_id = 0), "task id"),
            (
                with(&|r| r.scope.records_per_second = 20_000),
                "records_per_second",
            ),
            (
                with(&|r| r.action = JobAction::Ops(vec![])),
                "at least one bin operation",
            ),
            (
                with(&|r| r.action = JobAction::Ops(vec![operations::get_bin("i")])),
                "read operation",
            ),
            (
                with(&|r| {
                    r.action = JobAction::Ops(vec![operations::put("a_very_long_bin_name", 1)]);
                }),
                "bin name",
            ),
            (with(&|r| r.action = udf.clone()), "UDF package"),
            (
                with(&|r| r.scope.index_filter = Some(Filter::equal("b", 1.5))),
                "integer or string",
            ),
            (
                with(&|r| r.scope.filter_exp = Some(vec![])),
                "filter expression",
            ),
        ];
        for (req, needle) in cases {
            let e = req.validate().unwrap_err();
            assert!(matches!(e, Error::InvalidArgument(_)));
            assert!(e.to_string().contains(needle), "{e} lacks {needle}");
        }
    }

    #[test]
    fn task_ids_are_random_and_non_zero() {
        let a = random_task_id();
        let b = random_task_id();
        assert_ne!(a, 0);
        assert_ne!(a, b);
    }
}
