//! The committed `schema.graphql` is the contract clients code against: it
//! must be exactly what the code serves, and everything in it is described.

use serde_json::Value;

#[test]
fn schema_graphql_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schema.graphql");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let current = dermagraph::graphql::schema_sdl();
    assert!(
        committed == current,
        "schema.graphql is out of date with the code: run `cargo run -- export-schema` and commit it"
    );
}

const INTROSPECTION: &str = r"{ __schema { types {
    name description
    fields { name description args { name description } }
    inputFields { name description }
    enumValues { name description }
} } }";

fn described(item: &Value) -> bool {
    item["description"]
        .as_str()
        .is_some_and(|text| !text.trim().is_empty())
}

#[tokio::test]
async fn every_type_field_argument_and_enum_value_is_described() {
    let response = dermagraph::graphql::bare_schema()
        .execute(INTROSPECTION)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut missing = Vec::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if !described(ty) {
            missing.push(name.to_owned());
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for item in ty[list].as_array().into_iter().flatten() {
                let item_name = format!("{name}.{}", item["name"].as_str().unwrap());
                if !described(item) {
                    missing.push(item_name.clone());
                }
                for arg in item["args"].as_array().into_iter().flatten() {
                    if !described(arg) {
                        missing.push(format!("{item_name}({})", arg["name"].as_str().unwrap()));
                    }
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "schema items without a description: {missing:#?}"
    );
}

/// A name or description reduced to its words: camelCase and
/// SCREAMING_CASE split, lower-cased, punctuation and filler words dropped.
fn normalized(text: &str) -> String {
    let mut spaced = String::new();
    let mut previous_lower = false;
    for ch in text.chars() {
        if ch.is_uppercase() && previous_lower {
            spaced.push(' ');
        }
        previous_lower = ch.is_lowercase();
        spaced.push(ch);
    }
    spaced
        .to_lowercase()
        .split(|ch: char| !ch.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty() && !["the", "a", "an", "its", "of", "this"].contains(word))
        .collect()
}

/// Why a description tells a client nothing, if it does not.
fn uninformative(name: &str, item: &Value) -> Option<String> {
    let text = item["description"].as_str()?;
    (normalized(text) == normalized(name) || text.starts_with("Implement the "))
        .then(|| text.to_owned())
}

#[tokio::test]
async fn no_description_only_repeats_its_name() {
    let response = dermagraph::graphql::bare_schema()
        .execute(INTROSPECTION)
        .await;
    assert!(response.errors.is_empty(), "{:?}", response.errors);
    let data = response.data.into_json().unwrap();
    let builtin = ["String", "Int", "Float", "Boolean", "ID"];
    let mut offenders = Vec::new();
    for ty in data["__schema"]["types"].as_array().unwrap() {
        let name = ty["name"].as_str().unwrap();
        if name.starts_with("__") || builtin.contains(&name) {
            continue;
        }
        if let Some(text) = uninformative(name, ty) {
            offenders.push(format!("{name}: {text:?}"));
        }
        for list in ["fields", "inputFields", "enumValues"] {
            for item in ty[list].as_array().into_iter().flatten() {
                let item_name = item["name"].as_str().unwrap();
                let path = format!("{name}.{item_name}");
                if let Some(text) = uninformative(item_name, item) {
                    offenders.push(format!("{path}: {text:?}"));
                }
                for arg in item["args"].as_array().into_iter().flatten() {
                    let arg_name = arg["name"].as_str().unwrap();
                    if let Some(text) = uninformative(arg_name, arg) {
                        offenders.push(format!("{path}({arg_name}): {text:?}"));
                    }
                }
            }
        }
    }
    assert!(
        offenders.is_empty(),
        "descriptions that only repeat the name; say what the value means to the clinic: {offenders:#?}"
    );
}
