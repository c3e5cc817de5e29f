//! Property tests: the cluster's text parsers (`replicas`, `peers`,
//! `build`) never panic, whatever a node answers.

use proptest::prelude::*;

use super::partition::{parse_replicas, ReplicasCommand};
use super::{peers, version::Version};

fn parse_all(s: &str) {
    for cmd in [
        ReplicasCommand::Replicas,
        ReplicasCommand::All,
        ReplicasCommand::Master,
    ] {
        let _ = parse_replicas(s, cmd);
    }
    let _ = peers::parse(s);
    let _ = Version::parse(s);
}

proptest! {
    #[test]
    fn cluster_text_parsers_never_panic(s in "[-0-9a-zA-Z:;,\\[\\]./+=_ ]{0,120}") {
        parse_all(&s);
    }

    #[test]
    fn cluster_text_parsers_never_panic_on_any_text(s in ".{0,120}") {
        parse_all(&s);
    }
}
