//! Runs an embedded Aerospike-compatible cluster until Ctrl-C or end of
//! standard input, printing its seeds.
//!
//! ```text
//! cargo run -p aerospike-embedded -- --nodes 3 --ports 3000,3010,3020
//! ```
//!
//! Options: `--nodes N` (default 1), `--ports P1,P2,...` (default any free
//! ports), `--namespace NAME` (default `test`), `--replication-factor N`
//! (default min(2, nodes)), `--cluster-name NAME`, `--default-ttl SECS`.

use std::io::Read;
use std::process::ExitCode;

use aerospike_embedded::EmbeddedCluster;

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("aerospike-embedded: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<(), Box<dyn std::error::Error>> {
    let mut nodes = 1usize;
    let mut ports = Vec::new();
    let mut namespace = "test".to_string();
    let mut rf = None;
    let mut cluster_name = None;
    let mut default_ttl = 0u32;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = || args.next().ok_or(format!("{arg} needs a value"));
        match arg.as_str() {
            "--nodes" => nodes = value()?.parse()?,
            "--ports" => {
                ports = value()?
                    .split(',')
                    .map(|p| p.trim().parse::<u16>())
                    .collect::<Result<_, _>>()?;
            }
            "--namespace" => namespace = value()?,
            "--replication-factor" => rf = Some(value()?.parse()?),
            "--cluster-name" => cluster_name = Some(value()?),
            "--default-ttl" => default_ttl = value()?.parse()?,
            "-h" | "--help" => {
                println!(
                    "usage: aerospike-embedded [--nodes N] [--ports P1,P2,..] [--namespace NAME] \
                     [--replication-factor N] [--cluster-name NAME] [--default-ttl SECS]"
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument {other}").into()),
        }
    }
    let mut builder = EmbeddedCluster::builder()
        .nodes(nodes)
        .ports(ports)
        .namespace(&namespace, rf.unwrap_or(nodes.min(2)))
        .default_ttl(default_ttl);
    if let Some(name) = cluster_name {
        builder = builder.cluster_name(&name);
    }
    let cluster = builder.start()?;
    for node in cluster.nodes() {
        println!("node {} at {}", node.name(), node.address());
    }
    println!("seeds: {}", cluster.seeds().join(","));
    println!("serving; press Ctrl-C or close stdin to stop");
    // Ctrl-C ends the process (the OS closes the sockets); end of stdin
    // shuts the cluster down cleanly.
    let mut sink = Vec::new();
    let _ = std::io::stdin().read_to_end(&mut sink);
    cluster.shutdown();
    Ok(())
}
