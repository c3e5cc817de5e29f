//! The crate's one error type, [`Error`], and the server's [`ResultCode`].

use std::fmt;
use std::time::Duration;

/// A result code sent by the server in a message header, or inside an info
/// error line (`ERROR:<code>:<text>`).
///
/// Every code the server defines has a constant; any other code is kept as it
/// came, so nothing is lost.
///
/// # Examples
/// ```
/// use aerospike_proto::ResultCode;
/// assert_eq!(ResultCode::from_u8(2), ResultCode::KEY_NOT_FOUND);
/// assert_eq!(ResultCode::KEY_NOT_FOUND.name(), "KEY_NOT_FOUND");
/// assert_eq!(ResultCode::from_u8(250).name(), "UNKNOWN");
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResultCode(pub u8);

macro_rules! result_codes {
    ($($name:ident = $code:expr, $doc:expr;)*) => {
        impl ResultCode {
            $(
                #[doc = $doc]
                #[doc = ""]
                #[doc = concat!(
                    "```\nuse aerospike_proto::ResultCode;\nassert_eq!(ResultCode::",
                    stringify!($name), ".code(), ", stringify!($code),
                    ");\nassert_eq!(ResultCode::", stringify!($name), ".name(), \"",
                    stringify!($name), "\");\n```"
                )]
                pub const $name: ResultCode = ResultCode($code);
            )*

            /// The symbolic name of the code, or `"UNKNOWN"` for a code this
            /// version of the crate does not know.
            ///
            /// ```
            /// use aerospike_proto::ResultCode;
            /// assert_eq!(ResultCode(3).name(), "GENERATION_ERROR");
            /// assert_eq!(ResultCode(31).name(), "UNKNOWN");
            /// ```
            pub fn name(self) -> &'static str {
                match self.0 {
                    $($code => stringify!($name),)*
                    _ => "UNKNOWN",
                }
            }

            /// A short description of the code.
            ///
            /// ```
            /// use aerospike_proto::ResultCode;
            /// assert_eq!(ResultCode::GENERATION_ERROR.description(), "generation mismatch");
            /// ```
            pub fn description(self) -> &'static str {
                match self.0 {
                    $($code => $doc,)*
                    _ => "unknown result code",
                }
            }
        }
    };
}

result_codes! {
    OK = 0, "success";
    SERVER_ERROR = 1, "server error";
    KEY_NOT_FOUND = 2, "key not found";
    GENERATION_ERROR = 3, "generation mismatch";
    PARAMETER_ERROR = 4, "parameter error";
    KEY_EXISTS = 5, "key already exists";
    BIN_EXISTS = 6, "bin already exists";
    CLUSTER_KEY_MISMATCH = 7, "cluster key mismatch";
    SERVER_MEM_ERROR = 8, "server out of memory";
    TIMEOUT = 9, "server timeout";
    ALWAYS_FORBIDDEN = 10, "operation always forbidden";
    PARTITION_UNAVAILABLE = 11, "partition unavailable";
    BIN_TYPE_ERROR = 12, "bin type mismatch";
    RECORD_TOO_BIG = 13, "record too big";
    KEY_BUSY = 14, "hot key";
    SCAN_ABORT = 15, "scan aborted";
    UNSUPPORTED_FEATURE = 16, "unsupported feature";
    BIN_NOT_FOUND = 17, "bin not found";
    DEVICE_OVERLOAD = 18, "device overload";
    KEY_MISMATCH = 19, "key mismatch";
    INVALID_NAMESPACE = 20, "namespace not found";
    BIN_NAME_TOO_LONG = 21, "bin name too long";
    FAIL_FORBIDDEN = 22, "operation forbidden";
    ELEMENT_NOT_FOUND = 23, "element not found";
    ELEMENT_EXISTS = 24, "element already exists";
    ENTERPRISE_ONLY = 25, "enterprise-only feature";
    OP_NOT_APPLICABLE = 26, "operation not applicable";
    FILTERED_OUT = 27, "filtered out";
    LOST_CONFLICT = 28, "lost conflict";
    XDR_KEY_BUSY = 32, "XDR key busy";
    QUERY_END = 50, "query end";
    SECURITY_NOT_SUPPORTED = 51, "security not supported";
    SECURITY_NOT_ENABLED = 52, "security not enabled";
    SECURITY_SCHEME_NOT_SUPPORTED = 53, "security scheme not supported";
    INVALID_COMMAND = 54, "invalid command";
    INVALID_FIELD = 55, "invalid field";
    ILLEGAL_STATE = 56, "illegal state";
    INVALID_USER = 60, "invalid user";
    USER_ALREADY_EXISTS = 61, "user already exists";
    INVALID_PASSWORD = 62, "invalid password";
    EXPIRED_PASSWORD = 63, "expired password";
    FORBIDDEN_PASSWORD = 64, "forbidden password";
    INVALID_CREDENTIAL = 65, "invalid credential";
    EXPIRED_SESSION = 66, "expired session";
    INVALID_ROLE = 70, "invalid role";
    ROLE_ALREADY_EXISTS = 71, "role already exists";
    INVALID_PRIVILEGE = 72, "invalid privilege";
    INVALID_WHITELIST = 73, "invalid allowlist";
    QUOTAS_NOT_ENABLED = 74, "quotas not enabled";
    INVALID_QUOTA = 75, "invalid quota";
    NOT_AUTHENTICATED = 80, "not authenticated";
    ROLE_VIOLATION = 81, "role violation";
    NOT_WHITELISTED = 82, "address not allowed";
    QUOTA_EXCEEDED = 83, "quota exceeded";
    LDAP_NOT_ENABLED = 90, "LDAP not enabled";
    LDAP_SETUP = 91, "LDAP setup error";
    LDAP_TLS_SETUP = 92, "LDAP TLS setup error";
    LDAP_AUTHENTICATION = 93, "LDAP authentication failed";
    LDAP_QUERY = 94, "LDAP query failed";
    UDF_BAD_RESPONSE = 100, "UDF returned an error";
    MRT_BLOCKED = 120, "transaction blocked";
    MRT_VERSION_MISMATCH = 121, "transaction version mismatch";
    MRT_EXPIRED = 122, "transaction expired";
    MRT_TOO_MANY_WRITES = 123, "transaction has too many writes";
    MRT_COMMITTED = 124, "transaction already committed";
    MRT_ABORTED = 125, "transaction already aborted";
    MRT_ALREADY_LOCKED = 126, "record locked by another transaction";
    MRT_MONITOR_EXISTS = 127, "transaction monitor exists";
    BATCH_DISABLED = 150, "batch disabled";
    BATCH_MAX_REQUESTS_EXCEEDED = 151, "batch too large";
    BATCH_QUEUES_FULL = 152, "batch queues full";
    GEO_INVALID_GEOJSON = 160, "invalid GeoJSON";
    INDEX_FOUND = 200, "index already exists";
    INDEX_NOT_FOUND = 201, "index not found";
    INDEX_OOM = 202, "index out of memory";
    INDEX_NOT_READABLE = 203, "index not readable";
    INDEX_GENERIC = 204, "index error";
    INDEX_NAME_MAXLEN = 205, "index name too long";
    INDEX_MAXCOUNT = 206, "too many indexes";
    QUERY_ABORTED = 210, "query aborted";
    QUERY_QUEUE_FULL = 211, "query queue full";
    QUERY_TIMEOUT = 212, "query timeout";
    QUERY_GENERIC = 213, "query error";
    QUERY_NET_IO = 214, "query network error";
    QUERY_DUPLICATE = 215, "duplicate query id";
}

impl ResultCode {
    /// Wraps a raw code.
    ///
    /// ```
    /// use aerospike_proto::ResultCode;
    /// assert_eq!(ResultCode::from_u8(5), ResultCode::KEY_EXISTS);
    /// ```
    pub fn from_u8(code: u8) -> Self {
        ResultCode(code)
    }

    /// The raw code.
    ///
    /// ```
    /// use aerospike_proto::ResultCode;
    /// assert_eq!(ResultCode::PARAMETER_ERROR.code(), 4);
    /// ```
    pub fn code(self) -> u8 {
        self.0
    }
}

impl fmt::Debug for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}({})", self.name(), self.0)
    }
}

impl fmt::Display for ResultCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}: {})", self.0, self.name(), self.description())
    }
}

/// Which phase of a call ran out of time.
///
/// ```
/// use aerospike_proto::TimeoutPhase;
/// assert_eq!(TimeoutPhase::Connect.to_string(), "connect");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TimeoutPhase {
    /// Opening a TCP connection.
    Connect,
    /// Waiting for a pooled connection or a place in a node's queue.
    Queue,
    /// Writing a request.
    Send,
    /// Reading a reply.
    Receive,
    /// The whole command, across retries.
    Total,
    /// Waiting for a background job to finish.
    Wait,
    /// Waiting for a cluster-wide condition (UDF registered, index ready, ...).
    Settle,
}

impl fmt::Display for TimeoutPhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimeoutPhase::Connect => "connect",
            TimeoutPhase::Queue => "queue",
            TimeoutPhase::Send => "send",
            TimeoutPhase::Receive => "receive",
            TimeoutPhase::Total => "total",
            TimeoutPhase::Wait => "background job still running: wait",
            TimeoutPhase::Settle => "settle",
        })
    }
}

/// Every error the crate returns.
///
/// ```
/// use aerospike_proto::{Error, ResultCode};
/// let e = Error::server(ResultCode::KEY_NOT_FOUND, false);
/// assert_eq!(e.result_code(), Some(ResultCode::KEY_NOT_FOUND));
/// assert!(e.to_string().contains("key not found"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a result code other than OK.
    #[error("server error {code}{}", if *.in_doubt { " (write in doubt)" } else { "" })]
    Server {
        /// The code.
        code: ResultCode,
        /// True when a write may have been applied even though it failed.
        in_doubt: bool,
    },
    /// A record UDF failed while it ran (result code `UDF_BAD_RESPONSE`,
    /// 100): the server's error text, from the reply's `FAILURE` bin. The
    /// server keeps none of the changes of a UDF that failed.
    ///
    /// ```
    /// use aerospike_proto::{Error, ResultCode};
    /// let e = Error::Udf { message: "counter.lua:3: boom".into() };
    /// assert_eq!(e.result_code(), Some(ResultCode::UDF_BAD_RESPONSE));
    /// assert_eq!(e.to_string(), "record UDF failed: counter.lua:3: boom");
    /// ```
    #[error("record UDF failed: {message}")]
    Udf {
        /// The error the UDF raised, as the server words it.
        message: String,
    },
    /// An info command was answered with an `ERROR:` line.
    #[error("info command `{command}` failed: {code:?}: {message}")]
    Info {
        /// The command sent.
        command: String,
        /// The code in the error line.
        code: ResultCode,
        /// The text after the code.
        message: String,
    },
    /// A deadline passed.
    #[error("{phase} timeout after {elapsed:?}{}", if *.in_doubt { " (write in doubt)" } else { "" })]
    Timeout {
        /// What was running when time ran out.
        phase: TimeoutPhase,
        /// How long the call had run.
        elapsed: Duration,
        /// True when a write may have been applied.
        in_doubt: bool,
    },
    /// Bad input from the caller, found before anything was sent.
    #[error("invalid argument: {0}")]
    InvalidArgument(String),
    /// A socket failed.
    #[error("network error talking to {node}: {source}")]
    Io {
        /// The node or address.
        node: String,
        /// The cause.
        #[source]
        source: std::io::Error,
        /// True when a write may have been applied.
        in_doubt: bool,
    },
    /// The server sent bytes the client could not decode.
    #[error("protocol error from {node}: {message}")]
    Protocol {
        /// The node or address.
        node: String,
        /// What was wrong.
        message: String,
    },
    /// No node could serve the command.
    #[error("no node available: {0}")]
    NoNode(String),
    /// A node's queue or connection pool was full.
    #[error("node {node} is overloaded: {message}")]
    Overloaded {
        /// The node.
        node: String,
        /// What was full.
        message: String,
    },
    /// The client was closed.
    #[error("client closed")]
    Closed,
    /// A command sent to several nodes failed on some of them. Its
    /// `Display` is the summary followed by each failed node's reason.
    ///
    /// ```
    /// use aerospike_proto::{Error, ResultCode};
    /// let e = Error::PerNode {
    ///     summary: "background job 7 failed to start on 1 of 2 nodes".into(),
    ///     outcomes: vec![
    ///         ("A1".into(), None),
    ///         ("B2".into(), Some(Box::new(Error::server(ResultCode::PARAMETER_ERROR, false)))),
    ///     ],
    /// };
    /// let text = e.to_string();
    /// assert!(text.starts_with("background job 7 failed to start on 1 of 2 nodes: "));
    /// assert!(text.contains("B2: server error"), "{text}");
    /// assert!(!text.contains("A1"), "{text}");
    /// ```
    #[error("{}", per_node_text(summary, outcomes))]
    PerNode {
        /// One line that says what failed.
        summary: String,
        /// Each node's name and its outcome (`None` for success).
        outcomes: Vec<(String, Option<Box<Error>>)>,
    },
    /// An expression or AEL where-clause could not be parsed or typed.
    #[error("expression error at line {line}, column {column}: {message}")]
    Expression {
        /// 1-based line.
        line: usize,
        /// 1-based column.
        column: usize,
        /// What was expected or wrong.
        message: String,
    },
}

impl Error {
    /// A server error.
    ///
    /// ```
    /// use aerospike_proto::{Error, ResultCode};
    /// let e = Error::server(ResultCode::KEY_EXISTS, false);
    /// assert_eq!(e.to_string(), "server error 5 (KEY_EXISTS: key already exists)");
    /// ```
    pub fn server(code: ResultCode, in_doubt: bool) -> Self {
        Error::Server { code, in_doubt }
    }

    /// The server result code inside, if there is one.
    ///
    /// ```
    /// use aerospike_proto::{Error, ResultCode};
    /// assert_eq!(Error::server(ResultCode::KEY_NOT_FOUND, false).result_code(), Some(ResultCode::KEY_NOT_FOUND));
    /// assert_eq!(Error::Closed.result_code(), None);
    /// ```
    pub fn result_code(&self) -> Option<ResultCode> {
        match self {
            Error::Server { code, .. } | Error::Info { code, .. } => Some(*code),
            Error::Udf { .. } => Some(ResultCode::UDF_BAD_RESPONSE),
            _ => None,
        }
    }

    /// True for timeouts of any phase.
    ///
    /// ```
    /// use aerospike_proto::{Error, TimeoutPhase};
    /// use std::time::Duration;
    /// let e = Error::Timeout { phase: TimeoutPhase::Receive, elapsed: Duration::from_millis(5), in_doubt: false };
    /// assert!(e.is_timeout());
    /// ```
    pub fn is_timeout(&self) -> bool {
        matches!(self, Error::Timeout { .. }) || self.result_code() == Some(ResultCode::TIMEOUT)
    }

    /// True when a write may have been applied although the call failed.
    ///
    /// ```
    /// use aerospike_proto::{Error, ResultCode};
    /// assert!(Error::server(ResultCode::TIMEOUT, true).in_doubt());
    /// assert!(!Error::Closed.in_doubt());
    /// ```
    pub fn in_doubt(&self) -> bool {
        match self {
            Error::Server { in_doubt, .. }
            | Error::Timeout { in_doubt, .. }
            | Error::Io { in_doubt, .. } => *in_doubt,
            _ => false,
        }
    }

    /// An invalid-argument error.
    pub fn invalid(msg: impl Into<String>) -> Self {
        Error::InvalidArgument(msg.into())
    }
}

/// The crate's result type.
///
/// ```
/// fn answer() -> aerospike_proto::Result<i64> {
///     Ok(42)
/// }
/// assert_eq!(answer().unwrap(), 42);
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The text of [`Error::PerNode`]: the summary, then `node: reason` for
/// each node that failed, so a log line says why and where.
fn per_node_text(summary: &str, outcomes: &[(String, Option<Box<Error>>)]) -> String {
    let reasons: Vec<String> = outcomes
        .iter()
        .filter_map(|(node, e)| e.as_ref().map(|e| format!("{node}: {e}")))
        .collect();
    if reasons.is_empty() {
        summary.to_owned()
    } else {
        format!("{summary}: {}", reasons.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every code the server defines (as_proto.h of server 8.1, cross-checked
    /// with the Java and Rust clients' result-code tables), by number.
    #[test]
    fn every_server_code_has_its_official_number_and_name() {
        let table: &[(u8, &str)] = &[
            (0, "OK"),
            (1, "SERVER_ERROR"),
            (2, "KEY_NOT_FOUND"),
            (3, "GENERATION_ERROR"),
            (4, "PARAMETER_ERROR"),
            (5, "KEY_EXISTS"),
            (6, "BIN_EXISTS"),
            (7, "CLUSTER_KEY_MISMATCH"),
            (8, "SERVER_MEM_ERROR"),
            (9, "TIMEOUT"),
            (10, "ALWAYS_FORBIDDEN"),
            (11, "PARTITION_UNAVAILABLE"),
            (12, "BIN_TYPE_ERROR"),
            (13, "RECORD_TOO_BIG"),
            (14, "KEY_BUSY"),
            (15, "SCAN_ABORT"),
            (16, "UNSUPPORTED_FEATURE"),
            (17, "BIN_NOT_FOUND"),
            (18, "DEVICE_OVERLOAD"),
            (19, "KEY_MISMATCH"),
            (20, "INVALID_NAMESPACE"),
            (21, "BIN_NAME_TOO_LONG"),
            (22, "FAIL_FORBIDDEN"),
            (23, "ELEMENT_NOT_FOUND"),
            (24, "ELEMENT_EXISTS"),
            (25, "ENTERPRISE_ONLY"),
            (26, "OP_NOT_APPLICABLE"),
            (27, "FILTERED_OUT"),
            (28, "LOST_CONFLICT"),
            (32, "XDR_KEY_BUSY"),
            (50, "QUERY_END"),
            (51, "SECURITY_NOT_SUPPORTED"),
            (52, "SECURITY_NOT_ENABLED"),
            (53, "SECURITY_SCHEME_NOT_SUPPORTED"),
            (54, "INVALID_COMMAND"),
            (55, "INVALID_FIELD"),
            (56, "ILLEGAL_STATE"),
            (60, "INVALID_USER"),
            (61, "USER_ALREADY_EXISTS"),
            (62, "INVALID_PASSWORD"),
            (63, "EXPIRED_PASSWORD"),
            (64, "FORBIDDEN_PASSWORD"),
            (65, "INVALID_CREDENTIAL"),
            (66, "EXPIRED_SESSION"),
            (70, "INVALID_ROLE"),
            (71, "ROLE_ALREADY_EXISTS"),
            (72, "INVALID_PRIVILEGE"),
            (73, "INVALID_WHITELIST"),
            (74, "QUOTAS_NOT_ENABLED"),
            (75, "INVALID_QUOTA"),
            (80, "NOT_AUTHENTICATED"),
            (81, "ROLE_VIOLATION"),
            (82, "NOT_WHITELISTED"),
            (83, "QUOTA_EXCEEDED"),
            (90, "LDAP_NOT_ENABLED"),
            (91, "LDAP_SETUP"),
            (92, "LDAP_TLS_SETUP"),
            (93, "LDAP_AUTHENTICATION"),
            (94, "LDAP_QUERY"),
            (100, "UDF_BAD_RESPONSE"),
            (120, "MRT_BLOCKED"),
            (121, "MRT_VERSION_MISMATCH"),
            (122, "MRT_EXPIRED"),
            (123, "MRT_TOO_MANY_WRITES"),
            (124, "MRT_COMMITTED"),
            (125, "MRT_ABORTED"),
            (126, "MRT_ALREADY_LOCKED"),
            (127, "MRT_MONITOR_EXISTS"),
            (150, "BATCH_DISABLED"),
            (151, "BATCH_MAX_REQUESTS_EXCEEDED"),
            (152, "BATCH_QUEUES_FULL"),
            (160, "GEO_INVALID_GEOJSON"),
            (200, "INDEX_FOUND"),
            (201, "INDEX_NOT_FOUND"),
            (202, "INDEX_OOM"),
            (203, "INDEX_NOT_READABLE"),
            (204, "INDEX_GENERIC"),
            (205, "INDEX_NAME_MAXLEN"),
            (206, "INDEX_MAXCOUNT"),
            (210, "QUERY_ABORTED"),
            (211, "QUERY_QUEUE_FULL"),
            (212, "QUERY_TIMEOUT"),
            (213, "QUERY_GENERIC"),
            (214, "QUERY_NET_IO"),
            (215, "QUERY_DUPLICATE"),
        ];
        for &(code, name) in table {
            let rc = ResultCode::from_u8(code);
            assert_eq!(rc.name(), name, "code {code}");
            assert_ne!(rc.description(), "unknown result code", "code {code}");
        }
        // Every other byte is kept as it came, named UNKNOWN.
        let known: Vec<u8> = table.iter().map(|t| t.0).collect();
        for code in (0..=255u8).filter(|c| !known.contains(c)) {
            let rc = ResultCode::from_u8(code);
            assert_eq!(rc.name(), "UNKNOWN", "code {code}");
            assert_eq!(rc.code(), code);
            assert!(rc.to_string().starts_with(&format!("{code} (UNKNOWN")));
        }
        assert_eq!(ResultCode::LDAP_QUERY, ResultCode(94));
        assert_eq!(ResultCode::MRT_MONITOR_EXISTS, ResultCode(127));
    }

    #[test]
    fn messages_name_the_phase_and_the_doubt() {
        let t = |phase, in_doubt| Error::Timeout {
            phase,
            elapsed: Duration::from_millis(7),
            in_doubt,
        };
        assert_eq!(
            t(TimeoutPhase::Connect, false).to_string(),
            "connect timeout after 7ms"
        );
        assert_eq!(
            t(TimeoutPhase::Receive, true).to_string(),
            "receive timeout after 7ms (write in doubt)"
        );
        assert!(t(TimeoutPhase::Total, true).in_doubt());
        let e = Error::server(ResultCode::GENERATION_ERROR, false);
        assert_eq!(
            e.to_string(),
            "server error 3 (GENERATION_ERROR: generation mismatch)"
        );
        assert!(!e.in_doubt() && !e.is_timeout());
        assert!(Error::server(ResultCode::TIMEOUT, true).is_timeout());
    }
}
