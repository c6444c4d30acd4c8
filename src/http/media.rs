//! Which media type a response is sent as, from the request's `Accept`
//! (GraphQL over HTTP, "Accept" and "Status Codes"):
//! - `application/json` (also for no `Accept`, `*/*` or `application/*`):
//!   every answer to a well-formed request is 200, request errors
//!   (parse, validation, limits, variables) included; clients read
//!   `errors`.
//! - `application/graphql-response+json` (what Apollo Client and graphql-http
//!   send first): a request error, which runs nothing and has no `data`, is
//!   400; an answer with `data` (even `null` after a field error) is 200.
//!
//! Either way, transport refusals keep their own statuses: 400 for a body
//! that is not a GraphQL request, 406, 408, 413, 415, 429 and 503.

use http::{HeaderMap, HeaderValue, StatusCode, header};

/// The GraphQL-over-HTTP response media type.
pub const GRAPHQL_RESPONSE_JSON: &str = "application/graphql-response+json";

/// The media type a response goes out as.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Media {
    /// `application/json`, the legacy type every client accepts.
    Json,
    /// `application/graphql-response+json`.
    GraphqlResponse,
}

impl Media {
    /// The type the caller's `Accept` asks for, or `None` when it accepts
    /// neither (the answer is then 406). Ties go to
    /// `application/graphql-response+json`.
    pub fn negotiate(headers: &HeaderMap) -> Option<Self> {
        let Some(accept) = headers
            .get(header::ACCEPT)
            .and_then(|value| value.to_str().ok())
            .filter(|value| !value.trim().is_empty())
        else {
            return Some(Self::Json);
        };
        // The quality of each type as named; `None` where not named.
        let (mut graphql, mut json, mut any) = (None::<f32>, None::<f32>, None::<f32>);
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let kind = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .map(|parameter| parameter.trim().to_ascii_lowercase())
                .find_map(|parameter| parameter.strip_prefix("q=")?.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            let slot = match kind.as_str() {
                GRAPHQL_RESPONSE_JSON => &mut graphql,
                "application/json" => &mut json,
                "*/*" | "application/*" => &mut any,
                _ => continue,
            };
            *slot = Some(slot.map_or(quality, |seen| seen.max(quality)));
        }
        // A wildcard alone means the legacy type; a type named with q=0 is
        // refused even where a wildcard allows everything else.
        let graphql_named = graphql.is_some();
        let graphql = graphql.or(any).unwrap_or(0.0);
        let json = json.or(any).unwrap_or(0.0);
        if graphql_named && graphql > 0.0 && graphql >= json {
            Some(Self::GraphqlResponse)
        } else if json > 0.0 {
            Some(Self::Json)
        } else if graphql > 0.0 {
            Some(Self::GraphqlResponse)
        } else {
            None
        }
    }

    /// The `Content-Type` of its answers.
    pub fn content_type(self) -> HeaderValue {
        match self {
            Self::Json => HeaderValue::from_static("application/json"),
            Self::GraphqlResponse => HeaderValue::from_static(GRAPHQL_RESPONSE_JSON),
        }
    }

    /// The status of a request error: an operation refused before it ran.
    pub fn request_error_status(self) -> StatusCode {
        match self {
            Self::Json => StatusCode::OK,
            Self::GraphqlResponse => StatusCode::BAD_REQUEST,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn accepting(accept: Option<&str>) -> Option<Media> {
        let mut headers = HeaderMap::new();
        if let Some(accept) = accept {
            headers.insert(header::ACCEPT, HeaderValue::from_str(accept).unwrap());
        }
        Media::negotiate(&headers)
    }

    #[test]
    fn the_accept_header_picks_the_media_type() {
        assert_eq!(accepting(None), Some(Media::Json));
        assert_eq!(accepting(Some("*/*")), Some(Media::Json));
        assert_eq!(accepting(Some("application/json")), Some(Media::Json));
        assert_eq!(
            accepting(Some(
                "application/graphql-response+json, application/json;q=0.9"
            )),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(
            accepting(Some(
                "application/json, application/graphql-response+json;q=0.5"
            )),
            Some(Media::Json)
        );
        assert_eq!(
            accepting(Some("application/graphql-response+json")),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(accepting(Some("text/html")), None);
        assert_eq!(
            accepting(Some("application/json;q=0, */*")),
            Some(Media::GraphqlResponse)
        );
        assert_eq!(
            accepting(Some("*/*;Q=0.5, application/json;Q=0.1")),
            Some(Media::Json)
        );
        assert_eq!(
            accepting(Some(
                "application/json;q=0, application/graphql-response+json;q=0"
            )),
            None
        );
        assert_eq!(accepting(Some("application/json;q=0")), None);
    }
}
