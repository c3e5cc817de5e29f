//! UDF modules registered with an embedded cluster, their info commands, and
//! running a record UDF.
//!
//! Registration is cluster-wide (the registry lives in the shared state), as
//! Aerospike's system metadata makes it. The info replies follow the server's
//! `udf_cask.c`: `udf-put` answers `ok` or `error=<reason>` (a Lua syntax
//! error gives `error=compile_error;file=<f>;line=<n>;message=<base64>`),
//! `udf-list` lists `filename=<f>,hash=<sha1>,type=LUA;` per module, where the
//! hash is the SHA-1 of the JSON document the server stores for the module,
//! `udf-get` answers `type=LUA;content=<base64>;` and `udf-remove` answers `ok`
//! even for a module that is not registered.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use parking_lot::RwLock;

use super::ctx::NodeCtx;
use super::lua;
use super::store::StoredRecord;
use aerospike_proto::wire::base64;
use aerospike_proto::wire::info::parse_pairs;
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

/// Longest file name the server accepts (its buffer is 128 bytes with the NUL).
const MAX_FILE_NAME: usize = 127;
/// Largest decoded module the server accepts.
const MAX_CONTENT: usize = 1024 * 1024;

/// Record ttl meaning "keep the current void time" (-2).
#[cfg(test)]
pub(crate) const TTL_KEEP: u32 = u32::MAX - 1;

/// Source of unique registry ids and module versions (process-wide, so a
/// thread's cache of compiled modules never confuses two clusters).
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

fn next_id() -> u64 {
    NEXT_ID.fetch_add(1, Ordering::Relaxed)
}

/// One registered module.
#[derive(Debug)]
pub(crate) struct Module {
    /// File name as registered, e.g. `bgudf.lua`.
    pub(crate) filename: String,
    /// Decoded Lua source.
    pub(crate) source: Vec<u8>,
    /// The base64 text the client sent (what `udf-get` returns).
    content64: String,
    /// Hex SHA-1 reported by `udf-list`.
    hash: String,
    /// Unique per registration: a re-registered module gets a new version,
    /// which retires every compiled copy of the old one.
    pub(crate) version: u64,
}

/// Every registered module.
#[derive(Debug)]
pub(crate) struct UdfRegistry {
    modules: RwLock<BTreeMap<String, Arc<Module>>>,
}

impl Default for UdfRegistry {
    fn default() -> Self {
        UdfRegistry {
            modules: RwLock::new(BTreeMap::new()),
        }
    }
}

/// Why `udf-put` refused a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CompileError {
    /// The file the error is in (the registered file name).
    pub(crate) file: String,
    /// Line number, 0 when unknown.
    pub(crate) line: u32,
    /// Lua's message without the position prefix.
    pub(crate) message: String,
}

impl UdfRegistry {
    /// Compiles and runs `source` in a scratch runtime, then registers it
    /// under `filename` (replacing any module of that name).
    pub(crate) fn put(&self, filename: &str, source: Vec<u8>) -> Result<(), CompileError> {
        lua::validate(filename, &source)?;
        let content64 = base64::encode(&source);
        let json = format!(
            "{{\"content64\": \"{content64}\", \"type\": \"LUA\", \"name\": \"{filename}\"}}"
        );
        let module = Module {
            filename: filename.to_owned(),
            source,
            hash: hex(&sha1(json.as_bytes())),
            content64,
            version: next_id(),
        };
        self.modules
            .write()
            .insert(filename.to_owned(), Arc::new(module));
        Ok(())
    }

    /// Unregisters `filename`; false when it was not registered.
    pub(crate) fn remove(&self, filename: &str) -> bool {
        self.modules.write().remove(filename).is_some()
    }

    /// The module a UDF call names: the file name without its extension,
    /// the way the server keys its Lua cache (`bgudf` finds `bgudf.lua`).
    pub(crate) fn module(&self, name: &str) -> Option<Arc<Module>> {
        let modules = self.modules.read();
        modules
            .values()
            .find(|m| {
                m.filename
                    .rsplit_once('.')
                    .is_some_and(|(stem, _)| stem == name)
            })
            .cloned()
    }

    /// Answers `udf-put`, `udf-list`, `udf-remove`, `udf-get` and
    /// `udf-clear-cache`; `None` for other commands.
    pub(crate) fn handle_info(&self, name: &str, args: &str) -> Option<String> {
        Some(match name {
            "udf-put" => self.info_put(args),
            "udf-list" => self.info_list(),
            "udf-remove" => self.info_remove(args),
            "udf-get" => self.info_get(args),
            "udf-clear-cache" => "ok".to_owned(),
            _ => return None,
        })
    }

    fn info_put(&self, args: &str) -> String {
        let param = |k: &str| param(args, k);
        let Some(filename) = filename_param(args) else {
            return "error=invalid_filename".into();
        };
        // The extension starts at the first dot and must not be empty.
        if filename.find('.').is_none_or(|i| i + 1 == filename.len()) {
            return "error=invalid_filename".into();
        }
        let Some(content_len) = param("content-len") else {
            return "error=invalid_content_len".into();
        };
        if param("udf-type").is_some_and(|t| t != "LUA") {
            return "error=invalid_udf_type".into();
        }
        let Some(len) = content_len
            .parse::<u32>()
            .ok()
            .filter(|n| n % 4 == 0)
            .map(|n| n as usize)
        else {
            return "error=invalid_content_len".into();
        };
        let Some(content) = param("content").filter(|c| c.len() == len) else {
            return "error=invalid_content".into();
        };
        if len / 4 * 3 > MAX_CONTENT {
            return "error=invalid_udf_content_len,>1M".into();
        }
        let Some(source) = base64::decode(content.as_bytes()) else {
            return "error=invalid_base64_content".into();
        };
        match self.put(filename, source) {
            Ok(()) => "ok".into(),
            Err(e) => format!(
                "error=compile_error;file={};line={};message={}",
                e.file,
                e.line,
                base64::encode(e.message.as_bytes())
            ),
        }
    }

    fn info_list(&self) -> String {
        self.modules
            .read()
            .values()
            .map(|m| format!("filename={},hash={},type=LUA;", m.filename, m.hash))
            .collect()
    }

    fn info_remove(&self, args: &str) -> String {
        match filename_param(args) {
            Some(f) => {
                self.remove(f);
                "ok".into()
            }
            None => "error=invalid_filename".into(),
        }
    }

    fn info_get(&self, args: &str) -> String {
        let Some(f) = filename_param(args) else {
            return "error=invalid_filename".into();
        };
        match self.modules.read().get(f) {
            Some(m) => format!("type=LUA;content={};", m.content64),
            None => "error=not_found".into(),
        }
    }
}

/// The value of `key` in `k=v;k=v` info arguments.
fn param<'a>(args: &'a str, key: &str) -> Option<&'a str> {
    parse_pairs(args, ';')
        .into_iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
}

/// The `filename` argument, when it follows the server's rule.
fn filename_param(args: &str) -> Option<&str> {
    param(args, "filename").filter(|f| filename_is_valid(f))
}

/// The server's rule: 1..127 bytes of `[A-Za-z0-9._-$]`, not starting with a dot.
fn filename_is_valid(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_FILE_NAME
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-' | b'$'))
}

/// Answers `udf-put`, `udf-list`, `udf-remove`, `udf-get`; `None` for other
/// commands. `name` is the command, `args` the text after its `:`.
pub(crate) fn info(node: &NodeCtx, name: &str, args: &str) -> Option<String> {
    node.shared.udfs.handle_info(name, args)
}

/// A failed record UDF, as the server reports it: result code 100 and the
/// text of the `FAILURE` bin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UdfError {
    pub(crate) code: ResultCode,
    pub(crate) message: String,
}

impl UdfError {
    /// A failure with the UDF result code.
    pub(crate) fn udf(message: impl Into<String>) -> Self {
        UdfError {
            code: ResultCode::UDF_BAD_RESPONSE,
            message: message.into(),
        }
    }
}

/// Everything one record UDF call needs besides the record.
#[derive(Debug, Clone)]
pub(crate) struct UdfCall<'a> {
    /// Module name without extension (field 30).
    pub(crate) module: &'a str,
    /// Function name (field 31).
    pub(crate) function: &'a str,
    /// Arguments after the record (field 32, decoded).
    pub(crate) args: &'a [Value],
    /// Set of the record (used when the UDF creates it).
    pub(crate) set: &'a str,
    /// Seconds since the Aerospike epoch.
    pub(crate) now: u32,
    /// The record's digest, for `record.digest`.
    pub(crate) digest: Option<[u8; 20]>,
    /// Namespace default ttl, for ttl 0.
    pub(crate) default_ttl: u32,
    /// The request's record ttl, applied when the UDF writes without calling
    /// `record.set_ttl` (same meaning as for a write: 0 default, -1 never,
    /// -2 keep).
    pub(crate) record_ttl: u32,
}

/// Runs `module.function(rec, args...)`.
///
/// `rec` is the stored record (`None`: it does not exist); it is updated in
/// place when the UDF commits with `aerospike:create`/`update`/`remove`
/// (generation and last-update time bumped, void time from `record.set_ttl`
/// or kept). On error `rec` is left unchanged. Tests use this short form;
/// the job runner and kv call [`apply_call`], which also carries the digest
/// and ttls.
#[cfg(test)]
pub(crate) fn apply(
    registry: &UdfRegistry,
    module: &str,
    function: &str,
    args: &[Value],
    rec: &mut Option<StoredRecord>,
    set: &str,
    now: u32,
) -> Result<Value, UdfError> {
    let call = UdfCall {
        module,
        function,
        args,
        set,
        now,
        digest: None,
        default_ttl: 0,
        record_ttl: TTL_KEEP,
    };
    apply_call(registry, &call, rec)
}

/// Runs `call.module.call.function(rec, args...)` with every detail of the
/// call: digest, namespace default ttl and the request's record ttl.
///
/// `rec` is updated in place when the UDF commits with
/// `aerospike:create`/`update`/`remove` (generation and last-update time
/// bumped, void time from `record.set_ttl` or the record ttl); on error it is
/// left unchanged.
pub(crate) fn apply_call(
    registry: &UdfRegistry,
    call: &UdfCall<'_>,
    rec: &mut Option<StoredRecord>,
) -> Result<Value, UdfError> {
    // The server cannot get a Lua state for an unknown module: error 1.
    let module = registry
        .module(call.module)
        .ok_or_else(|| UdfError::udf("UDF: Execution Error 1"))?;
    lua::run(&module, call, rec)
}

/// The error a stream UDF (aggregation, `UDF_OP` 1) gets: the embedded
/// cluster does not run aggregations. A module that is not registered gives
/// `UDF: Execution Error 1`; a function that fails while building its stream
/// gives the server's `UDF: Execution Error 2 : <Lua message>`.
pub(crate) fn stream_error(
    registry: &UdfRegistry,
    module: &str,
    function: &str,
    args: &[Value],
) -> UdfError {
    match registry.module(module) {
        Some(m) => lua::stream_error(&m, function, args),
        None => UdfError {
            code: ResultCode::SERVER_ERROR,
            message: "UDF: Execution Error 1".into(),
        },
    }
}

/// SHA-1 (FIPS 180-4), for the `udf-list` hash.
fn sha1(data: &[u8]) -> [u8; 20] {
    let mut h: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64).wrapping_mul(8)).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 80];
        for (i, word) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([word[0], word[1], word[2], word[3]]);
        }
        for i in 16..80 {
            w[i] = (w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]).rotate_left(1);
        }
        let [mut a, mut b, mut c, mut d, mut e] = h;
        for (i, wi) in w.iter().enumerate() {
            let (f, k) = match i {
                0..=19 => ((b & c) | (!b & d), 0x5a82_7999),
                20..=39 => (b ^ c ^ d, 0x6ed9_eba1),
                40..=59 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
                _ => (b ^ c ^ d, 0xca62_c1d6),
            };
            let t = a
                .rotate_left(5)
                .wrapping_add(f)
                .wrapping_add(e)
                .wrapping_add(k)
                .wrapping_add(*wi);
            e = d;
            d = c;
            c = b.rotate_left(30);
            b = a;
            a = t;
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 20];
    for (chunk, word) in out.chunks_exact_mut(4).zip(h) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aerospike_proto::fixtures::{read as fixture, unhex};

    #[test]
    fn sha1_vectors() {
        assert_eq!(hex(&sha1(b"")), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        assert_eq!(
            hex(&sha1(b"abc")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    /// Every `(command, value)` line of the info replies in a fixture file
    /// (a reply line repeats the command it answers).
    fn info_replies(file: &str) -> Vec<(String, String)> {
        fixture(file)
            .lines()
            .filter_map(|l| l.strip_prefix("S>C "))
            .map(unhex)
            .filter(|frame| frame[1] == 1)
            .flat_map(|frame| aerospike_proto::wire::info::parse_response(&frame[8..]))
            .collect()
    }

    fn split_command(cmd: &str) -> (&str, &str) {
        cmd.split_once(':').unwrap_or((cmd, ""))
    }

    #[test]
    fn udf_commands_match_fixture() {
        let mut checked = 0;
        for file in [
            "bg-udf-single.txt",
            "bg-errors-single.txt",
            "info-tend-single.txt",
        ] {
            let reg = UdfRegistry::default();
            for (cmd, expected) in info_replies(file) {
                let (name, args) = split_command(&cmd);
                if !name.starts_with("udf-") {
                    continue;
                }
                let got = reg.handle_info(name, args).unwrap();
                assert_eq!(got, expected, "{file}: {cmd}");
                checked += 1;
            }
        }
        // put, 2 lists, list, remove, 2 lists (bg-udf), put, list, remove
        // (bg-errors), list (info-tend).
        assert!(checked >= 10, "only {checked} udf exchanges found");
        let reg = UdfRegistry::default();
        assert_eq!(reg.handle_info("udf-list", ""), Some(String::new()));
    }

    #[test]
    fn put_get_remove() {
        let reg = UdfRegistry::default();
        let src = "function f(rec) return 1 end\n";
        let b64 = base64::encode(src.as_bytes());
        let put = format!(
            "filename=m.lua;content={b64};content-len={};udf-type=LUA;",
            b64.len()
        );
        assert_eq!(reg.handle_info("udf-put", &put).unwrap(), "ok");
        assert_eq!(
            reg.handle_info("udf-get", "filename=m.lua;").unwrap(),
            format!("type=LUA;content={b64};")
        );
        assert!(reg.module("m").is_some());
        assert!(reg.module("m.lua").is_none());
        assert_eq!(
            reg.handle_info("udf-get", "filename=x.lua").unwrap(),
            "error=not_found"
        );
        assert_eq!(
            reg.handle_info("udf-remove", "filename=m.lua;").unwrap(),
            "ok"
        );
        assert_eq!(
            reg.handle_info("udf-remove", "filename=m.lua;").unwrap(),
            "ok"
        );
        assert!(reg.module("m").is_none());
        assert_eq!(reg.handle_info("udf-list", "").unwrap(), "");
        assert_eq!(reg.handle_info("udf-clear-cache", "").unwrap(), "ok");
        assert_eq!(reg.handle_info("sindex-list", ""), None);
    }

    #[test]
    fn put_rejections() {
        let reg = UdfRegistry::default();
        let put = |args: &str| reg.handle_info("udf-put", args).unwrap();
        assert_eq!(put("content=AAAA;content-len=4;"), "error=invalid_filename");
        assert_eq!(
            put("filename=noext;content=AAAA;content-len=4;"),
            "error=invalid_filename"
        );
        assert_eq!(
            put("filename=a.;content=AAAA;content-len=4;"),
            "error=invalid_filename"
        );
        assert_eq!(
            put("filename=a.lua;content=AAAA;"),
            "error=invalid_content_len"
        );
        assert_eq!(
            put("filename=a.lua;content=AAAA;content-len=3;"),
            "error=invalid_content_len"
        );
        assert_eq!(
            put("filename=a.lua;content=AAAA;content-len=4;udf-type=PY;"),
            "error=invalid_udf_type"
        );
        assert_eq!(
            put("filename=a.lua;content=AAAAAAAA;content-len=4;"),
            "error=invalid_content"
        );
        assert_eq!(
            put("filename=a.lua;content=A!AA;content-len=4;"),
            "error=invalid_base64_content"
        );
        assert_eq!(reg.handle_info("udf-list", "").unwrap(), "");
    }

    #[test]
    fn compile_error_reply() {
        let reg = UdfRegistry::default();
        let src = "function f(rec)\n  local x = = 1\nend\n";
        let b64 = base64::encode(src.as_bytes());
        let reply = reg
            .handle_info(
                "udf-put",
                &format!("filename=bad.lua;content={b64};content-len={};", b64.len()),
            )
            .unwrap();
        let rest = reply
            .strip_prefix("error=compile_error;file=bad.lua;line=2;message=")
            .unwrap_or_else(|| panic!("{reply}"));
        let message = String::from_utf8(base64::decode(rest.as_bytes()).unwrap()).unwrap();
        assert_eq!(message, "unexpected symbol near '='");
        assert_eq!(reg.handle_info("udf-list", "").unwrap(), "");
        // A runtime error while loading the module is reported the same way.
        let err = reg.put("boom.lua", b"local t = nil\nlocal y = t.x\n".to_vec());
        let err = err.unwrap_err();
        assert_eq!((err.file.as_str(), err.line), ("boom.lua", 2));
        assert!(err.message.contains("attempt to index"), "{}", err.message);
        // A module whose top level never ends is stopped, not registered.
        let err = reg
            .put("loop.lua", b"\nwhile true do end\n".to_vec())
            .unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.line, err.message.as_str()),
            ("loop.lua", 2, "UDF Execution Timeout")
        );
        assert!(reg.module("loop").is_none());
    }

    const BGUDF: &str = include_str!("../tests/data/bgudf.lua");
    const MAINTENANCE: &str = include_str!("../tests/data/maintenance.lua");

    #[test]
    fn fixture_module_registers_with_the_fixture_hash() {
        let reg = UdfRegistry::default();
        reg.put("bgudf.lua", BGUDF.as_bytes().to_vec()).unwrap();
        assert_eq!(
            reg.handle_info("udf-list", "").unwrap(),
            "filename=bgudf.lua,hash=3241c719a5086433c774a0bb6b1adf4ae99d5130,type=LUA;"
        );
    }

    #[test]
    fn background_set_bin_and_mark() {
        let reg = UdfRegistry::default();
        reg.put("bgudf.lua", BGUDF.as_bytes().to_vec()).unwrap();
        let now = 1000;
        let mut rec = Some(StoredRecord::new("bgudf"));
        rec.as_mut().unwrap().set_bin("i", Value::Int(3));
        rec.as_mut().unwrap().touch_write();
        // query.apply('bgudf', 'set_bin', ['u', 7])
        let args = [Value::from("u"), Value::Int(7)];
        let out = apply(&reg, "bgudf", "set_bin", &args, &mut rec, "bgudf", now).unwrap();
        assert_eq!(out, Value::Nil);
        let r = rec.clone().unwrap();
        assert_eq!(r.bin("u"), Some(&Value::Int(7)));
        assert_eq!(r.generation, 2);
        // apply('bgudf', 'mark', []) with the job's ttl 3600.
        let call = UdfCall {
            module: "bgudf",
            function: "mark",
            args: &[],
            set: "bgudf",
            now,
            digest: None,
            default_ttl: 0,
            record_ttl: 3600,
        };
        apply_call(&reg, &call, &mut rec).unwrap();
        let r = rec.unwrap();
        assert_eq!(r.bin("marked"), Some(&Value::Int(1)));
        assert_eq!(r.void_time, now + 3600);
        assert_eq!(r.generation, 3);
        // An unregistered module fails every record (bg-errors case 21).
        let err = apply(&reg, "nosuchmod", "f", &[], &mut None, "bgudf", now).unwrap_err();
        assert_eq!(err.message, "UDF: Execution Error 1");
    }

    #[test]
    fn stream_udf_failure_matches_the_server() {
        // bg-errors case 17: UDF_OP 1 with bgudf.set_bin('v', 1).
        let text = fixture("bg-errors-single.txt");
        let start = text.find("# STEP case 17").unwrap();
        let frame = text[start..]
            .lines()
            .find_map(|l| l.strip_prefix("S>C "))
            .unwrap();
        let captured = String::from_utf8_lossy(&unhex(frame)).into_owned();
        let failure = &captured[captured.find("UDF: Execution Error").unwrap()..];
        let server_path = "/work/realserver/single/run/work/usr/udf/lua/";

        let reg = UdfRegistry::default();
        reg.put("bgudf.lua", BGUDF.as_bytes().to_vec()).unwrap();
        let args = [Value::from("v"), Value::Int(1)];
        let err = stream_error(&reg, "bgudf", "set_bin", &args);
        assert_eq!(err.code, ResultCode::SERVER_ERROR);
        assert_eq!(
            err.message,
            failure.replace(server_path, "/opt/aerospike/usr/udf/lua/")
        );
        assert_eq!(
            stream_error(&reg, "nosuchmod", "f", &[]).message,
            "UDF: Execution Error 1"
        );
        assert_eq!(
            stream_error(&reg, "bgudf", "nope", &[]).message,
            "UDF: Execution Error 2 : function not found"
        );
        reg.put(
            "agg.lua",
            b"function count(s) return s:map(function(r) return 1 end):reduce(function(a, b) return a + b end) end".to_vec(),
        )
        .unwrap();
        let err = stream_error(&reg, "agg", "count", &[]);
        assert!(err.message.contains("not supported"), "{}", err.message);
    }

    #[test]
    fn maintenance_module() {
        let reg = UdfRegistry::default();
        reg.put("maintenance.lua", MAINTENANCE.as_bytes().to_vec())
            .unwrap();
        let now = 5000;
        let call = |function: &str, args: &[Value], rec: &mut Option<StoredRecord>| {
            apply(&reg, "maintenance", function, args, rec, "s", now).unwrap()
        };
        let rec_with = |updated: i64| {
            let mut r = StoredRecord::new("s");
            r.set_bin("updated", Value::Int(updated));
            r.touch_write();
            Some(r)
        };
        // expire_old removes old records only.
        let cutoff = [Value::Int(100)];
        let mut old = rec_with(10);
        assert_eq!(call("expire_old", &cutoff, &mut old), Value::Int(1));
        assert_eq!(old, None);
        let mut fresh = rec_with(500);
        assert_eq!(call("expire_old", &cutoff, &mut fresh), Value::Int(0));
        assert!(fresh.is_some());
        assert_eq!(call("expire_old", &cutoff, &mut None), Value::Int(0));
        // mark sets a bin and a ttl; inside the UDF the generation is still
        // the old one (the write happens when the UDF returns).
        assert_eq!(call("mark", &[Value::Int(60)], &mut fresh), Value::Int(1));
        assert_eq!(fresh.as_ref().unwrap().generation, 2);
        assert_eq!(fresh.as_ref().unwrap().void_time, now + 60);
        // add creates the record when missing, then updates it.
        let mut counter = None;
        let args = [Value::from("n"), Value::Int(5)];
        assert_eq!(call("add", &args, &mut counter), Value::Int(5));
        assert_eq!(call("add", &args, &mut counter), Value::Int(10));
        assert_eq!(counter.as_ref().unwrap().generation, 2);
        // tag appends to a list bin once.
        for (tag, len) in [("x", 1), ("x", 1), ("y", 2)] {
            let out = call("tag", &[Value::from(tag)], &mut counter);
            assert_eq!(out, Value::Int(len), "tag {tag}");
        }
        assert_eq!(
            counter.as_ref().unwrap().bin("tags"),
            Some(&Value::List(vec![Value::from("x"), Value::from("y")]))
        );
        // summarize returns a map of bin types.
        assert_eq!(
            call("summarize", &[], &mut counter),
            Value::Map(vec![
                (Value::from("n"), Value::from("number")),
                (Value::from("tags"), Value::from("userdata")),
            ])
        );
    }

    #[test]
    fn filename_rules() {
        assert!(filename_is_valid("bgudf.lua"));
        assert!(filename_is_valid("a-b_c$1.lua"));
        assert!(!filename_is_valid(".hidden.lua"));
        assert!(!filename_is_valid("a b.lua"));
        assert!(!filename_is_valid(""));
        assert!(!filename_is_valid(&"a".repeat(128)));
    }
}
