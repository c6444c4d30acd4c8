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
