//! The bounded pool of connections to one node.
//!
//! At most `max` connections are open at once. Idle connections older than
//! `idle_timeout` are closed when a checkout finds them. A checked-out
//! connection goes back to the pool only when the caller says its exchange
//! completed ([`PooledConnection::release`]); after any error it is dropped.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::time::Duration;

use parking_lot::{Condvar, Mutex};

use crate::net::{Connection, Deadline};
use crate::{Error, Result, TimeoutPhase};

#[derive(Debug)]
struct State {
    idle: Vec<Connection>,
    open: usize,
    closed: bool,
}

/// Idle connections older than this are checked for a close by the server
/// before reuse; younger ones were just used successfully.
const VALIDATE_AFTER_IDLE: Duration = Duration::from_millis(50);

/// The pool of one node.
#[derive(Debug)]
pub(crate) struct Pool {
    addr: SocketAddr,
    max: usize,
    idle_timeout: Duration,
    connect_timeout: Duration,
    state: Mutex<State>,
    freed: Condvar,
}

impl Pool {
    /// A pool of at most `max` (at least 1) connections to `addr`.
    pub(crate) fn new(
        addr: SocketAddr,
        max: usize,
        idle_timeout: Duration,
        connect_timeout: Duration,
    ) -> Self {
        Pool {
            addr,
            max: max.max(1),
            idle_timeout,
            connect_timeout,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
                closed: false,
            }),
            freed: Condvar::new(),
        }
    }

    /// An idle connection, or a new one; when `max` are in use, waits for one
    /// until the deadline and then fails with a `Queue` timeout.
    pub(crate) fn checkout(&self, deadline: &Deadline) -> Result<PooledConnection<'_>> {
        let guard = |c| PooledConnection {
            pool: self,
            conn: Some(c),
            reusable: false,
        };
        loop {
            let mut st = self.state.lock();
            if st.closed {
                return Err(Error::Closed);
            }
            if let Some(mut c) = st.idle.pop() {
                drop(st);
                let idle = c.last_used().elapsed();
                let expired = !self.idle_timeout.is_zero() && idle >= self.idle_timeout;
                // A connection that sat idle may have been closed by the
                // server (restart, idle reaping); checking costs a peek.
                if expired || (idle >= VALIDATE_AFTER_IDLE && !c.is_alive()) {
                    drop(c);
                    self.forget();
                    continue;
                }
                return Ok(guard(c));
            }
            if st.open < self.max {
                st.open += 1;
                drop(st);
                return match Connection::connect(self.addr, self.connect_timeout, deadline) {
                    Ok(c) => Ok(guard(c)),
                    Err(e) => {
                        self.forget();
                        Err(e)
                    }
                };
            }
            match deadline.end() {
                Some(end) => {
                    if self.freed.wait_until(&mut st, end).timed_out()
                        && st.idle.is_empty()
                        && st.open >= self.max
                    {
                        return Err(deadline.timeout(TimeoutPhase::Queue, false));
                    }
                }
                None => self.freed.wait(&mut st),
            }
        }
    }

    fn forget(&self) {
        let mut st = self.state.lock();
        st.open -= 1;
        drop(st);
        self.freed.notify_one();
    }

    fn give_back(&self, c: Connection) {
        let mut st = self.state.lock();
        if st.closed {
            st.open -= 1;
        } else {
            st.idle.push(c);
        }
        drop(st);
        self.freed.notify_one();
    }

    /// Closes every idle connection and refuses further checkouts.
    pub(crate) fn close(&self) {
        let idle = {
            let mut st = self.state.lock();
            st.closed = true;
            st.open -= st.idle.len();
            std::mem::take(&mut st.idle)
        };
        drop(idle);
        self.freed.notify_all();
    }

    /// Connections open now (idle and in use).
    #[cfg(test)]
    pub(crate) fn open_count(&self) -> usize {
        self.state.lock().open
    }
}

/// A connection checked out of a [`Pool`].
#[derive(Debug)]
pub(crate) struct PooledConnection<'a> {
    pool: &'a Pool,
    conn: Option<Connection>,
    reusable: bool,
}

impl PooledConnection<'_> {
    /// Marks the exchange as complete: the connection returns to the pool when
    /// the guard is dropped. Without this call it is closed.
    pub(crate) fn release(mut self) {
        self.reusable = self.conn.as_ref().is_some_and(|c| !c.has_unread());
    }
}

impl Deref for PooledConnection<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn.as_ref().expect("connection present until drop")
    }
}

impl DerefMut for PooledConnection<'_> {
    fn deref_mut(&mut self) -> &mut Connection {
        self.conn.as_mut().expect("connection present until drop")
    }
}

impl Drop for PooledConnection<'_> {
    fn drop(&mut self) {
        if let Some(c) = self.conn.take() {
            if self.reusable {
                self.pool.give_back(c);
            } else {
                drop(c);
                self.pool.forget();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    fn listener() -> (TcpListener, SocketAddr) {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let a = l.local_addr().unwrap();
        (l, a)
    }

    #[test]
    fn reuses_released_and_drops_failed() {
        let (_l, addr) = listener();
        let pool = Pool::new(addr, 2, Duration::from_secs(60), Duration::from_secs(1));
        let d = Deadline::after(Duration::from_secs(1));
        let c = pool.checkout(&d).unwrap();
        let local = c.addr();
        c.release();
        assert_eq!(pool.open_count(), 1);
        let c = pool.checkout(&d).unwrap();
        assert_eq!(c.addr(), local);
        drop(c); // not released: closed
        assert_eq!(pool.open_count(), 0);
    }

    #[test]
    fn full_pool_times_out_in_queue_phase() {
        let (_l, addr) = listener();
        let pool = Pool::new(addr, 1, Duration::from_secs(60), Duration::from_secs(1));
        let d = Deadline::after(Duration::from_millis(30));
        let _held = pool.checkout(&d).unwrap();
        let second = pool.checkout(&d).map(|_| ());
        match second {
            Err(Error::Timeout { phase, .. }) => assert_eq!(phase, TimeoutPhase::Queue),
            other => panic!("expected a queue timeout, got {other:?}"),
        }
    }

    #[test]
    fn waiter_gets_a_released_connection_and_idle_ones_expire() {
        let (_l, addr) = listener();
        let pool = Pool::new(addr, 1, Duration::from_millis(20), Duration::from_secs(1));
        let d = Deadline::after(Duration::from_secs(2));
        std::thread::scope(|s| {
            let held = pool.checkout(&d).unwrap();
            let w = s.spawn(|| pool.checkout(&d).map(|c| c.release()));
            std::thread::sleep(Duration::from_millis(20));
            held.release();
            w.join().unwrap().unwrap();
        });
        assert_eq!(pool.open_count(), 1);
        std::thread::sleep(Duration::from_millis(40));
        let c = pool.checkout(&d).unwrap();
        assert_eq!(pool.open_count(), 1, "the stale connection was replaced");
        c.release();
        pool.close();
        assert_eq!(pool.open_count(), 0);
        assert!(matches!(pool.checkout(&d), Err(Error::Closed)));
    }
}
