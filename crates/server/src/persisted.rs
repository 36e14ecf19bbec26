//! Persisted documents: the client sends a document's id instead of its text.
//!
//! Two modes, chosen at start-up:
//! - **Automatic persisted queries** (Apollo's APQ, the default). A request may carry
//!   `extensions.persistedQuery = {"version": 1, "sha256Hash": "<hex>"}`. With the query too,
//!   the hash is checked against the text and the pair remembered; without it, the text is
//!   looked up, and an unknown hash answers `PERSISTED_QUERY_NOT_FOUND` (message
//!   `PersistedQueryNotFound`, which Apollo Client also matches) so the client retries with the
//!   text. The store is a bounded LRU in this process's memory ([`APQ_CAPACITY`] documents):
//!   each replica learns documents on its own, and a restart forgets them, which costs a
//!   client one retry and nothing else.
//! - **Trusted documents** (`FRONTDESK_TRUSTED_DOCUMENTS`): a manifest `{"<id>": "<document>"}`
//!   (graphql-codegen's client-preset `persisted-documents.json`, or Relay's
//!   `persisted_queries.json`: the same shape) is the whole list of documents the server
//!   runs. A request names one by `documentId`, `doc_id`, `id` or the APQ hash, or sends the
//!   exact text of one; anything else is refused with `TRUSTED_DOCUMENT_REQUIRED`, so an
//!   attacker cannot run hand-written queries against a production deployment.

use std::collections::{HashMap, HashSet};
use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::routes::Params;

/// Documents the APQ store keeps per process; the least recently used is dropped first.
/// A client's whole set of operations is typically a few hundred.
pub const APQ_CAPACITY: usize = 10_000;
/// Longest document the APQ store accepts (the schema refuses longer ones anyway).
const APQ_MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The error codes of this module, in `extensions.code`.
pub mod codes {
    /// The id or hash is not known: send the document's text (APQ), or use a document of
    /// the manifest (trusted documents).
    pub const NOT_FOUND: &str = "PERSISTED_QUERY_NOT_FOUND";
    /// Trusted-documents mode: the document is not in the manifest.
    pub const TRUSTED_DOCUMENT_REQUIRED: &str = "TRUSTED_DOCUMENT_REQUIRED";
    /// A malformed `persistedQuery` extension, or a hash that does not match the text.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
}

/// Why a request's document could not be determined.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DocumentError {
    /// Neither a query nor a persisted id: a malformed HTTP request.
    Missing,
    /// A GraphQL request error with a code (see [`codes`]).
    Refused {
        /// `extensions.code`.
        code: &'static str,
        /// For the client.
        message: String,
    },
}

fn refused(code: &'static str, message: impl Into<String>) -> DocumentError {
    DocumentError::Refused {
        code,
        message: message.into(),
    }
}

/// The documents the server knows by id.
#[derive(Debug)]
pub struct PersistedDocuments {
    apq: Mutex<lru::LruCache<String, Arc<str>>>,
    trusted: Option<Trusted>,
}

#[derive(Debug)]
struct Trusted {
    by_id: HashMap<String, Arc<str>>,
    texts: HashSet<Arc<str>>,
}

impl Default for PersistedDocuments {
    fn default() -> Self {
        Self::automatic(APQ_CAPACITY)
    }
}

impl PersistedDocuments {
    /// APQ mode with a store of `capacity` documents.
    pub fn automatic(capacity: usize) -> Self {
        let capacity = NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN);
        Self {
            apq: Mutex::new(lru::LruCache::new(capacity)),
            trusted: None,
        }
    }

    /// Trusted-documents mode from a manifest file.
    pub fn trusted_from_file(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the trusted documents {}", path.display()))?;
        Self::trusted_from_json(&text)
            .with_context(|| format!("the trusted documents {}", path.display()))
    }

    /// Trusted-documents mode from a manifest's text: a JSON object of id → document.
    pub fn trusted_from_json(text: &str) -> anyhow::Result<Self> {
        let manifest: HashMap<String, Value> = serde_json::from_str(text)
            .context("the manifest must be a JSON object of id → document")?;
        let mut by_id = HashMap::with_capacity(manifest.len());
        let mut texts = HashSet::with_capacity(manifest.len());
        for (id, document) in manifest {
            let Value::String(document) = document else {
                anyhow::bail!("the manifest's entry {id:?} is not a string");
            };
            let document: Arc<str> = document.into();
            texts.insert(document.clone());
            by_id.insert(id, document);
        }
        Ok(Self {
            apq: Mutex::new(lru::LruCache::new(NonZeroUsize::MIN)),
            trusted: Some(Trusted { by_id, texts }),
        })
    }

    /// Whether only the manifest's documents run.
    pub fn is_trusted_mode(&self) -> bool {
        self.trusted.is_some()
    }

    /// The document a request runs: its `query`, or the one its id or hash names.
    pub(crate) fn resolve(&self, params: &Params) -> Result<String, DocumentError> {
        let hash = apq_hash(params)?;
        let id = params.document_id.as_deref().or(hash.as_deref());
        if let Some(trusted) = &self.trusted {
            return match (&params.query, id) {
                (Some(query), _) if trusted.texts.contains(query.as_str()) => Ok(query.clone()),
                (Some(_), _) => Err(refused(
                    codes::TRUSTED_DOCUMENT_REQUIRED,
                    "this server runs only its trusted documents: send the documentId of one",
                )),
                (None, Some(id)) => trusted
                    .lookup(id)
                    .map(|d| d.to_string())
                    .ok_or_else(|| not_found("no trusted document has this id")),
                (None, None) => Err(DocumentError::Missing),
            };
        }
        match (&params.query, &hash) {
            (Some(query), Some(hash)) => {
                if sha256_hex(query) != *hash {
                    return Err(refused(
                        codes::BAD_USER_INPUT,
                        "extensions.persistedQuery.sha256Hash: not the SHA-256 of the query",
                    ));
                }
                if query.len() <= APQ_MAX_DOCUMENT_BYTES {
                    self.store().put(hash.clone(), query.as_str().into());
                }
                Ok(query.clone())
            }
            (Some(query), None) => Ok(query.clone()),
            (None, _) => match id {
                Some(id) => {
                    let key = id.strip_prefix("sha256:").unwrap_or(id);
                    self.store()
                        .get(key)
                        .map(|d| d.to_string())
                        .ok_or_else(|| not_found("PersistedQueryNotFound"))
                }
                None => Err(DocumentError::Missing),
            },
        }
    }

    fn store(&self) -> std::sync::MutexGuard<'_, lru::LruCache<String, Arc<str>>> {
        self.apq.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Trusted {
    /// By id as given, or without a `sha256:` prefix (the documentId form of the
    /// GraphQL-over-HTTP persisted-documents draft).
    fn lookup(&self, id: &str) -> Option<&Arc<str>> {
        self.by_id
            .get(id)
            .or_else(|| id.strip_prefix("sha256:").and_then(|h| self.by_id.get(h)))
    }
}

fn not_found(message: &str) -> DocumentError {
    refused(codes::NOT_FOUND, message)
}

/// The APQ hash of `extensions.persistedQuery`, lower-cased, when the extension is present.
fn apq_hash(params: &Params) -> Result<Option<String>, DocumentError> {
    let Some(pq) = params.extensions.get("persistedQuery") else {
        return Ok(None);
    };
    let bad = |why: &str| {
        refused(
            codes::BAD_USER_INPUT,
            format!("extensions.persistedQuery: {why}"),
        )
    };
    if pq.get("version").and_then(Value::as_i64) != Some(1) {
        return Err(bad("only version 1 is supported"));
    }
    let hash = pq
        .get("sha256Hash")
        .and_then(Value::as_str)
        .filter(|h| h.len() == 64 && h.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or_else(|| bad("sha256Hash must be 64 hexadecimal digits"))?;
    Ok(Some(hash.to_ascii_lowercase()))
}

/// Lower-case hex SHA-256 of a document's text, as APQ and graphql-codegen compute it.
pub fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn apq(query: Option<&str>, hash: &str) -> Params {
        Params {
            query: query.map(str::to_owned),
            extensions: json!({ "persistedQuery": { "version": 1, "sha256Hash": hash } })
                .as_object()
                .cloned()
                .unwrap_or_default(),
            ..Params::default()
        }
    }

    #[test]
    fn an_apq_hash_is_unknown_until_registered_with_its_query() {
        let store = PersistedDocuments::automatic(2);
        let query = "{ __typename }";
        let hash = sha256_hex(query);
        assert!(matches!(
            store.resolve(&apq(None, &hash)),
            Err(DocumentError::Refused {
                code: codes::NOT_FOUND,
                ..
            })
        ));
        assert_eq!(
            store.resolve(&apq(Some(query), &hash)).as_deref(),
            Ok(query)
        );
        assert_eq!(store.resolve(&apq(None, &hash)).as_deref(), Ok(query));
    }

    #[test]
    fn a_hash_that_is_not_the_querys_is_refused_and_not_stored() {
        let store = PersistedDocuments::automatic(2);
        let wrong = sha256_hex("{ other }");
        assert!(matches!(
            store.resolve(&apq(Some("{ __typename }"), &wrong)),
            Err(DocumentError::Refused {
                code: codes::BAD_USER_INPUT,
                ..
            })
        ));
        assert!(store.resolve(&apq(None, &wrong)).is_err());
    }

    #[test]
    fn the_store_forgets_the_least_recently_used_document() {
        let store = PersistedDocuments::automatic(1);
        for q in ["{ a }", "{ b }"] {
            store
                .resolve(&apq(Some(q), &sha256_hex(q)))
                .expect("stored");
        }
        assert!(store.resolve(&apq(None, &sha256_hex("{ a }"))).is_err());
        assert!(store.resolve(&apq(None, &sha256_hex("{ b }"))).is_ok());
    }

    #[test]
    fn trusted_mode_runs_manifest_documents_only() {
        let docs = PersistedDocuments::trusted_from_json(r#"{"abc": "{ __typename }"}"#)
            .expect("manifest");
        let by_id = Params {
            document_id: Some("abc".into()),
            ..Params::default()
        };
        assert_eq!(docs.resolve(&by_id).as_deref(), Ok("{ __typename }"));
        let same_text = Params {
            query: Some("{ __typename }".into()),
            ..Params::default()
        };
        assert!(docs.resolve(&same_text).is_ok());
        let other = Params {
            query: Some("{ me { email } }".into()),
            ..Params::default()
        };
        assert!(matches!(
            docs.resolve(&other),
            Err(DocumentError::Refused {
                code: codes::TRUSTED_DOCUMENT_REQUIRED,
                ..
            })
        ));
    }
}
