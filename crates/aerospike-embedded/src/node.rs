//! One embedded node's network side: a TCP listener on 127.0.0.1, a named
//! thread per accepted connection, proto framing and dispatch of info
//! requests, single-record messages and scan/query/background messages.

use std::collections::HashMap;
use std::io::{self, BufWriter, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use super::ctx::NodeCtx;
use super::faults::{Fault, FaultScope, Faults};
use super::store::now_citrusleaf;
use super::{info, kv, query};
use aerospike_proto::wire::message::{field, info1, Header, Message};
use aerospike_proto::wire::proto::{self, Split};
use aerospike_proto::ResultCode;

/// Most connections a node serves at once; more are closed on accept.
const MAX_CONNECTIONS: usize = 256;
/// Bytes read from a socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Connections of a node: a clone of each stream (to shut it down) and its
/// thread.
type ConnTable = HashMap<u64, (TcpStream, Option<JoinHandle<()>>)>;

/// A running node: its listener thread and its connections. Threads are
/// named `emb<port>-acc` and `emb<port>-c<n>`.
#[derive(Debug)]
pub(crate) struct Server {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
    conns: Arc<Mutex<ConnTable>>,
}

impl Server {
    /// Binds 127.0.0.1:`port` (0 = any free port) and starts accepting.
    pub(crate) fn start(ctx: Arc<NodeCtx>, port: u16, faults: Arc<Faults>) -> io::Result<Server> {
        let listener = TcpListener::bind(("127.0.0.1", port))?;
        let addr = listener.local_addr()?;
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<ConnTable>> = Arc::default();
        let accept = {
            let (stop, conns) = (stop.clone(), conns.clone());
            thread::Builder::new()
                .name(format!("emb{}-acc", addr.port()))
                .spawn(move || accept_loop(listener, ctx, faults, stop, conns))?
        };
        Ok(Server {
            addr,
            stop,
            accept: Some(accept),
            conns,
        })
    }

    /// The listening address.
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Closes the listener and every connection and joins every thread.
    pub(crate) fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if self.stop.swap(true, Ordering::SeqCst) {
            return;
        }
        // Wake the blocking accept() so the thread sees the flag.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_millis(500));
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
        let conns: Vec<_> = self.conns.lock().drain().collect();
        for (_, (stream, _)) in &conns {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for (_, (_, handle)) in conns {
            if let Some(h) = handle {
                let _ = h.join();
            }
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

fn accept_loop(
    listener: TcpListener,
    ctx: Arc<NodeCtx>,
    faults: Arc<Faults>,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<ConnTable>>,
) {
    let port = listener.local_addr().map_or(0, |a| a.port());
    let next_id = AtomicU64::new(0);
    for incoming in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let stream = match incoming {
            Ok(s) => s,
            Err(e) => {
                log::debug!("embedded node {}: accept failed: {e}", ctx.name);
                // Out of descriptors and the like: do not spin.
                thread::sleep(Duration::from_millis(10));
                continue;
            }
        };
        let mut table = conns.lock();
        if table.len() >= MAX_CONNECTIONS {
            log::warn!("embedded node {}: too many connections", ctx.name);
            continue;
        }
        let Ok(clone) = stream.try_clone() else {
            continue;
        };
        let id = next_id.fetch_add(1, Ordering::SeqCst);
        let conn = Connection {
            ctx: ctx.clone(),
            peer: stream.peer_addr().ok(),
            faults: faults.clone(),
            stop: stop.clone(),
        };
        let conns_for_thread = conns.clone();
        let spawned = thread::Builder::new()
            .name(format!("emb{port}-c{id}"))
            .spawn(move || {
                conn.ctx.stats.bump("", "client_connections_opened");
                conn.serve(stream);
                conn.ctx.stats.bump("", "client_connections_closed");
                conns_for_thread.lock().remove(&id);
            });
        match spawned {
            // The table lock is held until the handle is in, so the thread's
            // own removal always comes after.
            Ok(handle) => {
                table.insert(id, (clone, Some(handle)));
            }
            Err(e) => log::warn!("embedded node {}: cannot spawn: {e}", ctx.name),
        }
    }
}

/// What a request asks of the connection after it is answered.
enum Next {
    Continue,
    Close,
}

struct Connection {
    ctx: Arc<NodeCtx>,
    /// The client's address, for `query-show`'s `from=`.
    peer: Option<SocketAddr>,
    faults: Arc<Faults>,
    stop: Arc<AtomicBool>,
}

impl Connection {
    fn serve(&self, mut stream: TcpStream) {
        let _ = stream.set_nodelay(true);
        while !self.ctx.shared.formed.load(Ordering::SeqCst) {
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            thread::sleep(Duration::from_millis(1));
        }
        let Ok(write_half) = stream.try_clone() else {
            return;
        };
        let mut out = BufWriter::new(write_half);
        let mut buf: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; READ_CHUNK];
        loop {
            loop {
                let (kind, body, consumed) = match proto::split_frame(&buf) {
                    Ok(Split::Frame {
                        header,
                        body,
                        consumed,
                    }) => (header.kind, body.to_vec(), consumed),
                    Ok(Split::NeedMore(_)) => break,
                    Err(e) => {
                        // Wrong proto version, unknown type, oversized frame:
                        // the server drops the connection.
                        log::debug!("embedded node {}: bad frame: {e}", self.ctx.name);
                        let _ = stream.shutdown(Shutdown::Both);
                        return;
                    }
                };
                buf.drain(..consumed);
                let next = self.request(&mut out, kind, &body);
                if !matches!(next, Ok(Next::Continue)) || out.flush().is_err() {
                    let _ = stream.shutdown(Shutdown::Both);
                    return;
                }
            }
            if self.stop.load(Ordering::SeqCst) {
                return;
            }
            match stream.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Answers one request frame into `out`, applying any fault set for it.
    fn request(&self, out: &mut BufWriter<TcpStream>, kind: u8, body: &[u8]) -> io::Result<Next> {
        let scope = if kind == proto::TYPE_INFO {
            FaultScope::Info
        } else {
            FaultScope::Messages
        };
        match self.faults.take(scope) {
            None => self.answer(kind, body, out)?,
            Some(Fault::Delay(d)) => {
                self.sleep(d);
                self.answer(kind, body, out)?;
            }
            Some(Fault::ResultCode(rc)) => {
                let reply = if kind == proto::TYPE_INFO {
                    proto::frame(proto::TYPE_INFO, &info::error_reply(body, rc.0))
                } else {
                    error_message(rc)
                };
                out.write_all(&reply)?;
            }
            Some(Fault::CloseMidFrame) => {
                let mut full = Vec::new();
                self.answer(kind, body, &mut full)?;
                let half = (full.len() / 2).max(1).min(full.len().saturating_sub(1));
                out.write_all(&full[..half])?;
                out.flush()?;
                return Ok(Next::Close);
            }
            Some(Fault::Stall) => {}
            Some(Fault::Garbage) => out.write_all(b"\xee\xee\xde\xad\xbe\xef\x00\x01garbage!")?,
            Some(Fault::DropConnection) => return Ok(Next::Close),
        }
        Ok(Next::Continue)
    }

    /// Sleeps up to `d`, waking early when the node stops.
    fn sleep(&self, d: Duration) {
        let end = Instant::now() + d;
        while !self.stop.load(Ordering::SeqCst) {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            thread::sleep(left.min(Duration::from_millis(20)));
        }
    }

    /// Writes the normal reply to one request.
    fn answer(&self, kind: u8, body: &[u8], out: &mut dyn Write) -> io::Result<()> {
        match kind {
            proto::TYPE_INFO => out.write_all(&proto::frame(
                proto::TYPE_INFO,
                &info::handle(&self.ctx, body),
            )),
            // Compression is an Enterprise feature.
            proto::TYPE_COMPRESSED => out.write_all(&error_message(ResultCode::ENTERPRISE_ONLY)),
            _ => match Message::decode(body) {
                Err(e) => {
                    log::debug!("embedded node {}: bad message: {e}", self.ctx.name);
                    out.write_all(&error_message(ResultCode::PARAMETER_ERROR))
                }
                Ok((msg, _)) if msg.header.info1 & info1::BATCH != 0 => {
                    super::batch::handle(&self.ctx, &msg, out)
                }
                Ok((msg, _)) if msg.field(field::DIGEST).is_some() => {
                    out.write_all(&kv::handle(&self.ctx, &msg, now_citrusleaf()).encode())
                }
                Ok((msg, _)) => query::handle_from(&self.ctx, &msg, self.peer, out),
            },
        }
    }
}

/// The 30-byte reply that carries only a result code (no LAST bit).
pub(crate) fn error_message(rc: ResultCode) -> Vec<u8> {
    Message {
        header: Header {
            result_code: rc.0,
            ..Header::default()
        },
        ..Message::default()
    }
    .encode()
}
