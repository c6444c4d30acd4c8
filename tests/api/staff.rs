//! Staff accounts through the API: creation rules, optimistic locking,
//! listing.

use dermagraph::domain::staff::Role;
use serde_json::json;

use crate::helpers::{error_code, for_each_backend};

const CREATE: &str = "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id email role version license { number kind issuingState expiresOn } } } }";
const UPDATE: &str = "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { displayName version } } }";

#[tokio::test]
async fn admins_create_staff_with_validated_input() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let provider = json!({ "input": {
            "email": " Dr.Rivera@Clinic.Test ", "displayName": "Dr Rivera", "role": "PROVIDER",
            "password": "a long enough password",
            "license": { "number": "MD-1234", "kind": "MD", "issuingState": "NY", "expiresOn": "2030-06-30" }
        } });
        let response = app.gql(CREATE, provider.clone(), Some(&admin)).await;
        let user = &response["data"]["createUser"]["user"];
        assert_eq!(user["email"], "dr.rivera@clinic.test", "{response}");
        assert_eq!(user["license"]["kind"], "MD");
        assert_eq!(user["version"], 1);

        let duplicate = app.gql(CREATE, provider, Some(&admin)).await;
        assert_eq!(error_code(&duplicate), "CONFLICT");

        for (field, input) in [
            ("email", json!({ "email": "not-an-email", "displayName": "X", "role": "FRONT_DESK", "password": "a long enough password" })),
            ("password", json!({ "email": "a@clinic.test", "displayName": "X", "role": "FRONT_DESK", "password": "too short" })),
            ("displayName", json!({ "email": "b@clinic.test", "displayName": "  ", "role": "FRONT_DESK", "password": "a long enough password" })),
            ("license", json!({ "email": "c@clinic.test", "displayName": "X", "role": "PROVIDER", "password": "a long enough password" })),
        ] {
            let response = app.gql(CREATE, json!({ "input": input }), Some(&admin)).await;
            assert_eq!(error_code(&response), "BAD_USER_INPUT", "{field}: {response}");
            assert_eq!(response["errors"][0]["extensions"]["field"], field);
        }
    })
    .await;
}

#[tokio::test]
async fn a_stale_version_is_a_conflict_and_changes_nothing() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let user = app.create_user(Role::FrontDesk).await;
        let first = app
            .gql(UPDATE, json!({ "input": { "id": user.id.to_string(), "expectedVersion": 1, "displayName": "First Edit" } }), Some(&admin))
            .await;
        assert_eq!(first["data"]["updateUser"]["user"]["version"], 2, "{first}");
        let stale = app
            .gql(UPDATE, json!({ "input": { "id": user.id.to_string(), "expectedVersion": 1, "displayName": "Lost Edit" } }), Some(&admin))
            .await;
        assert_eq!(error_code(&stale), "CONFLICT");
        let read = app
            .gql("query($id: ID!) { user(id: $id) { displayName version } }", json!({ "id": user.id.to_string() }), Some(&admin))
            .await;
        assert_eq!(read["data"]["user"]["displayName"], "First Edit");
        assert_eq!(read["data"]["user"]["version"], 2);
    })
    .await;
}

#[tokio::test]
async fn staff_read_only_their_own_account() {
    for_each_backend(|app| async move {
        let (me, token) = app.sign_in(Role::FrontDesk).await;
        let colleague = app.create_user(Role::Provider).await;
        let query = "query($id: ID!) { user(id: $id) { email } }";
        let own = app
            .gql(query, json!({ "id": me.id.to_string() }), Some(&token))
            .await;
        assert_eq!(own["data"]["user"]["email"], me.email.as_str());
        let other = app
            .gql(
                query,
                json!({ "id": colleague.id.to_string() }),
                Some(&token),
            )
            .await;
        assert_eq!(error_code(&other), "FORBIDDEN");
        let bogus = app
            .gql(query, json!({ "id": "not-a-uuid" }), Some(&token))
            .await;
        assert_eq!(error_code(&bogus), "BAD_USER_INPUT");
    })
    .await;
}

#[tokio::test]
async fn admins_cannot_deactivate_themselves() {
    for_each_backend(|app| async move {
        let (admin_user, admin) = app.sign_in(Role::Admin).await;
        let response = app
            .gql(
                "mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { user { active } } }",
                json!({ "input": { "id": admin_user.id.to_string() } }),
                Some(&admin),
            )
            .await;
        assert_eq!(error_code(&response), "INVALID_STATE");
    })
    .await;
}

#[tokio::test]
async fn the_staff_list_pages_forward_and_backward() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        for _ in 0..4 {
            app.create_user(Role::FrontDesk).await;
        }
        let query = "query($first: Int, $after: String, $last: Int, $before: String) {
            users(first: $first, after: $after, last: $last, before: $before, filter: { role: FRONT_DESK }) {
              totalCount pageInfo { hasNextPage hasPreviousPage startCursor endCursor } edges { node { email } } } }";
        let emails = |response: &serde_json::Value| -> Vec<String> {
            response["data"]["users"]["edges"].as_array().unwrap().iter().map(|edge| edge["node"]["email"].as_str().unwrap().to_owned()).collect()
        };
        let page1 = app.gql(query, json!({ "first": 3 }), Some(&admin)).await;
        assert_eq!(page1["data"]["users"]["totalCount"], 4, "{page1}");
        assert_eq!(page1["data"]["users"]["pageInfo"]["hasNextPage"], true);
        let first_three = emails(&page1);
        let mut sorted = first_three.clone();
        sorted.sort();
        assert_eq!(first_three, sorted, "ordered by email");
        let end = page1["data"]["users"]["pageInfo"]["endCursor"].as_str().unwrap();
        let page2 = app.gql(query, json!({ "first": 3, "after": end }), Some(&admin)).await;
        assert_eq!(emails(&page2).len(), 1);
        assert_eq!(page2["data"]["users"]["pageInfo"]["hasNextPage"], false);
        assert!(emails(&page2)[0] > first_three[2]);
        let start = page2["data"]["users"]["pageInfo"]["startCursor"].as_str().unwrap();
        let back = app.gql(query, json!({ "last": 2, "before": start }), Some(&admin)).await;
        assert_eq!(emails(&back), first_three[1..].to_vec());
        assert_eq!(back["data"]["users"]["pageInfo"]["hasPreviousPage"], true);
        let bad = app.gql(query, json!({ "first": 101 }), Some(&admin)).await;
        assert_eq!(error_code(&bad), "BAD_USER_INPUT");
    })
    .await;
}
