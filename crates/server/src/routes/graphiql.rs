//! The GraphiQL page and its assets, embedded in the binary: no CDN, so the page works on a
//! machine without internet access and under a strict Content-Security-Policy.
//!
//! The assets in `crates/server/assets/graphiql/` are GraphiQL's and React's production UMD
//! builds, vendored with their licences by `scripts/refresh-graphiql` (pinned versions in
//! `VERSIONS`), plus `bootstrap.js`, ours, which mounts the editor (an inline script would
//! need `'unsafe-inline'`). They are served under `/graphiql/assets/` with a year-long,
//! immutable cache lifetime; the page names them with a hash of their content (`?v=…`), so a
//! new binary's assets are never confused with an old one's.

use std::sync::OnceLock;

use axum::extract::Path;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

/// One embedded file.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    bytes: &'static [u8],
}

macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            bytes: include_bytes!(concat!("../../assets/graphiql/", $name)),
        }
    };
}

const JS: &str = "text/javascript; charset=utf-8";
const CSS: &str = "text/css; charset=utf-8";

/// Everything the page loads, in the order it loads the scripts.
static ASSETS: [Asset; 6] = [
    asset!("graphiql.min.css", CSS),
    asset!("page.css", CSS),
    asset!("react.production.min.js", JS),
    asset!("react-dom.production.min.js", JS),
    asset!("graphiql.min.js", JS),
    asset!("bootstrap.js", JS),
];

/// The page's policy: scripts, styles and fonts from this origin only (the stylesheet's
/// fonts and icons are `data:` URLs inside it), fetches and sockets to this origin only, no
/// inline script, no eval, no frames, no forms, no plugins. Inline styles are allowed:
/// GraphiQL's dialogs (Radix, react-remove-scroll) insert `<style>` elements whose content
/// depends on the scrollbar's width, so no hash can name them, and styles cannot run code.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data:; font-src 'self' data:; base-uri 'none'; form-action 'none'; \
     frame-ancestors 'none'";

/// GraphiQL, pointed at `/graphql` for queries and at its WebSocket URL for subscriptions
/// (see `bootstrap.js`).
pub(crate) async fn graphiql(headers: HeaderMap) -> Response {
    let mut response = (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        page(),
    )
        .into_response();
    if let Ok(csp) = HeaderValue::from_str(&policy(&headers)) {
        response
            .headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    response
}

/// `CSP` with `connect-src`: this origin, and its WebSocket URLs by name (`'self'` covers
/// `ws:`/`wss:` only in CSP level 3 browsers). The `Host` header is used only when it is a
/// plain host[:port], so a forged one cannot widen the policy beyond itself.
fn policy(headers: &HeaderMap) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .filter(|h| {
            !h.is_empty()
                && h.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b))
        });
    match host {
        Some(host) => format!("{CSP}; connect-src 'self' ws://{host} wss://{host}"),
        None => format!("{CSP}; connect-src 'self'"),
    }
}

fn page() -> &'static str {
    static PAGE: OnceLock<String> = OnceLock::new();
    PAGE.get_or_init(|| {
        let mut head = String::new();
        let mut body = String::new();
        for asset in &ASSETS {
            let href = format!("/graphiql/assets/{}?v={}", asset.name, version(asset));
            if asset.name.ends_with(".css") {
                head.push_str(&format!("    <link rel=\"stylesheet\" href=\"{href}\">\n"));
            } else {
                body.push_str(&format!("    <script src=\"{href}\"></script>\n"));
            }
        }
        format!(
            r#"<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="robots" content="noindex">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>Frontdesk GraphiQL</title>
    <link rel="icon" href="data:,">
{head}  </head>
  <body>
    <div id="graphiql">Loading...</div>
{body}  </body>
</html>
"#
        )
    })
}

/// A short hash of an asset's content, naming its version in URLs.
fn version(asset: &Asset) -> String {
    let digest = Sha256::digest(asset.bytes);
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

/// `/graphiql/assets/{name}`: an embedded asset, cacheable for a year.
pub(crate) async fn asset(Path(name): Path<String>) -> Response {
    match ASSETS.iter().find(|a| a.name == name) {
        Some(asset) => (
            [
                (header::CONTENT_TYPE, asset.content_type),
                (header::CACHE_CONTROL, "public, max-age=31536000, immutable"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            asset.bytes,
        )
            .into_response(),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}
