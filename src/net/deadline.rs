//! [`Deadline`]: when a call must be finished, and how long one socket call may
//! block.

use std::time::{Duration, Instant};

use crate::{Error, Result, TimeoutPhase};

/// The time budget of one blocking call.
///
/// A deadline has a start, an optional total limit and an optional per-socket-call
/// limit. Before every socket call the caller asks [`Deadline::socket_timeout`],
/// which gives `min(socket_timeout, remaining)`, or a timeout error when nothing
/// remains, so no syscall is made after the deadline.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Deadline {
    start: Instant,
    end: Option<Instant>,
    socket: Option<Duration>,
}

impl Deadline {
    /// A deadline `total` from now; `Duration::ZERO` means no total limit.
    pub(crate) fn after(total: Duration) -> Self {
        let start = Instant::now();
        Deadline {
            start,
            end: (!total.is_zero()).then(|| start + total),
            socket: None,
        }
    }

    /// The same deadline, with a per-socket-call limit (`Duration::ZERO` = none).
    pub(crate) fn with_socket_timeout(mut self, socket: Duration) -> Self {
        self.socket = (!socket.is_zero()).then_some(socket);
        self
    }

    /// Time since the deadline was created.
    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The instant the deadline ends, if it has a total limit.
    pub(crate) fn end(&self) -> Option<Instant> {
        self.end
    }

    /// Time left; `None` when there is no total limit.
    pub(crate) fn remaining(&self) -> Option<Duration> {
        self.end
            .map(|e| e.saturating_duration_since(Instant::now()))
    }

    /// True when a total limit exists and has passed.
    pub(crate) fn expired(&self) -> bool {
        self.remaining().is_some_and(|r| r.is_zero())
    }

    /// The timeout for the next socket call: `min(socket limit, remaining)`;
    /// `Ok(None)` means block without limit. Fails with a `phase` timeout when
    /// the total limit has passed.
    pub(crate) fn socket_timeout(&self, phase: TimeoutPhase) -> Result<Option<Duration>> {
        let t = match (self.socket, self.remaining()) {
            (None, None) => return Ok(None),
            (Some(s), None) => s,
            (None, Some(r)) => r,
            (Some(s), Some(r)) => s.min(r),
        };
        if t.is_zero() {
            return Err(self.timeout(phase, false));
        }
        Ok(Some(t))
    }

    /// A timeout error for `phase`, stamped with the elapsed time.
    pub(crate) fn timeout(&self, phase: TimeoutPhase, in_doubt: bool) -> Error {
        Error::Timeout {
            phase,
            elapsed: self.elapsed(),
            in_doubt,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_timeout_is_capped_by_remaining() {
        let d =
            Deadline::after(Duration::from_secs(10)).with_socket_timeout(Duration::from_secs(30));
        let t = d.socket_timeout(TimeoutPhase::Receive).unwrap().unwrap();
        assert!(t <= Duration::from_secs(10) && t > Duration::from_secs(9));
        let d =
            Deadline::after(Duration::from_secs(10)).with_socket_timeout(Duration::from_millis(5));
        assert_eq!(
            d.socket_timeout(TimeoutPhase::Send).unwrap(),
            Some(Duration::from_millis(5))
        );
        assert_eq!(
            Deadline::after(Duration::ZERO)
                .socket_timeout(TimeoutPhase::Send)
                .unwrap(),
            None
        );
        assert_eq!(Deadline::after(Duration::ZERO).remaining(), None);
    }

    #[test]
    fn expired_deadline_fails_with_the_phase() {
        let d = Deadline::after(Duration::from_nanos(1));
        std::thread::sleep(Duration::from_millis(2));
        assert!(d.expired());
        match d.socket_timeout(TimeoutPhase::Connect) {
            Err(Error::Timeout {
                phase, in_doubt, ..
            }) => {
                assert_eq!(phase, TimeoutPhase::Connect);
                assert!(!in_doubt);
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
    }
}
