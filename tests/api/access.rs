//! Who may do what: a matrix of roles × operations, partner keys and their
//! scopes, revoked keys.

use dermagraph::domain::staff::Role;
use serde_json::json;

use crate::helpers::{TestApp, error_code, for_each_backend};

/// Admin-only operations, each a complete document with its variables.
fn admin_operations() -> Vec<(&'static str, &'static str, serde_json::Value)> {
    vec![
        (
            "createUser",
            "mutation($input: CreateUserInput!) { createUser(input: $input) { user { id } } }",
            json!({ "input": { "email": "new.hire@clinic.test", "displayName": "New Hire", "role": "FRONT_DESK", "password": "a long enough password" } }),
        ),
        (
            "updateUser",
            "mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { id } } }",
            json!({ "input": { "id": "01a20d94-15f2-7780-8d7a-2081351f1478", "expectedVersion": 1, "displayName": "X" } }),
        ),
        (
            "deactivateUser",
            "mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { user { id } } }",
            json!({ "input": { "id": "01a20d94-15f2-7780-8d7a-2081351f1478" } }),
        ),
        (
            "createApiClient",
            "mutation($input: CreateApiClientInput!) { createApiClient(input: $input) { secret } }",
            json!({ "input": { "name": "Widget", "scopes": ["patients:read"] } }),
        ),
        (
            "revokeApiClient",
            "mutation($input: RevokeApiClientInput!) { revokeApiClient(input: $input) { apiClient { id } } }",
            json!({ "input": { "id": "01a20d94-15f2-7780-8d7a-2081351f1478" } }),
        ),
        (
            "updateClinicPolicy",
            "mutation($input: UpdateClinicPolicyInput!) { updateClinicPolicy(input: $input) { clinicPolicy { version } } }",
            json!({ "input": { "expectedVersion": 1, "plannedSessions": 4 } }),
        ),
        ("users", "{ users { totalCount } }", json!({})),
        ("apiClients", "{ apiClients { totalCount } }", json!({})),
        ("auditEvents", "{ auditEvents { totalCount } }", json!({})),
    ]
}

async fn code_for(
    app: &TestApp,
    query: &str,
    variables: &serde_json::Value,
    token: Option<&str>,
) -> String {
    let response = app.gql(query, variables.clone(), token).await;
    match response["errors"][0]["extensions"]["code"].as_str() {
        Some(code) => code.to_owned(),
        None => "OK".to_owned(),
    }
}

#[tokio::test]
async fn only_admins_administer_staff_clients_policy_and_audit() {
    for_each_backend(|app| async move {
        let (_, provider) = app.sign_in(Role::Provider).await;
        let (_, front_desk) = app.sign_in(Role::FrontDesk).await;
        let (_, partner) = app
            .api_key(&[
                "consultation_requests:write",
                "patients:read",
                "patients:write",
                "schedule:read",
                "follow_ups:read",
                "follow_ups:write",
            ])
            .await;
        let (_, admin) = app.sign_in(Role::Admin).await;
        for (name, query, variables) in admin_operations() {
            for (who, token, expected) in [
                ("anonymous", None, "UNAUTHENTICATED"),
                ("PROVIDER", Some(provider.as_str()), "FORBIDDEN"),
                ("FRONT_DESK", Some(front_desk.as_str()), "FORBIDDEN"),
                (
                    "API client with every scope",
                    Some(partner.as_str()),
                    "FORBIDDEN",
                ),
            ] {
                assert_eq!(
                    code_for(&app, query, &variables, token).await,
                    expected,
                    "{who} → {name}"
                );
            }
            let admin_code = code_for(&app, query, &variables, Some(&admin)).await;
            assert!(
                !["UNAUTHENTICATED", "FORBIDDEN"].contains(&admin_code.as_str()),
                "ADMIN may call {name}, got {admin_code}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn anonymous_callers_may_only_sign_in() {
    for_each_backend(|app| async move {
        for query in ["{ me { __typename } }", "{ clinicPolicy { version } }"] {
            assert_eq!(
                code_for(&app, query, &json!({}), None).await,
                "UNAUTHENTICATED",
                "{query}"
            );
        }
        let logout = "mutation { logout(input: { refreshToken: \"dgr_x\" }) { loggedOut } }";
        assert_eq!(
            code_for(&app, logout, &json!({}), None).await,
            "UNAUTHENTICATED"
        );
    })
    .await;
}

#[tokio::test]
async fn an_api_key_identifies_its_partner_and_is_scoped() {
    for_each_backend(|app| async move {
        let (client_id, key) = app.api_key(&["consultation_requests:write"]).await;
        assert!(key.starts_with("dg_"));
        let me = app.gql("{ me { ... on ApiClient { id name scopes active } } }", json!({}), Some(&key)).await;
        assert_eq!(me["data"]["me"]["id"], client_id.as_str(), "{me}");
        assert_eq!(me["data"]["me"]["scopes"], json!(["consultation_requests:write"]));
        for query in ["{ users { totalCount } }", "mutation { changePassword(input: { currentPassword: \"x\", newPassword: \"y\" }) { session { accessToken } } }"] {
            assert_eq!(code_for(&app, query, &json!({}), Some(&key)).await, "FORBIDDEN", "{query}");
        }
        let tampered = format!("{}x", &key[..key.len() - 1]);
        assert_eq!(code_for(&app, "{ me { __typename } }", &json!({}), Some(&tampered)).await, "UNAUTHENTICATED");
    })
    .await;
}

#[tokio::test]
async fn unknown_scopes_are_refused_when_creating_a_client() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let response = app
            .gql(
                "mutation { createApiClient(input: { name: \"CRM\", scopes: [\"patients:delete\"] }) { secret } }",
                json!({}),
                Some(&admin),
            )
            .await;
        assert_eq!(error_code(&response), "BAD_USER_INPUT");
        assert_eq!(response["errors"][0]["extensions"]["field"], "scopes");
    })
    .await;
}

#[tokio::test]
async fn a_revoked_key_is_refused_at_once() {
    for_each_backend(|app| async move {
        let (client_id, key) = app.api_key(&["schedule:read"]).await;
        assert_eq!(code_for(&app, "{ me { __typename } }", &json!({}), Some(&key)).await, "OK");
        let (_, admin) = app.sign_in(Role::Admin).await;
        let response = app
            .gql(
                "mutation($input: RevokeApiClientInput!) { revokeApiClient(input: $input) { apiClient { active revokedAt } } }",
                json!({ "input": { "id": client_id } }),
                Some(&admin),
            )
            .await;
        assert_eq!(response["data"]["revokeApiClient"]["apiClient"]["active"], false, "{response}");
        assert_eq!(code_for(&app, "{ me { __typename } }", &json!({}), Some(&key)).await, "UNAUTHENTICATED");
        let listed = app.gql("{ apiClients { totalCount edges { node { id active lastUsedAt } } } }", json!({}), Some(&admin)).await;
        assert_eq!(listed["data"]["apiClients"]["totalCount"], 1);
        assert!(listed["data"]["apiClients"]["edges"][0]["node"]["lastUsedAt"].is_string(), "last use is recorded: {listed}");
    })
    .await;
}
