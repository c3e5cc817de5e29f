//! Decoder fuzzing seeded from the real server's captures: every frame of
//! every file in `shared/fixtures/aerospike-8.1.2.0`, mutated (bytes flipped,
//! inserted, deleted, lengths rewritten, truncated, frames spliced), is fed to
//! every decoder that reads bytes from a socket. None may panic; each either
//! decodes or returns an error.
//!
//! A short run is part of the test suite. The long run (see
//! `docs/reliability.md`) sets the case count:
//!
//! ```text
//! FUZZ_CASES=10000000 cargo test --release -p aerospike-proto --test fuzz_fixtures
//! ```

use aerospike_proto::exp::Expression;
use aerospike_proto::fixtures::{self, Mutator};
use aerospike_proto::wire::message::{field, Message};
use aerospike_proto::wire::{info, msgpack, particle, proto};

/// Runs every decoder over `frame` as a socket would deliver it, and over
/// its body as the parts of a message are decoded.
fn decode_everything(frame: &[u8]) {
    if let Some(header) = proto::ProtoHeader::decode(frame) {
        let _ = header.validate();
    }
    let _ = proto::split_frame(frame);
    let body = frame.get(8..).unwrap_or_default();
    let _ = info::parse_request(body);
    for (_, value) in info::parse_response(body) {
        let _ = info::parse_error(&value);
        let _ = info::parse_pairs(&value, ';');
        let _ = info::parse_pairs(&value, ':');
    }
    let _ = Message::decode(body);
    if let Ok(messages) = Message::decode_all(body) {
        for m in messages {
            for f in &m.fields {
                if f.kind == field::FILTER_EXP {
                    let _ = Expression::from_bytes(&f.data);
                }
                let _ = msgpack::from_slice(&f.data);
            }
            for op in &m.ops {
                let _ = particle::decode(op.particle, &op.data);
                let _ = msgpack::from_slice(&op.data);
                let _ = Expression::from_bytes(&op.data);
            }
        }
    }
    // Raw bytes where a particle or an expression is expected.
    for ptype in [
        particle::types::LIST,
        particle::types::MAP,
        particle::types::STRING,
    ] {
        let _ = particle::decode(ptype, body);
    }
    let _ = msgpack::from_slice(body);
    let _ = Expression::from_bytes(body);
}

#[test]
fn every_captured_frame_decodes_without_panic() {
    for f in fixtures::all_frames() {
        decode_everything(&f);
    }
}

#[test]
fn mutated_captures_never_panic_a_decoder() {
    let pool = fixtures::all_frames();
    assert!(pool.len() > 500, "the captures hold {} frames", pool.len());
    for case in 0..fixtures::fuzz_cases(20_000) {
        let frame = Mutator::for_case(case).mutated(&pool);
        let outcome = std::panic::catch_unwind(|| decode_everything(&frame));
        assert!(
            outcome.is_ok(),
            "case {case} panicked a decoder; frame {}",
            frame.iter().map(|b| format!("{b:02x}")).collect::<String>()
        );
    }
}
