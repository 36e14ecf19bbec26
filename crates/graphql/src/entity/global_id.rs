//! Relay's global object identification: opaque ids that name a type and a row.
//!
//! An entity's `id: ID!` is `<Type>:<row uuid>`, e.g. `Customer:0b5e…`. Why not the base64
//! most servers send: an id is built for every object of every answer, most of them inside
//! PostgreSQL by a compiled read ([`frontdesk_db::query::json`]), where base64url costs five
//! times what the id's text itself does; this form is the type's name and the row's text, so
//! a dashboard's thousand ids cost what its thousand bare UUIDs do, and each is 18 bytes
//! shorter. It is no less opaque to a client: either form is decodable by anyone.
//!
//! Ids of the first format, `base64url("1:<Type>:<row uuid>")` (no padding), are still read,
//! so ids a client stored keep working; the two are told apart by their shape (base64url has
//! no `:`). Every argument and input field that refers to a row is a [`NodeRef<T>`]: it accepts
//! a global id when it names `T`, and the bare row UUID (what `rowId` returns) as well. A global
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

/// The version prefix of the first (base64url) format, still read.
const FIRST_FORMAT: &str = "1";

/// The global id of row `id` of type `type_name`.
pub fn encode(type_name: &str, id: Uuid) -> ID {
    ID(format!("{type_name}:{id}"))
}

/// Reads a global id (type name and row) of either format, or a bare UUID (no type name).
pub fn decode(text: &str) -> Result<(Option<String>, Uuid), String> {
    if let Ok(id) = Uuid::parse_str(text) {
        return Ok((None, id));
    }
    let bad = || format!("{text:?} is not an id this API issued (a global `id` or a `rowId`)");
    if let Some((ty, id)) = text.split_once(':') {
        return typed(ty, id).ok_or_else(bad);
    }
    let raw = URL_SAFE_NO_PAD.decode(text).map_err(|_| bad())?;
    let raw = String::from_utf8(raw).map_err(|_| bad())?;
    let rest = raw
        .strip_prefix(FIRST_FORMAT)
        .and_then(|r| r.strip_prefix(':'))
        .ok_or_else(bad)?;
    let (ty, id) = rest.split_once(':').ok_or_else(bad)?;
    typed(ty, id).ok_or_else(bad)
}

/// A type name (letters and digits) and a row's UUID in its hyphenated form.
fn typed(ty: &str, id: &str) -> Option<(Option<String>, Uuid)> {
    if ty.is_empty() || !ty.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    // 36 characters: the hyphenated form alone (not the braced, simple or URN ones).
    let id = Uuid::try_parse(id).ok().filter(|_| id.len() == 36)?;
    Some((Some(ty.to_owned()), id))
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
        assert!(row_of(&format!("Customer:{id}x"), "Customer").is_err());
        assert!(row_of(&format!("Cus tomer:{id}"), "Customer").is_err());
        assert!(row_of(&format!(":{id}"), "Customer").is_err());
    }

    #[test]
    fn a_global_id_is_the_type_and_the_row_in_text() {
        let id = Uuid::new_v4();
        assert_eq!(encode("Customer", id).0, format!("Customer:{id}"));
    }

    #[test]
    fn an_id_of_the_first_base64url_format_is_still_read() {
        let id = Uuid::new_v4();
        let first = URL_SAFE_NO_PAD.encode(format!("1:Customer:{id}"));
        assert_eq!(row_of(&first, "Customer"), Ok(id));
        assert!(row_of(&first, "Booking").is_err());
    }
}
