//! Query limits enforced before any resolver runs, each with an error that
//! says which limit was hit and by how much: `QUERY_TOO_COMPLEX`.
//!
//! [`crate::graphql::Schemas`] calls the checks around the serving schema.
//! async-graphql measures depth and complexity only during validation and
//! hands the figures only to extensions, so [`QueryLimits`] is also the
//! extension of the schema that explains such a refusal.

use std::{collections::HashMap, sync::Arc};

use async_graphql::{
    ServerError, ServerResult, ValidationResult, Variables,
    extensions::{Extension, ExtensionContext, ExtensionFactory, NextValidation},
    parser::types::{BaseType, ExecutableDocument, Selection, SelectionSet},
};

use async_graphql_value::Value as GqlValue;

use super::tokens::{MAX_NESTING, MAX_VALUE_DEPTH, QueryScan, scan_query};
use crate::{config::GraphqlLimits, error::ErrorCode};

/// The limits of one schema; an [`ExtensionFactory`].
#[derive(Clone, Debug)]
pub struct QueryLimits {
    max_depth: usize,
    max_complexity: usize,
    max_aliases: usize,
    max_directives: usize,
    max_tokens: usize,
}

impl QueryLimits {
    /// The limits from configuration.
    pub fn new(limits: &GraphqlLimits) -> Self {
        Self {
            max_depth: limits.max_depth,
            max_complexity: limits.max_complexity,
            max_aliases: limits.max_aliases,
            max_directives: limits.max_directives,
            max_tokens: limits.max_tokens,
        }
    }
}

impl ExtensionFactory for QueryLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(self.clone())
    }
}

/// A `QUERY_TOO_COMPLEX` error.
pub fn too_complex(message: String) -> ServerError {
    ErrorCode::QueryTooComplex.server_error(message)
}

/// Whether an operation's text holds a NUL character, in a variable or as a
/// `\u0000` escape in the document. No record may hold one (PostgreSQL
/// cannot store it in text), so it is refused up front on every engine.
pub fn carries_nul(query: &str, variables: &Variables) -> bool {
    fn value_carries_nul(value: &async_graphql::Value) -> bool {
        match value {
            async_graphql::Value::String(text) => text.contains('\0'),
            async_graphql::Value::List(items) => items.iter().any(value_carries_nul),
            async_graphql::Value::Object(fields) => fields
                .iter()
                .any(|(name, value)| name.contains('\0') || value_carries_nul(value)),
            _ => false,
        }
    }
    // GraphQL writes NUL in a string only as `\u0000` (a lowercase `u` and
    // exactly four hex digits), so no case folding is needed.
    query.contains('\0')
        || query.contains("\\u0000")
        || variables
            .iter()
            .any(|(name, value)| name.contains('\0') || value_carries_nul(value))
}

impl QueryLimits {
    /// The depth and complexity limits, for the schema's own validation
    /// (see [`crate::graphql::Schemas`]).
    pub fn depth_and_complexity(&self) -> (usize, usize) {
        (self.max_depth, self.max_complexity)
    }

    /// Refuses text holding NUL, which no record may hold, and text with
    /// more tokens or deeper values than the parser may be given (the HTTP
    /// handler checks the same before authentication; this covers
    /// operations sent over WebSocket).
    ///
    /// # Errors
    /// `BAD_USER_INPUT` for NUL, `QUERY_TOO_COMPLEX` for the others.
    pub fn check_text(&self, query: &str, variables: &Variables) -> ServerResult<()> {
        if carries_nul(query, variables) {
            return Err(ErrorCode::BadUserInput.server_error(NUL_REFUSAL));
        }
        let scan = scan_query(query, self.max_tokens);
        if scan.tokens > self.max_tokens {
            return Err(too_complex(format!(
                "the query has more than {} tokens, the limit",
                self.max_tokens
            )));
        }
        check_value_depth(&scan)
    }

    /// Refuses a parsed document with too many aliases, or a field with
    /// too many directives.
    ///
    /// # Errors
    /// `QUERY_TOO_COMPLEX` naming the limit and the count.
    pub fn check_document(&self, document: &ExecutableDocument) -> ServerResult<()> {
        check_conditions(document)?;
        let shape = DocumentShape::of(document);
        if shape.aliases > self.max_aliases {
            return Err(too_complex(format!(
                "query uses {} aliases; the limit is {}",
                shape.aliases, self.max_aliases
            )));
        }
        if shape.most_directives_on_a_field > self.max_directives {
            return Err(too_complex(format!(
                "a field has {} directives; the limit is {}",
                shape.most_directives_on_a_field, self.max_directives
            )));
        }
        Ok(())
    }

    /// Refuses a validated document that is too deep or too complex.
    ///
    /// # Errors
    /// `QUERY_TOO_COMPLEX` naming the limit and the measured value.
    pub fn check_validated(&self, result: &ValidationResult) -> ServerResult<()> {
        if result.depth > self.max_depth {
            return Err(too_complex(format!(
                "query depth {} exceeds the limit of {}",
                result.depth, self.max_depth
            )));
        }
        if result.complexity > self.max_complexity {
            return Err(too_complex(format!(
                "query complexity {} exceeds the limit of {}",
                result.complexity, self.max_complexity
            )));
        }
        Ok(())
    }
}

/// Refuses a query whose values nest deeper than [`MAX_VALUE_DEPTH`], or
/// whose braces and brackets of any kind nest deeper than [`MAX_NESTING`],
/// before the recursive parser could overflow its stack on it.
///
/// # Errors
/// `QUERY_TOO_COMPLEX` naming the depth and the limit.
pub fn check_value_depth(scan: &QueryScan) -> ServerResult<()> {
    if scan.value_depth > MAX_VALUE_DEPTH {
        return Err(too_complex(format!(
            "values nest {} levels deep; the limit is {MAX_VALUE_DEPTH}",
            scan.value_depth
        )));
    }
    if scan.nesting > MAX_NESTING {
        return Err(too_complex(format!(
            "the query nests {} levels deep (selections, fragments and values together); the limit is {MAX_NESTING}",
            scan.nesting
        )));
    }
    Ok(())
}

/// Why text holding NUL is refused.
pub const NUL_REFUSAL: &str = "text must not contain NUL (U+0000) characters";

/// The depth and complexity limits as a schema hook: async-graphql measures
/// both during validation and hands the figures only to extensions. Used by
/// [`crate::graphql::Schemas`] to explain a refusal.
#[async_trait::async_trait]
impl Extension for QueryLimits {
    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        self.check_validated(&result).map_err(|error| vec![error])?;
        Ok(result)
    }
}

/// What the limits look at in a parsed document.
#[derive(Debug, Default, PartialEq, Eq)]
struct DocumentShape {
    /// Aliased fields, each fragment counted as often as it is spread.
    aliases: usize,
    /// The largest number of directives on a single field.
    most_directives_on_a_field: usize,
}

impl DocumentShape {
    fn of(document: &ExecutableDocument) -> Self {
        let mut counter = AliasCounter {
            document,
            memo: HashMap::new(),
            in_progress: Vec::new(),
        };
        let mut shape = Self::default();
        for (_, operation) in document.operations.iter() {
            let set = &operation.node.selection_set.node;
            shape.aliases = shape.aliases.saturating_add(counter.count(set));
            shape.most_directives_on_a_field =
                shape.most_directives_on_a_field.max(most_directives(set));
        }
        for fragment in document.fragments.values() {
            shape.most_directives_on_a_field = shape
                .most_directives_on_a_field
                .max(most_directives(&fragment.node.selection_set.node));
        }
        shape
    }
}

/// Counts aliases with fragment spreads expanded, memoized per fragment so
/// that nested spreads cannot make the count itself exponential.
struct AliasCounter<'a> {
    document: &'a ExecutableDocument,
    memo: HashMap<&'a str, usize>,
    in_progress: Vec<&'a str>,
}

impl<'a> AliasCounter<'a> {
    fn count(&mut self, set: &'a SelectionSet) -> usize {
        set.items.iter().fold(0usize, |total, selection| {
            let here = match &selection.node {
                Selection::Field(field) => usize::from(field.node.alias.is_some())
                    .saturating_add(self.count(&field.node.selection_set.node)),
                Selection::InlineFragment(inline) => self.count(&inline.node.selection_set.node),
                Selection::FragmentSpread(spread) => {
                    self.count_fragment(spread.node.fragment_name.node.as_str())
                }
            };
            total.saturating_add(here)
        })
    }

    fn count_fragment(&mut self, name: &'a str) -> usize {
        if let Some(count) = self.memo.get(name) {
            return *count;
        }
        // A cycle is a validation error reported later; count it once here.
        if self.in_progress.contains(&name) {
            return 0;
        }
        let Some(fragment) = self
            .document
            .fragments
            .iter()
            .find(|(fragment_name, _)| fragment_name.as_str() == name)
            .map(|(_, fragment)| fragment)
        else {
            return 0;
        };
        self.in_progress.push(name);
        let count = self.count(&fragment.node.selection_set.node);
        self.in_progress.pop();
        self.memo.insert(name, count);
        count
    }
}

/// Refuses an `@include` or `@skip` whose `if` is missing or is not a
/// Boolean: a literal, or a variable every operation declares `Boolean!`
/// (or `Boolean` with a default). async-graphql drops skipped selections
/// outside its validation of arguments, reading a condition it cannot
/// parse (or a null) as `false`, so `@include(if: [[true]])` would silently
/// empty the answer instead of being refused.
///
/// # Errors
/// `BAD_USER_INPUT` naming the directive.
pub fn check_conditions(document: &ExecutableDocument) -> ServerResult<()> {
    let boolean_variable = |name: &str| {
        let mut declared = document
            .operations
            .iter()
            .flat_map(|(_, operation)| operation.node.variable_definitions.iter())
            .filter(|definition| definition.node.name.node.as_str() == name)
            .peekable();
        declared.peek().is_some() && declared.all(|definition| {
            let var_type = &definition.node.var_type.node;
            matches!(&var_type.base, BaseType::Named(type_name) if type_name.as_str() == "Boolean")
                && (!var_type.nullable || definition.node.default_value.is_some())
        })
    };
    let sets = document
        .operations
        .iter()
        .map(|(_, operation)| &operation.node.selection_set.node)
        .chain(
            document
                .fragments
                .values()
                .map(|fragment| &fragment.node.selection_set.node),
        );
    let mut pending: Vec<&SelectionSet> = sets.collect();
    while let Some(set) = pending.pop() {
        for selection in &set.items {
            let directives = match &selection.node {
                Selection::Field(field) => {
                    pending.push(&field.node.selection_set.node);
                    &field.node.directives
                }
                Selection::InlineFragment(inline) => {
                    pending.push(&inline.node.selection_set.node);
                    &inline.node.directives
                }
                Selection::FragmentSpread(spread) => &spread.node.directives,
            };
            for directive in directives {
                let name = directive.node.name.node.as_str();
                if name != "include" && name != "skip" {
                    continue;
                }
                let sound = match directive.node.get_argument("if").map(|value| &value.node) {
                    Some(GqlValue::Boolean(_)) => true,
                    Some(GqlValue::Variable(variable)) => boolean_variable(variable.as_str()),
                    _ => false,
                };
                if !sound {
                    return Err(ErrorCode::BadUserInput.server_error(format!(
                        "@{name} takes `if: Boolean!`: a true or false, or a Boolean variable"
                    )));
                }
            }
        }
    }
    Ok(())
}

fn most_directives(set: &SelectionSet) -> usize {
    set.items
        .iter()
        .map(|selection| match &selection.node {
            Selection::Field(field) => field
                .node
                .directives
                .len()
                .max(most_directives(&field.node.selection_set.node)),
            Selection::InlineFragment(inline) => inline
                .node
                .directives
                .len()
                .max(most_directives(&inline.node.selection_set.node)),
            Selection::FragmentSpread(spread) => spread.node.directives.len(),
        })
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use async_graphql::parser::parse_query;

    use super::*;

    fn shape(query: &str) -> DocumentShape {
        DocumentShape::of(&parse_query(query).unwrap())
    }

    #[test]
    fn nul_characters_are_found_in_documents_and_variables() {
        let plain = async_graphql::Request::new("{ patients { totalCount } }");
        assert!(!carries_nul(&plain.query, &plain.variables));
        let escaped = async_graphql::Request::new(
            r#"{ patients(filter: { search: "a\u0000" }) { totalCount } }"#,
        );
        assert!(carries_nul(&escaped.query, &escaped.variables));
        let nested = async_graphql::Request::new("query($i: In!) { x(i: $i) }").variables(
            async_graphql::Variables::from_json(
                serde_json::json!({ "i": { "list": ["ok", "a\u{0}b"] } }),
            ),
        );
        assert!(carries_nul(&nested.query, &nested.variables));
        let clean = async_graphql::Request::new("query($i: In!) { x(i: $i) }").variables(
            async_graphql::Variables::from_json(
                serde_json::json!({ "i": { "list": ["ok", "\\u0000 as text"] } }),
            ),
        );
        assert!(!carries_nul(&clean.query, &clean.variables));
    }

    #[test]
    fn counts_aliases_in_operations() {
        assert_eq!(shape("{ a: me b: me c: me }").aliases, 3);
        assert_eq!(shape("{ me }").aliases, 0);
    }

    #[test]
    fn counts_fragment_aliases_once_per_spread() {
        let query = "{ ...F ...F x: me } fragment F on Query { a: me b: me }";
        assert_eq!(shape(query).aliases, 5);
    }

    #[test]
    fn nested_spreads_multiply_without_blowing_up() {
        let mut query = String::from("{ ...F0 } fragment F0 on Query { a: me b: me }");
        for level in 1..40 {
            query.push_str(&format!(
                " fragment F{level} on Query {{ ...F{prev} ...F{prev} }}",
                prev = level - 1
            ));
        }
        query = query.replacen("{ ...F0 }", "{ ...F39 }", 1);
        // 2 aliases doubled 39 times saturates instead of overflowing or hanging.
        assert!(shape(&query).aliases > 1_000_000);
    }

    #[test]
    fn fragment_cycles_do_not_loop() {
        let query =
            "{ ...A } fragment A on Query { a: me ...B } fragment B on Query { b: me ...A }";
        assert_eq!(shape(query).aliases, 2);
    }

    fn conditions(query: &str) -> ServerResult<()> {
        check_conditions(&parse_query(query).unwrap())
    }

    #[test]
    fn include_and_skip_take_only_booleans() {
        assert!(conditions("{ __typename @include(if: true) me @skip(if: false) }").is_ok());
        assert!(conditions("query($b: Boolean!) { me @include(if: $b) }").is_ok());
        assert!(
            conditions(
                "query($b: Boolean! = false) { ...F } fragment F on Query { me @skip(if: $b) }"
            )
            .is_ok()
        );
        assert!(conditions("query($b: Boolean = true) { me @include(if: $b) }").is_ok());
        for refused in [
            "{ __typename @include(if: [[[true]]]) }",
            "{ __typename @include(if: \"true\") }",
            "{ __typename @skip(if: 1) }",
            "{ __typename @skip }",
            "{ me { ... @include(if: { a: true }) { id } } }",
            "{ ...F } fragment F on Query { me @include(if: [true]) }",
            "query($b: [Boolean]) { me @include(if: $b) }",
            "query($b: Boolean) { me @include(if: $b) }",
            "query($b: String) { me @include(if: $b) }",
            "{ me @include(if: $undeclared) }",
        ] {
            let error = conditions(refused).expect_err(refused);
            assert_eq!(
                error.extensions.as_ref().and_then(|e| e.get("code")),
                Some(&async_graphql::Value::from("BAD_USER_INPUT")),
                "{refused}"
            );
        }
    }

    #[test]
    fn finds_the_field_with_most_directives() {
        let query = "{ me @skip(if: false) @include(if: true) other { x @a @b @c } }";
        assert_eq!(shape(query).most_directives_on_a_field, 3);
    }
}
