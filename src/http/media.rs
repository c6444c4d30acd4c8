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
        let (mut graphql, mut json, mut any) = (0.0_f32, 0.0_f32, 0.0_f32);
        for range in accept.split(',') {
            let mut parts = range.split(';');
            let kind = parts.next().unwrap_or_default().trim().to_ascii_lowercase();
            let quality = parts
                .filter_map(|parameter| parameter.trim().strip_prefix("q="))
                .find_map(|q| q.trim().parse::<f32>().ok())
                .unwrap_or(1.0);
            match kind.as_str() {
                GRAPHQL_RESPONSE_JSON => graphql = graphql.max(quality),
                "application/json" => json = json.max(quality),
                "*/*" | "application/*" => any = any.max(quality),
                _ => {}
            }
        }
        if graphql > 0.0 && graphql >= json {
            Some(Self::GraphqlResponse)
        } else if json > 0.0 || any > 0.0 {
            Some(Self::Json)
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
        assert_eq!(accepting(Some("application/json;q=0")), None);
    }
}
