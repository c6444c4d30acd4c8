//! Which operation of a document runs: the named one, or the only one, and
//! the name it is counted under in the metrics.

use async_graphql::parser::types::{
    DocumentOperations, ExecutableDocument, OperationDefinition, Selection,
};

/// Root fields anonymous callers may run; an anonymous operation is
/// counted under its root field when it is one of them (their names are
/// the schema's, so callers cannot invent labels).
const PUBLIC_ROOT_FIELDS: [&str; 4] = [
    "login",
    "refreshSession",
    "logout",
    "submitConsultationRequest",
];

/// The name an operation is counted under in `/metrics`: the name the
/// document itself gives the operation that runs (never a client's
/// `operationName` the document does not define), for signed-in callers;
/// for anonymous ones, the public root field it runs (`login`), or
/// `anonymous`. `None` for an unnamed operation of a signed-in caller.
pub fn metric_label(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    anonymous: bool,
) -> Option<String> {
    if anonymous {
        let root = selected_operation(document, operation_name)
            .and_then(|operation| operation.selection_set.node.items.first())
            .and_then(|item| match &item.node {
                Selection::Field(field) => Some(field.node.name.node.as_str()),
                _ => None,
            })
            .filter(|name| PUBLIC_ROOT_FIELDS.contains(name));
        return Some(root.unwrap_or("anonymous").to_owned());
    }
    match &document.operations {
        DocumentOperations::Single(_) => None,
        DocumentOperations::Multiple(operations) => match operation_name {
            Some(name) => operations.contains_key(name).then(|| name.to_owned()),
            None if operations.len() == 1 => operations.keys().next().map(ToString::to_string),
            None => None,
        },
    }
}

/// The operation `operation_name` picks in `document` (the only one when no
/// name is given); `None` when there is no such operation, which
/// validation then reports.
pub fn selected_operation<'d>(
    document: &'d ExecutableDocument,
    operation_name: Option<&str>,
) -> Option<&'d OperationDefinition> {
    match (&document.operations, operation_name) {
        (DocumentOperations::Single(operation), _) => Some(&operation.node),
        (DocumentOperations::Multiple(operations), Some(name)) => {
            operations.get(name).map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(operations), None) if operations.len() == 1 => {
            operations.values().next().map(|operation| &operation.node)
        }
        (DocumentOperations::Multiple(_), None) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn label(query: &str, name: Option<&str>, anonymous: bool) -> Option<String> {
        let document = async_graphql::parser::parse_query(query).ok()?;
        metric_label(&document, name, anonymous)
    }

    #[test]
    fn only_names_the_document_defines_become_labels() {
        assert_eq!(
            label("query Headline { me { id } }", None, false).as_deref(),
            Some("Headline")
        );
        assert_eq!(
            label("query Headline { me { id } }", Some("Headline"), false).as_deref(),
            Some("Headline")
        );
        assert_eq!(
            label("query Headline { me { id } }", Some("Invented1"), false),
            None
        );
        assert_eq!(label("{ me { id } }", Some("Invented2"), false), None);
    }

    #[test]
    fn anonymous_callers_are_counted_by_public_root_field() {
        assert_eq!(
            label(
                "mutation Anything { login(input: {}) { accessToken } }",
                None,
                true
            )
            .as_deref(),
            Some("login")
        );
        assert_eq!(
            label("query Invented { clinicPolicy { timeZone } }", None, true).as_deref(),
            Some("anonymous")
        );
    }
}
