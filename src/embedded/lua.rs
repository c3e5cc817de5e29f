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
    AnyUserData, Function, HookTriggers, Lua, LuaOptions, MetaMethod, MultiValue, StdLib, Table,
    UserData, UserDataMethods, Value as LuaValue, VmState,
};

use super::store::{void_time_for, StoredRecord, CITRUSLEAF_EPOCH};
use super::udf::{CompileError, Module, UdfCall, UdfError};
use crate::value::Value;

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
    'last_update_time', 'void_time', 'numbins'}) do
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
"#;

// ---------------------------------------------------------------------------
// Runtime states and their per-thread cache.

/// One Lua state with a module loaded.
struct Runtime {
    lua: Lua,
    /// Instructions left in the current call.
    budget: Rc<Cell<i64>>,
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
        lua.load(PRELUDE)
            .set_name("=prelude")
            .call::<()>(primitives)?;

        let budget = Rc::new(Cell::new(INSTRUCTION_LIMIT));
        let left = Rc::clone(&budget);
        lua.set_hook(
            HookTriggers::new().every_nth_instruction(HOOK_EVERY),
            move |_, _| {
                let n = left.get() - i64::from(HOOK_EVERY);
                left.set(n);
                if n < 0 {
                    Err(mlua::Error::runtime(TIMEOUT_MESSAGE))
                } else {
                    Ok(VmState::Continue)
                }
            },
        )?;
        lua.set_memory_limit(MEMORY_LIMIT)?;
        Ok(Runtime { lua, budget })
    }

    /// Runs a chunk of module source named `name` with a fresh budget.
    fn load(&self, name: &str, source: &[u8]) -> mlua::Result<()> {
        self.budget.set(INSTRUCTION_LIMIT);
        self.lua.load(source).set_name(name).exec()
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
    /// Generation / void time before the call, for `keep` ttl.
    void_time_before: Option<u32>,
    /// Staged bin writes, last write of a bin wins; `Nil` deletes.
    dirty: Vec<(String, Value)>,
    /// Staged `record.set_ttl`.
    ttl: Option<u32>,
    /// Something was committed.
    written: bool,
    digest: Option<[u8; 20]>,
    now: u32,
    default_ttl: u32,
    record_ttl: u32,
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
    fn commit(&mut self, kind: &str) -> i64 {
        match kind {
            "create" => {
                if self.exists && !self.rec.bins.is_empty() {
                    return 1;
                }
                self.exists = true;
                self.apply_updates();
                0
            }
            "update" => {
                if !self.exists {
                    return -2;
                }
                if !self.dirty.is_empty() || self.ttl.is_some() {
                    self.apply_updates();
                }
                0
            }
            _ => {
                if !self.exists {
                    return 1;
                }
                self.exists = false;
                self.rec.bins.clear();
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
            let Some(name) = bin_name(&name) else {
                return Ok(LuaValue::Nil);
            };
            match this.0.borrow().bin(&name) {
                Some(v) => to_lua(lua, v, 0),
                None => Ok(LuaValue::Nil),
            }
        });
        methods.add_meta_method(
            MetaMethod::NewIndex,
            |_, this, (name, value): (LuaValue, LuaValue)| {
                let name = bin_name(&name)
                    .ok_or_else(|| mlua::Error::runtime("bin name must be a string"))?;
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

fn bin_name(v: &LuaValue) -> Option<String> {
    match v {
        LuaValue::String(s) => Some(s.to_str().ok()?.to_owned()),
        _ => None,
    }
}

/// Runs `call` against `rec` with the module's state on this thread.
pub(crate) fn run(
    module: &Module,
    call: &UdfCall<'_>,
    rec: &mut Option<StoredRecord>,
) -> Result<Value, UdfError> {
    let rt = runtime_for(module)?;
    let lua = &rt.lua;
    let exists = rec.as_ref().is_some_and(|r| !r.is_expired(call.now));
    let state = RecState {
        exists,
        rec: match rec {
            Some(r) if exists => r.clone(),
            _ => StoredRecord::new(call.set),
        },
        void_time_before: rec.as_ref().filter(|_| exists).map(|r| r.void_time),
        dirty: Vec::new(),
        ttl: None,
        written: false,
        digest: call.digest,
        now: call.now,
        default_ttl: call.default_ttl,
        record_ttl: call.record_ttl,
    };
    let state = Rc::new(RefCell::new(state));
    let result = invoke(lua, &rt.budget, call, &state);
    // A UDF may have kept `rec` in a global; it must not see this record again.
    let st = state.replace(RecState {
        exists: false,
        rec: StoredRecord::new(""),
        void_time_before: None,
        dirty: Vec::new(),
        ttl: None,
        written: false,
        digest: None,
        now: 0,
        default_ttl: 0,
        record_ttl: 0,
    });
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
    lua: &Lua,
    budget: &Cell<i64>,
    call: &UdfCall<'_>,
    state: &Rc<RefCell<RecState>>,
) -> Result<Value, UdfError> {
    let err = |e: mlua::Error| UdfError::udf(message_of(&e));
    let Ok(f) = lua.globals().get::<Function>(call.function) else {
        return Err(UdfError::udf("function not found"));
    };
    let mut args = Vec::with_capacity(call.args.len() + 1);
    args.push(LuaValue::UserData(
        lua.create_userdata(LuaRecord(Rc::clone(state)))
            .map_err(err)?,
    ));
    for a in call.args {
        args.push(to_lua(lua, a, 0).map_err(err)?);
    }
    budget.set(INSTRUCTION_LIMIT);
    let out = f.call::<LuaValue>(MultiValue::from_vec(args));
    if budget.get() < 0 {
        return Err(UdfError::udf(TIMEOUT_MESSAGE));
    }
    let out = out.map_err(err)?;
    from_lua(&out, 0).map_err(UdfError::udf)
}

// ---------------------------------------------------------------------------
// Rust primitives behind the prelude.

fn record_of(ud: &AnyUserData) -> mlua::Result<Rc<RefCell<RecState>>> {
    Ok(Rc::clone(&ud.borrow::<LuaRecord>()?.0))
}

fn primitives(lua: &Lua) -> mlua::Result<Table> {
    let p = lua.create_table()?;
    p.set(
        "is_rec",
        lua.create_function(|_, v: LuaValue| {
            Ok(matches!(&v, LuaValue::UserData(ud) if ud.is::<LuaRecord>()))
        })?,
    )?;
    p.set(
        "typename",
        lua.create_function(|_, v: LuaValue| Ok(type_name(&v)))?,
    )?;
    p.set(
        "commit",
        lua.create_function(|_, (ud, kind): (AnyUserData, String)| {
            Ok(record_of(&ud)?.borrow_mut().commit(&kind))
        })?,
    )?;
    p.set(
        "exists",
        lua.create_function(|_, ud: AnyUserData| Ok(record_of(&ud)?.borrow().exists))?,
    )?;
    p.set(
        "log",
        lua.create_function(|_, (level, msg): (i64, String)| {
            let level = match level {
                ..=1 => log::Level::Warn,
                2 => log::Level::Info,
                3 => log::Level::Debug,
                _ => log::Level::Trace,
            };
            log::log!(target: "aerospike_blocking::udf", level, "{msg}");
            Ok(0)
        })?,
    )?;
    p.set(
        "rec_ttl",
        lua.create_function(|_, ud: AnyUserData| {
            let r = record_of(&ud)?;
            let s = r.borrow();
            Ok(if s.exists && s.rec.void_time > s.now {
                i64::from(s.rec.void_time - s.now)
            } else {
                0
            })
        })?,
    )?;
    p.set(
        "rec_set_ttl",
        lua.create_function(|_, (ud, ttl): (AnyUserData, i64)| {
            // -1 never expires, -2 keeps: the wire's u32 wrap-around.
            record_of(&ud)?.borrow_mut().ttl = Some(ttl as u32);
            Ok(())
        })?,
    )?;
    p.set(
        "rec_gen",
        lua.create_function(|_, ud: AnyUserData| {
            let r = record_of(&ud)?;
            let s = r.borrow();
            Ok(if s.exists {
                i64::from(s.rec.generation)
            } else {
                0
            })
        })?,
    )?;
    p.set(
        "rec_digest",
        lua.create_function(
            |lua, ud: AnyUserData| match record_of(&ud)?.borrow().digest {
                Some(d) => lua
                    .create_userdata(LuaBytes(d.to_vec()))
                    .map(LuaValue::UserData),
                None => Ok(LuaValue::Nil),
            },
        )?,
    )?;
    p.set(
        "rec_setname",
        lua.create_function(|_, ud: AnyUserData| Ok(record_of(&ud)?.borrow().rec.set.clone()))?,
    )?;
    p.set(
        "rec_bin_names",
        lua.create_function(|lua, ud: AnyUserData| {
            let r = record_of(&ud)?;
            let names: Vec<LuaValue> = r
                .borrow()
                .rec
                .bins
                .iter()
                .map(|(n, _)| lua.create_string(n).map(LuaValue::String))
                .collect::<mlua::Result<_>>()?;
            lua.create_userdata(LuaList(names)).map(LuaValue::UserData)
        })?,
    )?;
    p.set(
        "rec_key",
        lua.create_function(|lua, ud: AnyUserData| {
            let r = record_of(&ud)?;
            let key = r.borrow().rec.key.clone();
            match key {
                Some(k) => to_lua(lua, &k, 0),
                None => Ok(LuaValue::Nil),
            }
        })?,
    )?;
    p.set(
        "rec_last_update_time",
        lua.create_function(|_, ud: AnyUserData| {
            // Milliseconds since the Aerospike epoch, as the server keeps it.
            let ns = record_of(&ud)?.borrow().rec.last_update_ns;
            Ok((ns / 1_000_000).saturating_sub(CITRUSLEAF_EPOCH * 1000) as i64)
        })?,
    )?;
    p.set(
        "rec_void_time",
        lua.create_function(|_, ud: AnyUserData| {
            Ok(i64::from(record_of(&ud)?.borrow().rec.void_time))
        })?,
    )?;
    p.set(
        "rec_numbins",
        lua.create_function(|_, ud: AnyUserData| Ok(record_of(&ud)?.borrow().rec.bins.len()))?,
    )?;
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
            let i = usize::try_from(i)
                .ok()
                .and_then(|i| i.checked_sub(1))
                .ok_or_else(|| mlua::Error::runtime("list index out of range"))?;
            if i >= this.0.len() {
                // Setting past the end pads with nil, like as_arraylist.
                this.0.resize(i + 1, LuaValue::Nil);
            }
            this.0[i] = v;
            Ok(())
        });
        methods.add_meta_method(MetaMethod::Len, |_, this, ()| Ok(this.0.len()));
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            let items: Vec<String> = this.0.iter().map(display).collect();
            Ok(format!("List({})", items.join(", ")))
        });
        methods.add_meta_function(MetaMethod::Pairs, |lua, ud: AnyUserData| {
            let iter = lua.create_function(|_, (ud, i): (AnyUserData, i64)| {
                let list = ud.borrow::<LuaList>()?;
                Ok(match slot(i + 1, list.0.len()) {
                    Some(j) => (LuaValue::Integer(i + 1), list.0[j].clone()),
                    None => (LuaValue::Nil, LuaValue::Nil),
                })
            })?;
            Ok((iter, ud, 0))
        });
    }
}

/// Key equality for maps: numbers by value, everything else by Lua identity.
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

    fn set(&mut self, k: LuaValue, v: LuaValue) {
        let pos = self.0.iter().position(|(x, _)| key_eq(x, &k));
        match (pos, v) {
            (Some(i), LuaValue::Nil) => {
                self.0.remove(i);
            }
            (Some(i), v) => self.0[i].1 = v,
            (None, LuaValue::Nil) => {}
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
                if k.is_nil() {
                    return Err(mlua::Error::runtime("map key is nil"));
                }
                this.set(k, v);
                Ok(())
            },
        );
        methods.add_meta_method(MetaMethod::Len, |_, this, ()| Ok(this.0.len()));
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            let items: Vec<String> = this
                .0
                .iter()
                .map(|(k, v)| format!("{}: {}", display(k), display(v)))
                .collect();
            Ok(format!("Map({})", items.join(", ")))
        });
        methods.add_meta_function(MetaMethod::Pairs, |lua, ud: AnyUserData| {
            Ok((map_iter(lua, ud, 2)?, LuaValue::Nil, LuaValue::Nil))
        });
    }
}

impl UserData for LuaBytes {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::Index, |_, this, i: i64| {
            Ok(slot(i, this.0.len()).map(|i| i64::from(this.0[i])))
        });
        methods.add_meta_method_mut(MetaMethod::NewIndex, |_, this, (i, b): (i64, u8)| {
            let i = slot(i, this.0.len())
                .ok_or_else(|| mlua::Error::runtime("bytes index out of range"))?;
            this.0[i] = b;
            Ok(())
        });
        methods.add_meta_method(MetaMethod::Len, |_, this, ()| Ok(this.0.len()));
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| {
            Ok(this
                .0
                .iter()
                .map(|b| format!("{b:02X}"))
                .collect::<String>())
        });
    }
}

impl UserData for LuaHll {}

impl UserData for LuaGeo {
    fn add_methods<M: UserDataMethods<Self>>(methods: &mut M) {
        methods.add_meta_method(MetaMethod::ToString, |_, this, ()| Ok(this.0.clone()));
    }
}

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

/// The sequence part `t[1..#t]` of a table.
fn sequence(t: &Table) -> mlua::Result<Vec<LuaValue>> {
    t.sequence_values::<LuaValue>().collect()
}

/// Installs the `list`, `map` and `bytes` modules as globals.
fn install_modules(lua: &Lua) -> mlua::Result<()> {
    let g = lua.globals();

    let list = lua.create_table()?;
    let call = lua.create_function(|lua, (_, t): (LuaValue, Option<Table>)| {
        new_list(
            lua,
            t.map(|t| sequence(&t)).transpose()?.unwrap_or_default(),
        )
    })?;
    set_call(lua, &list, call)?;
    list.set(
        "create",
        lua.create_function(|lua, _: MultiValue| new_list(lua, Vec::new()))?,
    )?;
    list.set(
        "size",
        lua.create_function(|_, l: AnyUserData| Ok(l.borrow::<LuaList>()?.0.len()))?,
    )?;
    list.set(
        "append",
        lua.create_function(|_, (l, v): (AnyUserData, LuaValue)| {
            l.borrow_mut::<LuaList>()?.0.push(v);
            Ok(l)
        })?,
    )?;
    list.set(
        "prepend",
        lua.create_function(|_, (l, v): (AnyUserData, LuaValue)| {
            l.borrow_mut::<LuaList>()?.0.insert(0, v);
            Ok(l)
        })?,
    )?;
    list.set(
        "insert",
        lua.create_function(|_, (l, pos, v): (AnyUserData, i64, LuaValue)| {
            let mut list = l.borrow_mut::<LuaList>()?;
            let len = list.0.len();
            let i = slot(pos, len + 1)
                .ok_or_else(|| mlua::Error::runtime("list.insert: position out of range"))?;
            list.0.insert(i, v);
            drop(list);
            Ok(l)
        })?,
    )?;
    list.set(
        "remove",
        lua.create_function(|_, (l, pos): (AnyUserData, i64)| {
            let mut list = l.borrow_mut::<LuaList>()?;
            let len = list.0.len();
            if let Some(i) = slot(pos, len) {
                list.0.remove(i);
            }
            drop(list);
            Ok(l)
        })?,
    )?;
    list.set(
        "take",
        lua.create_function(|lua, (l, n): (AnyUserData, i64)| {
            let list = l.borrow::<LuaList>()?;
            let n = usize::try_from(n).unwrap_or(0).min(list.0.len());
            new_list(lua, list.0[..n].to_vec())
        })?,
    )?;
    list.set(
        "drop",
        lua.create_function(|lua, (l, n): (AnyUserData, i64)| {
            let list = l.borrow::<LuaList>()?;
            let n = usize::try_from(n).unwrap_or(0).min(list.0.len());
            new_list(lua, list.0[n..].to_vec())
        })?,
    )?;
    list.set(
        "clone",
        lua.create_function(|lua, l: AnyUserData| new_list(lua, l.borrow::<LuaList>()?.0.clone()))?,
    )?;
    list.set(
        "concat",
        lua.create_function(|_, (l, other): (AnyUserData, AnyUserData)| {
            let more = other.borrow::<LuaList>()?.0.clone();
            l.borrow_mut::<LuaList>()?.0.extend(more);
            Ok(l)
        })?,
    )?;
    list.set(
        "merge",
        lua.create_function(|lua, (a, b): (AnyUserData, AnyUserData)| {
            let mut items = a.borrow::<LuaList>()?.0.clone();
            items.extend(b.borrow::<LuaList>()?.0.iter().cloned());
            new_list(lua, items)
        })?,
    )?;
    list.set(
        "iterator",
        lua.create_function(|lua, l: AnyUserData| {
            let pos = Cell::new(0usize);
            lua.create_function(move |_, ()| {
                let list = l.borrow::<LuaList>()?;
                let i = pos.get();
                pos.set(i + 1);
                Ok(list.0.get(i).cloned().unwrap_or(LuaValue::Nil))
            })
        })?,
    )?;
    g.set("list", list)?;

    let map = lua.create_table()?;
    let call = lua.create_function(|lua, (_, t): (LuaValue, Option<Table>)| {
        let mut m = LuaMap(Vec::new());
        if let Some(t) = t {
            for pair in t.pairs::<LuaValue, LuaValue>() {
                let (k, v) = pair?;
                m.set(k, v);
            }
        }
        lua.create_userdata(m)
    })?;
    set_call(lua, &map, call)?;
    map.set(
        "create",
        lua.create_function(|lua, _: MultiValue| lua.create_userdata(LuaMap(Vec::new())))?,
    )?;
    map.set(
        "size",
        lua.create_function(|_, m: AnyUserData| Ok(m.borrow::<LuaMap>()?.0.len()))?,
    )?;
    map.set(
        "remove",
        lua.create_function(|_, (m, k): (AnyUserData, LuaValue)| {
            m.borrow_mut::<LuaMap>()?.set(k, LuaValue::Nil);
            Ok(m)
        })?,
    )?;
    map.set(
        "clone",
        lua.create_function(|lua, m: AnyUserData| {
            lua.create_userdata(LuaMap(m.borrow::<LuaMap>()?.0.clone()))
        })?,
    )?;
    map.set(
        "keys",
        lua.create_function(|lua, m: AnyUserData| map_iter(lua, m, 0))?,
    )?;
    map.set(
        "values",
        lua.create_function(|lua, m: AnyUserData| map_iter(lua, m, 1))?,
    )?;
    let pairs = lua.create_function(|lua, m: AnyUserData| map_iter(lua, m, 2))?;
    map.set("pairs", pairs.clone())?;
    map.set("iterator", pairs)?;
    g.set("map", map)?;

    let bytes = lua.create_table()?;
    let call = lua.create_function(|lua, (_, n): (LuaValue, Option<i64>)| {
        let n = usize::try_from(n.unwrap_or(0))
            .ok()
            .filter(|&n| n <= MEMORY_LIMIT)
            .ok_or_else(|| mlua::Error::runtime("bytes: bad size"))?;
        lua.create_userdata(LuaBytes(vec![0; n]))
    })?;
    set_call(lua, &bytes, call)?;
    bytes.set(
        "size",
        lua.create_function(|_, b: AnyUserData| Ok(b.borrow::<LuaBytes>()?.0.len()))?,
    )?;
    bytes.set(
        "tostring",
        lua.create_function(|lua, b: AnyUserData| lua.create_string(&b.borrow::<LuaBytes>()?.0))?,
    )?;
    g.set("bytes", bytes)?;
    Ok(())
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
