//! Nested lists fetched ahead read only their rows' core columns when the
//! query asks for nothing else (`graphql::rows`): the same answers as whole
//! rows, no extra statement for the fields declared core, and fields that
//! need the whole row still answer right when their rows came lean.

use dermagraph::{
    entities::{cartridges, consultations, device_sessions, follow_ups, procedures},
    graphql::rows::CoreColumns,
    seed_bench::{BenchSeedOptions, seed_bench},
};
use serde_json::{Value, json};

use crate::helpers::{TestApp, for_each_backend, for_each_backend_with};

const PASSWORD: &str = "bench passphrase 2026";

/// A seeded clinic and a provider's token.
async fn seeded(app: &TestApp) -> String {
    let options = BenchSeedOptions {
        patients: 12,
        write_pool: 0,
        password: PASSWORD.to_owned(),
        progress: false,
    };
    seed_bench(&app.db, &options).await.unwrap();
    let login = app.login("provider1@bench.clinic", PASSWORD).await;
    login["data"]["login"]["accessToken"]
        .as_str()
        .unwrap_or_else(|| panic!("{login}"))
        .to_owned()
}

/// The answer to `query` and the statements it cost.
async fn answer(app: &TestApp, token: &str, query: &str) -> (Value, u64) {
    let before = app.statements_executed();
    let response = app.gql(query, json!({}), Some(token)).await;
    assert!(response["errors"].is_null(), "{query}\n{response}");
    (response["data"].clone(), app.statements_executed() - before)
}

/// Removes every `key` member from the objects of `value`.
fn without(mut value: Value, key: &str) -> Value {
    match &mut value {
        Value::Object(map) => {
            map.remove(key);
            for member in map.values_mut() {
                *member = without(member.take(), key);
            }
        }
        Value::Array(items) => {
            for item in items.iter_mut() {
                *item = without(item.take(), key);
            }
        }
        _ => {}
    }
    value
}

/// One object type: where a prefetched list reaches it, the selection of
/// each core field, and a field that needs the whole row.
struct Case {
    core_fields: &'static [&'static str],
    wrap: fn(&str) -> String,
    selection: &'static str,
    whole_field: &'static str,
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            core_fields: consultations::Entity::CORE_FIELDS,
            wrap: |inner| {
                format!(
                    "{{ patients(first: 12) {{ edges {{ node {{ consultations {{ {inner} }} }} }} }} }}"
                )
            },
            selection: "id patient { id } provider { id } startsAt endsAt durationMinutes status screening { id }",
            whole_field: "version",
        },
        Case {
            core_fields: procedures::Entity::CORE_FIELDS,
            wrap: |inner| {
                format!(
                    "{{ patients(first: 12) {{ edges {{ node {{ procedures {{ {inner} }} }} }} }} }}"
                )
            },
            selection: "id patient { id } provider { id } treatmentPlan { id } startsAt endsAt durationMinutes \
                status areas deviceSessions { id } amendments { id } aftercare { procedureDate } followUps { id }",
            whole_field: "clinicalNotes",
        },
        Case {
            core_fields: device_sessions::Entity::CORE_FIELDS,
            wrap: |inner| {
                format!(
                    "{{ patients(first: 12) {{ edges {{ node {{ procedures {{ deviceSessions {{ {inner} }} }} }} }} }} }}"
                )
            },
            selection: "id device { id } cartridge { id } area depthMm passes startedAt endedAt",
            whole_field: "pattern",
        },
        Case {
            core_fields: cartridges::Entity::CORE_FIELDS,
            wrap: |inner| {
                format!(
                    "{{ patients(first: 12) {{ edges {{ node {{ procedures {{ deviceSessions {{ cartridge {{ {inner} }} }} }} }} }} }} }}"
                )
            },
            selection: "id serial lotNumber expiresOn used",
            whole_field: "needleCount",
        },
        Case {
            core_fields: follow_ups::Entity::CORE_FIELDS,
            wrap: |inner| {
                format!(
                    "{{ patients(first: 12) {{ edges {{ node {{ followUps {{ {inner} }} }} }} }} }}"
                )
            },
            selection: "id kind dueAt overdue channel status procedure { id } patient { id }",
            whole_field: "notes",
        },
    ]
}

/// The fields a selection names at its top level.
fn top_level_fields(selection: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut depth = 0;
    for token in selection.split_whitespace() {
        match token {
            "{" => depth += 1,
            "}" => depth -= 1,
            name if depth == 0 => fields.push(name.to_owned()),
            _ => {}
        }
    }
    fields
}

#[tokio::test]
async fn core_fields_answer_as_whole_rows_do_and_cost_no_statement_more() {
    // A long batching window, so that the fields loaded by DataLoader
    // (plans, amendments) cost one statement in both queries.
    for_each_backend_with(
        |config| config.batch_window_ms = 200,
        |app| async move {
            let token = seeded(&app).await;
            for case in cases() {
                let mut listed = top_level_fields(case.selection);
                listed.sort();
                let mut declared: Vec<String> = case
                    .core_fields
                    .iter()
                    .map(|field| (*field).to_owned())
                    .collect();
                declared.sort();
                assert_eq!(listed, declared, "the test selects every core field");

                let lean = (case.wrap)(case.selection);
                let whole = (case.wrap)(&format!("{} {}", case.selection, case.whole_field));
                let (lean_data, lean_statements) = answer(&app, &token, &lean).await;
                let (whole_data, whole_statements) = answer(&app, &token, &whole).await;
                assert!(
                    whole_data
                        .to_string()
                        .contains(&format!("\"{}\"", case.whole_field)),
                    "{whole_data}"
                );
                assert_eq!(lean_data, without(whole_data, case.whole_field), "{lean}");
                assert_eq!(
                    lean_statements, whole_statements,
                    "a core field of `{lean}` loaded its whole row"
                );
            }
        },
    )
    .await;
}

#[tokio::test]
async fn a_field_that_needs_the_whole_row_answers_right_when_its_row_came_lean() {
    for_each_backend(|app| async move {
            let token = seeded(&app).await;
            // The follow-ups' procedures are fetched ahead lean (only `id`
            // is asked there); the second path reaches the same procedures
            // through the same relation without fetching ahead, and asks
            // for charted fields.
            let (data, _) = answer(
                &app,
                &token,
                "{ patients(first: 12) { edges { node {
                    followUps { procedure { id } }
                    procedures { followUps { procedure { id clinicalNotes version status } } } } } } }",
            )
            .await;
            let mut checked = 0;
            for edge in data["patients"]["edges"].as_array().unwrap() {
                for procedure in edge["node"]["procedures"].as_array().unwrap() {
                    // One follow-up per procedure: they share its row.
                    for follow_up in procedure["followUps"].as_array().unwrap().iter().take(1) {
                        let nested = &follow_up["procedure"];
                        let (alone, _) = answer(
                            &app,
                            &token,
                            &format!(
                                "{{ procedure(id: \"{}\") {{ id clinicalNotes version status }} }}",
                                nested["id"].as_str().unwrap()
                            ),
                        )
                        .await;
                        assert_eq!(nested, &alone["procedure"]);
                        checked += 1;
                    }
                }
            }
            assert!(checked > 0, "{data}");
    })
    .await;
}
