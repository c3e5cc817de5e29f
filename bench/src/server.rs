//! The server under test: a real cluster named by `AEROSPIKE_HOSTS`, or the
//! embedded cluster running in a child process (this same binary in `serve`
//! mode, i.e. what `crates/aerospike-embedded/src/main.rs` does) so the client
//! process's CPU time and footprint exclude the server.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, ChildStdin, Command, Stdio};

use aerospike_embedded::EmbeddedCluster;

/// A running server: seeds plus, for the embedded cluster, the child process.
pub struct Server {
    /// `host:port` seeds.
    pub seeds: Vec<String>,
    /// Number of nodes requested (or in the real cluster).
    pub child: Option<(Child, ChildStdin)>,
}

impl Server {
    /// `AEROSPIKE_HOSTS` when set, else a child embedded cluster of `nodes` nodes.
    pub fn start(nodes: usize) -> Server {
        if let Ok(hosts) = std::env::var("AEROSPIKE_HOSTS") {
            let seeds = hosts
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            return Server { seeds, child: None };
        }
        let exe = std::env::current_exe().expect("own executable");
        let mut child = Command::new(exe)
            .args(["serve", "--nodes", &nodes.to_string()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn the embedded cluster");
        let stdin = child.stdin.take().expect("child stdin");
        let mut out = BufReader::new(child.stdout.take().expect("child stdout"));
        let mut seeds = Vec::new();
        let mut line = String::new();
        while out.read_line(&mut line).unwrap_or(0) > 0 {
            if let Some(s) = line.trim().strip_prefix("seeds: ") {
                seeds = s.split(',').map(str::to_owned).collect();
                break;
            }
            line.clear();
        }
        assert!(!seeds.is_empty(), "embedded cluster printed no seeds");
        Server {
            seeds,
            child: Some((child, stdin)),
        }
    }

    /// Seeds joined by commas (the official client's host string).
    pub fn hosts(&self) -> String {
        self.seeds.join(",")
    }

    /// The server process id, for reading its CPU time; `None` for a real cluster.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(|(c, _)| c.id())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some((mut child, stdin)) = self.child.take() {
            drop(stdin); // end of stdin: the cluster shuts down cleanly
            let _ = child.wait();
        }
    }
}

/// `serve --nodes N`: runs an embedded cluster until stdin closes.
pub fn serve(nodes: usize) {
    let cluster = EmbeddedCluster::builder()
        .nodes(nodes)
        .namespace("test", nodes.min(2))
        .start()
        .expect("start the embedded cluster");
    println!("seeds: {}", cluster.seeds().join(","));
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    cluster.shutdown();
}
