//! The serde side of extraction: one pass over the response JSON along the path trie, each
//! value on a path captured from its raw text, everything else skipped unparsed.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_json::value::RawValue;

use super::{Leaf, Trie};

/// Deserializes one JSON value at `node`, capturing it into `node.slots` and descending into
/// the members and elements the node lists.
pub(super) struct Walk<'t, 's, T> {
    pub(super) node: &'t T,
    pub(super) slots: &'s mut [Option<Leaf>],
}

impl<'de, T: Trie> DeserializeSeed<'de> for Walk<'_, '_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        let node = self.node;
        let has_children = node.has_children();
        if node.slots().is_empty() {
            if has_children {
                deserializer.deserialize_any(Descend {
                    node,
                    slots: self.slots,
                })?;
            } else {
                deserializer.deserialize_ignored_any(IgnoredAny)?;
            }
            return Ok(());
        }
        // The raw text is found by serde_json's skipping scanner, which checks the syntax
        // without recursing, so deep nesting here costs no stack.
        let raw = <&'de RawValue>::deserialize(deserializer)?;
        let text = raw.get().trim_start();
        let leaf = match text.as_bytes().first() {
            Some(b'n') => Leaf::Null,
            Some(b't') => Leaf::Bool(true),
            Some(b'f') => Leaf::Bool(false),
            Some(b'"') => Leaf::Str(serde_json::from_str(text).map_err(de::Error::custom)?),
            Some(b'{') => Leaf::Object,
            Some(b'[') => Leaf::Array,
            _ => Leaf::Number(text.trim_end().to_owned()),
        };
        for &slot in node.slots() {
            if let Some(target) = self.slots.get_mut(slot) {
                *target = Some(leaf.clone());
            }
        }
        if has_children && matches!(leaf, Leaf::Object | Leaf::Array) {
            let mut inner = serde_json::Deserializer::from_str(text);
            Descend {
                node,
                slots: self.slots,
            }
            .deserialize(&mut inner)
            .map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Walks the members or elements of the value at `node`, without capturing the value itself.
/// Anything but an object or array has no children, so it is skipped.
struct Descend<'t, 's, T> {
    node: &'t T,
    slots: &'s mut [Option<Leaf>],
}

impl<'de, T: Trie> DeserializeSeed<'de> for Descend<'_, '_, T> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de, T: Trie> Visitor<'de> for Descend<'_, '_, T> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(child) = map.next_key_seed(KeySeed(self.node))? {
            match child {
                Some(node) => map.next_value_seed(Walk {
                    node,
                    slots: self.slots,
                })?,
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        if !self.node.indexes_from_end().is_empty() {
            return self.visit_seq_from_end(seq);
        }
        let mut index = 0;
        loop {
            let child = self.node.index(index);
            let more = match child {
                Some(node) => seq
                    .next_element_seed(Walk {
                        node,
                        slots: self.slots,
                    })?
                    .is_some(),
                None => seq.next_element::<IgnoredAny>()?.is_some(),
            };
            if !more {
                return Ok(());
            }
            index += 1;
        }
    }
}

impl<T: Trie> Descend<'_, '_, T> {
    /// An array with elements counted from the end (`[-1]`) is only placed once it has ended:
    /// each element's raw text is kept (a slice of the input, not a copy), then the wanted
    /// ones are walked. An index past either end selects nothing.
    fn visit_seq_from_end<'de, A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut elements: Vec<&'de RawValue> = Vec::new();
        while let Some(element) = seq.next_element::<&'de RawValue>()? {
            elements.push(element);
        }
        let forward = self
            .node
            .indexes()
            .iter()
            .map(|(index, node)| (Some(*index), node));
        let backward = (self.node.indexes_from_end().iter())
            .map(|(back, node)| (elements.len().checked_sub(*back), node));
        for (position, node) in forward.chain(backward) {
            let Some(element) = position.and_then(|position| elements.get(position)) else {
                continue;
            };
            let mut inner = serde_json::Deserializer::from_str(element.get());
            Walk {
                node,
                slots: &mut *self.slots,
            }
            .deserialize(&mut inner)
            .map_err(de::Error::custom)?;
        }
        Ok(())
    }
}

/// Reads an object key and answers which child node it leads to, without allocating it.
struct KeySeed<'t, T>(&'t T);

impl<'de, 't, T: Trie> DeserializeSeed<'de> for KeySeed<'t, T> {
    type Value = Option<&'t T>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_str(self)
    }
}

impl<'t, T: Trie> Visitor<'_> for KeySeed<'t, T> {
    type Value = Option<&'t T>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<Self::Value, E> {
        Ok(self.0.key(key))
    }
}
