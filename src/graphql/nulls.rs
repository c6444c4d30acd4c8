//! Field errors as the GraphQL spec handles them ("Handling Execution
//! Errors"): the field that failed is `null` in `data`, and when its type
//! is non-null, the `null` moves up to the nearest nullable ancestor (or
//! `data` itself is `null`). async-graphql 7 leaves a failed field's key
//! out of `data` instead (`resolver_utils/container.rs`), which codegen's
//! types and Apollo Client's cache cannot read.
//!
//! The fix is applied to the finished response, and only when it carries a
//! field error: the erring paths are followed through the operation's
//! selections (aliases, fragments) and the schema's field types. An answer
//! without errors, the hot path, is not touched.

use std::collections::HashMap;

use async_graphql::{
    Name, PathSegment, Response, Value,
    parser::types::{
        BaseType, ExecutableDocument, OperationType, Selection, SelectionSet, Type, TypeKind,
        TypeSystemDefinition,
    },
};

use super::operation::selected_operation;

/// The declared type of every field of every object and interface, and the
/// root types, read once from the schema's SDL.
#[derive(Debug, Default)]
pub struct FieldTypes {
    fields: HashMap<String, HashMap<String, Type>>,
    roots: [String; 3],
}

impl FieldTypes {
    /// Reads the field types of the schema printed as `sdl`.
    pub fn from_sdl(sdl: &str) -> Self {
        let mut types = Self {
            fields: HashMap::new(),
            roots: ["Query".into(), "Mutation".into(), "Subscription".into()],
        };
        let Ok(document) = async_graphql::parser::parse_schema(sdl) else {
            return types;
        };
        for definition in document.definitions {
            match definition {
                TypeSystemDefinition::Type(ty) => {
                    let ty = ty.node;
                    let fields = match ty.kind {
                        TypeKind::Object(object) => object.fields,
                        TypeKind::Interface(interface) => interface.fields,
                        _ => continue,
                    };
                    types.fields.insert(
                        ty.name.node.to_string(),
                        fields
                            .into_iter()
                            .map(|field| (field.node.name.node.to_string(), field.node.ty.node))
                            .collect(),
                    );
                }
                TypeSystemDefinition::Schema(schema) => {
                    let schema = schema.node;
                    for (slot, name) in [schema.query, schema.mutation, schema.subscription]
                        .into_iter()
                        .enumerate()
                    {
                        if let (Some(name), Some(root)) = (name, types.roots.get_mut(slot)) {
                            *root = name.node.to_string();
                        }
                    }
                }
                TypeSystemDefinition::Directive(_) => {}
            }
        }
        types
    }

    fn field(&self, type_name: &str, field: &str) -> Option<&Type> {
        self.fields.get(type_name)?.get(field)
    }

    fn root(&self, operation: OperationType) -> &str {
        let slot = match operation {
            OperationType::Query => 0,
            OperationType::Mutation => 1,
            OperationType::Subscription => 2,
        };
        self.roots.get(slot).map_or("Query", String::as_str)
    }
}

/// Puts `null` where `response`'s field errors happened, moved up past
/// non-null types as the spec says. `query` is the operation's text.
pub fn complete(
    response: &mut Response,
    query: &str,
    operation_name: Option<&str>,
    types: &FieldTypes,
) {
    if response.errors.iter().all(|error| error.path.is_empty()) {
        return;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return;
    };
    let Some(operation) = selected_operation(&document, operation_name) else {
        return;
    };
    let root = types.root(operation.ty);
    let failed: Vec<(&[PathSegment], Vec<bool>)> = response
        .errors
        .iter()
        .filter(|error| !error.path.is_empty())
        .filter_map(|error| {
            let steps = nullability(
                &document,
                &operation.selection_set.node,
                root,
                &error.path,
                types,
            )?;
            Some((error.path.as_slice(), steps))
        })
        .collect();
    // An object all of whose selected fields failed is `null` in
    // async-graphql's answer; it is an object whose fields are null.
    for (path, _) in &failed {
        reopen_parents(&mut response.data, path);
    }
    let mut data_is_null = false;
    for (path, nullable) in &failed {
        if !place_null(&mut response.data, path, nullable) {
            data_is_null = true;
        }
    }
    if data_is_null {
        response.data = Value::Null;
    }
}

/// Whether each step of `path` may be null: a field's declared type, or a
/// list's item type for an index. `None` when the path does not follow the
/// operation (then the response is left as it is).
fn nullability(
    document: &ExecutableDocument,
    root_set: &SelectionSet,
    root: &str,
    path: &[PathSegment],
    types: &FieldTypes,
) -> Option<Vec<bool>> {
    let mut steps = Vec::with_capacity(path.len());
    let mut sets: Vec<&SelectionSet> = vec![root_set];
    let mut type_name = root.to_owned();
    let mut list_type: Option<&Type> = None;
    for segment in path {
        match segment {
            PathSegment::Index(_) => {
                let BaseType::List(item) = &list_type?.base else {
                    return None;
                };
                steps.push(item.nullable);
                list_type = Some(item);
            }
            PathSegment::Field(key) => {
                let mut found: Vec<&Type> = Vec::new();
                let mut next_sets = Vec::new();
                for set in &sets {
                    collect(
                        document,
                        set,
                        &type_name,
                        key,
                        types,
                        &mut found,
                        &mut next_sets,
                    );
                }
                let ty = *found.first()?;
                // Fragments on different types may give one response key to
                // fields of different nullability; where they disagree the
                // step counts as nullable, so a null never climbs too far.
                steps.push(found.iter().any(|candidate| candidate.nullable));
                list_type = Some(ty);
                type_name = named(ty).to_owned();
                sets = next_sets;
            }
        }
    }
    Some(steps)
}

/// The named type under a type's lists and non-nulls.
fn named(mut ty: &Type) -> &str {
    loop {
        match &ty.base {
            BaseType::Named(name) => return name.as_str(),
            BaseType::List(item) => ty = item,
        }
    }
}

/// Finds the field answered under response key `key` in `set` (and its
/// fragments), on `type_name` or a fragment's type condition: the declared
/// type of each field answered under it, and the selection sets below.
fn collect<'d>(
    document: &'d ExecutableDocument,
    set: &'d SelectionSet,
    type_name: &str,
    key: &str,
    types: &'d FieldTypes,
    found: &mut Vec<&'d Type>,
    below: &mut Vec<&'d SelectionSet>,
) {
    for item in &set.items {
        match &item.node {
            Selection::Field(field) => {
                let field = &field.node;
                if field.response_key().node.as_str() != key {
                    continue;
                }
                found.extend(types.field(type_name, field.name.node.as_str()));
                below.push(&field.selection_set.node);
            }
            Selection::InlineFragment(fragment) => {
                let fragment = &fragment.node;
                let on = fragment
                    .type_condition
                    .as_ref()
                    .map_or(type_name, |condition| condition.node.on.node.as_str());
                collect(
                    document,
                    &fragment.selection_set.node,
                    on,
                    key,
                    types,
                    found,
                    below,
                );
            }
            Selection::FragmentSpread(spread) => {
                let name: &Name = &spread.node.fragment_name.node;
                if let Some(fragment) = document.fragments.get(name) {
                    let on = fragment.node.type_condition.node.on.node.as_str();
                    collect(
                        document,
                        &fragment.node.selection_set.node,
                        on,
                        key,
                        types,
                        found,
                        below,
                    );
                }
            }
        }
    }
}

/// Turns each `null` above where `path` failed back into an object (the
/// failure happened inside it, so it was one).
fn reopen_parents(data: &mut Value, path: &[PathSegment]) {
    let mut cursor = data;
    for (step, segment) in path.iter().enumerate() {
        let next_is_field = matches!(path.get(step), Some(PathSegment::Field(_)));
        if matches!(cursor, Value::Null) && next_is_field {
            *cursor = Value::Object(Default::default());
        }
        let next = match (segment, cursor) {
            (PathSegment::Field(key), Value::Object(map)) => map.get_mut(key.as_str()),
            (PathSegment::Index(index), Value::List(items)) => items.get_mut(*index),
            _ => None,
        };
        match next {
            Some(next) if step + 1 < path.len() => cursor = next,
            _ => return,
        }
    }
}

/// Sets the nearest nullable value at or above where `path` stops in
/// `data` to `null`. `false` when there is none, so `data` itself must be
/// `null`.
fn place_null(data: &mut Value, path: &[PathSegment], nullable: &[bool]) -> bool {
    // How far the path reaches into data before a missing or null value.
    let mut reached = 0;
    let mut cursor = &*data;
    for segment in path {
        let next = match (segment, cursor) {
            (PathSegment::Field(key), Value::Object(map)) => map.get(key.as_str()),
            (PathSegment::Index(index), Value::List(items)) => items.get(*index),
            _ => None,
        };
        match next {
            Some(Value::Null) | None => break,
            Some(value) => {
                cursor = value;
                reached += 1;
            }
        }
    }
    if reached == path.len() {
        // The field has a value: the error did not cost it (an error a
        // resolver added beside its answer).
        return true;
    }
    // `path[reached]` is missing or null; it, or the nearest nullable step
    // above it, becomes null.
    let Some(target) = (0..=reached)
        .rev()
        .find(|step| nullable.get(*step) == Some(&true))
    else {
        return false;
    };
    set_null(data, path.get(..=target).unwrap_or_default());
    true
}

/// Writes `null` at `path` in `data` (creating the key of an object).
fn set_null(data: &mut Value, path: &[PathSegment]) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut cursor = data;
    for segment in parents {
        let next = match (segment, cursor) {
            (PathSegment::Field(key), Value::Object(map)) => map.get_mut(key.as_str()),
            (PathSegment::Index(index), Value::List(items)) => items.get_mut(*index),
            _ => None,
        };
        let Some(next) = next else {
            return;
        };
        cursor = next;
    }
    match (last, cursor) {
        (PathSegment::Field(key), Value::Object(map)) => {
            map.insert(Name::new(key), Value::Null);
        }
        (PathSegment::Index(index), Value::List(items)) => {
            if let Some(item) = items.get_mut(*index) {
                *item = Value::Null;
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use async_graphql::ServerError;

    const SDL: &str = "
        type Query { patient: Patient  patients: [Patient!]!  policy: Policy! }
        type Patient { name: String!  notes: String  chart: Chart!  visits: [Visit!] }
        type Chart { depth: Float! }
        type Visit { at: String! }
        type Policy { zone: String! }
        schema { query: Query }";

    fn answer(data: serde_json::Value, paths: &[&[PathSegment]]) -> Response {
        let mut response = Response::new(Value::from_json(data).unwrap());
        for path in paths {
            let mut error = ServerError::new("FORBIDDEN", None);
            error.path = path.to_vec();
            response.errors.push(error);
        }
        response
    }

    fn field(name: &str) -> PathSegment {
        PathSegment::Field(name.to_owned())
    }

    fn completed(query: &str, mut response: Response) -> serde_json::Value {
        complete(&mut response, query, None, &FieldTypes::from_sdl(SDL));
        response.data.into_json().unwrap()
    }

    #[test]
    fn a_failed_nullable_field_is_null() {
        let data = completed(
            "{ patient { name notes } }",
            answer(
                serde_json::json!({ "patient": { "name": "Ada" } }),
                &[&[field("patient"), field("notes")]],
            ),
        );
        assert_eq!(
            data,
            serde_json::json!({ "patient": { "name": "Ada", "notes": null } })
        );
    }

    #[test]
    fn a_failed_non_null_field_nulls_its_nearest_nullable_parent() {
        let data = completed(
            "{ patient { name chart { depth } } }",
            answer(
                serde_json::json!({ "patient": { "name": "Ada", "chart": {} } }),
                &[&[field("patient"), field("chart"), field("depth")]],
            ),
        );
        assert_eq!(data, serde_json::json!({ "patient": null }));
    }

    #[test]
    fn aliases_and_fragments_are_followed() {
        let data = completed(
            "{ who: patient { ...P } } fragment P on Patient { n: name extra: notes }",
            answer(
                serde_json::json!({ "who": { "n": "Ada" } }),
                &[&[field("who"), field("extra")]],
            ),
        );
        assert_eq!(
            data,
            serde_json::json!({ "who": { "n": "Ada", "extra": null } })
        );
    }

    #[test]
    fn a_non_null_item_nulls_its_list_up_to_a_nullable_field() {
        let data = completed(
            "{ patient { name visits { at } } }",
            answer(
                serde_json::json!({ "patient": { "name": "Ada", "visits": [{ "at": "x" }, {}] } }),
                &[&[
                    field("patient"),
                    field("visits"),
                    PathSegment::Index(1),
                    field("at"),
                ]],
            ),
        );
        assert_eq!(
            data,
            serde_json::json!({ "patient": { "name": "Ada", "visits": null } })
        );
    }

    #[test]
    fn a_non_null_chain_to_the_root_nulls_data() {
        let data = completed(
            "{ patients { name } policy { zone } }",
            answer(
                serde_json::json!({ "patients": [{}], "policy": { "zone": "UTC" } }),
                &[&[field("patients"), PathSegment::Index(0), field("name")]],
            ),
        );
        assert_eq!(data, serde_json::Value::Null);
    }

    #[test]
    fn a_nullable_root_field_is_null_when_every_root_field_failed() {
        let data = completed(
            "{ patient { name } }",
            answer(serde_json::Value::Null, &[&[field("patient")]]),
        );
        assert_eq!(data, serde_json::json!({ "patient": null }));
    }

    #[test]
    fn fragments_that_disagree_on_nullability_stop_the_null_at_that_key() {
        // `x` is non-null on Visit, nullable on Patient: the null stays at x.
        let sdl = "type Query { thing: Thing! } union Thing = Patient | Visit
            type Patient { notes: String } type Visit { at: String! } schema { query: Query }";
        let mut response = answer(
            serde_json::json!({ "thing": {} }),
            &[&[field("thing"), field("x")]],
        );
        complete(
            &mut response,
            "{ thing { ... on Patient { x: notes } ... on Visit { x: at } } }",
            None,
            &FieldTypes::from_sdl(sdl),
        );
        assert_eq!(
            response.data.into_json().unwrap(),
            serde_json::json!({ "thing": { "x": null } })
        );
    }

    #[test]
    fn an_answer_without_field_errors_is_untouched() {
        let data = completed(
            "{ patient { name } }",
            answer(serde_json::json!({ "patient": { "name": "Ada" } }), &[]),
        );
        assert_eq!(data, serde_json::json!({ "patient": { "name": "Ada" } }));
    }
}
