//! Signing in: login, throttling, refresh rotation and theft detection,
//! logout, revocation by deactivation and password change, forged tokens.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use chrono::Utc;
use dermagraph::domain::staff::Role;
use jsonwebtoken::{EncodingKey, Header, encode};
use serde_json::{Value, json};

use crate::helpers::{
    TEST_JWT_SECRET, TEST_PASSWORD, TestApp, TestUser, error_code, error_codes, for_each_backend,
    for_each_backend_with,
};

const ME: &str = "{ me { ... on User { id email role } } }";

async fn refresh(app: &TestApp, refresh_token: &str) -> Value {
    app.gql(
        "mutation($input: RefreshSessionInput!) { refreshSession(input: $input) { accessToken refreshToken user { id } } }",
        json!({ "input": { "refreshToken": refresh_token } }),
        None,
    )
    .await
}

fn session_tokens(payload: &Value) -> (String, String) {
    (
        payload["accessToken"]
            .as_str()
            .unwrap_or_else(|| panic!("{payload}"))
            .to_owned(),
        payload["refreshToken"].as_str().unwrap().to_owned(),
    )
}

#[tokio::test]
async fn login_succeeds_and_the_token_identifies_the_user() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::Provider).await;
        let response = app.login(&user.email.to_uppercase(), TEST_PASSWORD).await;
        let login = &response["data"]["login"];
        assert_eq!(login["user"]["email"], user.email.as_str(), "{response}");
        assert!(login["refreshToken"].as_str().unwrap().starts_with("dgr_"));
        let expires =
            chrono::DateTime::parse_from_rfc3339(login["accessTokenExpiresAt"].as_str().unwrap())
                .unwrap();
        let minutes = (expires.with_timezone(&Utc) - Utc::now()).num_minutes();
        assert!(
            (14..=15).contains(&minutes),
            "access tokens live 15 minutes, got {minutes}"
        );
        let me = app.gql(ME, json!({}), login["accessToken"].as_str()).await;
        assert_eq!(me["data"]["me"]["id"], user.id.to_string());
        assert_eq!(me["data"]["me"]["role"], "PROVIDER");
    })
    .await;
}

#[tokio::test]
async fn wrong_password_and_unknown_email_give_the_same_error() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::FrontDesk).await;
        let wrong_password = app.login(&user.email, "not the right password").await;
        let unknown_email = app.login("nobody@clinic.test", TEST_PASSWORD).await;
        assert_eq!(error_code(&wrong_password), "UNAUTHENTICATED");
        assert_eq!(
            wrong_password["errors"][0]["message"],
            unknown_email["errors"][0]["message"]
        );
        assert_eq!(
            wrong_password["errors"][0]["extensions"],
            unknown_email["errors"][0]["extensions"]
        );
        assert!(wrong_password["data"].is_null());
    })
    .await;
}

#[tokio::test]
async fn repeated_failures_lock_the_account_with_retry_after() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::FrontDesk).await;
        for attempt in 1..=5 {
            let response = app.login(&user.email, "wrong password here").await;
            assert_eq!(
                error_code(&response),
                "UNAUTHENTICATED",
                "attempt {attempt}"
            );
        }
        // The 5th failure locked the account: even the right password waits.
        let response = app.login(&user.email, TEST_PASSWORD).await;
        assert_eq!(error_code(&response), "RATE_LIMITED", "{response}");
        let retry = response["errors"][0]["extensions"]["retryAfterSeconds"]
            .as_u64()
            .unwrap();
        assert!((1..=30).contains(&retry), "{retry}");
    })
    .await;
}

#[tokio::test]
async fn four_failures_then_the_right_password_signs_in() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::FrontDesk).await;
        for _ in 0..4 {
            let response = app.login(&user.email, "wrong password here").await;
            assert_eq!(error_code(&response), "UNAUTHENTICATED");
        }
        let response = app.login(&user.email, TEST_PASSWORD).await;
        assert!(
            response["data"]["login"]["accessToken"].is_string(),
            "{response}"
        );
        // The success gave its own attempt back and lifted no one else's
        // lock: one more failure reaches the limit.
        let response = app.login(&user.email, "wrong password here").await;
        assert_eq!(error_code(&response), "UNAUTHENTICATED");
        let response = app.login(&user.email, TEST_PASSWORD).await;
        assert_eq!(error_code(&response), "RATE_LIMITED", "{response}");
    })
    .await;
}

/// Passwords verified against `user`'s account and found wrong.
async fn wrong_passwords_verified(app: &TestApp, user: &TestUser) -> u64 {
    use dermagraph::{domain::audit::AuditAction, entities::audit_events};
    use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
    app.flush_audit().await;
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(AuditAction::LoginFailed))
        .filter(audit_events::Column::EntityId.eq(user.id))
        .count(&app.db)
        .await
        .unwrap()
}

#[tokio::test]
async fn parallel_guesses_verify_no_more_than_the_lockout_allows() {
    // The attack the lockout is for: 100 guesses sent at once, the right
    // password four times among them. Only the reserved attempts are ever
    // checked, so at most 5 wrong passwords are verified, and once the
    // account is locked nothing succeeds.
    for_each_backend_with(
        |config| {
            config.rate_limits.anonymous_per_minute = std::num::NonZeroU32::new(10_000).unwrap();
        },
        |app| async move {
            let user = app.create_user(Role::FrontDesk).await;
            let guesses = (0..100).map(|n| {
                let password = if n % 25 == 7 {
                    TEST_PASSWORD.to_owned()
                } else {
                    format!("wrong guess number {n}")
                };
                let app = &app;
                let email = user.email.clone();
                async move { app.login(&email, &password).await }
            });
            let responses = futures_util::future::join_all(guesses).await;
            let signed_in = responses
                .iter()
                .filter(|response| response["data"]["login"]["accessToken"].is_string())
                .count();
            let refused = responses
                .iter()
                .filter(|response| response["errors"][0]["extensions"]["code"] == "RATE_LIMITED")
                .count();
            let wrong = wrong_passwords_verified(&app, &user).await;
            assert!(wrong <= 5, "{wrong} wrong passwords were verified");
            assert!(signed_in <= 4, "{signed_in}");
            assert!(
                refused >= 91,
                "{refused} of 100 refused before verification"
            );
            assert_eq!(
                u64::try_from(responses.len() - refused - signed_in).unwrap(),
                wrong,
                "every other answer is a verified wrong password"
            );
            if wrong == 5 {
                let after = app.login(&user.email, TEST_PASSWORD).await;
                assert_eq!(error_code(&after), "RATE_LIMITED", "{after}");
            }
        },
    )
    .await;
}

#[tokio::test]
async fn two_instances_share_one_lockout() {
    for_each_backend(|app| async move {
        let other = app.second_instance().await;
        let user = app.create_user(Role::FrontDesk).await;
        let guesses = (0..12).map(|n| {
            let instance = if n % 2 == 0 { &app } else { &other };
            let email = user.email.clone();
            async move { instance.login(&email, &format!("wrong guess {n}")).await }
        });
        let responses = futures_util::future::join_all(guesses).await;
        let refused = responses
            .iter()
            .filter(|response| error_code(response) == "RATE_LIMITED")
            .count();
        assert_eq!(refused, 7, "5 verified, the rest refused: {responses:?}");
        assert_eq!(wrong_passwords_verified(&app, &user).await, 5);
    })
    .await;
}

#[tokio::test]
async fn aliased_logins_in_one_request_are_each_counted() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::FrontDesk).await;
        let attempts: String = (0..10)
            .map(|n| format!("a{n}: login(input: {{ email: $email, password: \"guess number {n}\" }}) {{ accessToken }}\n"))
            .collect();
        let query = format!("mutation($email: String!) {{ {attempts} }}");
        let response = app.gql(&query, json!({ "email": user.email }), None).await;
        let codes = error_codes(&response);
        assert_eq!(codes.len(), 10, "{response}");
        assert_eq!(&codes[..5], &["UNAUTHENTICATED"; 5]);
        assert_eq!(&codes[5..], &["RATE_LIMITED"; 5], "{response}");
        let after = app.login(&user.email, TEST_PASSWORD).await;
        assert_eq!(error_code(&after), "RATE_LIMITED");
    })
    .await;
}

#[tokio::test]
async fn many_failures_from_one_ip_lock_that_ip() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::Admin).await;
        // Different (unknown) accounts, same client address: 19 failures
        // leave the IP open, the 20th locks it.
        let probe = |batch: usize, count: usize| {
            let attempts: String = (0..count)
                .map(|n| format!("a{n}: login(input: {{ email: \"probe{batch}-{n}@clinic.test\", password: \"guess {n}\" }}) {{ accessToken }}\n"))
                .collect();
            format!("mutation {{ {attempts} }}")
        };
        for batch in 0..3 {
            app.gql(&probe(batch, 6), json!({}), None).await;
        }
        app.gql(&probe(3, 1), json!({}), None).await;
        let response = app.login(&user.email, TEST_PASSWORD).await;
        assert!(response["data"]["login"]["accessToken"].is_string(), "19 failures: {response}");
        app.gql(&probe(4, 1), json!({}), None).await;
        // An account that never signed in from this address, as a password
        // sprayer's next target, is refused.
        let newcomer = app.create_user(Role::FrontDesk).await;
        let response = app.login(&newcomer.email, TEST_PASSWORD).await;
        assert_eq!(error_code(&response), "RATE_LIMITED", "20 failures lock the IP: {response}");
    })
    .await;
}

#[tokio::test]
async fn others_failures_on_a_shared_address_do_not_lock_out_a_colleagues_right_password() {
    for_each_backend(|app| async move {
        let app = app;
        let colleague = app.create_user(Role::Provider).await;
        let signed_in = app.login(&colleague.email, TEST_PASSWORD).await;
        assert!(signed_in["data"]["login"]["accessToken"].is_string(), "{signed_in}");
        // Someone behind the same clinic NAT (or an attacker behind the
        // same proxy) fails 20 times on other accounts: the address locks.
        for batch in 0..4 {
            let attempts: String = (0..5)
                .map(|n| format!("a{n}: login(input: {{ email: \"spray-{batch}-{n}@clinic.test\", password: \"guess {n}\" }}) {{ accessToken }}\n"))
                .collect();
            app.gql(&format!("mutation {{ {attempts} }}"), json!({}), None).await;
        }
        let sprayed = app.login("spray-20@clinic.test", "guess").await;
        assert_eq!(error_code(&sprayed), "RATE_LIMITED", "{sprayed}");

        // The colleague, who signed in from here before, still can.
        let response = app.login(&colleague.email, TEST_PASSWORD).await;
        assert!(response["data"]["login"]["accessToken"].is_string(), "the right password works: {response}");
        // Wrong guesses at that account still meet its own limit: the 5th
        // locks it, and then the right password waits too.
        for n in 0..5 {
            let wrong = app.login(&colleague.email, &format!("wrong {n}")).await;
            assert_eq!(error_code(&wrong), "UNAUTHENTICATED", "guess {n}: {wrong}");
        }
        let locked = app.login(&colleague.email, TEST_PASSWORD).await;
        assert_eq!(error_code(&locked), "RATE_LIMITED", "{locked}");
    })
    .await;
}

#[tokio::test]
async fn refresh_rotates_the_refresh_token() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::Provider).await;
        let login = app.login(&user.email, TEST_PASSWORD).await;
        let (_, first) = session_tokens(&login["data"]["login"]);
        let response = refresh(&app, &first).await;
        let (access, second) = session_tokens(&response["data"]["refreshSession"]);
        assert_ne!(first, second);
        let me = app.gql(ME, json!({}), Some(&access)).await;
        assert_eq!(me["data"]["me"]["id"], user.id.to_string());
        let third = refresh(&app, &second).await;
        assert!(
            third["data"]["refreshSession"]["refreshToken"].is_string(),
            "{third}"
        );
    })
    .await;
}

#[tokio::test]
async fn reusing_a_rotated_refresh_token_revokes_the_whole_family() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::Provider).await;
        let login = app.login(&user.email, TEST_PASSWORD).await;
        let (_, stolen) = session_tokens(&login["data"]["login"]);
        let legit = refresh(&app, &stolen).await;
        let (current_access, current) = session_tokens(&legit["data"]["refreshSession"]);
        assert!(app.gql(ME, json!({}), Some(&current_access)).await["data"]["me"].is_object());

        let replay = refresh(&app, &stolen).await;
        assert_eq!(error_code(&replay), "UNAUTHENTICATED");
        assert_eq!(
            error_code(&app.gql(ME, json!({}), Some(&current_access)).await),
            "UNAUTHENTICATED",
            "the revoked family's access tokens end at once"
        );
        let after_theft = refresh(&app, &current).await;
        assert_eq!(
            error_code(&after_theft),
            "UNAUTHENTICATED",
            "the family is revoked: {after_theft}"
        );
    })
    .await;
}

#[tokio::test]
async fn logout_ends_the_session() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::FrontDesk).await;
        let login = app.login(&user.email, TEST_PASSWORD).await;
        let (access, refresh_token) = session_tokens(&login["data"]["login"]);
        let other_device = app.login(&user.email, TEST_PASSWORD).await;
        let (other_access, _) = session_tokens(&other_device["data"]["login"]);
        let response = app
            .gql(
                "mutation($input: LogoutInput!) { logout(input: $input) { loggedOut } }",
                json!({ "input": { "refreshToken": refresh_token } }),
                Some(&access),
            )
            .await;
        assert_eq!(response["data"]["logout"]["loggedOut"], true, "{response}");
        assert_eq!(
            error_code(&refresh(&app, &refresh_token).await),
            "UNAUTHENTICATED"
        );
        // The session's access token ends with it, not 15 minutes later;
        // the user's other session is untouched.
        assert_eq!(
            error_code(&app.gql(ME, json!({}), Some(&access)).await),
            "UNAUTHENTICATED"
        );
        assert!(app.gql(ME, json!({}), Some(&other_access)).await["data"]["me"].is_object());
    })
    .await;
}

#[tokio::test]
async fn deactivation_revokes_live_access_tokens_at_once() {
    for_each_backend(|app| async move {
        let (_, admin) = app.sign_in(Role::Admin).await;
        let user = app.create_user(Role::FrontDesk).await;
        let login = app.login(&user.email, TEST_PASSWORD).await;
        let (access, refresh_token) = session_tokens(&login["data"]["login"]);
        assert!(app.gql(ME, json!({}), Some(&access)).await["data"]["me"].is_object());

        let response = app
            .gql(
                "mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { user { active } } }",
                json!({ "input": { "id": user.id.to_string() } }),
                Some(&admin),
            )
            .await;
        assert_eq!(response["data"]["deactivateUser"]["user"]["active"], false, "{response}");

        assert_eq!(error_code(&app.gql(ME, json!({}), Some(&access)).await), "UNAUTHENTICATED");
        assert_eq!(error_code(&refresh(&app, &refresh_token).await), "UNAUTHENTICATED");
        assert_eq!(error_code(&app.login(&user.email, TEST_PASSWORD).await), "UNAUTHENTICATED");
    })
    .await;
}

#[tokio::test]
async fn password_change_revokes_other_sessions_and_keeps_this_one() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::Provider).await;
        let other_device = app.login(&user.email, TEST_PASSWORD).await;
        let (other_access, other_refresh) = session_tokens(&other_device["data"]["login"]);
        let this_device = app.login(&user.email, TEST_PASSWORD).await;
        let (access, _) = session_tokens(&this_device["data"]["login"]);

        let change = "mutation($input: ChangePasswordInput!) { changePassword(input: $input) { session { accessToken } } }";
        let wrong = app
            .gql(change, json!({ "input": { "currentPassword": "not it at all", "newPassword": "a brand new passphrase" } }), Some(&access))
            .await;
        assert_eq!(error_code(&wrong), "BAD_USER_INPUT");
        assert_eq!(wrong["errors"][0]["extensions"]["field"], "currentPassword");
        let short = app
            .gql(change, json!({ "input": { "currentPassword": TEST_PASSWORD, "newPassword": "short" } }), Some(&access))
            .await;
        assert_eq!(short["errors"][0]["extensions"]["field"], "newPassword");

        let response = app
            .gql(change, json!({ "input": { "currentPassword": TEST_PASSWORD, "newPassword": "a brand new passphrase" } }), Some(&access))
            .await;
        let new_access = response["data"]["changePassword"]["session"]["accessToken"].as_str().unwrap_or_else(|| panic!("{response}"));
        assert!(app.gql(ME, json!({}), Some(new_access)).await["data"]["me"].is_object());
        assert_eq!(error_code(&app.gql(ME, json!({}), Some(&access)).await), "UNAUTHENTICATED");
        assert_eq!(error_code(&app.gql(ME, json!({}), Some(&other_access)).await), "UNAUTHENTICATED");
        assert_eq!(error_code(&refresh(&app, &other_refresh).await), "UNAUTHENTICATED");
        assert_eq!(error_code(&app.login(&user.email, TEST_PASSWORD).await), "UNAUTHENTICATED");
        assert!(app.login(&user.email, "a brand new passphrase").await["data"]["login"].is_object());
    })
    .await;
}

fn claims(sub: &str, aud: &str, exp_offset: i64) -> Value {
    let now = Utc::now().timestamp();
    json!({
        "iss": "dermagraph", "aud": aud, "sub": sub, "exp": now + exp_offset,
        "nbf": now - 10, "iat": now - 10, "jti": uuid::Uuid::now_v7(), "ver": 0
    })
}

#[tokio::test]
async fn forged_and_expired_tokens_are_refused() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::Admin).await;
        let sub = user.id.to_string();
        let sign = |claims: &Value, secret: &[u8]| {
            encode(
                &Header::default(),
                claims,
                &EncodingKey::from_secret(secret),
            )
            .unwrap()
        };
        let genuine = sign(
            &claims(&sub, "dermagraph-api", 600),
            TEST_JWT_SECRET.as_bytes(),
        );
        assert!(
            app.gql(ME, json!({}), Some(&genuine)).await["data"]["me"].is_object(),
            "control: a well-formed token works"
        );

        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#);
        let payload = URL_SAFE_NO_PAD.encode(claims(&sub, "dermagraph-api", 600).to_string());
        let forged = [
            ("alg none", format!("{header}.{payload}.")),
            (
                "other key",
                sign(
                    &claims(&sub, "dermagraph-api", 600),
                    b"some-other-secret-of-32-bytes-or-more",
                ),
            ),
            (
                "wrong audience",
                sign(
                    &claims(&sub, "another-api", 600),
                    TEST_JWT_SECRET.as_bytes(),
                ),
            ),
            (
                "expired",
                sign(
                    &claims(&sub, "dermagraph-api", -600),
                    TEST_JWT_SECRET.as_bytes(),
                ),
            ),
            (
                "HS512",
                encode(
                    &Header::new(jsonwebtoken::Algorithm::HS512),
                    &claims(&sub, "dermagraph-api", 600),
                    &EncodingKey::from_secret(TEST_JWT_SECRET.as_bytes()),
                )
                .unwrap(),
            ),
            (
                "ten-year lifetime",
                sign(
                    &claims(&sub, "dermagraph-api", 10 * 365 * 86_400),
                    TEST_JWT_SECRET.as_bytes(),
                ),
            ),
            ("garbage", "not.a.token".to_owned()),
        ];
        for (what, token) in forged {
            let response = app.gql(ME, json!({}), Some(&token)).await;
            assert_eq!(
                error_code(&response),
                "UNAUTHENTICATED",
                "{what}: {response}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn refreshing_never_extends_the_absolute_session_lifetime() {
    use migration::sea_orm::{ConnectionTrait, Statement};
    for_each_backend(|app| async move {
        let user = app.create_user(Role::FrontDesk).await;
        let login = app.login(&user.email, TEST_PASSWORD).await;
        let (_, first) = session_tokens(&login["data"]["login"]);
        let backend = app.db.get_database_backend();
        let expiries = || async {
            app.db
                .query_all_raw(Statement::from_string(
                    backend,
                    "SELECT expires_at FROM refresh_tokens ORDER BY id",
                ))
                .await
                .unwrap()
                .iter()
                .map(|row| {
                    row.try_get::<chrono::DateTime<Utc>>("", "expires_at")
                        .unwrap()
                })
                .collect::<Vec<_>>()
        };
        let refreshed = refresh(&app, &first).await;
        let (_, second) = session_tokens(&refreshed["data"]["refreshSession"]);
        let rows = expiries().await;
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0], rows[1], "a refresh keeps the session's end");
        let hours = (rows[0] - Utc::now()).num_minutes();
        assert!(
            (11 * 60..=12 * 60).contains(&hours),
            "12 h by policy, got {hours} min"
        );

        // Once the lifetime is over, refreshing fails however fresh the token.
        app.db
            .execute_unprepared("UPDATE refresh_tokens SET expires_at = issued_at")
            .await
            .unwrap();
        assert_eq!(error_code(&refresh(&app, &second).await), "UNAUTHENTICATED");
    })
    .await;
}
