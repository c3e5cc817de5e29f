//! The Lua 5.4 runtime that runs record UDFs inside the embedded cluster.
//!
//! Each thread keeps its own Lua states, one per registered module version,
//! so a background job over many records compiles the module once. A state
//! loads only the safe standard libraries (`string`, `table`, `math`, `utf8`,
//! `coroutine` and `os.clock/date/difftime/time`); `io`, `debug`, `package`,
//! `require`, `load`, `loadfile` and `dofile` are absent. Every call gets an
//! instruction budget and every state a memory limit, so a runaway UDF fails
//! instead of hanging or exhausting the node.
//!
//! The API follows the server's `mod_lua`: `rec[bin]` reads and stages bin
//! changes, `aerospike:create/update/remove/exists(rec)` commit them, the
//! `record`, `list`, `map` and `bytes` modules, and `trace/debug/info/warn`
//! logging (to the `log` crate).

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;

use mlua::{
    AnyUserData, FromLuaMulti, Function, HookTriggers, IntoLuaMulti, Lua, LuaOptions, MaybeSend,
    MetaMethod, MultiValue, StdLib, Table, UserData, UserDataMethods, Value as LuaValue, VmState,
};

use super::store::{void_time_for, StoredRecord, CITRUSLEAF_EPOCH};
use super::udf::{CompileError, Module, UdfCall, UdfError};
use aerospike_proto::ResultCode;
use aerospike_proto::Value;

/// Memory one Lua state may use.
const MEMORY_LIMIT: usize = 64 << 20;
/// Instructions one UDF call (or one module load) may run.
const INSTRUCTION_LIMIT: i64 = 20_000_000;
/// How often the instruction hook runs.
const HOOK_EVERY: u32 = 1000;
/// Compiled module states a thread keeps.
const CACHE_SIZE: usize = 32;
/// Deepest list/map nesting converted between Lua and `Value`.
const MAX_DEPTH: usize = 64;
/// Where the server keeps registered modules; error messages name it.
const USER_PATH: &str = "/opt/aerospike/usr/udf/lua";
/// Longest bin name the server stores.
const MAX_BIN_NAME: usize = 15;
/// Error text when the instruction budget runs out.
const TIMEOUT_MESSAGE: &str = "UDF Execution Timeout";

/// Lua code that builds the user-facing API on top of the Rust primitives.
///
/// The `aerospike` methods check their argument in Lua so a wrong argument
/// is reported at the caller's line, as the server does.
const PRELUDE: &str = r#"
local P = ...
local function need_rec(r, name)
  if not P.is_rec(r) then
    error("bad argument #1 to '" .. name .. "' (Record expected, got " .. P.typename(r) .. ")", 3)
  end
end
aerospike = {}
function aerospike:create(r) need_rec(r, 'create'); return P.commit(r, 'create') end
function aerospike:update(r) need_rec(r, 'update'); return P.commit(r, 'update') end
function aerospike:remove(r) need_rec(r, 'remove'); return P.commit(r, 'remove') end
function aerospike:exists(r) need_rec(r, 'exists'); return P.exists(r) end
function aerospike:log(level, msg) return P.log(level, tostring(msg)) end
record = {}
for _, name in ipairs({'ttl', 'set_ttl', 'gen', 'digest', 'setname', 'bin_names', 'key',
    'last_update_time', 'void_time', 'numbins', 'size', 'device_size', 'drop_key'}) do
  local f = P['rec_' .. name]
  record[name] = function(r, ...) need_rec(r, name); return f(r, ...) end
end
function trace(m, ...) return P.log(4, string.format(m, ...)) end
function debug(m, ...) return P.log(3, string.format(m, ...)) end
function info(m, ...) return P.log(2, string.format(m, ...)) end
function warn(m, ...) return P.log(1, string.format(m, ...)) end
function print(...)
  local t = table.pack(...)
  for i = 1, t.n do t[i] = tostring(t[i]) end
  return P.log(2, table.concat(t, '\t'))
end
-- Runs f(...) and returns whether it succeeded and its result or error
-- value, like the server's apply_record.
local pcall = pcall
return function(f, ...) return pcall(f, ...) end
"#;

// ---------------------------------------------------------------------------
// Runtime states and their per-thread cache.

/// One Lua state with a module loaded.
struct Runtime {
    lua: Lua,
    /// `apply(f, ...)`: `pcall(f, ...)` from Lua, so the error value of a
    /// failing UDF comes back as the UDF raised it.
    apply: Function,
    /// Instructions left in the current call.
    budget: Rc<Cell<i64>>,
    /// Where the budget ran out (`file:line: UDF Execution Timeout`).
    timeout: Rc<RefCell<Option<String>>>,
}

impl Runtime {
    /// A sandboxed state with the UDF API installed and the limits set.
    fn new() -> mlua::Result<Self> {
        let lua = Lua::new_with(
            StdLib::TABLE
                | StdLib::STRING
                | StdLib::MATH
                | StdLib::UTF8
                | StdLib::COROUTINE
                | StdLib::OS,
            LuaOptions::default(),
        )?;
        let g = lua.globals();
        let os: Table = g.get("os")?;
        let safe_os = lua.create_table()?;
        for name in ["clock", "date", "difftime", "time"] {
            safe_os.set(name, os.get::<LuaValue>(name)?)?;
        }
        g.set("os", safe_os)?;
        for name in ["dofile", "loadfile", "load", "require", "collectgarbage"] {
            g.set(name, LuaValue::Nil)?;
        }
        install_modules(&lua)?;
        let primitives = primitives(&lua)?;
        let apply = lua
            .load(PRELUDE)
            .set_name("=prelude")
            .call::<Function>(primitives)?;

        let budget = Rc::new(Cell::new(INSTRUCTION_LIMIT));
        let timeout = Rc::new(RefCell::new(None));
        let left = Rc::clone(&budget);
        let stopped_at = Rc::clone(&timeout);
        // The global hook also runs in coroutines the UDF creates.
        lua.set_global_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, debug| {
                let n = left.get() - i64::from(HOOK_EVERY);
                left.set(n);
                if n >= 0 {
                    return Ok(VmState::Continue);
                }
                // Like the server's timer hook (luaL_error): where it stopped.
                let src = debug.source();
                let message = match (src.short_src, debug.current_line()) {
                    (Some(file), Some(line)) => format!("{file}:{line}: {TIMEOUT_MESSAGE}"),
                    _ => TIMEOUT_MESSAGE.to_owned(),
                };
                stopped_at
                    .borrow_mut()
                    .get_or_insert_with(|| message.clone());
                Err(mlua::Error::runtime(message))
            },
        )?;
        lua.set_memory_limit(MEMORY_LIMIT)?;
        Ok(Runtime {
            lua,
            apply,
            budget,
            timeout,
        })
    }

    /// Runs a chunk of module source named `name` with a fresh budget.
    fn load(&self, name: &str, source: &[u8]) -> mlua::Result<()> {
        self.budget.set(INSTRUCTION_LIMIT);
        self.timeout.borrow_mut().take();
        let result = self.lua.load(source).set_name(name).exec();
        match self.timeout.borrow_mut().take() {
            Some(message) => Err(mlua::Error::runtime(message)),
            None => result,
        }
    }
}

thread_local! {
    /// This thread's states, by module version.
    static STATES: RefCell<HashMap<u64, Rc<Runtime>>> = RefCell::new(HashMap::new());
}

/// The state for `module` on this thread, loading it on first use.
fn runtime_for(module: &Module) -> Result<Rc<Runtime>, UdfError> {
    if let Some(rt) = STATES.with(|s| s.borrow().get(&module.version).cloned()) {
        return Ok(rt);
    }
    let rt = Runtime::new().map_err(|e| UdfError::udf(message_of(&e)))?;
    let name = format!("@{USER_PATH}/{}", module.filename);
    if let Err(e) = rt.load(&name, &module.source) {
        log::warn!("lua create error: {}", message_of(&e));
        // The server cannot create a state for the module: error 1.
        return Err(UdfError::udf("UDF: Execution Error 1"));
    }
    let rt = Rc::new(rt);
    STATES.with(|s| {
        let mut s = s.borrow_mut();
        if s.len() >= CACHE_SIZE {
            if let Some(oldest) = s.keys().min().copied() {
                s.remove(&oldest);
            }
        }
        s.insert(module.version, Rc::clone(&rt));
    });
    Ok(rt)
}

/// Compiles and runs `source` the way `udf-put` validates a module.
pub(crate) fn validate(filename: &str, source: &[u8]) -> Result<(), CompileError> {
    let fail = |message: String| CompileError {
        file: filename.to_owned(),
        line: 0,
        message,
    };
    let rt = Runtime::new().map_err(|e| fail(message_of(&e)))?;
    rt.load(filename, source)
        .map_err(|e| parse_compile_error(filename, &message_of(&e)))
}

/// Splits `[string "f.lua"]:3: msg` into file, line and message, as the
/// server does; other messages keep their first line.
fn parse_compile_error(filename: &str, msg: &str) -> CompileError {
    let parsed = msg.strip_prefix("[string \"").and_then(|rest| {
        let (file, rest) = rest.split_once('"')?;
        let rest = rest.strip_prefix("]:")?;
        let (line, message) = rest.split_once(':')?;
        Some(CompileError {
            file: file.to_owned(),
            line: line.parse().ok()?,
            message: message.strip_prefix(' ').unwrap_or(message).to_owned(),
        })
    });
    parsed.unwrap_or_else(|| CompileError {
        file: filename.to_owned(),
        line: 0,
        message: msg.lines().next().unwrap_or("").chars().take(256).collect(),
    })
}

/// The text of a Lua error, without mlua's traceback.
fn message_of(e: &mlua::Error) -> String {
    match e {
        mlua::Error::RuntimeError(m) | mlua::Error::SyntaxError { message: m, .. } => {
            strip_traceback(m)
        }
        mlua::Error::CallbackError { cause, .. } => message_of(cause),
        mlua::Error::MemoryError(_) => "not enough memory".to_owned(),
        other => strip_traceback(&other.to_string()),
    }
}

fn strip_traceback(m: &str) -> String {
    m.split("\nstack traceback:").next().unwrap_or(m).to_owned()
}

// ---------------------------------------------------------------------------
// Running a record UDF.

/// The record a UDF sees: committed state plus staged bin changes.
struct RecState {
    /// The record exists (the server's "open" flag).
    exists: bool,
    /// Committed bins and metadata.
    rec: StoredRecord,
    /// Void time before the call (`None`: the record did not exist), for a
    /// "keep" ttl.
    void_time_before: Option<u32>,
    /// Staged bin writes, last write of a bin wins; `Nil` deletes.
    dirty: Vec<(String, Value)>,
    /// Staged `record.set_ttl`.
    ttl: Option<u32>,
    /// Staged `record.drop_key`.
    drop_key: bool,
    /// Something was committed.
    written: bool,
    digest: Option<[u8; 20]>,
    now: u32,
    default_ttl: u32,
    record_ttl: u32,
}

impl Default for RecState {
    /// A record that does not exist, detached from any call.
    fn default() -> Self {
        RecState {
            exists: false,
            rec: StoredRecord::new(""),
            void_time_before: None,
            dirty: Vec::new(),
            ttl: None,
            drop_key: false,
            written: false,
            digest: None,
            now: 0,
            default_ttl: 0,
            record_ttl: 0,
        }
    }
}

/// What `aerospike:create/update/remove` asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Commit {
    Create,
    Update,
    Remove,
}

impl RecState {
    fn bin(&self, name: &str) -> Option<&Value> {
        match self.dirty.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => (!matches!(v, Value::Nil)).then_some(v),
            None if self.exists => self.rec.bin(name),
            None => None,
        }
    }

    /// Applies staged changes; returns the status code `aerospike:*` gives.
    fn commit(&mut self, kind: Commit) -> i64 {
        match kind {
            Commit::Create => {
                if self.exists && !self.rec.bins.is_empty() {
                    return 1;
                }
                self.exists = true;
                self.apply_updates();
                0
            }
            Commit::Update => {
                if !self.exists {
                    return -2;
                }
                if !self.dirty.is_empty() || self.ttl.is_some() || self.drop_key {
                    self.apply_updates();
                }
                0
            }
            Commit::Remove => {
                if !self.exists {
                    return 1;
                }
                self.exists = false;
                self.rec.clear_bins();
                self.dirty.clear();
                self.written = true;
                0
            }
        }
    }

    fn apply_updates(&mut self) {
        for (name, value) in std::mem::take(&mut self.dirty) {
            self.rec.set_bin(&name, value);
        }
        if std::mem::take(&mut self.drop_key) {
            self.rec.key = None;
        }
        let ttl = self.ttl.take().unwrap_or(self.record_ttl);
        self.rec.void_time = void_time_for(ttl, self.default_ttl, self.void_time_before, self.now);
        self.written = true;
    }
}

/// The `rec` argument of a UDF.
#[derive(Clone)]
struct LuaRecord(Rc<RefCell<RecState>>);

impl UserData for LuaRecord {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |lua, this, name: LuaValue| {
            let Some(name) = bin_name(lua, name)? else {
                return Ok(LuaValue::Nil);
            };
            match this.0.borrow().bin(&name) {
                Some(v) => to_lua(lua, v, 0),
                None => Ok(LuaValue::Nil),
            }
        });
        methods.add_meta_method(
            MetaMethod::NewIndex,
            |lua, this, (name, value): (LuaValue, LuaValue)| {
                let name = bin_name(lua, name)?
                    .ok_or_else(|| mlua::Error::runtime("bin name must be a string"))?;
                // The server ignores a bin name it cannot store.
                if name.len() > MAX_BIN_NAME {
                    return Ok(());
                }
                let value = from_lua(&value, 0).map_err(mlua::Error::runtime)?;
                this.0.borrow_mut().dirty.push((name, value));
                Ok(())
            },
        );
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            let s = this.0.borrow();
            Ok(format!(
                "Record(gen={}, bins={})",
                s.rec.generation,
                s.rec.bins.len()
            ))
        });
    }
}

/// A bin name from a string or a number (Lua's string coercion); `None`
/// for other values.
fn bin_name(lua: &Lua, v: LuaValue) -> mlua::Result<Option<String>> {
    Ok(lua.coerce_string(v)?.map(|s| s.to_string_lossy()))
}

/// Runs `call` against `rec` with the module's state on this thread.
pub(crate) fn run(
    module: &Module,
    call: &UdfCall<'_>,
    rec: &mut Option<StoredRecord>,
) -> Result<Value, UdfError> {
    let rt = runtime_for(module)?;
    let exists = rec.as_ref().is_some_and(|r| !r.is_expired(call.now));
    let state = RecState {
        exists,
        rec: match rec {
            Some(r) if exists => r.clone(),
            _ => StoredRecord::new(call.set),
        },
        void_time_before: rec.as_ref().filter(|_| exists).map(|r| r.void_time),
        digest: call.digest,
        now: call.now,
        default_ttl: call.default_ttl,
        record_ttl: call.record_ttl,
        ..RecState::default()
    };
    let state = Rc::new(RefCell::new(state));
    let result = invoke(&rt, call, &state);
    // A UDF may have kept `rec` in a global; it must not see this record again.
    let st = state.take();
    let value = result?;
    if st.written {
        *rec = if st.exists && !st.rec.bins.is_empty() {
            let mut r = st.rec;
            r.touch_write();
            Some(r)
        } else {
            None
        };
    }
    Ok(value)
}

fn invoke(
    rt: &Runtime,
    call: &UdfCall<'_>,
    state: &Rc<RefCell<RecState>>,
) -> Result<Value, UdfError> {
    let lua = &rt.lua;
    let err = |e: mlua::Error| UdfError::udf(message_of(&e));
    let rec = LuaValue::UserData(
        lua.create_userdata(LuaRecord(Rc::clone(state)))
            .map_err(err)?,
    );
    let out = call_udf(rt, call.module, call.function, rec, call.args)?;
    from_lua(&out, 0).map_err(UdfError::udf)
}

/// Calls global `function` with `first` and `args` through the state's
/// `pcall` wrapper, with a fresh instruction budget. A failure gives the
/// server's `FAILURE` text.
fn call_udf(
    rt: &Runtime,
    module: &str,
    function: &str,
    first: LuaValue,
    args: &[Value],
) -> Result<LuaValue, UdfError> {
    let lua = &rt.lua;
    let err = |e: mlua::Error| UdfError::udf(message_of(&e));
    let f: LuaValue = lua.globals().get(function).map_err(err)?;
    if f.is_nil() {
        return Err(UdfError::udf("function not found"));
    }
    let mut call_args = Vec::with_capacity(args.len() + 2);
    call_args.push(f);
    call_args.push(first);
    for a in args {
        call_args.push(to_lua(lua, a, 0).map_err(err)?);
    }
    rt.budget.set(INSTRUCTION_LIMIT);
    rt.timeout.borrow_mut().take();
    let result = rt
        .apply
        .call::<(bool, LuaValue)>(MultiValue::from_vec(call_args));
    // Out of budget fails the call even when the UDF caught the error.
    if let Some(message) = rt.timeout.borrow_mut().take() {
        return Err(UdfError::udf(message));
    }
    let (ok, out) = result.map_err(err)?;
    if ok {
        return Ok(out);
    }
    Err(UdfError::udf(match out {
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Error(e) => message_of(&e),
        // What the server says when error() is given something else.
        _ => format!("{module}:0: in function {function}() - error() argument type not handled"),
    }))
}

/// Runs a stream UDF's function the way an aggregation starts it, with a
/// stream object whose operators (`map`, `filter`, `aggregate`, `reduce`,
/// `groupby`) only chain. The embedded cluster does not run aggregations:
/// the result is the server's error for a function that fails while
/// building its stream (`UDF: Execution Error 2 : <message>`), or an error
/// saying aggregations are unsupported.
pub(crate) fn stream_error(module: &Module, function: &str, args: &[Value]) -> UdfError {
    let fail = |message: String| UdfError {
        code: ResultCode::SERVER_ERROR,
        message,
    };
    let rt = match runtime_for(module) {
        Ok(rt) => rt,
        Err(_) => return fail("UDF: Execution Error 1".into()),
    };
    let stream = match rt.lua.load(STREAM).set_name("=stream").eval::<Table>() {
        Ok(t) => LuaValue::Table(t),
        Err(e) => return fail(message_of(&e)),
    };
    let name = module
        .filename
        .rsplit_once('.')
        .map_or(module.filename.as_str(), |(stem, _)| stem);
    match call_udf(&rt, name, function, stream, args) {
        Err(e) => fail(format!("UDF: Execution Error 2 : {}", e.message)),
        Ok(_) => {
            fail("stream UDFs (aggregations) are not supported by the embedded cluster".into())
        }
    }
}

/// The stream object an aggregation's function receives.
const STREAM: &str = r#"
local s = {}
for _, op in ipairs({'map', 'filter', 'aggregate', 'reduce', 'groupby'}) do
  s[op] = function(self) return self end
end
return s
"#;

// ---------------------------------------------------------------------------
// Rust primitives behind the prelude.

fn record_of(ud: &AnyUserData) -> mlua::Result<Rc<RefCell<RecState>>> {
    Ok(Rc::clone(&ud.borrow::<LuaRecord>()?.0))
}

fn primitives(lua: &Lua) -> mlua::Result<Table> {
    let p = lua.create_table()?;
    set_fn(lua, &p, "is_rec", |_, v: LuaValue| {
        Ok(matches!(&v, LuaValue::UserData(ud) if ud.is::<LuaRecord>()))
    })?;
    set_fn(lua, &p, "typename", |_, v: LuaValue| Ok(type_name(&v)))?;
    set_fn(lua, &p, "commit", |_, (ud, kind): (AnyUserData, String)| {
        let kind = match kind.as_str() {
            "create" => Commit::Create,
            "update" => Commit::Update,
            "remove" => Commit::Remove,
            _ => return Err(mlua::Error::runtime("unknown commit")),
        };
        Ok(record_of(&ud)?.borrow_mut().commit(kind))
    })?;
    set_fn(lua, &p, "exists", |_, ud: AnyUserData| {
        Ok(record_of(&ud)?.borrow().exists)
    })?;
    set_fn(lua, &p, "log", |_, (level, msg): (i64, String)| {
        let level = match level {
            ..=1 => log::Level::Warn,
            2 => log::Level::Info,
            3 => log::Level::Debug,
            _ => log::Level::Trace,
        };
        log::log!(target: "aerospike_blocking::udf", level, "{msg}");
        Ok(0)
    })?;
    set_fn(lua, &p, "rec_ttl", |_, ud: AnyUserData| {
        let r = record_of(&ud)?;
        let s = r.borrow();
        Ok(if s.exists && s.rec.void_time > s.now {
            i64::from(s.rec.void_time - s.now)
        } else {
            0
        })
    })?;
    set_fn(
        lua,
        &p,
        "rec_set_ttl",
        |_, (ud, ttl): (AnyUserData, Option<i64>)| {
            // -1 never expires, -2 keeps: the wire's u32 wrap-around.
            record_of(&ud)?.borrow_mut().ttl = Some(ttl.unwrap_or(0) as u32);
            Ok(())
        },
    )?;
    set_fn(lua, &p, "rec_drop_key", |_, ud: AnyUserData| {
        record_of(&ud)?.borrow_mut().drop_key = true;
        Ok(())
    })?;
    set_fn(lua, &p, "rec_size", |_, ud: AnyUserData| {
        let r = record_of(&ud)?;
        let s = r.borrow();
        Ok(if s.exists { s.rec.size() } else { 0 })
    })?;
    p.set(
        "rec_device_size",
        // The embedded namespaces are storage-engine memory: no device.
        lua.create_function(|_, _: AnyUserData| Ok(0))?,
    )?;
    set_fn(lua, &p, "rec_gen", |_, ud: AnyUserData| {
        let r = record_of(&ud)?;
        let s = r.borrow();
        Ok(if s.exists {
            i64::from(s.rec.generation)
        } else {
            0
        })
    })?;
    set_fn(
        lua,
        &p,
        "rec_digest",
        |lua, ud: AnyUserData| match record_of(&ud)?.borrow().digest {
            Some(d) => lua
                .create_userdata(LuaBytes(d.to_vec()))
                .map(LuaValue::UserData),
            None => Ok(LuaValue::Nil),
        },
    )?;
    set_fn(lua, &p, "rec_setname", |_, ud: AnyUserData| {
        Ok(record_of(&ud)?.borrow().rec.set.clone())
    })?;
    set_fn(lua, &p, "rec_bin_names", |lua, ud: AnyUserData| {
        let r = record_of(&ud)?;
        // A plain Lua table, as the server returns.
        let s = r.borrow();
        lua.create_sequence_from(s.rec.bins.iter().map(|(n, _)| n.as_str()))
    })?;
    set_fn(lua, &p, "rec_key", |lua, ud: AnyUserData| {
        let r = record_of(&ud)?;
        let key = r.borrow().rec.key.clone();
        match key {
            Some(k) => to_lua(lua, &k, 0),
            None => Ok(LuaValue::Nil),
        }
    })?;
    set_fn(lua, &p, "rec_last_update_time", |_, ud: AnyUserData| {
        // Milliseconds since the Aerospike epoch, as the server keeps it.
        let ns = record_of(&ud)?.borrow().rec.last_update_ns;
        Ok((ns / 1_000_000).saturating_sub(CITRUSLEAF_EPOCH * 1000) as i64)
    })?;
    set_fn(lua, &p, "rec_void_time", |_, ud: AnyUserData| {
        Ok(i64::from(record_of(&ud)?.borrow().rec.void_time))
    })?;
    set_fn(lua, &p, "rec_numbins", |_, ud: AnyUserData| {
        Ok(record_of(&ud)?.borrow().rec.bins.len())
    })?;
    Ok(p)
}

fn type_name(v: &LuaValue) -> String {
    match v {
        LuaValue::UserData(ud) if ud.is::<LuaRecord>() => "Record".into(),
        LuaValue::UserData(ud) if ud.is::<LuaList>() => "List".into(),
        LuaValue::UserData(ud) if ud.is::<LuaMap>() => "Map".into(),
        LuaValue::UserData(ud) if ud.is::<LuaBytes>() => "Bytes".into(),
        other => other.type_name().into(),
    }
}

// ---------------------------------------------------------------------------
// list, map, bytes and GeoJSON values.

/// A Lua-side list: elements stay Lua values so nested lists keep identity.
struct LuaList(Vec<LuaValue>);

/// A Lua-side map, in insertion order.
struct LuaMap(Vec<(LuaValue, LuaValue)>);

/// Bytes (blob particles and digests).
struct LuaBytes(Vec<u8>);

/// A HyperLogLog bin, passed through untouched.
struct LuaHll(Vec<u8>);

/// A GeoJSON value; `tostring` gives its text.
struct LuaGeo(String);

/// 1-based Lua index to 0-based, when it is in `0..len`.
fn slot(i: i64, len: usize) -> Option<usize> {
    usize::try_from(i).ok()?.checked_sub(1).filter(|&i| i < len)
}

/// True for values the server can hold in a list, map or bin; plain tables,
/// functions and coroutines are dropped (the server converts them to nothing).
fn storable(v: &LuaValue) -> bool {
    match v {
        LuaValue::Nil
        | LuaValue::Boolean(_)
        | LuaValue::Integer(_)
        | LuaValue::Number(_)
        | LuaValue::String(_) => true,
        LuaValue::UserData(ud) => {
            ud.is::<LuaList>()
                || ud.is::<LuaMap>()
                || ud.is::<LuaBytes>()
                || ud.is::<LuaHll>()
                || ud.is::<LuaGeo>()
        }
        _ => false,
    }
}

/// Packed size in bytes, for `list.nbytes` / `map.nbytes`.
fn nbytes(v: &LuaValue) -> mlua::Result<usize> {
    let value = from_lua(v, 0).map_err(mlua::Error::runtime)?;
    Ok(aerospike_proto::wire::msgpack::to_vec(&value).len())
}

/// `tostring` of a value inside a list or map.
fn display(v: &LuaValue) -> String {
    match v {
        LuaValue::String(s) => s.to_string_lossy(),
        LuaValue::Integer(i) => i.to_string(),
        LuaValue::Number(n) => n.to_string(),
        LuaValue::Boolean(b) => b.to_string(),
        LuaValue::Nil => "nil".into(),
        LuaValue::UserData(_) => v.to_string().unwrap_or_else(|_| type_name(v)),
        other => other.type_name().into(),
    }
}

impl UserData for LuaList {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |_, this, i: LuaValue| {
            Ok(match i {
                LuaValue::Integer(i) => slot(i, this.0.len())
                    .map(|i| this.0[i].clone())
                    .unwrap_or(LuaValue::Nil),
                _ => LuaValue::Nil,
            })
        });
        methods.add_meta_method_mut(MetaMethod::NewIndex, |_, this, (i, v): (i64, LuaValue)| {
            let Some(i) = usize::try_from(i).ok().and_then(|i| i.checked_sub(1)) else {
                return Ok(());
            };
            if !storable(&v) {
                return Ok(());
            }
            if i >= this.0.len() {
                // Setting past the end pads with nil.
                this.0.resize(i + 1, LuaValue::Nil);
            }
            this.0[i] = v;
            Ok(())
        });
        methods.add_meta_method(MetaMethod::Len, |_, this, ()| Ok(this.0.len()));
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(list_text(this)));
    }
}

fn list_text(l: &LuaList) -> String {
    let items: Vec<String> = l.0.iter().map(display).collect();
    format!("List({})", items.join(", "))
}

/// Key equality for maps: numbers by value, strings by content, everything
/// else by Lua identity.
fn key_eq(a: &LuaValue, b: &LuaValue) -> bool {
    match (a, b) {
        (LuaValue::Integer(x), LuaValue::Number(y))
        | (LuaValue::Number(y), LuaValue::Integer(x)) => *x as f64 == *y,
        (LuaValue::String(x), LuaValue::String(y)) => x.as_bytes() == y.as_bytes(),
        _ => a == b,
    }
}

impl LuaMap {
    fn get(&self, k: &LuaValue) -> LuaValue {
        self.0
            .iter()
            .find(|(x, _)| key_eq(x, k))
            .map(|(_, v)| v.clone())
            .unwrap_or(LuaValue::Nil)
    }

    /// Sets `k` to `v`; a nil key or a value the server cannot hold removes
    /// the entry, as `map[k] = v` does on the server.
    fn set(&mut self, k: LuaValue, v: LuaValue) {
        if k.is_nil() || !storable(&k) {
            return;
        }
        let pos = self.0.iter().position(|(x, _)| key_eq(x, &k));
        match (pos, v) {
            (Some(i), v) if v.is_nil() || !storable(&v) => {
                self.0.remove(i);
            }
            (Some(i), v) => self.0[i].1 = v,
            (None, v) if v.is_nil() || !storable(&v) => {}
            (None, v) => self.0.push((k, v)),
        }
    }
}

impl UserData for LuaMap {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |_, this, k: LuaValue| Ok(this.get(&k)));
        methods.add_meta_method_mut(
            MetaMethod::NewIndex,
            |_, this, (k, v): (LuaValue, LuaValue)| {
                this.set(k, v);
                Ok(())
            },
        );
        methods.add_meta_method(MetaMethod::Len, |_, this, ()| Ok(this.0.len()));
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(map_text(this)));
    }
}

fn map_text(m: &LuaMap) -> String {
    let items: Vec<String> =
        m.0.iter()
            .map(|(k, v)| format!("{}={}", display(k), display(v)))
            .collect();
    format!("Map({})", items.join(", "))
}

impl UserData for LuaBytes {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |_, this, i: i64| {
            Ok(slot(i, this.0.len()).map(|i| i64::from(this.0[i])))
        });
        methods.add_meta_method_mut(MetaMethod::NewIndex, |_, this, (i, b): (i64, i64)| {
            set_byte(&mut this.0, i, b)
                .then_some(())
                .ok_or_else(|| mlua::Error::runtime("bytes: index or value out of range"))
        });
        methods.add_meta_method(MetaMethod::Len, |_, this, ()| Ok(this.0.len()));
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(bytes_text(&this.0)));
    }
}

fn bytes_text(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02X}")).collect()
}

/// Sets the 1-based byte `i` (growing by at most one byte); false when `i`
/// or `v` is out of range.
fn set_byte(b: &mut Vec<u8>, i: i64, v: i64) -> bool {
    let (Ok(i), Ok(v)) = (usize::try_from(i), u8::try_from(v)) else {
        return false;
    };
    match i.checked_sub(1) {
        Some(j) if j < b.len() => b[j] = v,
        Some(j) if j == b.len() => b.push(v),
        _ => return false,
    }
    true
}

impl UserData for LuaHll {}

impl UserData for LuaGeo {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.0.clone()));
    }
}

/// An iterator over a map's keys (`what` 0), values (1) or `(key, value)`
/// pairs (2).
fn map_iter(lua: &Lua, ud: AnyUserData, what: u8) -> mlua::Result<Function> {
    let pos = Cell::new(0usize);
    lua.create_function(move |_, ()| {
        let map = ud.borrow::<LuaMap>()?;
        let i = pos.get();
        pos.set(i + 1);
        let (k, v) = match map.0.get(i) {
            Some((k, v)) => (k.clone(), v.clone()),
            None => return Ok(MultiValue::new()),
        };
        Ok(match what {
            0 => MultiValue::from_vec(vec![k]),
            1 => MultiValue::from_vec(vec![v]),
            _ => MultiValue::from_vec(vec![k, v]),
        })
    })
}

fn new_list(lua: &Lua, items: Vec<LuaValue>) -> mlua::Result<AnyUserData> {
    lua.create_userdata(LuaList(items))
}

/// `list.take` / `list.drop`: a new list of the first `n` elements, or of
/// the rest after them; nil when `n` is not positive.
fn list_part(lua: &Lua, l: &AnyUserData, n: i64, take: bool) -> mlua::Result<LuaValue> {
    let Ok(n) = usize::try_from(n) else {
        return Ok(LuaValue::Nil);
    };
    if n == 0 {
        return Ok(LuaValue::Nil);
    }
    let list = l.borrow::<LuaList>()?;
    let n = n.min(list.0.len());
    let items = if take {
        list.0[..n].to_vec()
    } else {
        list.0[n..].to_vec()
    };
    new_list(lua, items).map(LuaValue::UserData)
}

/// Installs the `list`, `map` and `bytes` modules as globals.
fn install_modules(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();
    g.set("list", list_module(lua)?)?;
    g.set("map", map_module(lua)?)?;
    g.set("bytes", bytes_module(lua)?)?;
    let math: Table = g.get("math")?;
    set_fn(
        lua,
        &math,
        "sum",
        |_, (a, b): (LuaValue, LuaValue)| match (a, b) {
            (LuaValue::Integer(a), LuaValue::Integer(b)) => {
                Ok(LuaValue::Integer(a.wrapping_add(b)))
            }
            (a, b) => {
                let num = |v: &LuaValue| match v {
                    LuaValue::Integer(i) => Some(*i as f64),
                    LuaValue::Number(n) => Some(*n),
                    _ => None,
                };
                match (num(&a), num(&b)) {
                    (Some(x), Some(y)) => Ok(LuaValue::Number(x + y)),
                    _ => Err(mlua::Error::runtime("math.sum: numbers expected")),
                }
            }
        },
    )?;
    Ok(())
}

fn list_module(lua: &Lua) -> mlua::Result<Table> {
    let list = lua.create_table()?;
    // list{...}: the table's values, skipping those a list cannot hold.
    set_call(
        lua,
        &list,
        lua.create_function(|lua, (_, t): (LuaValue, Option<Table>)| {
            // Like the server: every numeric key, in key order; holes vanish.
            let mut items: Vec<(f64, LuaValue)> = Vec::new();
            if let Some(t) = t {
                for pair in t.pairs::<LuaValue, LuaValue>() {
                    let (k, v) = pair?;
                    let k = match k {
                        LuaValue::Integer(i) => i as f64,
                        LuaValue::Number(n) => n,
                        _ => continue,
                    };
                    if storable(&v) {
                        items.push((k, v));
                    }
                }
            }
            items.sort_by(|a, b| a.0.total_cmp(&b.0));
            new_list(lua, items.into_iter().map(|(_, v)| v).collect())
        })?,
    )?;
    let create = lua.create_function(|lua, _: MultiValue| new_list(lua, Vec::new()))?;
    list.set("create", create.clone())?;
    list.set("new", create)?;
    set_fn(lua, &list, "size", |_, l: AnyUserData| {
        Ok(l.borrow::<LuaList>()?.0.len())
    })?;
    set_fn(
        lua,
        &list,
        "append",
        |_, (l, v): (AnyUserData, LuaValue)| {
            if storable(&v) {
                l.borrow_mut::<LuaList>()?.0.push(v);
            }
            Ok(())
        },
    )?;
    set_fn(
        lua,
        &list,
        "prepend",
        |_, (l, v): (AnyUserData, LuaValue)| {
            if storable(&v) {
                l.borrow_mut::<LuaList>()?.0.insert(0, v);
            }
            Ok(())
        },
    )?;
    set_fn(
        lua,
        &list,
        "insert",
        |_, (l, pos, v): (AnyUserData, i64, LuaValue)| {
            let mut list = l.borrow_mut::<LuaList>()?;
            let len = list.0.len();
            if let (Some(i), true) = (slot(pos, len + 1), storable(&v)) {
                list.0.insert(i, v);
            }
            Ok(())
        },
    )?;
    set_fn(lua, &list, "remove", |_, (l, pos): (AnyUserData, i64)| {
        let mut list = l.borrow_mut::<LuaList>()?;
        let len = list.0.len();
        if let Some(i) = slot(pos, len) {
            list.0.remove(i);
        }
        Ok(())
    })?;
    set_fn(lua, &list, "trim", |_, (l, pos): (AnyUserData, i64)| {
        let mut list = l.borrow_mut::<LuaList>()?;
        let len = list.0.len();
        if let Some(i) = slot(pos, len) {
            list.0.truncate(i);
        }
        Ok(())
    })?;
    set_fn(
        lua,
        &list,
        "concat",
        |_, (l, other): (AnyUserData, AnyUserData)| {
            let more = other.borrow::<LuaList>()?.0.clone();
            l.borrow_mut::<LuaList>()?.0.extend(more);
            Ok(())
        },
    )?;
    set_fn(lua, &list, "take", |lua, (l, n): (AnyUserData, i64)| {
        list_part(lua, &l, n, true)
    })?;
    set_fn(lua, &list, "drop", |lua, (l, n): (AnyUserData, i64)| {
        list_part(lua, &l, n, false)
    })?;
    set_fn(lua, &list, "clone", |lua, l: AnyUserData| {
        new_list(lua, l.borrow::<LuaList>()?.0.clone())
    })?;
    set_fn(lua, &list, "nbytes", |_, l: AnyUserData| {
        nbytes(&LuaValue::UserData(l))
    })?;
    set_fn(lua, &list, "tostring", |_, l: AnyUserData| {
        Ok(list_text(&*l.borrow::<LuaList>()?))
    })?;
    set_fn(lua, &list, "iterator", |lua, l: AnyUserData| {
        let pos = Cell::new(0usize);
        lua.create_function(move |_, ()| {
            let list = l.borrow::<LuaList>()?;
            let i = pos.get();
            pos.set(i + 1);
            Ok(match list.0.get(i) {
                Some(v) => MultiValue::from_vec(vec![v.clone()]),
                None => MultiValue::new(),
            })
        })
    })?;
    Ok(list)
}

fn map_module(lua: &Lua) -> mlua::Result<Table> {
    let map = lua.create_table()?;
    // map{...}: every entry of the table whose key and value a map can hold.
    set_call(
        lua,
        &map,
        lua.create_function(|lua, (_, t): (LuaValue, Option<Table>)| {
            let mut m = LuaMap(Vec::new());
            if let Some(t) = t {
                for pair in t.pairs::<LuaValue, LuaValue>() {
                    let (k, v) = pair?;
                    m.set(k, v);
                }
            }
            lua.create_userdata(m)
        })?,
    )?;
    let create =
        lua.create_function(|lua, _: MultiValue| lua.create_userdata(LuaMap(Vec::new())))?;
    map.set("create", create.clone())?;
    map.set("new", create)?;
    set_fn(lua, &map, "size", |_, m: AnyUserData| {
        Ok(m.borrow::<LuaMap>()?.0.len())
    })?;
    set_fn(lua, &map, "remove", |_, (m, k): (AnyUserData, LuaValue)| {
        m.borrow_mut::<LuaMap>()?.set(k, LuaValue::Nil);
        Ok(())
    })?;
    set_fn(lua, &map, "clone", |lua, m: AnyUserData| {
        lua.create_userdata(LuaMap(m.borrow::<LuaMap>()?.0.clone()))
    })?;
    set_fn(
        lua,
        &map,
        "merge",
        |lua, (a, b, f): (AnyUserData, AnyUserData, Option<Function>)| {
            let mut out = LuaMap(a.borrow::<LuaMap>()?.0.clone());
            let more = b.borrow::<LuaMap>()?.0.clone();
            for (k, v) in more {
                let old = out.get(&k);
                // With a function, clashing keys get f(old, new).
                let v = match (&f, old.is_nil()) {
                    (Some(f), false) => f.call::<LuaValue>((old, v))?,
                    _ => v,
                };
                out.set(k, v);
            }
            lua.create_userdata(out)
        },
    )?;
    set_fn(
        lua,
        &map,
        "diff",
        |lua, (a, b): (AnyUserData, AnyUserData)| {
            let a = a.borrow::<LuaMap>()?;
            let b = b.borrow::<LuaMap>()?;
            let mut out = LuaMap(Vec::new());
            for (k, v) in a.0.iter().filter(|(k, _)| b.get(k).is_nil()) {
                out.set(k.clone(), v.clone());
            }
            for (k, v) in b.0.iter().filter(|(k, _)| a.get(k).is_nil()) {
                out.set(k.clone(), v.clone());
            }
            lua.create_userdata(out)
        },
    )?;
    set_fn(lua, &map, "keys", |lua, m: AnyUserData| map_iter(lua, m, 0))?;
    set_fn(lua, &map, "values", |lua, m: AnyUserData| {
        map_iter(lua, m, 1)
    })?;
    let pairs = lua.create_function(|lua, m: AnyUserData| map_iter(lua, m, 2))?;
    map.set("pairs", pairs.clone())?;
    map.set("iterator", pairs)?;
    set_fn(lua, &map, "nbytes", |_, m: AnyUserData| {
        nbytes(&LuaValue::UserData(m))
    })?;
    set_fn(lua, &map, "tostring", |_, m: AnyUserData| {
        Ok(map_text(&*m.borrow::<LuaMap>()?))
    })?;
    Ok(map)
}

fn bytes_module(lua: &Lua) -> mlua::Result<Table> {
    let bytes = lua.create_table()?;
    // bytes(capacity): an empty byte string (the capacity is only a hint).
    set_call(
        lua,
        &bytes,
        lua.create_function(|lua, _: MultiValue| lua.create_userdata(LuaBytes(Vec::new())))?,
    )?;
    set_fn(lua, &bytes, "size", |_, b: AnyUserData| {
        Ok(b.borrow::<LuaBytes>()?.0.len())
    })?;
    set_fn(lua, &bytes, "get_byte", |_, (b, i): (AnyUserData, i64)| {
        let b = b.borrow::<LuaBytes>()?;
        Ok(slot(i, b.0.len()).map(|i| i64::from(b.0[i])))
    })?;
    set_fn(
        lua,
        &bytes,
        "set_byte",
        |_, (b, i, v): (AnyUserData, i64, i64)| {
            Ok(set_byte(&mut b.borrow_mut::<LuaBytes>()?.0, i, v))
        },
    )?;
    set_fn(
        lua,
        &bytes,
        "append_byte",
        |_, (b, v): (AnyUserData, i64)| {
            Ok(match u8::try_from(v) {
                Ok(v) => {
                    b.borrow_mut::<LuaBytes>()?.0.push(v);
                    true
                }
                Err(_) => false,
            })
        },
    )?;
    set_fn(
        lua,
        &bytes,
        "append_string",
        |_, (b, s): (AnyUserData, mlua::LuaString)| {
            b.borrow_mut::<LuaBytes>()?
                .0
                .extend_from_slice(&s.as_bytes());
            Ok(!s.as_bytes().is_empty())
        },
    )?;
    set_fn(
        lua,
        &bytes,
        "append_bytes",
        |_, (b, other, n): (AnyUserData, AnyUserData, i64)| {
            let Ok(n) = usize::try_from(n) else {
                return Ok(false);
            };
            let more = other.borrow::<LuaBytes>()?.0.clone();
            let n = n.min(more.len());
            b.borrow_mut::<LuaBytes>()?.0.extend_from_slice(&more[..n]);
            Ok(true)
        },
    )?;
    set_fn(
        lua,
        &bytes,
        "get_string",
        |lua, (b, i, n): (AnyUserData, i64, i64)| {
            let b = b.borrow::<LuaBytes>()?;
            let (Some(start), Ok(n)) = (slot(i, b.0.len()), usize::try_from(n)) else {
                return Ok(LuaValue::Nil);
            };
            let end = start.saturating_add(n).min(b.0.len());
            lua.create_string(&b.0[start..end]).map(LuaValue::String)
        },
    )?;
    set_fn(lua, &bytes, "tostring", |_, b: AnyUserData| {
        Ok(bytes_text(&b.borrow::<LuaBytes>()?.0))
    })?;
    Ok(bytes)
}

/// Sets `t[name]` to the Rust function `f`.
fn set_fn<A, R>(
    lua: &Lua,
    t: &Table,
    name: &str,
    f: impl Fn(&Lua, A) -> mlua::Result<R> + MaybeSend + 'static,
) -> mlua::Result<()>
where
    A: FromLuaMulti,
    R: IntoLuaMulti,
{
    t.set(name, lua.create_function(f)?)
}

/// Makes `t(...)` call `f(t, ...)`.
fn set_call(lua: &Lua, t: &Table, f: Function) -> mlua::Result<()> {
    let mt = lua.create_table()?;
    mt.set("__call", f)?;
    t.set_metatable(Some(mt))
}

// ---------------------------------------------------------------------------
// Value conversion.

/// Converts a crate value to Lua: lists, maps and blobs become the `list`,
/// `map` and `bytes` userdata.
fn to_lua(lua: &Lua, v: &Value, depth: usize) -> mlua::Result<LuaValue> {
    if depth > MAX_DEPTH {
        return Err(mlua::Error::runtime("value nested too deeply"));
    }
    Ok(match v {
        Value::Nil => LuaValue::Nil,
        Value::Int(i) => LuaValue::Integer(*i),
        Value::Float(f) => LuaValue::Number(*f),
        Value::Bool(b) => LuaValue::Boolean(*b),
        Value::String(s) => LuaValue::String(lua.create_string(s)?),
        Value::Blob(b) => LuaValue::UserData(lua.create_userdata(LuaBytes(b.clone()))?),
        Value::Hll(b) => LuaValue::UserData(lua.create_userdata(LuaHll(b.clone()))?),
        Value::GeoJson(s) => LuaValue::UserData(lua.create_userdata(LuaGeo(s.clone()))?),
        Value::List(items) => {
            let items = items
                .iter()
                .map(|x| to_lua(lua, x, depth + 1))
                .collect::<mlua::Result<_>>()?;
            LuaValue::UserData(new_list(lua, items)?)
        }
        Value::Map(entries) => {
            let mut m = LuaMap(Vec::with_capacity(entries.len()));
            for (k, x) in entries {
                m.0.push((to_lua(lua, k, depth + 1)?, to_lua(lua, x, depth + 1)?));
            }
            LuaValue::UserData(lua.create_userdata(m)?)
        }
        // `Value` is non-exhaustive; a future particle type has no Lua form.
        #[allow(unreachable_patterns)]
        _ => return Err(mlua::Error::runtime("value type not supported in Lua")),
    })
}

/// Converts a Lua value to a crate value. Like the server, plain tables,
/// functions and other Lua-only values become nil (setting a bin to one
/// removes the bin); strings that are not UTF-8 become blobs.
fn from_lua(v: &LuaValue, depth: usize) -> Result<Value, String> {
    if depth > MAX_DEPTH {
        return Err("value nested too deeply (or contains itself)".into());
    }
    Ok(match v {
        LuaValue::Nil => Value::Nil,
        LuaValue::Boolean(b) => Value::Bool(*b),
        LuaValue::Integer(i) => Value::Int(*i),
        LuaValue::Number(n) => Value::Float(*n),
        LuaValue::String(s) => match s.to_str() {
            Ok(s) => Value::String(s.to_owned()),
            Err(_) => Value::Blob(s.as_bytes().to_vec()),
        },
        LuaValue::UserData(ud) => {
            if let Ok(l) = ud.borrow::<LuaList>() {
                Value::List(
                    l.0.iter()
                        .map(|x| from_lua(x, depth + 1))
                        .collect::<Result<_, _>>()?,
                )
            } else if let Ok(m) = ud.borrow::<LuaMap>() {
                Value::Map(
                    m.0.iter()
                        .map(|(k, x)| Ok((from_lua(k, depth + 1)?, from_lua(x, depth + 1)?)))
                        .collect::<Result<_, String>>()?,
                )
            } else if let Ok(b) = ud.borrow::<LuaBytes>() {
                Value::Blob(b.0.clone())
            } else if let Ok(h) = ud.borrow::<LuaHll>() {
                Value::Hll(h.0.clone())
            } else if let Ok(g) = ud.borrow::<LuaGeo>() {
                Value::GeoJson(g.0.clone())
            } else {
                Value::Nil
            }
        }
        _ => Value::Nil,
    })
}

#[cfg(test)]
mod tests {
    use super::super::udf::{apply, apply_call, UdfCall, UdfRegistry, TTL_KEEP};
    use super::*;

    const NOW: u32 = 500_000_000;

    const TEST_MODULE: &str = r#"
function echo(rec, v) return v end
function echo_all(rec, ...) return list{...} end
function get(rec, bin) return rec[bin] end
function set_only(rec, bin, v) rec[bin] = v end
function set_update(rec, bin, v) rec[bin] = v; return aerospike:update(rec) end
function set_create(rec, bin, v) rec[bin] = v; return aerospike:create(rec) end
function remove(rec) return aerospike:remove(rec) end
function exists(rec) return aerospike:exists(rec) end
function meta(rec)
  return map{ttl = record.ttl(rec), gen = record.gen(rec), set = record.setname(rec),
    void = record.void_time(rec), key = record.key(rec), n = record.numbins(rec),
    lut = record.last_update_time(rec)}
end
function names(rec)
  local t = record.bin_names(rec)
  return list{#t, t[1], t[2]}
end
function drop_key(rec) record.drop_key(rec); return aerospike:update(rec) end
function size(rec) return list{record.size(rec), record.device_size(rec)} end
function digest(rec) return record.digest(rec) end
function set_ttl(rec, ttl) record.set_ttl(rec, ttl); return aerospike:update(rec) end
function fail(rec) error('custom failure') end
function fail_table(rec) error({code = 1}) end
function fail_plain(rec) error('no position', 0) end
not_a_function = 5
function bad_index(rec) local t = nil; return t.x end
function bad_update(rec) local r = aerospike:update({}); return r end
function spin(rec) while true do end end
function hog(rec) local t = {} ; for i = 1, 1e9 do t[i] = string.rep('x', 1000) .. i end end
function sandbox(rec)
  return list{type(io), type(os.execute), type(os.time), type(require), type(load),
    type(dofile), type(string.format), type(math.floor), type(table.insert)}
end
function counter(rec) n = (n or 0) + 1; return n end
function co_spin(rec)
  local co = coroutine.create(function() while true do end end)
  return coroutine.resume(co)
end
function odd_bins(rec)
  rec[1] = 'one'
  rec['a_very_long_bin_name'] = 1
  return aerospike:update(rec)
end
function lists(rec)
  local l = list{1, 2, 3}
  list.append(l, 4)
  list.prepend(l, 0)
  list.insert(l, 2, 'x')
  list.remove(l, 3)
  list.append(l, {})
  local out = list()
  list.append(out, list.size(l))
  list.append(out, l)
  list.append(out, list.take(l, 2))
  list.append(out, list.drop(l, 4))
  local c = list.clone(l)
  c[1] = 'changed'
  list.append(out, l[1])
  list.append(out, #l)
  local sum = 0
  for v in list.iterator(list{1, 2, 3}) do sum = sum + v end
  list.append(out, sum)
  for i, v in ipairs(list{10, 20}) do sum = sum + i * v end
  list.append(out, sum)
  local cc = list{1}
  list.concat(cc, list{2, 3})
  list.trim(cc, 3)
  list.append(out, cc)
  list.append(out, tostring(list{1, 'a'}))
  list.append(out, list.nbytes(list{1, 2}))
  list.append(out, list.take(l, 0) == nil and list.drop(l, -1) == nil)
  list.append(out, math.sum(2, 3))
  return out
end
function maps(rec)
  local m = map{a = 1}
  m['b'] = 2
  m[3] = 'three'
  m['a'] = nil
  local keys = list()
  for k in map.keys(m) do list.append(keys, k) end
  local values = list()
  for v in map.values(m) do list.append(values, v) end
  local n = 0
  for k, v in map.pairs(m) do n = n + 1 end
  for k, v in map.iterator(m) do n = n + 1 end
  local c = map.clone(m)
  map.remove(c, 'b')
  local merged = map.merge(map{x = 1, y = 2}, map{y = 10, z = 3}, function(a, b) return a + b end)
  local diff = map.diff(map{x = 1, y = 2}, map{y = 5, z = 3})
  return list{map.size(m), #m, keys, values, n, m['b'], m[3], map.size(c), m,
    merged['x'], merged['y'], merged['z'], map.size(diff), diff['x'], diff['z'],
    map.nbytes(map{a = 1}), diff['y'] == nil}
end
function bytes_test(rec)
  local b = bytes(8)
  local before = bytes.size(b)
  bytes.append_byte(b, 65)
  bytes.append_string(b, 'BC')
  b[4] = 255
  bytes.set_byte(b, 2, 66)
  return list{before, bytes.size(b), b[1], b[2], bytes.get_byte(b, 4), b[9] == nil,
    bytes.get_string(b, 2, 2), bytes.append_byte(b, 256), b}
end
function nested(rec)
  local inner = list{1}
  local outer = list{inner}
  list.append(inner, 2)
  return outer
end
function self_ref(rec)
  local l = list()
  list.append(l, l)
  return l
end
function table_bin(rec) rec['a'] = {1, 2}; return aerospike:update(rec) end
function logs(rec) info('i %d', 1); debug('d'); trace('t'); warn('w %s', 'x'); print('p', 1); return 0 end
"#;

    fn registry() -> UdfRegistry {
        let reg = UdfRegistry::default();
        reg.put("t.lua", TEST_MODULE.as_bytes().to_vec()).unwrap();
        reg
    }

    fn run(
        reg: &UdfRegistry,
        f: &str,
        args: &[Value],
        rec: &mut Option<StoredRecord>,
    ) -> Result<Value, UdfError> {
        let call = UdfCall {
            module: "t",
            function: f,
            args,
            set: "s",
            now: NOW,
            digest: Some([7; 20]),
            default_ttl: 0,
            record_ttl: TTL_KEEP,
        };
        apply_call(reg, &call, rec)
    }

    fn record(bins: &[(&str, Value)]) -> StoredRecord {
        let mut r = StoredRecord::new("s");
        for (n, v) in bins {
            r.set_bin(n, v.clone());
        }
        r.generation = 3;
        r.void_time = NOW + 1000;
        r.last_update_ns = (CITRUSLEAF_EPOCH + 100) * 1_000_000_000;
        r.key = Some(Value::from("k1"));
        r
    }

    fn s(x: &str) -> Value {
        Value::from(x)
    }

    #[test]
    fn values_round_trip() {
        let reg = registry();
        let vals = vec![
            Value::Nil,
            Value::Int(-5),
            Value::Int(i64::MAX),
            Value::Float(1.5),
            Value::Float(2.0),
            s("héllo"),
            s(""),
            Value::Blob(vec![0, 1, 255]),
            Value::Bool(true),
            Value::Bool(false),
            Value::List(vec![Value::Int(1), s("a"), Value::List(vec![Value::Nil])]),
            Value::Map(vec![
                (s("k"), Value::Int(1)),
                (Value::Int(2), Value::Map(vec![(s("x"), Value::Float(0.5))])),
            ]),
            Value::GeoJson(r#"{"type":"Point","coordinates":[1,2]}"#.into()),
            Value::Hll(vec![1, 2, 3]),
        ];
        for v in &vals {
            let got = run(&reg, "echo", std::slice::from_ref(v), &mut None).unwrap();
            assert_eq!(&got, v);
        }
        // Several arguments arrive in order.
        let got = run(&reg, "echo_all", &vals[1..4], &mut None).unwrap();
        assert_eq!(got, Value::List(vals[1..4].to_vec()));
    }

    #[test]
    fn lua_only_values() {
        let reg = registry();
        // A list containing itself cannot become a Value.
        let err = run(&reg, "self_ref", &[], &mut None).unwrap_err();
        assert_eq!(err.code, ResultCode::UDF_BAD_RESPONSE);
        assert!(err.message.contains("nested too deeply"), "{}", err.message);
        // Nested lists keep identity inside Lua.
        assert_eq!(
            run(&reg, "nested", &[], &mut None).unwrap(),
            Value::List(vec![Value::List(vec![Value::Int(1), Value::Int(2)])])
        );
        // A plain table written to a bin removes the bin, as on the server.
        let mut rec = Some(record(&[("a", Value::Int(1)), ("b", Value::Int(2))]));
        assert_eq!(
            run(&reg, "table_bin", &[], &mut rec).unwrap(),
            Value::Int(0)
        );
        assert_eq!(rec.unwrap().bins, vec![("b".to_string(), Value::Int(2))]);
    }

    #[test]
    fn bin_get_and_staged_set() {
        let reg = registry();
        let mut rec = Some(record(&[("a", Value::Int(1))]));
        assert_eq!(
            run(&reg, "get", &[s("a")], &mut rec).unwrap(),
            Value::Int(1)
        );
        assert_eq!(run(&reg, "get", &[s("zz")], &mut rec).unwrap(), Value::Nil);
        // Without aerospike:update the change is dropped.
        let before = rec.clone();
        run(&reg, "set_only", &[s("a"), Value::Int(9)], &mut rec).unwrap();
        assert_eq!(rec, before);
        // On a missing record bins read as nil.
        assert_eq!(run(&reg, "get", &[s("a")], &mut None).unwrap(), Value::Nil);
    }

    #[test]
    fn update_writes_and_bumps_generation() {
        let reg = registry();
        let mut rec = Some(record(&[("a", Value::Int(1))]));
        let r = run(&reg, "set_update", &[s("u"), Value::Int(7)], &mut rec).unwrap();
        assert_eq!(r, Value::Int(0));
        let got = rec.clone().unwrap();
        assert_eq!(got.bin("u"), Some(&Value::Int(7)));
        assert_eq!(got.bin("a"), Some(&Value::Int(1)));
        assert_eq!(got.generation, 4);
        assert_eq!(got.void_time, NOW + 1000, "ttl kept");
        assert!(got.last_update_ns > (CITRUSLEAF_EPOCH + 100) * 1_000_000_000);
        // Setting nil removes the bin.
        run(&reg, "set_update", &[s("a"), Value::Nil], &mut rec).unwrap();
        assert_eq!(rec.as_ref().unwrap().bin("a"), None);
        // update of a missing record fails with -2 and creates nothing.
        let mut none = None;
        let r = run(&reg, "set_update", &[s("u"), Value::Int(7)], &mut none).unwrap();
        assert_eq!(r, Value::Int(-2));
        assert_eq!(none, None);
        // Removing the last bin removes the record.
        let mut one = Some(record(&[("a", Value::Int(1))]));
        run(&reg, "set_update", &[s("a"), Value::Nil], &mut one).unwrap();
        assert_eq!(one, None);
    }

    #[test]
    fn bin_names_coerce_and_long_names_are_ignored() {
        let reg = registry();
        let mut rec = Some(record(&[("a", Value::Int(1))]));
        assert_eq!(run(&reg, "odd_bins", &[], &mut rec).unwrap(), Value::Int(0));
        let r = rec.unwrap();
        assert_eq!(r.bin("1"), Some(&s("one")));
        assert_eq!(r.bins.len(), 2);
    }

    #[test]
    fn create_and_remove() {
        let reg = registry();
        let mut rec = None;
        let r = run(&reg, "set_create", &[s("a"), Value::Int(1)], &mut rec).unwrap();
        assert_eq!(r, Value::Int(0));
        let got = rec.clone().unwrap();
        assert_eq!(got.bins, vec![("a".to_string(), Value::Int(1))]);
        assert_eq!(
            (got.generation, got.set.as_str(), got.void_time),
            (1, "s", 0)
        );
        // create on an existing record returns 1 and changes nothing.
        let r = run(&reg, "set_create", &[s("b"), Value::Int(2)], &mut rec).unwrap();
        assert_eq!(r, Value::Int(1));
        assert_eq!(rec.as_ref().unwrap().bins.len(), 1);
        assert_eq!(
            run(&reg, "exists", &[], &mut rec).unwrap(),
            Value::Bool(true)
        );
        assert_eq!(run(&reg, "remove", &[], &mut rec).unwrap(), Value::Int(0));
        assert_eq!(rec, None);
        assert_eq!(
            run(&reg, "exists", &[], &mut rec).unwrap(),
            Value::Bool(false)
        );
        assert_eq!(run(&reg, "remove", &[], &mut rec).unwrap(), Value::Int(1));
        // An expired record does not exist.
        let mut old = Some(record(&[("a", Value::Int(1))]));
        old.as_mut().unwrap().void_time = NOW - 1;
        assert_eq!(
            run(&reg, "exists", &[], &mut old).unwrap(),
            Value::Bool(false)
        );
    }

    #[test]
    fn ttl_functions() {
        let reg = registry();
        let mut rec = Some(record(&[("a", Value::Int(1))]));
        run(&reg, "set_ttl", &[Value::Int(3600)], &mut rec).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, NOW + 3600);
        assert_eq!(
            rec.as_ref().unwrap().generation,
            4,
            "a ttl change alone writes"
        );
        run(&reg, "set_ttl", &[Value::Int(-1)], &mut rec).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, 0);
        rec.as_mut().unwrap().void_time = NOW + 50;
        run(&reg, "set_ttl", &[Value::Int(-2)], &mut rec).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, NOW + 50);
        // The request's record ttl applies when the UDF does not set one.
        let call = UdfCall {
            module: "t",
            function: "set_update",
            args: &[s("b"), Value::Int(1)],
            set: "s",
            now: NOW,
            digest: None,
            default_ttl: 0,
            record_ttl: 3600,
        };
        apply_call(&reg, &call, &mut rec).unwrap();
        assert_eq!(rec.as_ref().unwrap().void_time, NOW + 3600);
    }

    #[test]
    fn record_metadata() {
        let reg = registry();
        let mut rec = Some(record(&[("a", Value::Int(1)), ("b", s("x"))]));
        let Value::Map(m) = run(&reg, "meta", &[], &mut rec).unwrap() else {
            panic!("not a map")
        };
        let get = |k: &str| m.iter().find(|(x, _)| x == &s(k)).map(|(_, v)| v.clone());
        assert_eq!(get("ttl"), Some(Value::Int(1000)));
        assert_eq!(get("gen"), Some(Value::Int(3)));
        assert_eq!(get("set"), Some(s("s")));
        assert_eq!(get("void"), Some(Value::Int(i64::from(NOW) + 1000)));
        assert_eq!(get("key"), Some(s("k1")));
        assert_eq!(get("n"), Some(Value::Int(2)));
        assert_eq!(get("lut"), Some(Value::Int(100_000)));
        // bin_names gives a plain table, which does not convert to a value.
        assert_eq!(
            run(&reg, "names", &[], &mut rec).unwrap(),
            Value::List(vec![Value::Int(2), s("a"), s("b")])
        );
        assert_eq!(
            run(&reg, "digest", &[], &mut rec).unwrap(),
            Value::Blob(vec![7; 20])
        );
        let size = rec.as_ref().unwrap().size() as i64;
        assert_eq!(
            run(&reg, "size", &[], &mut rec).unwrap(),
            Value::List(vec![Value::Int(size), Value::Int(0)])
        );
        assert_eq!(run(&reg, "drop_key", &[], &mut rec).unwrap(), Value::Int(0));
        assert_eq!(rec.as_ref().unwrap().key, None);
        assert_eq!(rec.as_ref().unwrap().generation, 4);
        let Value::Map(m) = run(&reg, "meta", &[], &mut None).unwrap() else {
            panic!("not a map")
        };
        assert!(m.contains(&(s("gen"), Value::Int(0))), "{m:?}");
        assert!(m.contains(&(s("ttl"), Value::Int(0))), "{m:?}");
    }

    #[test]
    fn list_module() {
        let reg = registry();
        let got = run(&reg, "lists", &[], &mut None).unwrap();
        let i = Value::Int;
        let l = |v: Vec<Value>| Value::List(v);
        // l = {0, 'x', 2, 3, 4} after append/prepend/insert/remove; the
        // appended plain table is dropped.
        assert_eq!(
            got,
            l(vec![
                i(5),
                l(vec![i(0), s("x"), i(2), i(3), i(4)]),
                l(vec![i(0), s("x")]),
                l(vec![i(4)]),
                i(0),
                i(5),
                i(6),
                i(56),
                l(vec![i(1), i(2)]),
                s("List(1, a)"),
                i(3),
                Value::Bool(true),
                i(5),
            ])
        );
    }

    #[test]
    fn map_module() {
        let reg = registry();
        let got = run(&reg, "maps", &[], &mut None).unwrap();
        let i = Value::Int;
        assert_eq!(
            got,
            Value::List(vec![
                i(2),
                i(2),
                Value::List(vec![s("b"), i(3)]),
                Value::List(vec![i(2), s("three")]),
                i(4),
                i(2),
                s("three"),
                i(1),
                Value::Map(vec![(s("b"), i(2)), (i(3), s("three"))]),
                i(1),
                i(12),
                i(3),
                i(2),
                i(1),
                i(3),
                i(5),
                Value::Bool(true),
            ])
        );
    }

    #[test]
    fn bytes_module() {
        let reg = registry();
        assert_eq!(
            run(&reg, "bytes_test", &[], &mut None).unwrap(),
            Value::List(vec![
                Value::Int(0),
                Value::Int(4),
                Value::Int(65),
                Value::Int(66),
                Value::Int(255),
                Value::Bool(true),
                s("BC"),
                Value::Bool(false),
                Value::Blob(vec![65, 66, 67, 255]),
            ])
        );
    }

    #[test]
    fn runtime_errors_use_server_shape() {
        let reg = registry();
        let mut rec = Some(record(&[("a", Value::Int(1))]));
        let before = rec.clone();
        let line = |f: &str| {
            1 + TEST_MODULE
                .lines()
                .position(|l| l.starts_with(&format!("function {f}(")))
                .unwrap()
        };
        let err = run(&reg, "fail", &[], &mut rec).unwrap_err();
        assert_eq!(err.code, ResultCode::UDF_BAD_RESPONSE);
        assert_eq!(
            err.message,
            format!("{USER_PATH}/t.lua:{}: custom failure", line("fail"))
        );
        let err = run(&reg, "bad_index", &[], &mut rec).unwrap_err();
        assert!(
            err.message.starts_with(&format!(
                "{USER_PATH}/t.lua:{}: attempt to index a nil value",
                line("bad_index")
            )),
            "{}",
            err.message
        );
        let err = run(&reg, "bad_update", &[], &mut rec).unwrap_err();
        assert_eq!(
            err.message,
            format!(
                "{USER_PATH}/t.lua:{}: bad argument #1 to 'update' (Record expected, got table)",
                line("bad_update")
            )
        );
        let err = run(&reg, "nope", &[], &mut rec).unwrap_err();
        assert_eq!(err.message, "function not found");
        let err = run(&reg, "not_a_function", &[], &mut rec).unwrap_err();
        assert_eq!(err.message, "attempt to call a number value");
        let err = run(&reg, "fail_table", &[], &mut rec).unwrap_err();
        assert_eq!(
            err.message,
            "t:0: in function fail_table() - error() argument type not handled"
        );
        let err = run(&reg, "fail_plain", &[], &mut rec).unwrap_err();
        assert_eq!(err.message, "no position");
        let err = apply(&reg, "missing", "f", &[], &mut rec, "s", NOW).unwrap_err();
        assert_eq!(
            (err.code, err.message.as_str()),
            (ResultCode::UDF_BAD_RESPONSE, "UDF: Execution Error 1")
        );
        assert_eq!(rec, before, "a failed UDF leaves the record alone");
    }

    #[test]
    fn limits_stop_runaway_udfs() {
        let reg = registry();
        let line = |f: &str| {
            1 + TEST_MODULE
                .lines()
                .position(|l| l.starts_with(&format!("function {f}(")))
                .unwrap()
        };
        let err = run(&reg, "spin", &[], &mut None).unwrap_err();
        assert_eq!(
            err.message,
            format!("{USER_PATH}/t.lua:{}: {TIMEOUT_MESSAGE}", line("spin"))
        );
        let err = run(&reg, "hog", &[], &mut None).unwrap_err();
        assert!(
            err.message == "not enough memory" || err.message.ends_with(TIMEOUT_MESSAGE),
            "{}",
            err.message
        );
        // A loop inside a coroutine is counted too.
        let err = run(&reg, "co_spin", &[], &mut None).unwrap_err();
        assert!(err.message.ends_with(TIMEOUT_MESSAGE), "{}", err.message);
        // The state is still usable afterwards.
        assert_eq!(
            run(&reg, "echo", &[Value::Int(1)], &mut None).unwrap(),
            Value::Int(1)
        );
    }

    #[test]
    fn sandbox_has_only_safe_libraries() {
        let reg = registry();
        let got = run(&reg, "sandbox", &[], &mut None).unwrap();
        let names: Vec<&str> = [
            "nil", "nil", "function", "nil", "nil", "nil", "function", "function", "function",
        ]
        .to_vec();
        assert_eq!(got, Value::List(names.into_iter().map(s).collect()));
        assert_eq!(run(&reg, "logs", &[], &mut None).unwrap(), Value::Int(0));
    }

    #[test]
    fn module_state_is_cached_and_replaced_on_reregistration() {
        let reg = registry();
        assert_eq!(run(&reg, "counter", &[], &mut None).unwrap(), Value::Int(1));
        assert_eq!(run(&reg, "counter", &[], &mut None).unwrap(), Value::Int(2));
        reg.put("t.lua", TEST_MODULE.as_bytes().to_vec()).unwrap();
        assert_eq!(run(&reg, "counter", &[], &mut None).unwrap(), Value::Int(1));
        reg.put("t.lua", b"function counter(rec) return 'new' end".to_vec())
            .unwrap();
        assert_eq!(run(&reg, "counter", &[], &mut None).unwrap(), s("new"));
    }

    #[test]
    fn many_records_run_fast() {
        let reg = registry();
        let start = std::time::Instant::now();
        for n in 0..20_000 {
            let mut rec = Some(record(&[("i", Value::Int(n))]));
            run(&reg, "set_update", &[s("u"), Value::Int(7)], &mut rec).unwrap();
            assert_eq!(rec.unwrap().bin("u"), Some(&Value::Int(7)));
        }
        // Debug build, shared machine: generous, but a per-call recompile
        // would take far longer.
        assert!(start.elapsed().as_secs() < 20, "{:?}", start.elapsed());
    }
}
