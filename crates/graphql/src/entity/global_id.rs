//! Relay's global object identification: opaque, versioned ids that name a type and a row.
//!
//! An entity's `id: ID!` is `base64url("1:<Type>:<row uuid>")` (no padding). The leading `1`
//! is the format version, so the encoding can change without breaking ids clients stored.
//! Every argument and input field that refers to a row is a [`NodeRef<T>`]: it accepts that
//! global id when it names `T`, and the bare row UUID (what `rowId` returns) as well. A global
//! id of another type is refused while the arguments are parsed, so it surfaces as
//! `BAD_USER_INPUT` naming the argument, before any SQL.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

use async_graphql::registry::Registry;
use async_graphql::{InputType, InputValueError, InputValueResult, Value, ID};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use uuid::Uuid;

use super::Entity;

/// The version prefix of the current id format.
const VERSION: &str = "1";

/// The global id of row `id` of type `type_name`.
pub fn encode(type_name: &str, id: Uuid) -> ID {
    ID(URL_SAFE_NO_PAD.encode(format!("{VERSION}:{type_name}:{id}")))
}

/// Reads a global id (type name and row) or a bare UUID (no type name).
pub fn decode(text: &str) -> Result<(Option<String>, Uuid), String> {
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok((None, id));
    }
    let bad = || format!("{text:?} is not an id this API issued (a global `id` or a `rowId`)");
    let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let mut parts = raw.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(VERSION), Some(ty), Some(id)) if !ty.is_empty() => {
            let id = Uuid::parse_str(id).map_err(|_| bad())?;
            Ok((Some(ty.to_owned()), id))
        }
        _ => Err(bad()),
    }
}

/// The row `text` names, if it names a row of type `expected` (or is a bare UUID).
pub fn row_of(text: &str, expected: &str) -> Result<Uuid, String> {
    match decode(text)? {
        (None, id) => Ok(id),
        (Some(ty), id) if ty == expected => Ok(id),
        (Some(ty), _) => Err(format!(
            "this is the id of a {ty}; a {expected} id is expected"
        )),
    }
}

/// An argument or input field that refers to a row of `T`: `ID` in the schema, accepting the
/// global id of a `T` or a bare row UUID.
pub struct NodeRef<T>(pub Uuid, PhantomData<fn() -> T>);

impl<T> NodeRef<T> {
    /// A reference to row `id`.
    pub fn new(id: Uuid) -> Self {
        Self(id, PhantomData)
    }

    /// The row.
    pub fn row(&self) -> Uuid {
        self.0
    }
}

impl<T> Clone for NodeRef<T> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T> Copy for NodeRef<T> {}
impl<T> PartialEq for NodeRef<T> {
    fn eq(&self, o: &Self) -> bool {
        self.0 == o.0
    }
}
impl<T> Eq for NodeRef<T> {}
impl<T> fmt::Debug for NodeRef<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "NodeRef({})", self.0)
    }
}
impl<T> serde::Serialize for NodeRef<T> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<T: Entity> InputType for NodeRef<T> {
    type RawValueType = Uuid;

    fn type_name() -> Cow<'static, str> {
        <ID as InputType>::type_name()
    }

    fn create_type_info(registry: &mut Registry) -> String {
        <ID as InputType>::create_type_info(registry)
    }

    fn parse(value: Option<Value>) -> InputValueResult<Self> {
        let ID(text) = <ID as InputType>::parse(value).map_err(InputValueError::propagate)?;
        row_of(&text, T::NAME)
            .map(NodeRef::new)
            .map_err(InputValueError::custom)
    }

    fn to_value(&self) -> Value {
        Value::String(encode(T::NAME, self.0).0)
    }

    fn as_raw_value(&self) -> Option<&Self::RawValueType> {
        Some(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_global_id_round_trips_and_names_its_type() {
        let id = Uuid::new_v4();
        let global = encode("Customer", id);
        assert_eq!(row_of(&global, "Customer"), Ok(id));
        assert!(row_of(&global, "Booking")
            .expect_err("wrong type")
            .contains("Customer"));
    }

    #[test]
    fn a_bare_uuid_is_accepted_for_any_type_and_garbage_for_none() {
        let id = Uuid::new_v4();
        assert_eq!(row_of(&id.to_string(), "Booking"), Ok(id));
        assert!(row_of("not-an-id", "Booking").is_err());
        assert!(row_of(&URL_SAFE_NO_PAD.encode("2:Customer:x"), "Customer").is_err());
    }
}
