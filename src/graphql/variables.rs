//! Required variables are checked before anything runs, as graphql-js does
//! ("coercing variable values"): async-graphql looks a variable up only
//! when a field's argument needs it, and a missing one then surfaced as an
//! uncoded resolver error (masked as INTERNAL), not as the client's
//! mistake it is.

use async_graphql::{
    Name, ServerError, ServerResult, Value, Variables, parser::types::ExecutableDocument,
};

use super::operation::selected_operation;
use crate::error::ErrorCode;

/// Refuses an operation whose non-null variable without a default is
/// absent or `null`: `BAD_USER_INPUT` with `extensions.field` naming it
/// (`$id`). Values of the wrong type are refused where they are used, with
/// the same code.
///
/// # Errors
/// The first such variable.
pub fn check_required_variables(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
    variables: &Variables,
) -> ServerResult<()> {
    let Some(operation) = selected_operation(document, operation_name) else {
        // No such operation: validation says so.
        return Ok(());
    };
    for definition in &operation.variable_definitions {
        let definition = &definition.node;
        let var_type = &definition.var_type.node;
        if var_type.nullable || definition.default_value.is_some() {
            continue;
        }
        let name = &definition.name.node;
        let problem = match variables.get(name) {
            None => "was not provided",
            Some(Value::Null) => "must not be null",
            Some(_) => continue,
        };
        return Err(required_variable_error(
            name,
            &var_type.to_string(),
            problem,
        ));
    }
    Ok(())
}

fn required_variable_error(name: &Name, var_type: &str, problem: &str) -> ServerError {
    let mut error = ErrorCode::BadUserInput.server_error(format!(
        "variable \"${name}\" of required type \"{var_type}\" {problem}"
    ));
    error
        .extensions
        .get_or_insert_with(Default::default)
        .set("field", format!("${name}"));
    error
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(query: &str, operation: Option<&str>, variables: serde_json::Value) -> Option<String> {
        let document = async_graphql::parser::parse_query(query).ok()?;
        check_required_variables(&document, operation, &Variables::from_json(variables))
            .err()
            .map(|error| error.message)
    }

    #[test]
    fn a_required_variable_must_be_given_and_not_null() {
        let query = "query($id: ID!) { patient(id: $id) { id } }";
        assert_eq!(
            check(query, None, serde_json::json!({})).as_deref(),
            Some("variable \"$id\" of required type \"ID!\" was not provided")
        );
        assert_eq!(
            check(query, None, serde_json::json!({ "id": null })).as_deref(),
            Some("variable \"$id\" of required type \"ID!\" must not be null")
        );
        assert_eq!(check(query, None, serde_json::json!({ "id": "x" })), None);
    }

    #[test]
    fn nullable_and_defaulted_variables_may_be_left_out() {
        let query = "query($first: Int, $last: Int! = 5) { patients(first: $first, last: $last) { totalCount } }";
        assert_eq!(check(query, None, serde_json::json!({})), None);
    }

    #[test]
    fn the_named_operation_is_the_one_checked() {
        let query = "query A($id: ID!) { patient(id: $id) { id } } query B { me { __typename } }";
        assert_eq!(check(query, Some("B"), serde_json::json!({})), None);
        assert!(check(query, Some("A"), serde_json::json!({})).is_some());
        assert_eq!(
            check(query, None, serde_json::json!({})),
            None,
            "validation picks"
        );
    }
}
