//! The HTTP side of a GraphQL answer, as the GraphQL-over-HTTP specification has it: which
//! media type the client gets, and which status code goes with which kind of failure.
//!
//! Two media types are spoken. `application/graphql-response+json` (the spec's own) says with
//! the status code whether the request ran at all: a document that does not parse or
//! validate, variables that do not coerce, or a persisted document that is unknown get a 4xx
//! and a body *without* `data`. `application/json` (what every older client sends, and what
//! a request without `Accept` gets) keeps the legacy contract: 200 for anything GraphQL
//! answered, errors in the body. Malformed HTTP requests (bad JSON, a parameter of the wrong
//! type) are 4xx under both.

use async_graphql::Response as GraphQLResponse;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::ser::{Serialize, SerializeMap, Serializer};

/// The response media type a request negotiated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Media {
    /// `application/json`.
    Json,
    /// `application/graphql-response+json`.
    GraphQLResponseJson,
}

impl Media {
    /// The client's preference among the two from `Accept` (highest `q`, first listed on a
    /// tie). No `Accept`, or one naming neither, gets `application/json`: the spec allows a
    /// 406 there, but answering in the legacy type serves old clients better.
    pub(crate) fn negotiate(headers: &HeaderMap) -> Media {
        let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
            return Media::Json;
        };
        let mut best: Option<(f32, Media)> = None;
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let mime = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let q = parts
                .find_map(|p| p.trim().strip_prefix("q=").map(str::to_owned))
                .and_then(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let media = match mime.as_str() {
                "application/graphql-response+json" => Media::GraphQLResponseJson,
                "application/json" | "application/*" | "*/*" => Media::Json,
                _ => continue,
            };
            if q > 0.0 && best.is_none_or(|(b, _)| q > b) {
                best = Some((q, media));
            }
        }
        best.map_or(Media::Json, |(_, m)| m)
    }

    fn content_type(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Media::Json => "application/json; charset=utf-8",
            Media::GraphQLResponseJson => "application/graphql-response+json; charset=utf-8",
        })
    }
}

/// Whether the request failed before execution (parse, validation, coercion, an unknown
/// persisted document, a limit): no data and no error located in the result. A field error
/// always has a path, even when it nulls the whole `data`.
pub(crate) fn is_request_error(response: &GraphQLResponse) -> bool {
    response.data == async_graphql::Value::Null
        && !response.errors.is_empty()
        && response.errors.iter().all(|e| e.path.is_empty())
}

/// One GraphQL response, with the status and body shape its media type calls for.
pub(crate) fn single(response: GraphQLResponse, media: Media) -> Response {
    let request_error = is_request_error(&response);
    let status = match media {
        Media::GraphQLResponseJson if request_error && has_code(&response, "INTERNAL") => {
            StatusCode::INTERNAL_SERVER_ERROR
        }
        Media::GraphQLResponseJson if request_error => StatusCode::BAD_REQUEST,
        _ => StatusCode::OK,
    };
    let headers = response.http_headers.clone();
    let body = Wire {
        response: &response,
        data: !(request_error && media == Media::GraphQLResponseJson),
    };
    let mut reply = json(status, &body, media);
    reply.headers_mut().extend(headers);
    reply
}

/// A compiled read's body (`{"data":…}`, no errors): 200 as it is.
pub(crate) fn body(body: String, media: Media) -> Response {
    (
        StatusCode::OK,
        [(header::CONTENT_TYPE, media.content_type())],
        body,
    )
        .into_response()
}

/// A batch: 200 with one response per request, in order (each carries its own errors).
pub(crate) fn batch(responses: Vec<GraphQLResponse>, media: Media) -> Response {
    let body: Vec<Wire<'_>> = responses
        .iter()
        .map(|response| Wire {
            response,
            data: true,
        })
        .collect();
    json(StatusCode::OK, &body, media)
}

/// A response as it goes on the wire: `data` (unless left out), `errors` and `extensions`
/// when there are any. Serialised straight from async-graphql's values, whose objects keep
/// the order the operation selected their fields in (the spec's "serialized map ordering",
/// and what a compiled read answers); a detour through `serde_json::Value`, whose maps sort
/// their keys, would alphabetise every object of the answer.
struct Wire<'a> {
    response: &'a GraphQLResponse,
    data: bool,
}

impl Serialize for Wire<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let response = self.response;
        let mut map = serializer.serialize_map(None)?;
        if self.data {
            map.serialize_entry("data", &response.data)?;
        }
        if !response.errors.is_empty() {
            map.serialize_entry("errors", &response.errors)?;
        }
        if !response.extensions.is_empty() {
            map.serialize_entry("extensions", &response.extensions)?;
        }
        map.end()
    }
}

/// A JSON body in the negotiated media type.
pub(crate) fn json(status: StatusCode, body: &impl Serialize, media: Media) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_default();
    (
        status,
        [(header::CONTENT_TYPE, media.content_type())],
        bytes,
    )
        .into_response()
}

fn has_code(response: &GraphQLResponse, code: &str) -> bool {
    response.errors.iter().any(|e| {
        e.extensions
            .as_ref()
            .and_then(|x| x.get("code"))
            .is_some_and(|c| matches!(c, async_graphql::Value::String(s) if s == code))
    })
}

/// A request refused before it reaches the schema (malformed HTTP, a bad token), answered
/// as a GraphQL error body with `extensions.code` and `extensions.requestId`.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub(crate) status: StatusCode,
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl Refusal {
    pub(crate) fn bad_input(status: StatusCode, message: String) -> Self {
        Self {
            status,
            code: "BAD_USER_INPUT",
            message,
        }
    }

    pub(crate) fn into_response(self, request_id: &str, media: Media) -> Response {
        let body = serde_json::json!({
            "errors": [{
                "message": self.message,
                "extensions": { "code": self.code, "requestId": request_id }
            }]
        });
        json(self.status, &body, media)
    }
}

/// A request error as a GraphQL response (no data), for failures found before execution
/// that should answer like a validation error: 200 under `application/json`, 400 under
/// `application/graphql-response+json`.
pub(crate) fn request_error(code: &str, message: String, request_id: &str) -> GraphQLResponse {
    let mut error = async_graphql::ServerError::new(message, None);
    let mut extensions = async_graphql::ErrorExtensionValues::default();
    extensions.set("code", code);
    extensions.set("requestId", request_id);
    error.extensions = Some(extensions);
    GraphQLResponse::from_errors(vec![error])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accept(value: &str) -> Media {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            HeaderValue::from_str(value).expect("header"),
        );
        Media::negotiate(&headers)
    }

    #[test]
    fn the_preferred_media_type_wins_and_unknown_ones_fall_back_to_json() {
        assert_eq!(Media::negotiate(&HeaderMap::new()), Media::Json);
        assert_eq!(accept("*/*"), Media::Json);
        assert_eq!(accept("text/html"), Media::Json);
        assert_eq!(
            accept("application/graphql-response+json"),
            Media::GraphQLResponseJson
        );
        assert_eq!(
            accept("application/graphql-response+json, application/json;q=0.9"),
            Media::GraphQLResponseJson
        );
        assert_eq!(
            accept("application/graphql-response+json;q=0.5, application/json"),
            Media::Json
        );
        assert_eq!(
            accept("application/json;q=0, application/graphql-response+json"),
            Media::GraphQLResponseJson
        );
    }
}
