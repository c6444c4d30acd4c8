//! Who reads which field, generated from the schema: every field of every
//! object type, for every role and every partner scope, at the root and
//! through every relation that reaches it (up to two relations deep). It
//! holds the schema to `graphql::classification` (clinical fields are
//! never read by the front desk or a partner, staff fields never by a
//! partner), fails for a text field that is not classified, and checks
//! that no relation lets a partner into a type its root fields refuse it.

use std::collections::{BTreeMap, BTreeSet};

use dermagraph::graphql::classification::{REACHED_ONLY_NESTED, Sensitivity, sensitivity};
use serde_json::{Value, json};

use crate::{
    follow_ups::{COMPLETE_FOLLOW_UP, completed, follow_ups_of},
    helpers::{TestApp, for_each_backend_with},
    procedures::staff,
};

const INTROSPECTION: &str = "{ __schema { queryType { name } types { kind name
    fields { name args { name type { ...T } } type { ...T } } } } }
    fragment T on __Type { kind name ofType { kind name ofType { kind name ofType { kind name } } } }";

/// A field's type with lists and non-nulls taken off: (kind, name).
fn named(mut ty: &Value) -> (String, String) {
    while ty["name"].is_null() {
        ty = &ty["ofType"];
    }
    (
        ty["kind"].as_str().unwrap_or_default().to_owned(),
        ty["name"].as_str().unwrap_or_default().to_owned(),
    )
}

struct Field {
    name: String,
    kind: String,
    type_name: String,
    required_args: Vec<(String, String)>,
}

fn fields_of(schema: &Value) -> BTreeMap<String, Vec<Field>> {
    let mut types = BTreeMap::new();
    for ty in schema["types"].as_array().unwrap() {
        if ty["kind"] != "OBJECT" || ty["name"].as_str().unwrap().starts_with("__") {
            continue;
        }
        let fields = ty["fields"]
            .as_array()
            .unwrap()
            .iter()
            .map(|field| {
                let (kind, type_name) = named(&field["type"]);
                let required_args = field["args"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .filter(|arg| arg["type"]["kind"] == "NON_NULL")
                    .map(|arg| {
                        (
                            arg["name"].as_str().unwrap().to_owned(),
                            named(&arg["type"]).1,
                        )
                    })
                    .collect();
                Field {
                    name: field["name"].as_str().unwrap().to_owned(),
                    kind,
                    type_name,
                    required_args,
                }
            })
            .collect();
        types.insert(ty["name"].as_str().unwrap().to_owned(), fields);
    }
    types
}

/// A value for a required argument of a root field: a fresh id finds
/// nothing, which is enough to see whether the guard admits the caller.
fn argument(type_name: &str) -> Option<String> {
    match type_name {
        "ID" => Some(format!("\"{}\"", uuid::Uuid::now_v7())),
        "DateTime" => Some(format!("\"{}\"", chrono::Utc::now().to_rfc3339())),
        "Date" => Some(format!("\"{}\"", chrono::Utc::now().date_naive())),
        "String" => Some("\"LOT-F\"".to_owned()),
        "Int" => Some("1".to_owned()),
        _ => None,
    }
}

/// One way of reaching objects of a type: the selection around them, with
/// `{}` where the type's own fields go, and the path of field names.
#[derive(Clone)]
struct Route {
    type_name: String,
    template: String,
    path: Vec<String>,
}

/// The routes from every root list (a connection with no required
/// argument) through up to `hops` relations.
fn routes(types: &BTreeMap<String, Vec<Field>>, hops: usize) -> Vec<Route> {
    let mut routes = Vec::new();
    let mut frontier = Vec::new();
    for root in &types["Query"] {
        if !root.required_args.is_empty() || !root.type_name.ends_with("Connection") {
            continue;
        }
        let node = root.type_name.trim_end_matches("Connection").to_owned();
        if types.contains_key(&node) {
            frontier.push(Route {
                type_name: node,
                template: format!("{}(first: 5) {{ edges {{ node {{ {{}} }} }} }}", root.name),
                path: vec![root.name.clone(), "edges".into(), "node".into()],
            });
        }
    }
    for _ in 0..=hops {
        let mut next = Vec::new();
        for route in &frontier {
            for field in &types[&route.type_name] {
                if field.kind != "OBJECT" || !field.required_args.is_empty() {
                    continue;
                }
                let (type_name, inner, extra): (String, String, Vec<String>) =
                    if field.type_name.ends_with("Connection") {
                        let node = field.type_name.trim_end_matches("Connection").to_owned();
                        (
                            node,
                            format!("{}(first: 5) {{ edges {{ node {{ {{}} }} }} }}", field.name),
                            vec!["edges".into(), "node".into()],
                        )
                    } else {
                        (
                            field.type_name.clone(),
                            format!("{} {{ {{}} }}", field.name),
                            vec![],
                        )
                    };
                if !types.contains_key(&type_name) || type_name == "PageInfo" {
                    continue;
                }
                let mut path = route.path.clone();
                path.push(field.name.clone());
                path.extend(extra);
                next.push(Route {
                    type_name,
                    template: route.template.replacen("{}", &inner, 1),
                    path,
                });
            }
        }
        routes.append(&mut frontier);
        frontier = next;
    }
    routes
}

/// What one caller got of one field through one route.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Outcome {
    /// A value came back.
    Read,
    /// Refused (FORBIDDEN or UNAUTHENTICATED), here or on the way.
    Refused,
    /// Nothing to read (no rows, or null).
    Nothing,
}

/// The field paths (list indices left out) of refused errors.
fn refused_paths(response: &Value) -> BTreeSet<Vec<String>> {
    response["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|error| {
            matches!(
                error["extensions"]["code"].as_str(),
                Some("FORBIDDEN" | "UNAUTHENTICATED")
            )
        })
        .map(|error| {
            error["path"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|step| step.as_str().map(str::to_owned))
                .collect()
        })
        .collect()
}

/// Whether any object at `path` under `value` has a non-null `leaf`.
fn has_value(value: &Value, path: &[String], leaf: &str) -> bool {
    match value {
        Value::Array(items) => items.iter().any(|item| has_value(item, path, leaf)),
        Value::Object(map) => match path.split_first() {
            Some((first, rest)) => map
                .get(first)
                .is_some_and(|inner| has_value(inner, rest, leaf)),
            None => map.get(leaf).is_some_and(|v| !v.is_null()),
        },
        _ => false,
    }
}

/// The requested keys missing from the objects along `path` under `value`
/// (the spec puts every requested key in `data`: `null` where a field
/// failed, or a `null` above it when the failed field is non-null).
fn keys_missing(value: &Value, path: &[String], leaves: &[&str], at: &str) -> Vec<String> {
    match value {
        Value::Array(items) => items
            .iter()
            .enumerate()
            .flat_map(|(index, item)| keys_missing(item, path, leaves, &format!("{at}[{index}]")))
            .collect(),
        Value::Object(map) => match path.split_first() {
            Some((first, rest)) => match map.get(first) {
                Some(inner) => keys_missing(inner, rest, leaves, &format!("{at}.{first}")),
                None => vec![format!("{at}.{first}")],
            },
            None => {
                let mut missing: Vec<String> = leaves
                    .iter()
                    .filter(|leaf| !map.contains_key(**leaf))
                    .map(|leaf| format!("{at}.{leaf}"))
                    .collect();
                missing.extend(
                    map.keys()
                        .filter(|key| !leaves.contains(&key.as_str()))
                        .map(|key| format!("{at}.{key} (not requested)")),
                );
                missing
            }
        },
        _ => Vec::new(),
    }
}

fn outcome(response: &Value, path: &[String], leaf: &str) -> Outcome {
    let refused = refused_paths(response);
    let mut full = path.to_vec();
    full.push(leaf.to_owned());
    if refused.iter().any(|error| full.starts_with(error)) {
        Outcome::Refused
    } else if has_value(&response["data"], path, leaf) {
        Outcome::Read
    } else {
        Outcome::Nothing
    }
}

const SCOPES: [&str; 6] = [
    "consultation_requests:write",
    "patients:read",
    "patients:write",
    "schedule:read",
    "follow_ups:read",
    "follow_ups:write",
];

#[tokio::test]
async fn every_field_is_read_only_by_whom_its_class_and_its_root_admit() {
    for_each_backend_with(
        |config| {
            config.limits.max_complexity = 1_000_000;
            config.limits.max_aliases = 1_000;
            config.limits.max_tokens = 100_000;
            config.limits.max_query_chars = 1_000_000;
        },
        |app: TestApp| async move {
            // One of everything: a completed procedure whose follow-up
            // reported an infection, and a consultation cancelled with a
            // clinical reason.
            let clinic = staff(&app).await;
            let (patient, procedure) = completed(&app, &clinic, "Matrix", json!(["CHEEKS"]), None).await;
            let first = follow_ups_of(&app, &clinic.desk, &procedure).await["followUps"][0].clone();
            let reported = app
                .gql(COMPLETE_FOLLOW_UP, json!({ "input": { "id": first["id"], "expectedVersion": first["version"], "channel": "EMAIL",
                    "reached": true, "symptoms": ["SIGNS_OF_INFECTION"], "notes": "warm, yellow crusts" } }), Some(&clinic.desk))
                .await;
            assert!(reported["errors"].is_null(), "{reported}");
            let booked = app
                .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id version } } }",
                    json!({ "input": { "patientId": patient, "providerId": clinic.provider_id, "startsAt": crate::procedures::day_at(3), "durationMinutes": 30 } }),
                    Some(&clinic.desk))
                .await;
            let consultation = &booked["data"]["scheduleConsultation"]["consultation"];
            let cancelled = app
                .gql("mutation($input: CancelConsultationInput!) { cancelConsultation(input: $input) { consultation { id } } }",
                    json!({ "input": { "id": consultation["id"], "expectedVersion": consultation["version"], "reason": "pregnant 16 weeks" } }),
                    Some(&clinic.desk))
                .await;
            assert!(cancelled["errors"].is_null(), "{cancelled}");

            let schema = app.gql(INTROSPECTION, json!({}), Some(&clinic.admin)).await;
            let types = fields_of(&schema["data"]["__schema"]);

            // Every text field is classified.
            let unclassified: Vec<String> = types
                .iter()
                // Payloads hold objects; edges and page info hold cursors.
                .filter(|(name, _)| !name.ends_with("Payload") && !name.ends_with("Edge") && *name != "PageInfo")
                .flat_map(|(name, fields)| {
                    fields
                        .iter()
                        .filter(|field| field.type_name == "String")
                        .map(move |field| format!("{name}.{}", field.name))
                })
                .filter(|field| sensitivity(field).is_none())
                .collect();
            assert!(unclassified.is_empty(), "classify these in graphql::classification: {unclassified:?}");

            let mut callers: Vec<(String, String, bool, bool)> = vec![
                ("ADMIN".into(), clinic.admin.clone(), true, true),
                ("PROVIDER".into(), clinic.provider.clone(), true, true),
                ("FRONT_DESK".into(), clinic.desk.clone(), true, false),
            ];
            for scope in SCOPES {
                let (_, key) = app.api_key(&[scope]).await;
                callers.push((format!("partner {scope}"), key, false, false));
            }

            // Which callers a type's root fields admit.
            let mut root_admits: BTreeMap<(String, String), bool> = BTreeMap::new();
            for root in &types["Query"] {
                if root.kind != "OBJECT" && root.kind != "UNION" {
                    continue;
                }
                let Some(args) = root
                    .required_args
                    .iter()
                    .map(|(name, ty)| argument(ty).map(|value| format!("{name}: {value}")))
                    .collect::<Option<Vec<_>>>()
                else {
                    continue;
                };
                let args = if args.is_empty() { String::new() } else { format!("({})", args.join(", ")) };
                let node = root.type_name.trim_end_matches("Connection").to_owned();
                let query = format!("{{ {}{args} {{ __typename }} }}", root.name);
                for (who, token, _, _) in &callers {
                    let response = app.gql(&query, json!({}), Some(token)).await;
                    let admitted = refused_paths(&response).is_empty();
                    let entry = root_admits.entry((node.clone(), who.clone())).or_insert(false);
                    *entry |= admitted;
                }
            }

            let mut violations = Vec::new();
            let mut reads = 0usize;
            for route in routes(&types, 2) {
                let leaves: Vec<&Field> = types[&route.type_name]
                    .iter()
                    .filter(|field| matches!(field.kind.as_str(), "SCALAR" | "ENUM") && field.required_args.is_empty())
                    .collect();
                if leaves.is_empty() {
                    continue;
                }
                let selection: String = leaves.iter().map(|field| format!("{} ", field.name)).collect();
                let query = format!("{{ {} }}", route.template.replacen("{}", &selection, 1));
                for (who, token, is_staff, is_clinical) in &callers {
                    let response = app.gql(&query, json!({}), Some(token)).await;
                    assert!(
                        response["errors"].as_array().into_iter().flatten().all(|error| matches!(
                            error["extensions"]["code"].as_str(), Some("FORBIDDEN" | "UNAUTHENTICATED" | "NOT_FOUND"))),
                        "{who} {query}: {response}"
                    );
                    let names: Vec<&str> = leaves.iter().map(|field| field.name.as_str()).collect();
                    let missing = keys_missing(&response["data"], &route.path, &names, "data");
                    if !missing.is_empty() {
                        violations.push(format!("{who} {query}: keys missing from data: {missing:?}"));
                    }
                    let root_open = root_admits.get(&(route.type_name.clone(), who.clone())).copied();
                    for leaf in &leaves {
                        let seen = outcome(&response, &route.path, &leaf.name);
                        if seen != Outcome::Read {
                            continue;
                        }
                        reads += 1;
                        let field = format!("{}.{}", route.type_name, leaf.name);
                        let via = route.path.join(".");
                        match sensitivity(&field) {
                            Some(Sensitivity::Clinical) if !is_clinical => {
                                violations.push(format!("{who} read clinical {field} via {via}"));
                            }
                            Some(Sensitivity::Staff) if !is_staff => {
                                violations.push(format!("{who} read staff-only {field} via {via}"));
                            }
                            _ => {}
                        }
                        if root_open == Some(false) && !REACHED_ONLY_NESTED.contains(&route.type_name.as_str()) {
                            violations.push(format!("{who} read {field} via {via}, but no root field of {} admits it", route.type_name));
                        }
                    }
                }
            }
            violations.sort();
            violations.dedup();
            assert!(violations.is_empty(), "{} leaks:\n{}", violations.len(), violations.join("\n"));
            assert!(reads > 500, "the fixture reached too little to judge: {reads} reads");
        },
    )
    .await;
}
