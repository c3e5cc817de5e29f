//! Seeds named by the environment.

/// The environment variable that names a real cluster: comma-separated
/// `host:port` seeds, e.g. `127.0.0.1:3000,127.0.0.1:3010`.
///
/// ```
/// assert_eq!(aerospike_proto::HOSTS_VAR, "AEROSPIKE_HOSTS");
/// ```
pub const HOSTS_VAR: &str = "AEROSPIKE_HOSTS";

/// The seeds in `AEROSPIKE_HOSTS`, if it is set and names any.
///
/// ```
/// let seeds = aerospike_proto::hosts_from_env();
/// assert!(seeds.map_or(true, |s| !s.is_empty()));
/// ```
pub fn hosts_from_env() -> Option<Vec<String>> {
    let v = std::env::var(HOSTS_VAR).ok()?;
    let hosts: Vec<String> = v
        .split(',')
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    (!hosts.is_empty()).then_some(hosts)
}
