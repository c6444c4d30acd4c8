//! The standard introspection query, where introspection is on, is not
//! held to the depth and complexity limits of data queries (graphql-armor's
//! "ignore introspection"): GraphiQL's Docs pane, codegen from a URL,
//! `graphql-inspector introspect` and Python `gql` all send a query 15
//! levels deep through its `TypeRef` fragment, while data queries stop at
//! 10. An introspection query is held to its own shape instead, which the
//! standard query meets and a circular one (`types { fields { type {
//! fields { type { fields …`) does not: along any path each of the fields
//! that lead back into the type graph appears at most once, and `ofType`
//! chains stop at [`MAX_OF_TYPE_CHAIN`].

use std::collections::HashSet;

use async_graphql::{
    ServerResult,
    parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet},
};

use super::{limits::too_complex, operation::selected_operation};

/// Fields that lead from a type back into the type graph: a query may pass
/// through each at most once on any path.
const CYCLE_FIELDS: [&str; 5] = [
    "fields",
    "inputFields",
    "interfaces",
    "possibleTypes",
    "types",
];

/// Longest `ofType` chain (lists and non-nulls wrapped around a named
/// type); graphql-js and graphql-core send 7 to 9.
pub const MAX_OF_TYPE_CHAIN: usize = 12;

/// Whether the operation asks for nothing but introspection (`__schema`,
/// `__type`, `__typename` at its root, directly or through fragments).
pub fn is_introspection_only(document: &ExecutableDocument, operation_name: Option<&str>) -> bool {
    let Some(operation) = selected_operation(document, operation_name) else {
        return false;
    };
    operation.ty == OperationType::Query
        && root_fields_are_introspection(document, &operation.selection_set.node, &mut Vec::new())
}

fn root_fields_are_introspection<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    visiting: &mut Vec<&'d str>,
) -> bool {
    set.items.iter().all(|item| match &item.node {
        Selection::Field(field) => field.node.name.node.starts_with("__"),
        Selection::InlineFragment(fragment) => {
            root_fields_are_introspection(document, &fragment.node.selection_set.node, visiting)
        }
        Selection::FragmentSpread(spread) => {
            let name = spread.node.fragment_name.node.as_str();
            if visiting.contains(&name) {
                // A cycle: validation refuses it.
                return false;
            }
            let Some(fragment) = document.fragments.get(name) else {
                return false;
            };
            visiting.push(name);
            let only = root_fields_are_introspection(
                document,
                &fragment.node.selection_set.node,
                visiting,
            );
            visiting.pop();
            only
        }
    })
}

/// Refuses an introspection query that goes round the type graph.
///
/// # Errors
/// `QUERY_TOO_COMPLEX` naming the field that repeats or the chain that is
/// too long.
pub fn check_introspection_shape(
    document: &ExecutableDocument,
    operation_name: Option<&str>,
) -> ServerResult<()> {
    let Some(operation) = selected_operation(document, operation_name) else {
        return Ok(());
    };
    let mut walk = Walk {
        document,
        path: Vec::new(),
        fragments: Vec::new(),
        checked: HashSet::new(),
    };
    walk.set(&operation.selection_set.node)
}

struct Walk<'d> {
    document: &'d ExecutableDocument,
    /// Field names from the root to here.
    path: Vec<&'d str>,
    /// Fragments being expanded, to stop at a cycle (validation refuses it).
    fragments: Vec<&'d str>,
    /// (fragment, path shape) pairs already checked, so that a fragment
    /// spread in many places is walked once per distinct context.
    checked: HashSet<(&'d str, Vec<&'d str>)>,
}

impl<'d> Walk<'d> {
    fn set(&mut self, set: &'d SelectionSet) -> ServerResult<()> {
        for item in &set.items {
            match &item.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    self.path.push(name);
                    let checked = self
                        .check_path()
                        .and_then(|()| self.set(&field.node.selection_set.node));
                    self.path.pop();
                    checked?;
                }
                Selection::InlineFragment(fragment) => {
                    self.set(&fragment.node.selection_set.node)?
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    if self.fragments.contains(&name)
                        || !self.checked.insert((name, self.context()))
                    {
                        continue;
                    }
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue;
                    };
                    self.fragments.push(name);
                    let checked = self.set(&fragment.node.selection_set.node);
                    self.fragments.pop();
                    checked?;
                }
            }
        }
        Ok(())
    }

    /// What of the path matters to the rules: the cycle fields on it and
    /// the length of the `ofType` chain it ends in.
    fn context(&self) -> Vec<&'d str> {
        let mut context: Vec<&str> = self
            .path
            .iter()
            .copied()
            .filter(|name| CYCLE_FIELDS.contains(name))
            .collect();
        context.extend(std::iter::repeat_n("ofType", self.of_type_chain()));
        context
    }

    fn of_type_chain(&self) -> usize {
        self.path
            .iter()
            .rev()
            .take_while(|name| **name == "ofType")
            .count()
    }

    fn check_path(&self) -> ServerResult<()> {
        for field in CYCLE_FIELDS {
            let times = self.path.iter().filter(|name| **name == field).count();
            if times > 1 {
                return Err(too_complex(format!(
                    "the introspection query nests `{field}` {times} times; once is enough to read the whole schema"
                )));
            }
        }
        let chain = self.of_type_chain();
        if chain > MAX_OF_TYPE_CHAIN {
            return Err(too_complex(format!(
                "the introspection query nests `ofType` {chain} times; the limit is {MAX_OF_TYPE_CHAIN}"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(query: &str) -> ExecutableDocument {
        async_graphql::parser::parse_query(query).unwrap_or_else(|error| panic!("{error}"))
    }

    const STANDARD: &str = "query IntrospectionQuery { __schema { queryType { name } types { ...FullType } } }
        fragment FullType on __Type { kind name fields(includeDeprecated: true) { name args { ...InputValue } type { ...TypeRef } }
          inputFields { ...InputValue } interfaces { ...TypeRef } enumValues(includeDeprecated: true) { name } possibleTypes { ...TypeRef } }
        fragment InputValue on __InputValue { name type { ...TypeRef } defaultValue }
        fragment TypeRef on __Type { kind name ofType { kind name ofType { kind name ofType { kind name ofType { kind name
          ofType { kind name ofType { kind name ofType { kind name ofType { kind name } } } } } } } } }";

    #[test]
    fn the_standard_query_is_introspection_and_has_the_allowed_shape() {
        let standard = document(STANDARD);
        assert!(is_introspection_only(&standard, None));
        assert!(check_introspection_shape(&standard, None).is_ok());
    }

    #[test]
    fn data_next_to_introspection_is_held_to_the_data_limits() {
        let mixed = document("{ __schema { types { name } } patients { totalCount } }");
        assert!(!is_introspection_only(&mixed, None));
        let mutation = document("mutation { __typename }");
        assert!(!is_introspection_only(&mutation, None));
    }

    #[test]
    fn going_round_the_type_graph_is_refused() {
        let circular = document(
            "{ __schema { types { fields { type { fields { type { fields { name } } } } } } } }",
        );
        let refused = check_introspection_shape(&circular, None)
            .err()
            .map(|error| error.message);
        assert!(refused.is_some_and(|message| message.contains("`fields` 2 times")));
        let through_fragments = document(
            "{ __type(name: \"Patient\") { ...F } } fragment F on __Type { fields { type { ...G } } }
             fragment G on __Type { fields { name } }",
        );
        assert!(check_introspection_shape(&through_fragments, None).is_err());
        let long_chain = format!(
            "{{ __type(name: \"Patient\") {{ {}name{} }} }}",
            "ofType { ".repeat(13),
            " }".repeat(13)
        );
        assert!(check_introspection_shape(&document(&long_chain), None).is_err());
    }
}
