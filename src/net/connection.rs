//! One TCP connection to a node: TCP_NODELAY, socket timeouts capped by the
//! call's [`Deadline`], frames read with the wire frame splitter.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::error::{Error, Result, TimeoutPhase};
use crate::net::Deadline;
use crate::wire::info;
use crate::wire::proto::{self, ProtoHeader, Split};

/// An open connection. After any error in the middle of an exchange the
/// connection must be dropped, never reused: the caller's pool guard does that.
#[derive(Debug)]
pub(crate) struct Connection {
    stream: TcpStream,
    addr: SocketAddr,
    read_timeout: Option<Duration>,
    write_timeout: Option<Duration>,
    last_used: Instant,
    /// Bytes read but not yet consumed are `buf[start..end]`; the frame
    /// returned last is `buf[start..start + returned]`.
    buf: Vec<u8>,
    start: usize,
    end: usize,
    returned: usize,
}

/// Initial read buffer size: one `read` usually brings a whole reply.
const READ_BUF: usize = 16 * 1024;
/// A buffer grown past this for a big frame is shrunk back once drained.
const READ_BUF_KEEP: usize = 1024 * 1024;

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

impl Connection {
    /// Opens a connection, waiting at most `min(connect_timeout, remaining)`.
    pub(crate) fn connect(
        addr: SocketAddr,
        connect_timeout: Duration,
        deadline: &Deadline,
    ) -> Result<Connection> {
        let limit = match deadline.socket_timeout(TimeoutPhase::Connect)? {
            Some(t) if !connect_timeout.is_zero() => t.min(connect_timeout),
            Some(t) => t,
            None if !connect_timeout.is_zero() => connect_timeout,
            None => Duration::from_secs(60),
        };
        let stream = TcpStream::connect_timeout(&addr, limit).map_err(|e| {
            if is_timeout(&e) {
                deadline.timeout(TimeoutPhase::Connect, false)
            } else {
                io_error(addr, e, false)
            }
        })?;
        stream
            .set_nodelay(true)
            .map_err(|e| io_error(addr, e, false))?;
        Ok(Connection {
            stream,
            addr,
            read_timeout: None,
            write_timeout: None,
            last_used: Instant::now(),
            buf: Vec::new(),
            start: 0,
            end: 0,
            returned: 0,
        })
    }

    /// The peer address.
    #[cfg(test)]
    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// When the connection last finished an exchange.
    pub(crate) fn last_used(&self) -> Instant {
        self.last_used
    }

    /// Writes the whole of `bytes`.
    pub(crate) fn send(&mut self, bytes: &[u8], deadline: &Deadline) -> Result<()> {
        let mut pos = 0;
        while pos < bytes.len() {
            let limit = SocketCall::start(deadline, TimeoutPhase::Send)?;
            loop {
                let t = limit.arm(deadline)?;
                if t != self.write_timeout {
                    self.stream
                        .set_write_timeout(t)
                        .map_err(|e| io_error(self.addr, e, false))?;
                    self.write_timeout = t;
                }
                match self.stream.write(&bytes[pos..]) {
                    Ok(0) => {
                        return Err(io_error(
                            self.addr,
                            io::Error::new(
                                io::ErrorKind::WriteZero,
                                "connection closed while sending",
                            ),
                            false,
                        ))
                    }
                    Ok(n) => {
                        pos += n;
                        break;
                    }
                    // An early wake-up (rounded timeout) or a signal: the
                    // next `arm` gives what is left, or the timeout error.
                    Err(e) if e.kind() == io::ErrorKind::Interrupted || is_timeout(&e) => {}
                    Err(e) => return Err(io_error(self.addr, e, false)),
                }
            }
        }
        Ok(())
    }

    /// Reads at least until `buf[start..]` holds `want` bytes; takes whatever
    /// more the socket already has, so a reply usually arrives in one call.
    fn fill(&mut self, want: usize, deadline: &Deadline) -> Result<()> {
        if self.start > 0 {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.buf.len() < want {
            self.buf.resize(want.max(READ_BUF), 0);
        }
        while self.end < want {
            let limit = SocketCall::start(deadline, TimeoutPhase::Receive)?;
            loop {
                let t = limit.arm(deadline)?;
                if t != self.read_timeout {
                    self.stream
                        .set_read_timeout(t)
                        .map_err(|e| io_error(self.addr, e, false))?;
                    self.read_timeout = t;
                }
                match self.stream.read(&mut self.buf[self.end..]) {
                    Ok(0) => {
                        return Err(io_error(
                            self.addr,
                            io::Error::new(
                                io::ErrorKind::UnexpectedEof,
                                "connection closed by the server",
                            ),
                            false,
                        ))
                    }
                    Ok(n) => {
                        self.end += n;
                        break;
                    }
                    // An early wake-up (rounded timeout) or a signal: the
                    // next `arm` gives what is left, or the timeout error.
                    Err(e) if e.kind() == io::ErrorKind::Interrupted || is_timeout(&e) => {}
                    Err(e) => return Err(io_error(self.addr, e, false)),
                }
            }
        }
        Ok(())
    }

    /// Reads one whole frame; returns its header and body. The body borrows
    /// the connection's buffer until the next read.
    pub(crate) fn read_frame(&mut self, deadline: &Deadline) -> Result<(ProtoHeader, &[u8])> {
        self.start += std::mem::take(&mut self.returned);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > READ_BUF_KEEP {
                self.buf = Vec::new();
            }
        }
        loop {
            match proto::split_frame(&self.buf[self.start..self.end]).map_err(|e| {
                Error::Protocol {
                    node: self.addr.to_string(),
                    message: e.message().to_owned(),
                }
            })? {
                Split::NeedMore(n) => self.fill(n, deadline)?,
                Split::Frame {
                    header, consumed, ..
                } => {
                    if header.kind == proto::TYPE_COMPRESSED {
                        return Err(Error::Protocol {
                            node: self.addr.to_string(),
                            message: "compressed reply received but compression was not requested"
                                .into(),
                        });
                    }
                    self.last_used = Instant::now();
                    self.returned = consumed;
                    let body = self.start + proto::HEADER_SIZE..self.start + consumed;
                    return Ok((header, &self.buf[body]));
                }
            }
        }
    }

    /// Sends info `commands` and returns the `(command, value)` pairs of the
    /// reply, in order.
    pub(crate) fn info(
        &mut self,
        commands: &[&str],
        deadline: &Deadline,
    ) -> Result<Vec<(String, String)>> {
        self.send(&info::encode_request(commands), deadline)?;
        let addr = self.addr;
        let (h, body) = self.read_frame(deadline)?;
        if h.kind != proto::TYPE_INFO {
            return Err(Error::Protocol {
                node: addr.to_string(),
                message: format!("info reply of proto type {}", h.kind),
            });
        }
        Ok(info::parse_response(body))
    }

    /// True when bytes beyond the last frame returned were received: the
    /// connection is out of step with the server and must not be reused.
    pub(crate) fn has_unread(&self) -> bool {
        self.start + self.returned < self.end
    }
}

/// The time limit of one blocking socket call: `min(socket timeout,
/// remaining)` when it starts.
///
/// The timeout handed to the socket is rounded down to whole milliseconds,
/// so consecutive commands with the same policy (each with a fresh deadline a
/// few microseconds apart) ask for the same value and no `setsockopt` is
/// needed per command. A call that wakes up early because of the rounding is
/// repeated for what is left of its limit; the limit itself is never
/// exceeded.
struct SocketCall {
    phase: TimeoutPhase,
    started: Instant,
    limit: Option<Duration>,
}

impl SocketCall {
    fn start(deadline: &Deadline, phase: TimeoutPhase) -> Result<SocketCall> {
        // The limit is taken before the start, so start + limit is never
        // before the deadline's end.
        let limit = deadline.socket_timeout(phase)?;
        Ok(SocketCall {
            phase,
            started: Instant::now(),
            limit,
        })
    }

    /// The socket timeout for the next try, or the phase's timeout error
    /// when the limit has passed.
    fn arm(&self, deadline: &Deadline) -> Result<Option<Duration>> {
        let Some(limit) = self.limit else {
            return Ok(None);
        };
        let left = limit.saturating_sub(self.started.elapsed());
        if left.is_zero() {
            return Err(deadline.timeout(self.phase, false));
        }
        Ok(Some(round_down_ms(left)))
    }
}

/// `t` rounded down to whole milliseconds; under 1 ms, `t` itself (a socket
/// timeout of zero would mean "block forever").
fn round_down_ms(t: Duration) -> Duration {
    let ms = Duration::from_millis(u64::try_from(t.as_millis()).unwrap_or(u64::MAX));
    if ms.is_zero() {
        t
    } else {
        ms
    }
}

/// An I/O error naming the peer.
pub(crate) fn io_error(addr: SocketAddr, source: io::Error, in_doubt: bool) -> Error {
    Error::Io {
        node: addr.to_string(),
        source,
        in_doubt,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn reads_a_frame_sent_in_pieces() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut req = [0u8; 13];
            s.read_exact(&mut req).unwrap();
            let f = proto::frame(proto::TYPE_INFO, b"node\tA\n");
            s.write_all(&f[..3]).unwrap();
            s.flush().unwrap();
            std::thread::sleep(Duration::from_millis(20));
            s.write_all(&f[3..]).unwrap();
        });
        let d = Deadline::after(Duration::from_secs(5));
        let mut c = Connection::connect(addr, Duration::from_secs(1), &d).unwrap();
        c.send(&proto::frame(proto::TYPE_INFO, b"node\n"), &d)
            .unwrap();
        let (h, body) = c.read_frame(&d).unwrap();
        assert_eq!(h.kind, proto::TYPE_INFO);
        assert_eq!(body, b"node\tA\n");
        t.join().unwrap();
    }

    #[test]
    fn frames_arriving_together_are_returned_one_by_one() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let big = vec![7u8; 40_000];
        let sent = big.clone();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut all = proto::frame(proto::TYPE_MESSAGE, b"one");
            all.extend(proto::frame(proto::TYPE_MESSAGE, &sent));
            all.extend(proto::frame(proto::TYPE_INFO, b"three"));
            s.write_all(&all).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        });
        let d = Deadline::after(Duration::from_secs(5));
        let mut c = Connection::connect(addr, Duration::from_secs(1), &d).unwrap();
        // Everything is in the socket before the first read, which takes
        // more than the first frame.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(c.read_frame(&d).unwrap().1, b"one");
        assert!(c.has_unread());
        assert_eq!(c.read_frame(&d).unwrap().1, &big[..]);
        let (h, body) = c.read_frame(&d).unwrap();
        assert_eq!((h.kind, body), (proto::TYPE_INFO, &b"three"[..]));
        assert!(!c.has_unread());
        t.join().unwrap();
    }

    #[test]
    fn silent_server_times_out_and_garbage_is_a_protocol_error() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(150));
            s.write_all(&[9, 9, 9, 9, 9, 9, 9, 9]).unwrap();
            std::thread::sleep(Duration::from_millis(50));
        });
        let d = Deadline::after(Duration::from_millis(50));
        let mut c = Connection::connect(addr, Duration::ZERO, &d).unwrap();
        match c.read_frame(&d) {
            Err(Error::Timeout { phase, .. }) => assert_eq!(phase, TimeoutPhase::Receive),
            other => panic!("expected a receive timeout, got {other:?}"),
        }
        let d = Deadline::after(Duration::from_secs(2));
        assert!(matches!(c.read_frame(&d), Err(Error::Protocol { .. })));
        t.join().unwrap();
    }

    #[test]
    fn socket_timeouts_round_down_to_whole_milliseconds() {
        assert_eq!(
            round_down_ms(Duration::from_micros(999_987)),
            Duration::from_millis(999)
        );
        assert_eq!(
            round_down_ms(Duration::from_micros(1_000)),
            Duration::from_millis(1)
        );
        assert_eq!(
            round_down_ms(Duration::from_micros(400)),
            Duration::from_micros(400)
        );
    }

    #[test]
    fn timeout_is_not_reset_for_each_command_with_the_same_policy() {
        const N: usize = 10;
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            for _ in 0..N {
                let mut req = [0u8; 13];
                s.read_exact(&mut req).unwrap();
                s.write_all(&proto::frame(proto::TYPE_INFO, b"node\tA\n"))
                    .unwrap();
            }
        });
        let d = Deadline::after(Duration::from_secs(5));
        let mut c = Connection::connect(addr, Duration::from_secs(1), &d).unwrap();
        let mut seen = Vec::new();
        for _ in 0..N {
            // A fresh deadline per command, as `command::execute` makes.
            let d = Deadline::after(Duration::from_secs(5));
            c.send(&proto::frame(proto::TYPE_INFO, b"node\n"), &d)
                .unwrap();
            assert_eq!(c.read_frame(&d).unwrap().1, b"node\tA\n");
            seen.push((c.read_timeout, c.write_timeout));
        }
        // 5 s minus some microseconds, rounded down to whole milliseconds:
        // the same value command after command, so the socket options are
        // set again only when a millisecond boundary is crossed (without
        // the rounding they would change on every command).
        for &(r, w) in &seen {
            for t in [r, w] {
                let t = t.expect("a limit");
                assert_eq!(t.subsec_nanos() % 1_000_000, 0, "{seen:?}");
                assert!(t >= Duration::from_millis(4_900), "{seen:?}");
            }
        }
        let changes = seen.windows(2).filter(|p| p[0] != p[1]).count();
        assert!(changes <= 3, "{changes} changes in {seen:?}");
        t.join().unwrap();
    }

    #[test]
    fn rounded_timeout_still_waits_out_the_whole_limit() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || {
            let (s, _) = l.accept().unwrap();
            std::thread::sleep(Duration::from_millis(300));
            drop(s);
        });
        let d = Deadline::after(Duration::from_micros(30_700));
        let mut c = Connection::connect(addr, Duration::ZERO, &d).unwrap();
        let started = Instant::now();
        match c.read_frame(&d) {
            Err(Error::Timeout { phase, .. }) => assert_eq!(phase, TimeoutPhase::Receive),
            other => panic!("expected a receive timeout, got {other:?}"),
        }
        // Not before the deadline (the rounding must not cut the wait short).
        assert!(d.expired(), "gave up {:?} after start", started.elapsed());
        t.join().unwrap();
    }

    #[test]
    fn closed_connection_is_an_io_error() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let t = std::thread::spawn(move || drop(l.accept().unwrap()));
        let d = Deadline::after(Duration::from_secs(2));
        let mut c = Connection::connect(addr, Duration::ZERO, &d).unwrap();
        t.join().unwrap();
        assert!(matches!(c.read_frame(&d), Err(Error::Io { .. })));
    }
}
