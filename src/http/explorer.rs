//! GraphiQL, the in-browser explorer, served from the binary: `GET /graphql`
//! answers the page and `GET /graphql/assets/{file}` its pinned scripts and
//! styles (assets/graphiql/, embedded at build time), so it loads on a
//! clinic network with no Internet access. The page never executes the
//! `?query=` it may be given; it is off in production unless enabled.

use axum::{
    extract::{Path, State},
    response::{IntoResponse, Response},
};
use http::{HeaderValue, StatusCode, header};

use super::{HttpState, graphql::reject};
use crate::error::ErrorCode;

/// Content Security Policy of the GraphiQL page: scripts, styles, fonts,
/// images and connections (HTTP and WebSocket) from this server only. Inline
/// styles stay allowed because GraphiQL's editors set `style` attributes.
const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
    img-src 'self' data:; font-src 'self' data:; connect-src 'self'; base-uri 'none'; \
    form-action 'none'; frame-ancestors 'none'";

/// The page itself.
const PAGE: &str = include_str!("../../assets/graphiql/index.html");

/// One embedded file the page loads.
struct Asset {
    /// The name under `/graphql/assets/`.
    name: &'static str,
    /// Its `Content-Type`.
    content_type: &'static str,
    /// Its bytes, as committed under assets/graphiql/.
    bytes: &'static [u8],
}

/// An [`Asset`] for `assets/graphiql/<name>`, embedded at build time.
macro_rules! asset {
    ($name:literal, $content_type:literal) => {
        Asset {
            name: $name,
            content_type: $content_type,
            bytes: include_bytes!(concat!("../../assets/graphiql/", $name)),
        }
    };
}

/// Every file under `/graphql/assets/`; assets/graphiql/README.md gives
/// each one's package and version.
const ASSETS: &[Asset] = &[
    asset!("graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("graphiql.min.css", "text/css; charset=utf-8"),
    asset!("react.production.min.js", "text/javascript; charset=utf-8"),
    asset!(
        "react-dom.production.min.js",
        "text/javascript; charset=utf-8"
    ),
    asset!("graphql-ws.min.js", "text/javascript; charset=utf-8"),
    asset!("explorer.js", "text/javascript; charset=utf-8"),
    asset!("explorer.css", "text/css; charset=utf-8"),
    asset!("favicon.svg", "image/svg+xml"),
];

/// The refusal while GraphiQL is switched off.
fn disabled() -> Response {
    reject(
        StatusCode::NOT_FOUND,
        ErrorCode::NotFound,
        "GraphiQL is disabled on this server; send operations with POST /graphql",
    )
}

/// `GET /graphql`: the GraphiQL page, when enabled.
pub(super) async fn page(State(state): State<HttpState>) -> Response {
    if !state.app.config.graphiql_enabled() {
        return disabled();
    }
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            ),
            (
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(PAGE_CSP),
            ),
        ],
        PAGE,
    )
        .into_response()
}

/// `GET /graphql/assets/{file}`: one of the page's embedded files. They
/// change only with the binary, so browsers may keep them for a day.
pub(super) async fn asset(State(state): State<HttpState>, Path(name): Path<String>) -> Response {
    if !state.app.config.graphiql_enabled() {
        return disabled();
    }
    let Some(asset) = ASSETS.iter().find(|asset| asset.name == name) else {
        return reject(
            StatusCode::NOT_FOUND,
            ErrorCode::NotFound,
            "no such GraphiQL asset",
        );
    };
    (
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(asset.content_type),
            ),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=86400"),
            ),
        ],
        asset.bytes,
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_loads_only_embedded_files() {
        let references: Vec<&str> = PAGE
            .split(['"', '\''])
            .filter(|part| part.starts_with('/') || part.contains("://"))
            .collect();
        assert!(!references.is_empty());
        for reference in references {
            let name = reference
                .strip_prefix("/graphql/assets/")
                .unwrap_or_else(|| panic!("the page loads {reference} from elsewhere"));
            assert!(
                ASSETS.iter().any(|asset| asset.name == name),
                "{name} is not embedded"
            );
        }
    }

    #[test]
    fn the_page_allows_no_other_origin_and_no_inline_script() {
        assert!(
            !PAGE.contains("<script>"),
            "inline scripts need 'unsafe-inline'"
        );
        assert!(!PAGE_CSP.contains("http"), "{PAGE_CSP}");
        assert!(PAGE_CSP.contains("script-src 'self';"), "{PAGE_CSP}");
    }
}
