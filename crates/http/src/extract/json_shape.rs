//! The shape every JSON request body must have, checked before it is parsed as its type: one
//! object, with no key repeated in any object at any depth.
//!
//! serde's derived structs accept a JSON array in place of an object (fields by position) and
//! a `serde_json::Value` keeps the last of two equal keys, so neither can be relied on to check
//! this; a money field given twice must be refused, not booked with whichever came last.

use std::collections::HashSet;
use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// A body that is a JSON object without repeated keys; it keeps nothing.
pub(crate) struct ObjectBody;

impl<'de> Deserialize<'de> for ObjectBody {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ObjectVisitor)
            .map(|()| ObjectBody)
    }
}

/// Any JSON value, checked for repeated keys in the objects it holds.
struct AnyValue;

impl<'de> Deserialize<'de> for AnyValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(AnyVisitor).map(|()| AnyValue)
    }
}

/// Accepts an object only: any other value is an `invalid type` error.
struct ObjectVisitor;

impl<'de> Visitor<'de> for ObjectVisitor {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        unique_keys(map)
    }
}

/// Accepts every JSON value.
struct AnyVisitor;

impl<'de> Visitor<'de> for AnyVisitor {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("a JSON value")
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

    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element::<AnyValue>()?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<(), A::Error> {
        unique_keys(map)
    }
}

/// Walks an object, refusing a key it has already seen with serde's own wording for a repeated
/// struct field, so that both read alike to clients.
fn unique_keys<'de, A: MapAccess<'de>>(mut map: A) -> Result<(), A::Error> {
    let mut seen = HashSet::new();
    while let Some(key) = map.next_key::<String>()? {
        if seen.contains(&key) {
            return Err(de::Error::custom(format_args!("duplicate field `{key}`")));
        }
        map.next_value::<AnyValue>()?;
        seen.insert(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(json: &str) -> Result<(), String> {
        serde_json::from_str::<ObjectBody>(json)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn objects_without_repeated_keys_pass() {
        let nested = r#"{"a": {"a": 1, "b": [{"a": null}, {"a": true}]}, "b": "a", "c": -1.5}"#;
        assert_eq!(check(nested), Ok(()));
        assert_eq!(check("{}"), Ok(()));
    }

    #[test]
    fn a_repeated_key_is_refused_at_any_depth() {
        for json in [
            r#"{"amount": 1, "amount": 2}"#,
            r#"{"money": {"amount": 1, "currency": "EUR", "amount": 2}}"#,
            r#"{"items": [{"x": 1}, {"amount": 1, "amount": 2}]}"#,
        ] {
            let error = check(json).err().unwrap_or_default();
            assert!(
                error.starts_with("duplicate field `amount`"),
                "{json}: {error}"
            );
        }
    }

    #[test]
    fn anything_but_an_object_is_refused() {
        for json in [r#"["nick", {}]"#, "[]", "\"text\"", "1", "null", "true"] {
            let error = check(json).err().unwrap_or_default();
            assert!(error.contains("expected a JSON object"), "{json}: {error}");
        }
    }
}
