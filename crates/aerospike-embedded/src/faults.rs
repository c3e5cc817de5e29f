//! Faults an embedded node can inject into its replies, for testing how a
//! client copes with slow, broken or failing servers.

use std::time::Duration;

use parking_lot::Mutex;

use aerospike_proto::ResultCode;

/// What a node does instead of (or before) answering a request.
///
/// A fault applies to one request: the node reads the whole request frame,
/// then misbehaves as described while answering it.
///
/// # Examples
/// ```no_run
/// use aerospike_embedded::{EmbeddedCluster, Fault, FaultScope};
/// use aerospike_blocking::ResultCode;
/// use std::time::Duration;
///
/// let cluster = EmbeddedCluster::start(1)?;
/// let node = &cluster.nodes()[0];
/// // Every message reply is delayed by 50 ms.
/// node.set_fault(Fault::Delay(Duration::from_millis(50)));
/// // The next two info requests fail with an error line.
/// node.set_fault_for(FaultScope::Info, Fault::ResultCode(ResultCode::TIMEOUT), Some(2));
/// node.clear_faults();
/// # Ok::<(), aerospike_proto::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Fault {
    /// Waits this long, then answers normally.
    Delay(Duration),
    /// Sends the first half of the reply frame (at least one byte, never all
    /// of it), then closes the connection.
    CloseMidFrame,
    /// Answers with this result code instead of doing the work: a message
    /// gets a 30-byte reply carrying the code, an info request gets
    /// `ERROR:<code>:injected fault` for each command.
    ResultCode(ResultCode),
    /// Never answers the request; the connection stays open, so the client
    /// sees a timeout.
    Stall,
    /// Sends bytes that are not a valid proto frame (a bad version byte).
    Garbage,
    /// Closes the connection without answering.
    DropConnection,
}

/// Which requests a fault applies to.
///
/// ```
/// use aerospike_embedded::FaultScope;
/// assert_ne!(FaultScope::Messages, FaultScope::Info);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultScope {
    /// Message (type 3) and compressed (type 4) requests: reads, writes,
    /// scans, queries, background-job starts.
    Messages,
    /// Info (type 1) requests.
    Info,
    /// Every request.
    All,
}

impl FaultScope {
    fn covers(self, kind: FaultScope) -> bool {
        self == FaultScope::All || self == kind
    }
}

#[derive(Debug)]
struct Rule {
    scope: FaultScope,
    fault: Fault,
    remaining: Option<usize>,
}

/// The faults set on one node, consulted once per request.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    rules: Mutex<Vec<Rule>>,
}

impl Faults {
    /// Adds a rule; `times` limits how many requests it hits (`None` for
    /// every request until cleared).
    pub(crate) fn add(&self, scope: FaultScope, fault: Fault, times: Option<usize>) {
        if times == Some(0) {
            return;
        }
        self.rules.lock().push(Rule {
            scope,
            fault,
            remaining: times,
        });
    }

    /// Removes every rule.
    pub(crate) fn clear(&self) {
        self.rules.lock().clear();
    }

    /// The fault for the next request of `kind` (`Messages` or `Info`), if
    /// any; the first matching rule wins and uses up one of its hits.
    pub(crate) fn take(&self, kind: FaultScope) -> Option<Fault> {
        let mut rules = self.rules.lock();
        let i = rules.iter().position(|r| r.scope.covers(kind))?;
        let fault = rules[i].fault.clone();
        if let Some(n) = rules[i].remaining.as_mut() {
            *n -= 1;
            if *n == 0 {
                rules.remove(i);
            }
        }
        Some(fault)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_and_counts() {
        let f = Faults::default();
        f.add(FaultScope::Info, Fault::Stall, Some(1));
        f.add(FaultScope::All, Fault::Garbage, None);
        assert_eq!(f.take(FaultScope::Messages), Some(Fault::Garbage));
        assert_eq!(f.take(FaultScope::Info), Some(Fault::Stall));
        assert_eq!(f.take(FaultScope::Info), Some(Fault::Garbage));
        f.clear();
        assert_eq!(f.take(FaultScope::Info), None);
        f.add(FaultScope::Messages, Fault::Stall, Some(0));
        assert_eq!(f.take(FaultScope::Messages), None);
    }
}
