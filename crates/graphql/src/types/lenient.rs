//! Lenient readers for the fields of JSON documents: whatever a document column's CHECK
//! accepts must read back through the API.
//!
//! The migrations' CHECKs test the keys the seeds spell out where they can (a type, a range,
//! an enum), but they accept any other key, and any value in keys they do not test (an
//! attachment's `publicId`, a button's `payload`, the items of `aiResponse.entities`). Rows
//! come from the API (which writes clean documents), from imports of the Mongo collections and
//! from other writers, so a typed document read strictly would turn one odd value into an
//! `INTERNAL` error for the whole query (a conversation with one such message could not be
//! opened). Each field of a document type therefore reads through one of these functions
//! (`#[serde(default, deserialize_with = "lenient::text")]`), which never fail:
//!
//! | reader | takes | anything else |
//! |---|---|---|
//! | [`text`] | a string; a number or boolean as its JSON text | null |
//! | [`number`] | a finite number; a string holding one | null |
//! | [`integer`] | an integral number (`1024` or `1024.0`); a string holding one | null |
//! | [`decimal`] | a number or numeric string, exactly as written | null |
//! | [`boolean`] | `true` or `false` | null |
//! | [`time`] | an RFC 3339 string | null |
//! | [`values`] | an array, items as stored | empty |
//! | [`objects`] | an array; its object items read as the item type | empty (other items skipped) |
//! | `lenient_enum!` | a string spelling a variant | null |

use std::str::FromStr;

use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};
use serde_json::Value;

/// A scalar as text: strings as they are, numbers and booleans as their JSON spelling.
pub(crate) fn scalar_text(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

/// Text (see the module table).
pub(crate) fn text<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(scalar_text(&Value::deserialize(d)?))
}

/// A finite float (see the module table).
pub(crate) fn number<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    let f = match Value::deserialize(d)? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    Ok(f.filter(|f| f.is_finite()))
}

/// An integer (see the module table).
pub(crate) fn integer<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Number(n) => n.as_i64().or_else(|| {
            // `1024.0` (what some writers make of an integer) is still 1024; an integral f64
            // within ±2^53 converts exactly.
            n.as_f64()
                .filter(|f| f.fract() == 0.0 && f.abs() < 9_007_199_254_740_992.0)
                .map(|f| f as i64)
        }),
        Value::String(s) => s.trim().parse::<i64>().ok(),
        _ => None,
    })
}

/// A decimal, from its JSON spelling (`12.50`, `1e3`) so no float rounding creeps in.
pub(crate) fn decimal<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
    let spelled = match Value::deserialize(d)? {
        Value::Number(n) => n.to_string(),
        Value::String(s) => s.trim().to_owned(),
        _ => return Ok(None),
    };
    Ok(Decimal::from_str(&spelled)
        .or_else(|_| Decimal::from_scientific(&spelled))
        .ok())
}

/// A boolean (see the module table).
pub(crate) fn boolean<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(Value::deserialize(d)?.as_bool())
}

/// An RFC 3339 time (see the module table).
pub(crate) fn time<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
    Ok(Value::deserialize(d)?
        .as_str()
        .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// A list of JSON values (see the module table).
pub(crate) fn values<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Value>, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items,
        _ => Vec::new(),
    })
}

/// A list of sub-documents (see the module table). The item type's own fields are lenient,
/// so every object item reads.
pub(crate) fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    Ok(match Value::deserialize(d)? {
        Value::Array(items) => items
            .into_iter()
            .filter(Value::is_object)
            .filter_map(|item| T::deserialize(item).ok())
            .collect(),
        _ => Vec::new(),
    })
}

/// Reads a document's enum field by its stored spelling; anything else reads as null.
macro_rules! lenient_enum {
    ($fn:ident, $enum:ty) => {
        pub(crate) fn $fn<'de, D: serde::Deserializer<'de>>(
            d: D,
        ) -> Result<Option<$enum>, D::Error> {
            let v: serde_json::Value = serde::Deserialize::deserialize(d)?;
            Ok(v.as_str().and_then(<$enum>::from_db))
        }
    };
}
pub(crate) use lenient_enum;

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[derive(Debug, Deserialize)]
    struct Doc {
        #[serde(default, deserialize_with = "text")]
        t: Option<String>,
        #[serde(default, deserialize_with = "number")]
        n: Option<f64>,
        #[serde(default, deserialize_with = "integer")]
        i: Option<i64>,
        #[serde(default, deserialize_with = "decimal")]
        d: Option<Decimal>,
        #[serde(default, deserialize_with = "time")]
        at: Option<DateTime<Utc>>,
        #[serde(default, deserialize_with = "values")]
        list: Vec<Value>,
    }

    fn read(v: Value) -> Doc {
        serde_json::from_value(v).expect("lenient readers never fail")
    }

    #[test]
    fn values_of_the_expected_type_read_as_stored() {
        let d = read(json!({ "t": "x", "n": 1.5, "i": 1024.0, "d": 12.5,
                             "at": "2025-01-02T03:04:05Z", "list": ["a", 2] }));
        assert_eq!(d.t.as_deref(), Some("x"));
        assert_eq!(d.n, Some(1.5));
        assert_eq!(d.i, Some(1024));
        assert_eq!(d.d, Some(Decimal::new(125, 1)));
        assert!(d.at.is_some());
        assert_eq!(d.list, [json!("a"), json!(2)]);
    }

    #[test]
    fn values_of_another_type_read_as_null_instead_of_failing() {
        let d = read(
            json!({ "t": {"a": 1}, "n": "many", "i": 1.5, "d": [], "at": 5,
                             "list": "not a list" }),
        );
        assert!(d.t.is_none() && d.n.is_none() && d.i.is_none() && d.d.is_none());
        assert!(d.at.is_none());
        assert!(d.list.is_empty());
        let d = read(json!({ "t": 7, "d": 1e-7 }));
        assert_eq!(d.t.as_deref(), Some("7"));
        assert_eq!(d.d, Some(Decimal::new(1, 7)));
    }
}
