//! Property tests over the whole codec: encode→decode round trips for every
//! value type (particle and msgpack form, nested), for messages and info
//! requests, and "arbitrary bytes never panic" for every decoder that reads
//! bytes or text from a socket (frame splitter, message, particle, msgpack,
//! info and base64; the client's cluster parsers have their own).

use proptest::prelude::*;

use super::message::{Field, Header, Message, Op};
use super::proto::{self, Split};
use super::{base64, digest, info, msgpack, particle};
use crate::value::Value;

/// Any value that can be a map key or a leaf (no NaN: it is not equal to itself).
fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Nil),
        any::<i64>().prop_map(Value::Int),
        any::<f64>()
            .prop_filter("NaN != NaN", |f| !f.is_nan())
            .prop_map(Value::Float),
        ".{0,12}".prop_map(Value::String),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(Value::Blob),
        any::<bool>().prop_map(Value::Bool),
        ".{0,12}".prop_map(Value::GeoJson),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(Value::Hll),
    ]
}

/// Any value, lists and maps nested up to four levels.
fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::List),
            proptest::collection::vec((leaf(), inner), 0..6).prop_map(Value::Map),
        ]
    })
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>(), 0..max)
}

fn message() -> impl Strategy<Value = Message> {
    let header = (any::<[u8; 5]>(), any::<u32>(), any::<u32>(), any::<u32>()).prop_map(
        |(i, generation, record_ttl, transaction_ttl)| Header {
            info1: i[0],
            info2: i[1],
            info3: i[2],
            info4: i[3],
            result_code: i[4],
            generation,
            record_ttl,
            transaction_ttl,
        },
    );
    let field = (any::<u8>(), bytes(24)).prop_map(|(kind, data)| Field::new(kind, data));
    let op = (any::<u8>(), "[a-z0-9_]{0,15}", value()).prop_map(|(kind, name, v)| {
        let mut data = Vec::new();
        let particle = particle::encode(&v, &mut data);
        Op {
            kind,
            particle,
            name,
            data,
        }
    });
    (
        header,
        proptest::collection::vec(field, 0..5),
        proptest::collection::vec(op, 0..5),
    )
        .prop_map(|(header, fields, ops)| Message {
            header,
            fields,
            ops,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn particle_round_trip(v in value()) {
        let mut buf = Vec::new();
        let t = particle::encode(&v, &mut buf);
        prop_assert_eq!(t, v.particle_type());
        prop_assert_eq!(particle::decode(t, &buf).unwrap(), v);
    }

    #[test]
    fn msgpack_round_trip(v in value()) {
        let packed = msgpack::to_vec(&v);
        prop_assert_eq!(msgpack::from_slice(&packed).unwrap(), v);
        // The reader's skip agrees with value() on where a value ends.
        let mut r = msgpack::Reader::new(&packed);
        r.skip().unwrap();
        prop_assert_eq!(r.remaining(), 0);
    }

    #[test]
    fn message_round_trip(m in message()) {
        let frame = m.encode();
        let (body, consumed) = match proto::split_frame(&frame).unwrap() {
            Split::Frame { body, consumed, .. } => (body, consumed),
            Split::NeedMore(_) => return Err(TestCaseError::fail("whole frame not split")),
        };
        prop_assert_eq!(consumed, frame.len());
        let all = Message::decode_all(body).unwrap();
        prop_assert_eq!(all.len(), 1);
        prop_assert_eq!(&all[0], &m);
        // Each op's particle decodes back to a value of the same type.
        for op in &all[0].ops {
            let v = particle::decode(op.particle, &op.data).unwrap();
            prop_assert_eq!(v.particle_type(), op.particle);
        }
    }

    #[test]
    fn info_request_round_trip(cmds in proptest::collection::vec("[a-z0-9:;=_-]{1,20}", 0..6)) {
        let frame = info::encode_request(&cmds);
        let body = match proto::split_frame(&frame).unwrap() {
            Split::Frame { body, .. } => body,
            Split::NeedMore(_) => return Err(TestCaseError::fail("whole frame not split")),
        };
        prop_assert_eq!(info::parse_request(body), cmds);
    }

    #[test]
    fn base64_round_trip(data in bytes(64)) {
        prop_assert_eq!(base64::decode(base64::encode(&data).as_bytes()), Some(data));
    }

    #[test]
    fn digest_depends_on_set_and_key(set in "[a-z]{0,8}", k in any::<i64>()) {
        let d = digest(&set, &Value::Int(k)).unwrap();
        prop_assert_eq!(Some(d), digest(&set, &Value::Int(k)));
        prop_assert_ne!(Some(d), digest(&format!("{set}x"), &Value::Int(k)));
        prop_assert!(digest::partition_id(&d) < 4096);
    }

    #[test]
    fn frame_splitter_never_panics_on_any_prefix(b in bytes(300)) {
        for n in 0..=b.len() {
            if let Ok(Split::Frame { consumed, body, .. }) = proto::split_frame(&b[..n]) {
                prop_assert!(consumed <= n);
                prop_assert_eq!(consumed, body.len() + proto::HEADER_SIZE);
            }
        }
    }

    #[test]
    fn message_decoder_never_panics(b in bytes(300)) {
        let _ = Message::decode_all(&b);
        if let Ok((_, used)) = Message::decode(&b) {
            prop_assert!(used <= b.len());
        }
    }

    #[test]
    fn message_decoder_never_panics_on_mutated_frames(m in message(), at in any::<prop::sample::Index>(), x in any::<u8>()) {
        // Valid frames with one byte changed reach deeper into the decoder
        // than random bytes do.
        let mut body = m.encode()[proto::HEADER_SIZE..].to_vec();
        let i = at.index(body.len());
        body[i] = x;
        if let Ok(all) = Message::decode_all(&body) {
            for op in all.iter().flat_map(|m| &m.ops) {
                let _ = particle::decode(op.particle, &op.data);
            }
        }
    }

    #[test]
    fn particle_decoder_never_panics(t in any::<u8>(), b in bytes(64)) {
        let _ = particle::decode(t, &b);
    }

    #[test]
    fn msgpack_decoder_never_panics(b in bytes(128)) {
        let _ = msgpack::from_slice(&b);
        let mut r = msgpack::Reader::new(&b);
        while r.remaining() > 0 && r.skip().is_ok() {}
    }

    #[test]
    fn msgpack_decoder_never_panics_on_mutated_values(v in value(), at in any::<prop::sample::Index>(), x in any::<u8>()) {
        let mut packed = msgpack::to_vec(&v);
        let i = at.index(packed.len());
        packed[i] = x;
        let _ = msgpack::from_slice(&packed);
    }

    #[test]
    fn info_parsers_never_panic(b in bytes(200)) {
        let _ = info::parse_response(&b);
        let _ = info::parse_request(&b);
        let text = String::from_utf8_lossy(&b);
        let _ = info::parse_error(&text);
        let _ = info::parse_pairs(&text, ';');
        let _ = base64::decode(&b);
    }
}
