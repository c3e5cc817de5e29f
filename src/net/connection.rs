//! One TCP connection to a node: TCP_NODELAY, socket timeouts capped by the
//! call's [`Deadline`], frames read with the wire frame splitter.

use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

use crate::net::Deadline;
use crate::wire::info;
use crate::wire::message::{message_size, MessageSize};
use crate::wire::proto::{self, ProtoHeader, Split};
use crate::{Error, Result, TimeoutPhase};

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
    /// Bytes of the frame [`read_messages`](Self::read_messages) is reading
    /// that have not been handed out yet.
    frame_left: usize,
}

/// Initial read buffer size: one `read` usually brings a whole reply.
const READ_BUF: usize = 16 * 1024;
/// A buffer grown past this for a big frame is shrunk back once drained.
const READ_BUF_KEEP: usize = 1024 * 1024;

/// How much earlier than asked a socket timeout already set may fire before
/// it is worth a syscall to change it. The remaining time of a deadline
/// shrinks on every call; without this slack every command would reset both
/// socket timeouts.
const TIMEOUT_SLACK: Duration = Duration::from_millis(10);

/// True when the socket timeout `current` must be changed to serve `wanted`:
/// it would block longer than wanted, or fire more than `TIMEOUT_SLACK`
/// earlier.
fn needs_update(current: Option<Duration>, wanted: Option<Duration>) -> bool {
    match (current, wanted) {
        (Some(c), Some(w)) => c > w || w - c > TIMEOUT_SLACK,
        (None, None) => false,
        _ => true,
    }
}

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
            frame_left: 0,
        })
    }

    /// The local address (which tells two connections apart).
    #[cfg(test)]
    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().expect("local address")
    }

    /// When the connection last finished an exchange.
    pub(crate) fn last_used(&self) -> Instant {
        self.last_used
    }

    /// Writes the whole of `bytes`.
    pub(crate) fn send(&mut self, bytes: &[u8], deadline: &Deadline) -> Result<()> {
        let mut pos = 0;
        while pos < bytes.len() {
            let t = deadline.socket_timeout(TimeoutPhase::Send)?;
            if needs_update(self.write_timeout, t) {
                self.stream
                    .set_write_timeout(t)
                    .map_err(|e| io_error(self.addr, e, false))?;
                self.write_timeout = t;
            }
            match self.stream.write(&bytes[pos..]) {
                Ok(0) => {
                    return Err(io_error(
                        self.addr,
                        io::Error::new(io::ErrorKind::WriteZero, "connection closed while sending"),
                        false,
                    ))
                }
                Ok(n) => pos += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => return Err(deadline.timeout(TimeoutPhase::Send, false)),
                Err(e) => return Err(io_error(self.addr, e, false)),
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
            let t = deadline.socket_timeout(TimeoutPhase::Receive)?;
            if needs_update(self.read_timeout, t) {
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
                Ok(n) => self.end += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {
                    return Err(deadline.timeout(TimeoutPhase::Receive, false))
                }
                Err(e) => return Err(io_error(self.addr, e, false)),
            }
        }
        Ok(())
    }

    /// Drops the frame returned last from the buffer (and a buffer grown
    /// for a big frame, once drained).
    fn consume_returned(&mut self) {
        self.start += std::mem::take(&mut self.returned);
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.buf.len() > READ_BUF_KEEP {
                self.buf = Vec::new();
            }
        }
    }

    fn protocol(&self, message: impl Into<String>) -> Error {
        Error::Protocol {
            node: self.addr.to_string(),
            message: message.into(),
        }
    }

    /// The error for a compressed frame, which is never asked for.
    fn compressed(&self, header: &ProtoHeader) -> Result<()> {
        if header.kind == proto::TYPE_COMPRESSED {
            return Err(
                self.protocol("compressed reply received but compression was not requested")
            );
        }
        Ok(())
    }

    /// Reads one whole frame; returns its header and body. The body borrows
    /// the connection's buffer until the next read.
    pub(crate) fn read_frame(&mut self, deadline: &Deadline) -> Result<(ProtoHeader, &[u8])> {
        self.consume_returned();
        loop {
            match proto::split_frame(&self.buf[self.start..self.end])
                .map_err(|e| self.protocol(e.message()))?
            {
                Split::NeedMore(n) => self.fill(n, deadline)?,
                Split::Frame {
                    header, consumed, ..
                } => {
                    self.compressed(&header)?;
                    self.last_used = Instant::now();
                    self.returned = consumed;
                    let body = self.start + proto::HEADER_SIZE..self.start + consumed;
                    return Ok((header, &self.buf[body]));
                }
            }
        }
    }

    /// Reads the next frame, which must hold messages, and hands each message
    /// to `f` as soon as all of it has arrived (in the connection's buffer).
    /// The frame is never held whole: a server streams records in frames of
    /// about 1 MiB, and the buffer only grows to the largest message.
    /// Returns false when `f` stopped (returned false) before the frame's
    /// end: the rest is unread and the connection cannot be reused.
    pub(crate) fn read_messages(
        &mut self,
        deadline: &Deadline,
        f: &mut dyn FnMut(&[u8]) -> Result<bool>,
    ) -> Result<bool> {
        self.consume_returned();
        let header = loop {
            match ProtoHeader::decode(&self.buf[self.start..self.end]) {
                Some(h) => break h,
                None => self.fill(proto::HEADER_SIZE, deadline)?,
            }
        };
        header.validate().map_err(|e| self.protocol(e.message()))?;
        self.compressed(&header)?;
        if header.kind != proto::TYPE_MESSAGE {
            return Err(self.protocol(format!("stream frame of proto type {}", header.kind)));
        }
        self.start += proto::HEADER_SIZE;
        self.frame_left = header.length as usize;
        while self.frame_left > 0 {
            let have = (self.end - self.start).min(self.frame_left);
            match message_size(&self.buf[self.start..self.start + have])
                .map_err(|e| self.protocol(e.message()))?
            {
                MessageSize::Whole(n) => {
                    let at = self.start;
                    self.start += n;
                    self.frame_left -= n;
                    if !f(&self.buf[at..at + n])? {
                        return Ok(false);
                    }
                }
                MessageSize::NeedMore(n) if n > self.frame_left => {
                    return Err(self.protocol("a message runs past the end of its frame"));
                }
                MessageSize::NeedMore(n) => self.fill(n, deadline)?,
            }
        }
        self.last_used = Instant::now();
        Ok(true)
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

    /// False when the server closed the connection (or sent unexpected
    /// bytes) while it sat idle. Never blocks.
    pub(crate) fn is_alive(&mut self) -> bool {
        if self.has_unread() || self.stream.set_nonblocking(true).is_err() {
            return false;
        }
        let mut b = [0u8; 1];
        let idle =
            matches!(self.stream.peek(&mut b), Err(e) if e.kind() == io::ErrorKind::WouldBlock);
        self.stream.set_nonblocking(false).is_ok() && idle
    }

    /// True when bytes beyond the last frame returned were received: the
    /// connection is out of step with the server and must not be reused.
    pub(crate) fn has_unread(&self) -> bool {
        self.frame_left > 0 || self.start + self.returned < self.end
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
    fn socket_timeouts_change_only_when_needed() {
        let ms = |m| Some(Duration::from_millis(m));
        assert!(!needs_update(ms(995), ms(1000)), "slightly shorter: kept");
        assert!(
            needs_update(ms(1000), ms(995)),
            "longer than the deadline allows"
        );
        assert!(needs_update(ms(500), ms(1000)), "much too short");
        assert!(needs_update(None, ms(1000)));
        assert!(needs_update(ms(1000), None));
        assert!(!needs_update(None, None));
    }

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

    /// A message with one 2,000-byte operation whose data is `i`.
    fn record_message(i: u8) -> Vec<u8> {
        use crate::wire::message::{Message, Op};
        let m = Message {
            ops: vec![Op {
                kind: 1,
                particle: 4,
                name: "b".into(),
                data: vec![i; 2000],
            }],
            ..Message::default()
        };
        m.encode()[proto::HEADER_SIZE..].to_vec()
    }

    #[test]
    fn messages_are_handed_out_as_they_arrive_without_holding_the_frame() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        // One frame of 200 messages (about 400 KB), then a frame of one,
        // written in uneven pieces.
        let body: Vec<u8> = (0..200u8).flat_map(record_message).collect();
        let mut all = proto::frame(proto::TYPE_MESSAGE, &body);
        all.extend(proto::frame(proto::TYPE_MESSAGE, &record_message(200)));
        let t = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            for piece in all.chunks(7_777) {
                s.write_all(piece).unwrap();
                s.flush().unwrap();
            }
            std::thread::sleep(Duration::from_millis(50));
        });
        let d = Deadline::after(Duration::from_secs(5));
        let mut c = Connection::connect(addr, Duration::from_secs(1), &d).unwrap();
        let mut seen = 0usize;
        let mut each = |m: &[u8]| {
            assert_eq!(m, record_message(seen as u8));
            seen += 1;
            Ok(true)
        };
        assert!(c.read_messages(&d, &mut each).unwrap());
        assert!(c.buf.len() < 64 * 1024, "buffer of {} bytes", c.buf.len());
        assert!(c.read_messages(&d, &mut each).unwrap());
        assert_eq!(seen, 201);
        assert!(!c.has_unread());
        t.join().unwrap();
    }

    #[test]
    fn stopping_mid_frame_leaves_the_connection_unusable_and_overruns_are_errors() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let two = [record_message(1), record_message(2)].concat();
        // A frame that ends inside its message.
        let mut short = proto::frame(proto::TYPE_MESSAGE, &record_message(3)[..100]);
        short.extend_from_slice(&record_message(3)[100..]);
        let t = std::thread::spawn(move || {
            for reply in [proto::frame(proto::TYPE_MESSAGE, &two), short] {
                let (mut s, _) = l.accept().unwrap();
                s.write_all(&reply).unwrap();
                std::thread::sleep(Duration::from_millis(50));
            }
        });
        let d = Deadline::after(Duration::from_secs(5));
        let mut c = Connection::connect(addr, Duration::from_secs(1), &d).unwrap();
        assert!(!c.read_messages(&d, &mut |_| Ok(false)).unwrap());
        assert!(c.has_unread(), "the second message was not read");
        let mut c = Connection::connect(addr, Duration::from_secs(1), &d).unwrap();
        match c.read_messages(&d, &mut |_| Ok(true)) {
            Err(Error::Protocol { message, .. }) => assert!(message.contains("past the end")),
            other => panic!("expected a protocol error, got {other:?}"),
        }
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
    fn liveness_check_sees_a_server_close() {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let d = Deadline::after(Duration::from_secs(2));
        let mut c = Connection::connect(addr, Duration::ZERO, &d).unwrap();
        let (server_side, _) = l.accept().unwrap();
        assert!(c.is_alive());
        drop(server_side);
        std::thread::sleep(Duration::from_millis(20));
        assert!(!c.is_alive());
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
