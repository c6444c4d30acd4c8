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
    parser::types::{ExecutableDocument, Selection, SelectionSet},
};

use crate::{config::GraphqlLimits, error::ErrorCode};

/// The limits of one schema; an [`ExtensionFactory`].
#[derive(Clone, Debug)]
pub struct QueryLimits {
    max_depth: usize,
    max_complexity: usize,
    max_aliases: usize,
    max_directives: usize,
}

impl QueryLimits {
    /// The limits from configuration.
    pub fn new(limits: &GraphqlLimits) -> Self {
        Self {
            max_depth: limits.max_depth,
            max_complexity: limits.max_complexity,
            max_aliases: limits.max_aliases,
            max_directives: limits.max_directives,
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

    /// Refuses text holding NUL, which no record may hold.
    ///
    /// # Errors
    /// `BAD_USER_INPUT`.
    pub fn check_text(&self, query: &str, variables: &Variables) -> ServerResult<()> {
        if carries_nul(query, variables) {
            return Err(ErrorCode::BadUserInput.server_error(NUL_REFUSAL));
        }
        Ok(())
    }

    /// Refuses a parsed document with too many aliases, or a field with
    /// too many directives.
    ///
    /// # Errors
    /// `QUERY_TOO_COMPLEX` naming the limit and the count.
    pub fn check_document(&self, document: &ExecutableDocument) -> ServerResult<()> {
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

    #[test]
    fn finds_the_field_with_most_directives() {
        let query = "{ me @skip(if: false) @include(if: true) other { x @a @b @c } }";
        assert_eq!(shape(query).most_directives_on_a_field, 3);
    }
}
