//! Contexts that point list and map operations at a nested list or map.
//!
//! A context is a path of steps from the bin's top-level list or map down to
//! the nested container the operation applies to. On the wire an operation with
//! a context is wrapped as `[0xff, [id1, value1, id2, value2, ...], [op, args...]]`
//! (aerospike-client-java `util/Pack.init`, `cdt/CTX.java`).

use crate::value::Value;
use crate::wire::msgpack;

use super::list::ListOrder;
use super::map::MapOrder;
use super::Operation;

/// Context step ids (aerospike-client-java `cdt/CTX.java`).
pub(super) mod ids {
    /// Parent is a list, child found by index.
    pub(crate) const LIST_INDEX: i64 = 0x10;
    /// Parent is a list, child found by rank.
    pub(crate) const LIST_RANK: i64 = 0x11;
    /// Parent is a list, child found by value.
    pub(crate) const LIST_VALUE: i64 = 0x13;
    /// Parent is a map, child found by index (key order).
    pub(crate) const MAP_INDEX: i64 = 0x20;
    /// Parent is a map, child found by value rank.
    pub(crate) const MAP_RANK: i64 = 0x21;
    /// Parent is a map, child found by key.
    pub(crate) const MAP_KEY: i64 = 0x22;
    /// Parent is a map, child found by value.
    pub(crate) const MAP_VALUE: i64 = 0x23;
    /// Marks the whole data as a context-wrapped operation.
    pub(crate) const CONTEXT_EVAL: i64 = 0xff;
}

/// One step of a path to a nested list or map.
///
/// ```
/// use aerospike_proto::operations::{list, CdtContext};
/// // Append 11 to the list stored under key "scores" of the map in bin "m".
/// let op = list::append("m", 11).with_context(&[CdtContext::map_key("scores")]);
/// assert!(op.is_write());
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CdtContext {
    /// The `id` of this CdtContext.
    pub id: i64,
    /// The `value` of this CdtContext.
    pub value: Value,
}

impl CdtContext {
    /// A step with context id `id` and its lookup value.
    fn step(id: i64, value: impl Into<Value>) -> Self {
        CdtContext {
            id,
            value: value.into(),
        }
    }

    /// The list element at `index` (negative counts from the end).
    ///
    /// ```
    /// use aerospike_proto::operations::CdtContext;
    /// let last = CdtContext::list_index(-1);
    /// # let _ = last;
    /// ```
    pub fn list_index(index: i64) -> Self {
        CdtContext::step(ids::LIST_INDEX, index)
    }

    /// The list element at `index`; when it does not exist the server creates a
    /// list with `order` there, padding with nils first when `pad` is true.
    ///
    /// ```
    /// use aerospike_proto::operations::{list::ListOrder, CdtContext};
    /// let c = CdtContext::list_index_create(3, ListOrder::Ordered, true);
    /// # let _ = c;
    /// ```
    pub fn list_index_create(index: i64, order: ListOrder, pad: bool) -> Self {
        CdtContext::step(ids::LIST_INDEX | order.create_flag(pad), index)
    }

    /// The list element of rank `rank` (0 smallest, -1 largest).
    ///
    /// ```
    /// use aerospike_proto::operations::CdtContext;
    /// let smallest = CdtContext::list_rank(0);
    /// # let _ = smallest;
    /// ```
    pub fn list_rank(rank: i64) -> Self {
        CdtContext::step(ids::LIST_RANK, rank)
    }

    /// The first list element equal to `value`.
    ///
    /// ```
    /// use aerospike_proto::{list, operations::CdtContext};
    /// let c = CdtContext::list_value(list![1, 2]);
    /// # let _ = c;
    /// ```
    pub fn list_value(value: impl Into<Value>) -> Self {
        CdtContext::step(ids::LIST_VALUE, value)
    }

    /// The map entry at `index` in key order (negative counts from the end).
    ///
    /// ```
    /// use aerospike_proto::operations::CdtContext;
    /// let first = CdtContext::map_index(0);
    /// # let _ = first;
    /// ```
    pub fn map_index(index: i64) -> Self {
        CdtContext::step(ids::MAP_INDEX, index)
    }

    /// The map entry whose value has rank `rank` (0 smallest, -1 largest).
    ///
    /// ```
    /// use aerospike_proto::operations::CdtContext;
    /// let top = CdtContext::map_rank(-1);
    /// # let _ = top;
    /// ```
    pub fn map_rank(rank: i64) -> Self {
        CdtContext::step(ids::MAP_RANK, rank)
    }

    /// The map entry with key `key`.
    ///
    /// ```
    /// use aerospike_proto::operations::CdtContext;
    /// let c = CdtContext::map_key("profile");
    /// # let _ = c;
    /// ```
    pub fn map_key(key: impl Into<Value>) -> Self {
        CdtContext::step(ids::MAP_KEY, key)
    }

    /// The map entry with key `key`; when it does not exist the server creates
    /// a map with `order` there.
    ///
    /// ```
    /// use aerospike_proto::operations::{map::MapOrder, CdtContext};
    /// let c = CdtContext::map_key_create("daily", MapOrder::KeyOrdered);
    /// # let _ = c;
    /// ```
    pub fn map_key_create(key: impl Into<Value>, order: MapOrder) -> Self {
        CdtContext::step(ids::MAP_KEY | order.create_flag(), key)
    }

    /// The first map entry whose value equals `value`.
    ///
    /// ```
    /// use aerospike_proto::operations::CdtContext;
    /// let c = CdtContext::map_value("pending");
    /// # let _ = c;
    /// ```
    pub fn map_value(value: impl Into<Value>) -> Self {
        CdtContext::step(ids::MAP_VALUE, value)
    }
}

/// Packs a CDT operation: `[code, args...]`, wrapped in a context when `ctx` is
/// not empty.
pub(super) fn pack_op(ctx: &[CdtContext], code: i64, args: &[Value]) -> Vec<u8> {
    let mut buf = Vec::new();
    pack_context_header(&mut buf, ctx);
    msgpack::pack_array_len(&mut buf, args.len() + 1);
    msgpack::pack_int(&mut buf, code);
    args.iter().for_each(|a| msgpack::pack_value(&mut buf, a));
    buf
}

fn pack_context_header(buf: &mut Vec<u8>, ctx: &[CdtContext]) {
    if ctx.is_empty() {
        return;
    }
    msgpack::pack_array_len(buf, 3);
    msgpack::pack_int(buf, ids::CONTEXT_EVAL);
    msgpack::pack_array_len(buf, ctx.len() * 2);
    for c in ctx {
        msgpack::pack_int(buf, c.id);
        msgpack::pack_value(buf, &c.value);
    }
}

impl Operation {
    /// Applies this list or map operation to the nested container that `ctx`
    /// points at instead of the bin's top level. Other operations, and an
    /// operation that already has a context, are returned unchanged.
    ///
    /// ```
    /// use aerospike_proto::operations::{map, CdtContext};
    /// let op = map::size("m").with_context(&[CdtContext::map_key("inner")]);
    /// assert!(op.is_read());
    /// ```
    pub fn with_context(mut self, ctx: &[CdtContext]) -> Operation {
        use crate::wire::message::op;
        let is_cdt = self.kind == op::CDT_READ || self.kind == op::CDT_MODIFY;
        // A context-wrapped operation is a 3-element array starting with 0xff (cc ff).
        let wrapped = self.data.starts_with(&[0x93, 0xcc, 0xff]);
        if !is_cdt || ctx.is_empty() || wrapped {
            return self;
        }
        let mut buf = Vec::with_capacity(self.data.len() + 16);
        pack_context_header(&mut buf, ctx);
        buf.extend_from_slice(&self.data);
        self.data = buf;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::cdt::hex;
    use crate::operations::{list, map};

    /// `[0xff, [id, value, ...], [op...]]` (aerospike-client-java `Pack.init`);
    /// 0xff packs as `cc ff`, create flags are OR-ed into the id
    /// (`CTX.listIndexCreate`, `CTX.mapKeyCreate`).
    #[test]
    fn golden_context_bytes() {
        let op = list::append("l", 11).with_context(&[CdtContext::list_index(-1)]);
        assert_eq!(hex(&op), "93ccff9210ff92010b");
        let op = list::append("l", 11)
            .with_context(&[CdtContext::map_key("key2"), CdtContext::list_rank(0)]);
        assert_eq!(
            hex(&op),
            "93ccff9422a5036b6579321100 92010b".replace(' ', "")
        );
        let ctx = [
            CdtContext::list_value(1),
            CdtContext::map_index(2),
            CdtContext::map_rank(-1),
            CdtContext::map_value("v"),
        ];
        let op = map::size("m").with_context(&ctx);
        assert_eq!(
            hex(&op),
            "93ccff9813012002 21ff23a2037691 60".replace(' ', "")
        );
        assert!(op.is_read());
        let creates = [
            (
                CdtContext::list_index_create(1, ListOrder::Unordered, false),
                "50",
            ),
            (
                CdtContext::list_index_create(1, ListOrder::Unordered, true),
                "cc90",
            ),
            (
                CdtContext::list_index_create(1, ListOrder::Ordered, false),
                "ccd0",
            ),
            (CdtContext::map_key_create("k", MapOrder::Unordered), "62"),
            (
                CdtContext::map_key_create("k", MapOrder::KeyOrdered),
                "cca2",
            ),
            (
                CdtContext::map_key_create("k", MapOrder::KeyValueOrdered),
                "cce2",
            ),
        ];
        for (c, id) in creates {
            let h = hex(&list::clear("l").with_context(&[c]));
            assert!(h.starts_with(&format!("93ccff92{id}")), "{h}");
        }
    }

    #[test]
    fn with_context_wraps_once_and_only_cdt_operations() {
        let ctx = [CdtContext::map_key("a")];
        let once = list::size("l").with_context(&ctx);
        assert_eq!(once.clone().with_context(&ctx), once);
        assert_eq!(list::size("l").with_context(&[]), list::size("l"));
        let put = crate::operations::put("b", 1);
        assert_eq!(put.clone().with_context(&ctx), put);
    }
}
