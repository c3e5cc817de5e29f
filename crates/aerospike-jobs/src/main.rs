//! `aerospike-jobs`: run, watch, wait for and cancel Aerospike background
//! jobs from shell scripts. The subcommands are built in their own issue;
//! this skeleton only reports what it is.

fn main() {
    println!(
        "aerospike-jobs {} (client aerospike-blocking): subcommands are not built yet",
        env!("CARGO_PKG_VERSION")
    );
}
