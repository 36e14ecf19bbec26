//! The free-form metadata documents of conversations and messages: JSON objects whose few
//! keys the columns' CHECKs know (`model`, `feedbackRating`; `platformsQueried`,
//! `totalTokensUsed`) are validated here first, so a refusal names the key.

use serde_json::Value;

use crate::mutation::inputs::{bad, json_object};
use crate::ApiError;

/// `doc[key]`, when present and not null, must satisfy `ok`.
fn key_is(
    field: &str,
    doc: &Value,
    key: &str,
    ok: impl Fn(&Value) -> bool,
    expected: &str,
) -> Result<(), ApiError> {
    match doc.get(key) {
        None | Some(Value::Null) => Ok(()),
        Some(v) if ok(v) => Ok(()),
        Some(_) => Err(bad(&format!("{field}.{key}"), expected)),
    }
}

/// A message's free-form metadata: an object whose `model` (the LLM that wrote it) is a string
/// and `feedbackRating` is `positive` or `negative` when present (the column's CHECK).
pub(crate) fn message_metadata(field: &str, value: Value) -> Result<Value, ApiError> {
    let value = json_object(field, value)?;
    key_is(field, &value, "model", Value::is_string, "must be a string")?;
    key_is(
        field,
        &value,
        "feedbackRating",
        |v| matches!(v.as_str(), Some("positive" | "negative")),
        "must be \"positive\" or \"negative\"",
    )?;
    Ok(value)
}

/// A conversation's free-form metadata: an object whose `platformsQueried` is an array and
/// `totalTokensUsed` a number when present (the column's CHECK).
pub(crate) fn conversation_metadata(field: &str, value: Value) -> Result<Value, ApiError> {
    let value = json_object(field, value)?;
    key_is(
        field,
        &value,
        "platformsQueried",
        Value::is_array,
        "must be an array",
    )?;
    key_is(
        field,
        &value,
        "totalTokensUsed",
        Value::is_number,
        "must be a number",
    )?;
    Ok(value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn field_of(r: Result<Value, ApiError>) -> String {
        match r {
            Err(ApiError::BadUserInput { field, .. }) => field,
            other => panic!("expected BadUserInput, got {other:?}"),
        }
    }

    #[test]
    fn metadata_keys_the_checks_know_are_validated() {
        assert!(message_metadata("input.metadata", json!({ "model": "gpt-4" })).is_ok());
        assert_eq!(
            field_of(message_metadata(
                "input.metadata",
                json!({ "feedbackRating": "meh" })
            )),
            "input.metadata.feedbackRating"
        );
        assert_eq!(
            field_of(conversation_metadata(
                "input.metadata",
                json!({ "totalTokensUsed": "many" })
            )),
            "input.metadata.totalTokensUsed"
        );
        assert_eq!(
            field_of(conversation_metadata("input.metadata", json!([1]))),
            "input.metadata"
        );
    }
}
