//! Starting a job on its nodes, all or nothing.

use std::sync::Arc;
use std::time::Duration;

use crate::client::Client;
use crate::cluster::Node;
use crate::net::Deadline;
use crate::task::{abort_command, ExecuteTask, NodeJobState, TaskKind};
use crate::{Error, Result, ResultCode};

use super::request::StartRequest;

/// How one node answered the start.
#[derive(Debug)]
enum NodeStart {
    /// The job runs there.
    Started,
    /// The set does not exist there (KEY_NOT_FOUND): nothing to do, which
    /// counts as started.
    NothingToDo,
    /// The node refused the job: it certainly does not run there.
    Refused(Error),
    /// The request failed mid-way: the job may or may not run there.
    Unknown(Error),
}

/// Sends the start to every target node, then reads the replies. On any failure the job is
/// aborted wherever it may have started, and the per-node outcomes returned.
pub(crate) fn start(
    client: &Client,
    req: StartRequest,
    node: Option<&str>,
    kind: TaskKind,
) -> Result<ExecuteTask> {
    let cluster = client.cluster();
    let nodes: Vec<Arc<Node>> = match node {
        Some(name) => vec![cluster
            .node(name)
            .ok_or_else(|| Error::NoNode(format!("node {name} is not in the cluster")))?],
        None => cluster.nodes(),
    };
    if nodes.is_empty() {
        return Err(Error::NoNode("the cluster has no active node".into()));
    }
    let frame = Arc::new(req.encode());
    let total = Duration::from_millis(u64::from(req.total_timeout_ms));
    let deadline = Deadline::after(total).with_socket_timeout(total);
    // Every node's start is written from the calling thread first, then the
    // replies are read: the nodes work in parallel, and no worker thread has
    // to wake up on the way (a start is one small frame and one 30-byte
    // reply per node).
    let sent: Vec<_> = nodes
        .iter()
        .map(|node| node.send_request(&frame, &deadline))
        .collect();
    let results: Vec<(Arc<Node>, Result<ResultCode>)> = nodes
        .iter()
        .zip(sent)
        .map(|(node, sent)| {
            let code = sent.and_then(|s| s.reply(&deadline)).and_then(|replies| {
                let reply = replies.first().ok_or_else(|| Error::Protocol {
                    node: node.name().to_owned(),
                    message: "empty reply to a background job start".into(),
                })?;
                Ok(ResultCode(reply.header.result_code))
            });
            (node.clone(), code)
        })
        .collect();
    let outcomes: Vec<(Arc<Node>, NodeStart)> = results
        .into_iter()
        .map(|(n, r)| {
            let s = match r {
                Ok(ResultCode::OK) => NodeStart::Started,
                Ok(ResultCode::KEY_NOT_FOUND) => NodeStart::NothingToDo,
                Ok(code) => NodeStart::Refused(Error::server(code, false)),
                Err(e @ (Error::Server { .. } | Error::InvalidArgument(_))) => {
                    NodeStart::Refused(e)
                }
                Err(e) => NodeStart::Unknown(e),
            };
            (n, s)
        })
        .collect();
    let failed = outcomes
        .iter()
        .any(|(_, s)| matches!(s, NodeStart::Refused(_) | NodeStart::Unknown(_)));
    if !failed {
        let targets = outcomes
            .iter()
            .map(|(n, s)| {
                let state = match s {
                    NodeStart::NothingToDo => NodeJobState::NothingToDo,
                    _ => NodeJobState::Pending,
                };
                (n.name().to_owned(), state)
            })
            .collect();
        let scope = &req.scope;
        let task = ExecuteTask::untracked(client, req.task_id, &scope.namespace, &scope.set, kind);
        return Ok(task.tracking(node.map(str::to_owned), targets));
    }
    Err(abort_partial_start(client, req.task_id, outcomes))
}

/// Aborts the job on every node where it started or may have started and
/// builds the per-node error.
fn abort_partial_start(
    client: &Client,
    task_id: u64,
    outcomes: Vec<(Arc<Node>, NodeStart)>,
) -> Error {
    let to_abort: Vec<Arc<Node>> = outcomes
        .iter()
        .filter(|(_, s)| matches!(s, NodeStart::Started | NodeStart::Unknown(_)))
        .map(|(n, _)| n.clone())
        .collect();
    let aborted = if to_abort.is_empty() {
        Vec::new()
    } else {
        client.cluster().fan_out(
            &to_abort,
            Deadline::after(Duration::from_secs(1)),
            move |node, dl| {
                let cmd = abort_command(node.version(), task_id);
                node.info(&[cmd.as_str()], dl).map(|_| ())
            },
        )
    };
    let abort_failed: Vec<String> = aborted
        .iter()
        .filter(|(_, r)| r.is_err())
        .map(|(n, _)| n.name().to_owned())
        .collect();
    let refused = outcomes
        .iter()
        .filter(|(_, s)| matches!(s, NodeStart::Refused(_) | NodeStart::Unknown(_)))
        .count();
    let mut summary = format!(
        "background job {task_id} failed to start on {refused} of {} nodes; \
         aborted on the {} nodes where it had or may have started",
        outcomes.len(),
        to_abort.len()
    );
    if !abort_failed.is_empty() {
        summary.push_str(&format!(
            " (abort failed on {}: check with query-show)",
            abort_failed.join(", ")
        ));
    }
    let outcomes = outcomes
        .into_iter()
        .map(|(n, s)| {
            let e = match s {
                NodeStart::Started | NodeStart::NothingToDo => None,
                NodeStart::Refused(e) | NodeStart::Unknown(e) => Some(Box::new(e)),
            };
            (n.name().to_owned(), e)
        })
        .collect();
    Error::PerNode { summary, outcomes }
}
