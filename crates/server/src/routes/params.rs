//! A GraphQL-over-HTTP request's parameters, read strictly from a JSON body or a GET query
//! string: `query`, `operationName`, `variables`, `extensions`, and the persisted-document
//! ids clients send instead of a query (`documentId` from graphql-codegen's client preset,
//! `doc_id` or `id` from Relay). A parameter of the wrong type is the client's mistake,
//! refused with 400 before anything runs (the spec's "parameters are invalid"); unknown keys
//! are ignored, as clients add their own.

use serde_json::{Map, Value};

/// The parameters of one request. The document itself may still be missing: it can come
/// from the persisted-document store (see [`crate::persisted`]).
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) struct Params {
    pub(crate) query: Option<String>,
    pub(crate) operation_name: Option<String>,
    pub(crate) variables: Option<Map<String, Value>>,
    pub(crate) extensions: Map<String, Value>,
    /// A persisted document's id (`documentId`, `doc_id` or `id`).
    pub(crate) document_id: Option<String>,
}

/// Keys that name a persisted document, in the order they are looked at.
const DOCUMENT_ID_KEYS: [&str; 3] = ["documentId", "doc_id", "id"];

/// Reads one request object of a POST body.
pub(crate) fn from_json(json: Value) -> Result<Params, String> {
    let Value::Object(mut object) = json else {
        return Err(shape("expected a JSON object"));
    };
    let mut take_string = |key: &str| match object.remove(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(shape(&format!("`{key}` must be a string"))),
    };
    let query = take_string("query")?;
    let operation_name = take_string("operationName")?;
    let mut document_id = None;
    for key in DOCUMENT_ID_KEYS {
        document_id = document_id.or(take_string(key)?);
    }
    let variables = object_param(object.remove("variables"), "variables")?;
    let extensions = object_param(object.remove("extensions"), "extensions")?.unwrap_or_default();
    Ok(Params {
        query,
        operation_name,
        variables,
        extensions,
        document_id,
    })
}

/// Reads a GET query string, where `variables` and `extensions` are JSON text.
pub(crate) fn from_query_pairs(pairs: Vec<(String, String)>) -> Result<Params, String> {
    let mut params = Params::default();
    for (key, value) in pairs {
        match key.as_str() {
            "query" => params.query = Some(value),
            "operationName" => params.operation_name = Some(value).filter(|v| !v.is_empty()),
            "variables" => params.variables = json_text(&value, "variables")?,
            "extensions" => {
                params.extensions = json_text(&value, "extensions")?.unwrap_or_default();
            }
            k if DOCUMENT_ID_KEYS.contains(&k) => {
                params.document_id = params.document_id.or(Some(value));
            }
            _ => {}
        }
    }
    Ok(params)
}

fn json_text(text: &str, key: &str) -> Result<Option<Map<String, Value>>, String> {
    if text.is_empty() {
        return Ok(None);
    }
    let value: Value = serde_json::from_str(text)
        .map_err(|e| shape(&format!("`{key}` must be a JSON object: {e}")))?;
    object_param(Some(value), key)
}

fn object_param(value: Option<Value>, key: &str) -> Result<Option<Map<String, Value>>, String> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(map)) => Ok(Some(map)),
        Some(_) => Err(shape(&format!("`{key}` must be an object"))),
    }
}

fn shape(why: &str) -> String {
    format!("the body is not a GraphQL request ({{\"query\": \"…\", \"variables\": {{…}}}}): {why}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn wrongly_typed_parameters_are_refused_and_nulls_are_absent() {
        for bad in [
            json!({ "query": 0 }),
            json!({ "query": ["a"] }),
            json!({ "query": "{ a }", "operationName": false }),
            json!({ "query": "{ a }", "variables": "x" }),
            json!({ "query": "{ a }", "extensions": [1] }),
            json!(["not", "an", "object"]),
        ] {
            assert!(from_json(bad.clone()).is_err(), "{bad}");
        }
        let params = from_json(json!({
            "query": "{ a }", "operationName": null, "variables": null, "extensions": null
        }))
        .expect("nulls are fine");
        assert_eq!(params.query.as_deref(), Some("{ a }"));
        assert!(params.variables.is_none() && params.extensions.is_empty());
    }

    #[test]
    fn persisted_ids_are_read_under_every_clients_name() {
        for key in DOCUMENT_ID_KEYS {
            let params = from_json(json!({ key: "abc" })).expect("parsed");
            assert_eq!(params.document_id.as_deref(), Some("abc"), "{key}");
        }
        let params = from_query_pairs(vec![
            (
                "extensions".into(),
                r#"{"persistedQuery":{"version":1}}"#.into(),
            ),
            ("variables".into(), r#"{"a":1}"#.into()),
        ])
        .expect("parsed");
        assert_eq!(params.extensions["persistedQuery"]["version"], 1);
        assert_eq!(params.variables.expect("variables")["a"], 1);
    }
}
