//! Hostile input against the embedded server: frames captured from a real
//! server, mutated (see `aerospike_proto::fixtures::Mutator`), sent to a
//! node over TCP. The node may answer with an error or close the connection,
//! but no handler may panic, and the node keeps answering.
//!
//! The long run (see `docs/reliability.md`):
//!
//! ```text
//! FUZZ_CASES=200000 cargo test --release -p aerospike-embedded --test fuzz_frames
//! ```

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use aerospike_embedded::EmbeddedCluster;
use aerospike_proto::fixtures::{self, Mutator};

/// Sends `frame`, ends the request side, and reads whatever comes back
/// until the node closes or goes quiet.
fn send(addr: std::net::SocketAddr, frame: &[u8]) {
    let mut s = TcpStream::connect(addr).expect("the node accepts connections");
    s.set_read_timeout(Some(Duration::from_millis(500)))
        .unwrap();
    let _ = s.write_all(frame);
    let _ = s.shutdown(Shutdown::Write);
    let mut sink = [0u8; 4096];
    while matches!(s.read(&mut sink), Ok(n) if n > 0) {}
}

#[test]
fn mutated_captures_never_panic_the_server() {
    // Count panics on any thread of this process: the nodes run in it.
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        default_hook(info);
    }));

    let cluster = EmbeddedCluster::start(1).unwrap();
    let addr = cluster.nodes()[0].address();
    let pool = fixtures::all_frames();
    // The captured requests themselves first (they create records, indexes,
    // modules and jobs for the mutations to hit), then mutated ones.
    for f in &pool {
        send(addr, f);
    }
    let cases = fixtures::fuzz_cases(1_500);
    for case in 0..cases {
        send(addr, &Mutator::for_case(case).mutated(&pool));
    }

    // The node still answers.
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"\x02\x01\x00\x00\x00\x00\x00\x06build\n")
        .unwrap();
    let mut reply = [0u8; 64];
    let n = s.read(&mut reply).unwrap();
    assert!(
        String::from_utf8_lossy(&reply[8..n]).starts_with("build\t"),
        "{:?}",
        &reply[..n]
    );
    assert_eq!(
        panics.load(Ordering::SeqCst),
        0,
        "a handler panicked (see the messages above) in {cases} cases"
    );
}
