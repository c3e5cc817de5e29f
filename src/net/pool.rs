//! The bounded pool of connections to one node.
//!
//! At most `max` connections are open at once. Idle connections older than
//! `idle_timeout` are closed when a checkout finds them. A checked-out
//! connection goes back to the pool only when the caller says its exchange
//! completed ([`PooledConnection::release`]); after any error it is dropped.
//!
//! Every caller thread checks connections out and back in itself, so the
//! pool is built for many threads on few CPUs:
//! - A thread gives its connection back to a *home* of its own (one of
//!   `HOMES`, picked by the thread) and takes it from there next time: the
//!   same thread keeps using the same socket, as a hand-written loop with one
//!   socket per thread would, and touches no line other threads write.
//! - Other idle connections wait in a lock-free queue, oldest first. A lock
//!   around a shared idle list would sooner or later be held by a thread the
//!   scheduler has just preempted, and every caller would wait out that
//!   thread's turn (milliseconds).
//!
//! Homes are used only while the pool has places it never filled: once
//! `max` connections have been opened, connections go back to the queue, and
//! a caller that finds the queue empty looks in every home before it waits.

use std::net::SocketAddr;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use parking_lot::Mutex;

use crate::net::{Connection, Deadline};
use crate::{Error, Result, TimeoutPhase};

/// What the queue holds: an idle connection, or the room for one that a
/// failed connection left (handed to a waiter, who opens a new one).
enum Slot {
    Idle(Connection),
    Room,
}

/// How many homes a pool has.
const HOMES: usize = 64;

/// The home of the calling thread, the same in every pool. Threads are
/// numbered in the order they first use a pool, modulo `HOMES`: two threads
/// with the same number share a home, and the one that finds it taken uses
/// the queue (correct, only without its own connection).
fn home_index() -> usize {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    thread_local! {
        static INDEX: usize = NEXT.fetch_add(1, Ordering::Relaxed) % HOMES;
    }
    INDEX.with(|i| *i)
}

/// Idle connections older than this are checked for a close by the server
/// before reuse; younger ones were just used successfully.
const VALIDATE_AFTER_IDLE: Duration = Duration::from_millis(50);

/// The pool of one node.
///
/// The `max` places are counted in four parts: `unused` (never taken), the
/// connections idle in homes, the slots in the queue, and the connections
/// checked out.
pub(crate) struct Pool {
    addr: SocketAddr,
    idle_timeout: Duration,
    connect_timeout: Duration,
    /// Places no connection has taken yet.
    unused: AtomicUsize,
    /// Connections open now, idle or in use.
    open: AtomicUsize,
    closed: AtomicBool,
    queue: (Sender<Slot>, Receiver<Slot>),
    /// Idle connections, each kept for the thread that gave it back.
    homes: Box<[Mutex<Option<Connection>>]>,
}

impl std::fmt::Debug for Pool {
    // The homes and the queue are left out: 64 mostly empty homes per node
    // would drown a client's debug output.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("addr", &self.addr)
            .field("open", &self.open.load(Ordering::Relaxed))
            .field("idle_in_queue", &self.queue.1.len())
            .field("closed", &self.closed.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl Pool {
    /// A pool of at most `max` (at least 1) connections to `addr`.
    pub(crate) fn new(
        addr: SocketAddr,
        max: usize,
        idle_timeout: Duration,
        connect_timeout: Duration,
    ) -> Self {
        let max = max.max(1);
        Pool {
            addr,
            idle_timeout,
            connect_timeout,
            unused: AtomicUsize::new(max),
            open: AtomicUsize::new(0),
            closed: AtomicBool::new(false),
            queue: crossbeam_channel::bounded(max),
            homes: (0..HOMES).map(|_| Mutex::new(None)).collect(),
        }
    }

    /// An idle connection, or a new one; when `max` are in use, waits for one
    /// until the deadline and then fails with a `Queue` timeout.
    pub(crate) fn checkout(&self, deadline: &Deadline) -> Result<PooledConnection<'_>> {
        let mine = self.homes[home_index()]
            .try_lock()
            .and_then(|mut h| h.take());
        let mut next = mine.map(Slot::Idle);
        loop {
            let slot = match next.take() {
                Some(slot) => slot,
                None => self.next_slot(deadline)?,
            };
            if self.closed.load(Ordering::SeqCst) {
                self.forget(slot);
                return Err(Error::Closed);
            }
            let mut c = match slot {
                Slot::Idle(c) => c,
                Slot::Room => return self.connect(deadline),
            };
            let idle = c.last_used().elapsed();
            let expired = !self.idle_timeout.is_zero() && idle >= self.idle_timeout;
            // A connection that sat idle may have been closed by the
            // server (restart, idle reaping); checking costs a peek.
            if expired || (idle >= VALIDATE_AFTER_IDLE && !c.is_alive()) {
                self.discard(c);
                continue;
            }
            return Ok(PooledConnection {
                pool: self,
                conn: Some(c),
                reusable: false,
            });
        }
    }

    /// The oldest slot of the queue; else room for a new connection; else a
    /// connection idle in any home; else the first slot given back before
    /// the deadline.
    fn next_slot(&self, deadline: &Deadline) -> Result<Slot> {
        if let Ok(slot) = self.queue.1.try_recv() {
            return Ok(slot);
        }
        let take = |n: usize| n.checked_sub(1);
        if self
            .unused
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, take)
            .is_ok()
        {
            return Ok(Slot::Room);
        }
        // Every place is taken, so no connection goes to a home any more
        // (see `give_back`): one still there is idle and free to take.
        if let Some(c) = self.homes.iter().find_map(|h| h.lock().take()) {
            return Ok(Slot::Idle(c));
        }
        self.wait(deadline)
    }

    /// Waits for a slot until the deadline.
    fn wait(&self, deadline: &Deadline) -> Result<Slot> {
        let got = match deadline.end() {
            Some(end) => self.queue.1.recv_deadline(end),
            None => self
                .queue
                .1
                .recv()
                .map_err(|_| RecvTimeoutError::Disconnected),
        };
        got.map_err(|_| deadline.timeout(TimeoutPhase::Queue, false))
    }

    /// Opens a connection in a place taken for it.
    fn connect(&self, deadline: &Deadline) -> Result<PooledConnection<'_>> {
        match Connection::connect(self.addr, self.connect_timeout, deadline) {
            Ok(c) => {
                self.open.fetch_add(1, Ordering::Relaxed);
                Ok(PooledConnection {
                    pool: self,
                    conn: Some(c),
                    reusable: false,
                })
            }
            Err(e) => {
                self.put(Slot::Room);
                Err(e)
            }
        }
    }

    /// Closes a connection and leaves its place to the next caller.
    fn discard(&self, c: Connection) {
        drop(c);
        self.open.fetch_sub(1, Ordering::Relaxed);
        self.put(Slot::Room);
    }

    /// Gives an idle connection back: to the calling thread's home while the
    /// pool has places never taken (no caller can be waiting then), else to
    /// the queue.
    fn give_back(&self, c: Connection) {
        if self.unused.load(Ordering::SeqCst) > 0 {
            let home = &self.homes[home_index()];
            if let Some(mut h) = home.try_lock() {
                if h.is_none() {
                    *h = Some(c);
                    drop(h);
                    // The last place may have been taken, and a waiter may
                    // have looked through the homes, since the check above:
                    // then the connection goes to the queue after all.
                    std::sync::atomic::fence(Ordering::SeqCst);
                    if self.unused.load(Ordering::SeqCst) == 0 || self.closed.load(Ordering::SeqCst)
                    {
                        if let Some(c) = home.lock().take() {
                            self.put(Slot::Idle(c));
                        }
                    }
                    return;
                }
            }
        }
        self.put(Slot::Idle(c));
    }

    /// Puts a slot in the queue. Until a close the queue always has room: it
    /// holds `max` and a slot is one of the `max` places. After a close,
    /// empties the queue again, in case the close emptied it before this
    /// slot came.
    fn put(&self, slot: Slot) {
        if let Err(full) = self.queue.0.try_send(slot) {
            self.forget(full.into_inner());
        }
        if self.closed.load(Ordering::SeqCst) {
            self.drain();
        }
    }

    fn drain(&self) {
        while let Ok(slot) = self.queue.1.try_recv() {
            self.forget(slot);
        }
    }

    fn forget(&self, slot: Slot) {
        if let Slot::Idle(c) = slot {
            drop(c);
            self.open.fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// Closes every idle connection and refuses further checkouts; callers
    /// waiting for a connection fail with [`Error::Closed`].
    pub(crate) fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        for home in self.homes.iter() {
            let idle = home.lock().take();
            if let Some(c) = idle {
                self.forget(Slot::Idle(c));
            }
        }
        self.drain();
        // Wake the waiters: each gets a slot, then sees the pool closed.
        while self.queue.0.try_send(Slot::Room).is_ok() {}
    }

    /// Connections open now (idle and in use).
    #[cfg(test)]
    pub(crate) fn open_count(&self) -> usize {
        self.open.load(Ordering::Relaxed)
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
                self.pool.discard(c);
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

    /// A listener and a pool of at most `max` connections to it.
    fn pool_of(max: usize) -> (TcpListener, Pool) {
        let (l, addr) = listener();
        let pool = Pool::new(addr, max, Duration::from_secs(60), Duration::from_secs(1));
        (l, pool)
    }

    /// Checks a connection out and back in on a thread of its own, which
    /// leaves it idle in that thread's home.
    fn use_on_another_thread(pool: &Pool, d: &Deadline) {
        std::thread::scope(|s| {
            s.spawn(|| pool.checkout(d).unwrap().release());
        });
    }

    /// Checks a connection out, starts a thread waiting for another, runs
    /// `act` on the held one and returns what the waiter got. Whatever `act`
    /// returns is dropped after the waiter returned.
    fn with_waiter<'p, T>(
        pool: &'p Pool,
        d: &Deadline,
        act: impl FnOnce(PooledConnection<'p>) -> T,
    ) -> Result<()> {
        std::thread::scope(|s| {
            let held = pool.checkout(d).unwrap();
            let w = s.spawn(|| pool.checkout(d).map(|c| c.release()));
            std::thread::sleep(Duration::from_millis(20));
            let kept = act(held);
            let got = w.join().unwrap();
            drop(kept);
            got
        })
    }

    #[test]
    fn reuses_released_and_drops_failed() {
        let (_l, pool) = pool_of(2);
        let d = Deadline::after(Duration::from_secs(1));
        let c = pool.checkout(&d).unwrap();
        let local = c.local_addr();
        c.release();
        assert_eq!(pool.open_count(), 1);
        let c = pool.checkout(&d).unwrap();
        assert_eq!(c.local_addr(), local);
        drop(c); // not released: closed
        assert_eq!(pool.open_count(), 0);
    }

    #[test]
    fn full_pool_times_out_in_queue_phase() {
        let (_l, pool) = pool_of(1);
        let d = Deadline::after(Duration::from_millis(30));
        let _held = pool.checkout(&d).unwrap();
        let second = pool.checkout(&d).map(|_| ());
        match second {
            Err(Error::Timeout { phase, .. }) => assert_eq!(phase, TimeoutPhase::Queue),
            other => panic!("expected a queue timeout, got {other:?}"),
        }
    }

    #[test]
    fn a_failed_connection_leaves_its_place_to_a_waiter() {
        let (_l, pool) = pool_of(1);
        let d = Deadline::after(Duration::from_secs(2));
        // Not released: closed, its place freed.
        with_waiter(&pool, &d, drop).unwrap();
        assert_eq!(pool.open_count(), 1);
    }

    #[test]
    fn a_refused_connect_gives_its_place_back() {
        let (l, addr) = listener();
        drop(l);
        let pool = Pool::new(addr, 1, Duration::from_secs(60), Duration::from_secs(1));
        let d = Deadline::after(Duration::from_secs(1));
        for _ in 0..3 {
            // A lost place would turn the second try into a queue timeout.
            assert!(matches!(pool.checkout(&d), Err(Error::Io { .. })));
        }
        assert_eq!(pool.open_count(), 0);
    }

    #[test]
    fn close_wakes_a_waiter_with_closed() {
        let (_l, pool) = pool_of(1);
        let d = Deadline::after(Duration::from_secs(5));
        // The held connection comes back after the waiter returned: closed.
        let r = with_waiter(&pool, &d, |held| {
            pool.close();
            std::thread::sleep(Duration::from_millis(20));
            held
        });
        assert!(matches!(r, Err(Error::Closed)), "{r:?}");
        assert_eq!(pool.open_count(), 0);
    }

    #[test]
    fn many_threads_never_open_more_than_max() {
        let (_l, addr) = listener();
        let max = 3;
        let pool = Pool::new(addr, max, Duration::from_secs(60), Duration::from_secs(1));
        let d = Deadline::after(Duration::from_secs(20));
        std::thread::scope(|s| {
            for t in 0..8 {
                let pool = &pool;
                let d = &d;
                s.spawn(move || {
                    for i in 0..300 {
                        let c = pool.checkout(d).unwrap();
                        assert!(pool.open_count() <= max);
                        // Now and then an exchange fails: the connection
                        // is closed and its place reused.
                        if (i + t) % 50 == 0 {
                            drop(c);
                        } else {
                            c.release();
                        }
                    }
                });
            }
        });
        let open = pool.open_count();
        assert!((1..=max).contains(&open), "{open} open");
        pool.close();
        assert_eq!(pool.open_count(), 0);
    }

    #[test]
    fn a_thread_gets_back_the_connection_it_gave_back() {
        let (_l, pool) = pool_of(4);
        let d = Deadline::after(Duration::from_secs(1));
        let mine = pool.checkout(&d).unwrap();
        let local = mine.local_addr();
        // Another thread's connection goes back while this one is out.
        use_on_another_thread(&pool, &d);
        mine.release();
        for _ in 0..3 {
            let c = pool.checkout(&d).unwrap();
            assert_eq!(c.local_addr(), local);
            c.release();
        }
        assert_eq!(pool.open_count(), 2);
    }

    #[test]
    fn a_full_pool_takes_a_connection_idle_in_another_threads_home() {
        let (_l, pool) = pool_of(2);
        let d = Deadline::after(Duration::from_millis(300));
        use_on_another_thread(&pool, &d);
        let _a = pool.checkout(&d).unwrap();
        // Both places are taken now; the second is idle in the other
        // thread's home, and the caller must not wait for it in vain.
        let _b = pool.checkout(&d).unwrap();
        assert_eq!(pool.open_count(), 2);
    }

    #[test]
    fn close_closes_connections_idle_in_homes() {
        let (_l, pool) = pool_of(4);
        let d = Deadline::after(Duration::from_secs(1));
        use_on_another_thread(&pool, &d);
        pool.checkout(&d).unwrap().release();
        assert_eq!(pool.open_count(), 2);
        pool.close();
        assert_eq!(pool.open_count(), 0);
    }

    #[test]
    fn waiter_gets_a_released_connection_and_idle_ones_expire() {
        let (_l, addr) = listener();
        let pool = Pool::new(addr, 1, Duration::from_millis(20), Duration::from_secs(1));
        let d = Deadline::after(Duration::from_secs(2));
        with_waiter(&pool, &d, |held| held.release()).unwrap();
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
