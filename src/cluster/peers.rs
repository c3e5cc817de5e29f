//! Parsing `peers-clear-std` (and `services`-style) values.
//!
//! Format: `<generation>,<default port>,[[<node id>,<tls name>,[<addr>,...]],...]`
//! where an address is `host`, `host:port`, `[ipv6]` or `[ipv6]:port`.

use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

/// One peer a node reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Peer {
    pub(crate) name: String,
    /// `host:port` strings, default port applied.
    pub(crate) addresses: Vec<String>,
}

/// A parsed `peers-clear-std` value.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub(crate) struct Peers {
    pub(crate) generation: u64,
    pub(crate) peers: Vec<Peer>,
}

fn with_port(addr: &str, default_port: u16) -> String {
    let a = addr.trim();
    if let Some(rest) = a.strip_prefix('[') {
        // [ipv6] or [ipv6]:port
        return match rest.split_once(']') {
            Some((ip, "")) => format!("[{ip}]:{default_port}"),
            Some((ip, port)) => format!("[{ip}]{port}"),
            None => a.to_owned(),
        };
    }
    match a.rsplit_once(':') {
        Some((_, p)) if p.parse::<u16>().is_ok() && a.matches(':').count() == 1 => a.to_owned(),
        _ if a.parse::<IpAddr>().is_ok_and(|ip| ip.is_ipv6()) => format!("[{a}]:{default_port}"),
        _ => format!("{a}:{default_port}"),
    }
}

/// Splits `s` on commas that are not inside brackets.
fn split_top(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut start = 0;
    for (i, c) in s.char_indices() {
        match c {
            '[' => depth += 1,
            ']' => depth -= 1,
            ',' if depth == 0 => {
                out.push(&s[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(&s[start..]);
    out
}

fn strip_brackets(s: &str) -> Option<&str> {
    s.trim().strip_prefix('[')?.strip_suffix(']')
}

/// Parses a `peers-clear-std` value; `None` when it is malformed.
pub(crate) fn parse(value: &str) -> Option<Peers> {
    let parts = split_top(value.trim());
    let [gen, port, list] = parts.as_slice() else {
        return None;
    };
    let generation = gen.trim().parse().ok()?;
    let default_port: u16 = port.trim().parse().ok()?;
    let inner = strip_brackets(list)?;
    let mut peers = Vec::new();
    if !inner.trim().is_empty() {
        for p in split_top(inner) {
            let fields = split_top(strip_brackets(p)?);
            let [name, _tls, addrs] = fields.as_slice() else {
                return None;
            };
            let addrs = strip_brackets(addrs)?;
            peers.push(Peer {
                name: name.trim().to_owned(),
                addresses: split_top(addrs)
                    .into_iter()
                    .filter(|a| !a.trim().is_empty())
                    .map(|a| with_port(a, default_port))
                    .collect(),
            });
        }
    }
    Some(Peers { generation, peers })
}

/// Resolves a `host:port` string.
pub(crate) fn resolve(addr: &str) -> Vec<SocketAddr> {
    addr.to_socket_addrs()
        .map(Iterator::collect)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_values() {
        // info-tend-single.txt
        assert_eq!(
            parse("0,3000,[]"),
            Some(Peers {
                generation: 0,
                peers: vec![]
            })
        );
        // info-tend-cluster.txt
        let p = parse(
            "4,3000,[[C3101000000FC02,,[127.0.0.1:3120]],[C2701000000FC02,,[127.0.0.1:3110]]]",
        )
        .unwrap();
        assert_eq!(p.generation, 4);
        assert_eq!(
            p.peers,
            vec![
                Peer {
                    name: "C3101000000FC02".into(),
                    addresses: vec!["127.0.0.1:3120".into()]
                },
                Peer {
                    name: "C2701000000FC02".into(),
                    addresses: vec!["127.0.0.1:3110".into()]
                },
            ]
        );
    }

    proptest::proptest! {
        #[test]
        fn never_panics(s in "[0-9A-F,:\\[\\]. ]{0,60}") {
            let _ = parse(&s);
        }
    }

    #[test]
    fn default_ports_ipv6_and_garbage() {
        let p = parse("1,3000,[[A,tls,[10.0.0.1,[::1],[::2]:4000,host:5]]]").unwrap();
        assert_eq!(
            p.peers[0].addresses,
            vec!["10.0.0.1:3000", "[::1]:3000", "[::2]:4000", "host:5"]
        );
        assert_eq!(parse(""), None);
        assert_eq!(parse("x,3000,[]"), None);
        assert_eq!(parse("1,3000,[[A]]"), None);
        assert_eq!(parse("1,3000,[[A,,[1.2.3.4]"), None);
    }
}
