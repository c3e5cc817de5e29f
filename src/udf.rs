//! Lua UDF modules: register, list and remove, waiting until every node agrees.
//!
//! `udf-put` goes to one node, which spreads the module through the cluster;
//! the client then polls `udf-list` on every node until all of them list the
//! module with the same hash (or, after a removal, none lists it).

use std::path::Path;
use std::time::{Duration, Instant};

use crate::client::Client;
use crate::net::Deadline;
use crate::wire::{base64, info};
use crate::{Error, Result, ResultCode, TimeoutPhase};

/// How long register and remove wait for every node to agree.
const SETTLE_TIMEOUT: Duration = Duration::from_secs(10);
/// Limit on one info request.
const INFO_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest pause between two `udf-list` rounds.
const MAX_SETTLE_POLL: Duration = Duration::from_millis(200);

/// The language of a UDF module. Aerospike runs Lua only.
///
/// ```
/// use aerospike_blocking::UdfLanguage;
/// assert_eq!(UdfLanguage::default(), UdfLanguage::Lua);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[non_exhaustive]
pub enum UdfLanguage {
    /// Lua 5.4.
    #[default]
    Lua,
}

impl UdfLanguage {
    fn as_str(self) -> &'static str {
        match self {
            UdfLanguage::Lua => "LUA",
        }
    }
}

/// A registered module, as `udf-list` shows it.
///
/// ```
/// use aerospike_blocking::{UdfLanguage, UdfModule};
/// let m = UdfModule { name: "bgudf.lua".into(), hash: "3241c7".into(), language: UdfLanguage::Lua };
/// assert_eq!(m.package(), "bgudf");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UdfModule {
    /// The file name, e.g. `bgudf.lua`.
    pub name: String,
    /// The server's hash of the content.
    pub hash: String,
    /// The language.
    pub language: UdfLanguage,
}

impl UdfModule {
    /// The package name jobs use: the file name without `.lua`.
    ///
    /// ```
    /// use aerospike_blocking::{UdfLanguage, UdfModule};
    /// let m = UdfModule { name: "stats.lua".into(), hash: String::new(), language: UdfLanguage::Lua };
    /// assert_eq!(m.package(), "stats");
    /// ```
    pub fn package(&self) -> &str {
        self.name.strip_suffix(".lua").unwrap_or(&self.name)
    }
}

/// The `udf-put` command, as the official client sends it: the content in
/// base64, and `content-len` = the length of the base64 text.
pub(crate) fn put_command(name: &str, content: &[u8], language: UdfLanguage) -> String {
    let b64 = base64::encode(content);
    format!(
        "udf-put:filename={name};content={b64};content-len={};udf-type={};",
        b64.len(),
        language.as_str()
    )
}

/// Parses `filename=a.lua,hash=..,type=LUA;filename=...;`.
pub(crate) fn parse_list(value: &str) -> Vec<UdfModule> {
    value
        .split(';')
        .filter_map(|entry| {
            let pairs = info::parse_pairs(entry, ',');
            let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
            Some(UdfModule {
                name: get("filename")?.to_owned(),
                hash: get("hash").unwrap_or("").to_owned(),
                language: UdfLanguage::Lua,
            })
        })
        .collect()
}

/// Turns a `udf-put`/`udf-remove` reply into a result: `ok`, or
/// `error=<reason>[;file=..;line=..;message=<base64>]`.
fn check_reply(command: &str, value: &str) -> Result<()> {
    let value = value.trim();
    if value == "ok" || value.is_empty() {
        return Ok(());
    }
    if let Some((code, message)) = info::parse_error(value) {
        return Err(Error::Info {
            command: command.to_owned(),
            code,
            message,
        });
    }
    let pairs = info::parse_pairs(value, ';');
    let get = |k: &str| pairs.iter().find(|(key, _)| *key == k).map(|(_, v)| *v);
    let reason = get("error").unwrap_or(value);
    let code = match reason {
        "compile_error" => ResultCode::UDF_BAD_RESPONSE,
        "not_found" => ResultCode::KEY_NOT_FOUND,
        _ => ResultCode::PARAMETER_ERROR,
    };
    let mut message = reason.to_owned();
    if let Some(line) = get("line") {
        message.push_str(&format!(" at line {line}"));
    }
    if let Some(m) = get("message") {
        let text = base64::decode(m.as_bytes())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_else(|| m.to_owned());
        message.push_str(&format!(": {text}"));
    }
    Err(Error::Info {
        command: command.to_owned(),
        code,
        message,
    })
}

impl Client {
    /// Registers the Lua module in file `path` under its file name, then waits
    /// until every node has it.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// client.register_udf("udf/bgudf.lua")?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn register_udf(&self, path: impl AsRef<Path>) -> Result<()> {
        let path = path.as_ref();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .ok_or_else(|| Error::invalid(format!("{} has no file name", path.display())))?;
        let content = std::fs::read(path)
            .map_err(|e| Error::invalid(format!("cannot read {}: {e}", path.display())))?;
        self.register_udf_bytes(name, &content, UdfLanguage::Lua)
    }

    /// Registers `content` as module `name` (e.g. `"bgudf.lua"`), then waits
    /// until every node lists it with the same hash. Compile errors come back
    /// as [`Error::Info`] with the line and message.
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy, UdfLanguage};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// let code = b"function mark(rec) rec['m'] = 1 aerospike:update(rec) end";
    /// client.register_udf_bytes("marks.lua", code, UdfLanguage::Lua)?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn register_udf_bytes(
        &self,
        name: &str,
        content: &[u8],
        language: UdfLanguage,
    ) -> Result<()> {
        if name.is_empty() || name.contains([';', ':', ',', '\n', '\t', '/']) {
            return Err(Error::invalid(format!("bad UDF module name {name:?}")));
        }
        if content.is_empty() {
            return Err(Error::invalid("UDF module content is empty"));
        }
        let cmd = put_command(name, content, language);
        let reply = self.info_any_node(&cmd)?;
        check_reply("udf-put", &reply)?;
        let start = Instant::now();
        let mut hash = None;
        self.settle(
            start,
            &format!("UDF module {name} registered on every node"),
            |lists| {
                let hashes: Vec<Option<&str>> = lists
                    .iter()
                    .map(|l| l.iter().find(|m| m.name == name).map(|m| m.hash.as_str()))
                    .collect();
                let first = hashes.first().copied().flatten();
                let agreed = first.is_some() && hashes.iter().all(|h| *h == first);
                if agreed {
                    hash = first.map(str::to_owned);
                }
                agreed
            },
        )?;
        log::debug!("UDF module {name} registered, hash {hash:?}");
        Ok(())
    }

    /// The modules registered on the cluster (as one node lists them).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// for m in client.list_udfs()? {
    ///     println!("{} {}", m.name, m.hash);
    /// }
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn list_udfs(&self) -> Result<Vec<UdfModule>> {
        Ok(parse_list(&self.info_any_node("udf-list")?))
    }

    /// Removes module `name` (e.g. `"bgudf.lua"`) and waits until no node
    /// lists it. Removing a module that does not exist is an error
    /// (`KEY_NOT_FOUND`).
    ///
    /// ```no_run
    /// # use aerospike_blocking::{Client, ClientPolicy};
    /// # let client = Client::connect(&["127.0.0.1:3000"], &ClientPolicy::default()).unwrap();
    /// client.remove_udf("bgudf.lua")?;
    /// # Ok::<(), aerospike_blocking::Error>(())
    /// ```
    pub fn remove_udf(&self, name: &str) -> Result<()> {
        // Servers answer `ok` even for a module they do not have: check first.
        if !self.list_udfs()?.iter().any(|m| m.name == name) {
            return Err(Error::Info {
                command: "udf-remove".into(),
                code: ResultCode::KEY_NOT_FOUND,
                message: format!("UDF module {name} is not registered"),
            });
        }
        let reply = self.info_any_node(&format!("udf-remove:filename={name};"))?;
        check_reply("udf-remove", &reply)?;
        self.settle(
            Instant::now(),
            &format!("UDF module {name} removed from every node"),
            |lists| lists.iter().all(|l| l.iter().all(|m| m.name != name)),
        )
    }

    /// One info command on any node; its value.
    fn info_any_node(&self, command: &str) -> Result<String> {
        let node = self
            .cluster()
            .nodes()
            .into_iter()
            .next()
            .ok_or_else(|| Error::NoNode("the cluster has no active node".into()))?;
        let reply = node.info(&[command], Deadline::after(INFO_TIMEOUT))?;
        Ok(reply.into_iter().next().map(|(_, v)| v).unwrap_or_default())
    }

    /// Polls `udf-list` on every node until `done` accepts the lists.
    fn settle(
        &self,
        start: Instant,
        what: &str,
        mut done: impl FnMut(&[Vec<UdfModule>]) -> bool,
    ) -> Result<()> {
        let mut pause = Duration::from_millis(1);
        loop {
            let cluster = self.cluster();
            let nodes = cluster.nodes();
            let results = cluster.fan_out(&nodes, Deadline::after(INFO_TIMEOUT), |node, dl| {
                let reply = node.info(&["udf-list"], dl)?;
                Ok(parse_list(
                    &reply.into_iter().next().map(|(_, v)| v).unwrap_or_default(),
                ))
            });
            let lists: Result<Vec<Vec<UdfModule>>> = results.into_iter().map(|(_, r)| r).collect();
            if done(&lists?) {
                return Ok(());
            }
            let elapsed = start.elapsed();
            if elapsed >= SETTLE_TIMEOUT {
                log::warn!("timed out waiting for {what}");
                return Err(Error::Timeout {
                    phase: TimeoutPhase::Settle,
                    elapsed,
                    in_doubt: true,
                });
            }
            std::thread::sleep(pause.min(SETTLE_TIMEOUT - elapsed));
            pause = (pause * 2).min(MAX_SETTLE_POLL);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn put_command_matches_fixture() {
        // bg-udf-single.txt: udf_put('bgudf.lua').
        let content = "-- bgudf: tiny module for background UDF capture\nfunction set_bin(rec, name, value)\n  rec[name] = value\n  aerospike:update(rec)\nend\n\nfunction mark(rec)\n  rec['marked'] = 1\n  aerospike:update(rec)\nend\n";
        assert_eq!(
            put_command("bgudf.lua", content.as_bytes(), UdfLanguage::Lua),
            "udf-put:filename=bgudf.lua;content=LS0gYmd1ZGY6IHRpbnkgbW9kdWxlIGZvciBiYWNrZ3JvdW5kIFVERiBjYXB0dXJlCmZ1bmN0aW9uIHNldF9iaW4ocmVjLCBuYW1lLCB2YWx1ZSkKICByZWNbbmFtZV0gPSB2YWx1ZQogIGFlcm9zcGlrZTp1cGRhdGUocmVjKQplbmQKCmZ1bmN0aW9uIG1hcmsocmVjKQogIHJlY1snbWFya2VkJ10gPSAxCiAgYWVyb3NwaWtlOnVwZGF0ZShyZWMpCmVuZAo=;content-len=268;udf-type=LUA;"
        );
    }

    #[test]
    fn list_parsing() {
        let l = parse_list(
            "filename=bgudf.lua,hash=3241c719a5086433c774a0bb6b1adf4ae99d5130,type=LUA;",
        );
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].name, "bgudf.lua");
        assert_eq!(l[0].package(), "bgudf");
        assert_eq!(l[0].hash, "3241c719a5086433c774a0bb6b1adf4ae99d5130");
        assert!(parse_list("").is_empty());
        assert_eq!(
            parse_list("filename=a.lua,hash=1,type=LUA;filename=b.lua,hash=2,type=LUA;").len(),
            2
        );
    }

    #[test]
    fn reply_errors() {
        assert!(check_reply("udf-put", "ok").is_ok());
        let e = check_reply(
            "udf-put",
            &format!(
                "error=compile_error;file=x.lua;line=3;message={}",
                base64::encode(b"unexpected symbol")
            ),
        )
        .unwrap_err();
        assert_eq!(e.result_code(), Some(ResultCode::UDF_BAD_RESPONSE));
        assert!(e.to_string().contains("line 3: unexpected symbol"), "{e}");
        let e = check_reply("udf-remove", "error=not_found").unwrap_err();
        assert_eq!(e.result_code(), Some(ResultCode::KEY_NOT_FOUND));
        let e = check_reply("udf-put", "error=invalid_filename").unwrap_err();
        assert_eq!(e.result_code(), Some(ResultCode::PARAMETER_ERROR));
    }
}
