//! Subscriptions over graphql-ws at `/graphql/ws`: authenticated in
//! `connection_init`, role-checked like HTTP, and fanned out across
//! instances on PostgreSQL (LISTEN/NOTIFY).

use std::time::Duration;

use dermagraph::domain::staff::Role;
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio_tungstenite::{
    MaybeTlsStream, WebSocketStream,
    tungstenite::{Message, client::IntoClientRequest},
};

use crate::{
    helpers::{TestApp, for_each_backend},
    procedures::staff,
};

type Socket = WebSocketStream<MaybeTlsStream<tokio::net::TcpStream>>;

const ADVERSE: &str = "subscription { adverseEventReported { procedureId followUpId reviewId } }";

async fn connect(app: &TestApp, token: &str) -> Socket {
    let mut request = format!("ws://{}/graphql/ws", app.address)
        .into_client_request()
        .unwrap();
    request.headers_mut().insert(
        "sec-websocket-protocol",
        "graphql-transport-ws".parse().unwrap(),
    );
    let (mut socket, _) = tokio_tungstenite::connect_async(request)
        .await
        .expect("upgrade");
    let init = json!({ "type": "connection_init", "payload": { "authorization": format!("Bearer {token}") } });
    socket
        .send(Message::Text(init.to_string().into()))
        .await
        .unwrap();
    socket
}

/// The next protocol message, or `None` when the server closed.
async fn next(socket: &mut Socket) -> Option<Value> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a message within 10 s")?;
        match message.ok()? {
            Message::Text(text) => return serde_json::from_str(&text).ok(),
            Message::Close(_) => return None,
            _ => {}
        }
    }
}

/// The code of the close frame the server sends next (skipping other
/// messages), or `None` when the connection ends without one or stays
/// open for 10 s.
async fn close_code(socket: &mut Socket) -> Option<u16> {
    loop {
        let message = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .ok()??;
        if let Message::Close(frame) = message.ok()? {
            return frame.map(|frame| frame.code.into());
        }
    }
}

async fn subscribe(app: &TestApp, token: &str, query: &str) -> Socket {
    let mut socket = connect(app, token).await;
    assert_eq!(next(&mut socket).await.unwrap()["type"], "connection_ack");
    let subscribe = json!({ "id": "1", "type": "subscribe", "payload": { "query": query } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    socket
}

/// A completed procedure's first follow-up: (procedure, follow-up, version).
async fn first_follow_up(app: &TestApp, staff: &crate::procedures::Staff) -> (String, String, i64) {
    let (_, procedure, _) = crate::procedures::in_progress(app, staff, "Live", 1).await;
    let pen = crate::procedures::new_device(app, staff, "PEN-LIVE", 2.5).await;
    let added = crate::procedures::add_session(
        app,
        &staff.provider,
        crate::procedures::session(&procedure, &pen, "LIVE-1", "LOT-L", "CHEEKS", 1.0, 0),
    )
    .await;
    assert!(added["errors"].is_null(), "{added}");
    let done = crate::procedures::complete(app, &staff.provider, &procedure, 50).await;
    assert!(done["errors"].is_null(), "{done}");
    let listed = app
        .gql(
            "query($id: ID!) { procedure(id: $id) { followUps { id version } } }",
            json!({ "id": procedure }),
            Some(&staff.desk),
        )
        .await;
    let first = &listed["data"]["procedure"]["followUps"][0];
    (
        procedure,
        first["id"].as_str().unwrap().to_owned(),
        first["version"].as_i64().unwrap(),
    )
}

async fn report_infection(app: &TestApp, token: &str, follow_up: &str, version: i64) {
    let reported = app
        .gql("mutation($input: CompleteFollowUpInput!) { completeFollowUp(input: $input) { providerReview { id } } }",
            json!({ "input": { "id": follow_up, "expectedVersion": version, "channel": "IN_PERSON", "reached": true, "symptoms": ["SIGNS_OF_INFECTION"] } }),
            Some(token))
        .await;
    assert!(
        reported["data"]["completeFollowUp"]["providerReview"]["id"].is_string(),
        "{reported}"
    );
}

#[tokio::test]
async fn r_adverse_reaches_provider_subscribers_at_once_and_never_the_front_desk() {
    for_each_backend(|app| async move {
        let staff = staff(&app).await;
        let (procedure, follow_up, version) = first_follow_up(&app, &staff).await;
        let mut provider = subscribe(&app, &staff.provider, ADVERSE).await;
        let mut desk_changes = subscribe(
            &app,
            &staff.desk,
            "subscription { followUpChanged { followUpId kind status } }",
        )
        .await;
        let mut desk_adverse = subscribe(&app, &staff.desk, ADVERSE).await;
        // graphql-transport-ws: a refusal to open is an `error` message
        // with the errors, and no `complete` follows it.
        let refused = next(&mut desk_adverse).await.unwrap();
        assert_eq!(refused["type"], "error", "{refused}");
        assert_eq!(refused["id"], "1", "{refused}");
        assert_eq!(
            refused["payload"][0]["extensions"]["code"], "FORBIDDEN",
            "{refused}"
        );
        let after = tokio::time::timeout(Duration::from_millis(300), desk_adverse.next()).await;
        assert!(after.is_err(), "nothing follows the error: {after:?}");
        // R-AUDIT: the refusal over the WebSocket is audited as over HTTP.
        let denied = app
            .gql("{ auditEvents(first: 20, filter: { action: ACCESS_DENIED }) { edges { node { operation outcome actorRole } } } }",
                json!({}), Some(&staff.admin))
            .await;
        let rows = denied["data"]["auditEvents"]["edges"].as_array().cloned().unwrap_or_default();
        assert!(
            rows.iter().any(|row| row["node"]["operation"] == "adverseEventReported" && row["node"]["outcome"] == "DENIED"),
            "{denied}"
        );
        // Give the subscriptions a moment to be registered before the event.
        tokio::time::sleep(Duration::from_millis(200)).await;

        report_infection(&app, &staff.desk, &follow_up, version).await;
        let event = next(&mut provider).await.unwrap();
        assert_eq!(event["type"], "next", "{event}");
        let payload = &event["payload"]["data"]["adverseEventReported"];
        assert_eq!(payload["procedureId"], procedure.as_str());
        assert_eq!(payload["followUpId"], follow_up.as_str());
        let change = next(&mut desk_changes).await.unwrap();
        assert_eq!(
            change["payload"]["data"]["followUpChanged"]["followUpId"],
            follow_up.as_str(),
            "{change}"
        );
        assert_eq!(
            change["payload"]["data"]["followUpChanged"]["status"],
            "COMPLETED"
        );
    })
    .await;
}

#[tokio::test]
async fn subscriptions_need_a_valid_token_in_connection_init() {
    for_each_backend(|app| async move {
        let mut socket = connect(&app, "not-a-token").await;
        assert_eq!(close_code(&mut socket).await, Some(4401), "bad credentials: 4401 Unauthorized");
        let mut request = format!("ws://{}/graphql/ws", app.address).into_client_request().unwrap();
        request.headers_mut().insert("sec-websocket-protocol", "graphql-transport-ws".parse().unwrap());
        let (mut early, _) = tokio_tungstenite::connect_async(request).await.unwrap();
        let subscribe_first = json!({ "id": "1", "type": "subscribe", "payload": { "query": ADVERSE } });
        early.send(Message::Text(subscribe_first.to_string().into())).await.unwrap();
        assert_eq!(close_code(&mut early).await, Some(4401), "subscribe before connection_ack: 4401");
        let (_, desk) = app.sign_in(Role::FrontDesk).await;
        let mut socket = subscribe(&app, &desk, "subscription { scheduleChanged { appointmentId appointment } }").await;
        let patient = app
            .gql("mutation { createPatient(input: { firstName: \"Live\", lastName: \"Schedule\" }) { patient { id } } }", json!({}), Some(&desk))
            .await;
        let provider = app.create_user(Role::Provider).await.id.to_string();
        tokio::time::sleep(Duration::from_millis(200)).await;
        let booked = app
            .gql("mutation($input: ScheduleConsultationInput!) { scheduleConsultation(input: $input) { consultation { id } } }",
                json!({ "input": { "patientId": patient["data"]["createPatient"]["patient"]["id"], "providerId": provider,
                    "startsAt": crate::procedures::day_at(2), "durationMinutes": 30 } }), Some(&desk))
            .await;
        let id = booked["data"]["scheduleConsultation"]["consultation"]["id"].as_str().unwrap_or_else(|| panic!("{booked}")).to_owned();
        let event = next(&mut socket).await.unwrap();
        assert_eq!(event["payload"]["data"]["scheduleChanged"], json!({ "appointmentId": id, "appointment": "CONSULTATION" }), "{event}");
    })
    .await;
}

#[tokio::test]
async fn an_event_raised_on_one_instance_reaches_a_subscriber_on_another() {
    for_each_backend(|app| async move {
        if !app.database_url.starts_with("postgres") {
            // One process owns a SQLite database: there is no second instance.
            return;
        }
        let other = app.second_instance().await;
        let staff = staff(&app).await;
        let (procedure, follow_up, version) = first_follow_up(&app, &staff).await;
        let mut provider = subscribe(&other, &staff.provider, ADVERSE).await;
        tokio::time::sleep(Duration::from_millis(300)).await;
        report_infection(&app, &staff.desk, &follow_up, version).await;
        let event = next(&mut provider).await.unwrap();
        assert_eq!(
            event["payload"]["data"]["adverseEventReported"]["procedureId"],
            procedure.as_str(),
            "{event}"
        );
    })
    .await;
}

#[tokio::test]
async fn a_connection_closes_when_its_access_token_expires() {
    for_each_backend(|app| async move {
        let user = app.create_user(Role::Provider).await;
        let account = dermagraph::services::users::find_user(&app.db, user.id)
            .await
            .unwrap();
        let keys = dermagraph::auth::tokens::TokenKeys::from_secret(
            crate::helpers::TEST_JWT_SECRET.as_bytes(),
        );
        // Issued long enough ago that it has 3 seconds left.
        let issued = chrono::Utc::now() - dermagraph::auth::tokens::ACCESS_TOKEN_TTL
            + chrono::Duration::seconds(3);
        let token = keys
            .issue(user.id, account.token_version, None, issued)
            .unwrap()
            .token;
        let mut socket = subscribe(&app, &token, ADVERSE).await;
        let started = std::time::Instant::now();
        assert_eq!(
            close_code(&mut socket).await,
            Some(4401),
            "the server closes the connection: 4401, sign in again"
        );
        let waited = started.elapsed();
        assert!(
            waited >= Duration::from_secs(1) && waited < Duration::from_secs(9),
            "closed at expiry, after {waited:?}"
        );
    })
    .await;
}

/// Runs `query` as operation `id` over an open connection and returns its
/// single result.
async fn run_over(socket: &mut Socket, id: &str, query: &str, variables: Value) -> Value {
    let subscribe = json!({ "id": id, "type": "subscribe", "payload": { "query": query, "variables": variables } });
    socket
        .send(Message::Text(subscribe.to_string().into()))
        .await
        .unwrap();
    loop {
        let message = next(socket).await.expect("an answer");
        if message["id"] == id && message["type"] != "complete" {
            return message;
        }
    }
}

#[tokio::test]
async fn queries_over_a_connection_see_fresh_data_and_refuse_nul() {
    for_each_backend(|app| async move {
        let (_, token) = app.sign_in(Role::Provider).await;
        let created = app
            .gql(
                "mutation($input: CreatePatientInput!) { createPatient(input: $input) { patient { id version } } }",
                json!({ "input": { "firstName": "Ana", "lastName": "Socket", "medicalHistory": { "allergies": "latex" } } }),
                Some(&token),
            )
            .await;
        let patient = &created["data"]["createPatient"]["patient"];
        let mut socket = connect(&app, &token).await;
        assert_eq!(next(&mut socket).await.unwrap()["type"], "connection_ack");
        let page = "{ patients(first: 5) { edges { node { medicalHistory { allergies } } } } }";
        let allergies = |answer: &Value| answer["payload"]["data"]["patients"]["edges"][0]["node"]["medicalHistory"]["allergies"].clone();
        let first = run_over(&mut socket, "1", page, json!({})).await;
        assert_eq!(allergies(&first), "latex", "{first}");
        let updated = app
            .gql(
                "mutation($input: UpdatePatientInput!) { updatePatient(input: $input) { patient { version } } }",
                json!({ "input": { "id": patient["id"], "expectedVersion": patient["version"], "medicalHistory": { "allergies": "none" } } }),
                Some(&token),
            )
            .await;
        assert!(updated["errors"].is_null(), "{updated}");
        // Operations of one connection share its loaders: nothing fetched
        // for the first may be served to the second.
        let second = run_over(&mut socket, "2", page, json!({})).await;
        assert_eq!(allergies(&second), "none", "{second}");
        let nul = run_over(
            &mut socket,
            "3",
            "query($s: String) { patients(filter: { search: $s }) { totalCount } }",
            json!({ "s": "a\u{0}b" }),
        )
        .await;
        let errors = nul["payload"].as_array().cloned().or_else(|| nul["payload"]["errors"].as_array().cloned()).unwrap_or_default();
        assert_eq!(errors[0]["extensions"]["code"], "BAD_USER_INPUT", "{nul}");
        // The limits hold over a connection too, where no HTTP handler
        // checks first: depth after validation, aliases after parsing.
        // (With data beside it: introspection alone has its own limits.)
        let deep = "{ me { __typename } __schema { types { fields { type { ofType { ofType { ofType { ofType { ofType { ofType { ofType { name } } } } } } } } } } } }";
        let aliases: String = (0..16).map(|i| format!("a{i}: __typename ")).collect();
        for (id, query, limit) in [("4", deep.to_owned(), "depth"), ("5", format!("{{ {aliases} }}"), "aliases")] {
            let refused = run_over(&mut socket, id, &query, json!({})).await;
            let errors = refused["payload"].as_array().cloned().or_else(|| refused["payload"]["errors"].as_array().cloned()).unwrap_or_default();
            assert_eq!(errors[0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{refused}");
            assert!(errors[0]["message"].as_str().unwrap_or_default().contains(limit), "{refused}");
        }
        // Values nested past what the parser's stack holds are refused
        // before parsing, over the connection as over HTTP.
        for (n, query) in crate::limits::deep_value_queries(300).into_iter().enumerate() {
            let id = format!("deep{n}");
            let refused = run_over(&mut socket, &id, &query, json!({})).await;
            let errors = refused["payload"].as_array().cloned().or_else(|| refused["payload"]["errors"].as_array().cloned()).unwrap_or_default();
            assert_eq!(errors[0]["extensions"]["code"], "QUERY_TOO_COMPLEX", "{refused}");
            assert!(errors[0]["message"].as_str().unwrap_or_default().contains("values nest 300"), "{refused}");
        }
        // Within the default token limit, deep only by nesting.
        let bomb = run_over(&mut socket, "fragments", &crate::limits::nested_fragments(300), json!({})).await;
        assert!(bomb.to_string().contains("nests 301 levels deep"), "{bomb}");
        let alive = run_over(&mut socket, "after", "{ __typename }", json!({})).await;
        assert_eq!(alive["payload"]["data"]["__typename"], "Query", "{alive}");
    })
    .await;
}

/// Waits for the server to close `socket` (Ok) or for `within` to pass
/// with it still open (Err).
async fn closed_within(socket: &mut Socket, within: Duration) -> Result<(), ()> {
    let started = std::time::Instant::now();
    loop {
        let left = within.checked_sub(started.elapsed()).ok_or(())?;
        match tokio::time::timeout(left, socket.next()).await {
            Err(_) => return Err(()),
            Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => return Ok(()),
            Ok(Some(Ok(_))) => {}
        }
    }
}

#[tokio::test]
async fn ending_access_closes_live_connections_at_once_on_every_instance() {
    for_each_backend(|app| async move {
        let other = app.second_instance().await;
        let (_, admin) = app.sign_in(Role::Admin).await;
        let deactivated = app.create_user(Role::Provider).await;
        let login = app.login(&deactivated.email, crate::helpers::TEST_PASSWORD).await;
        let token = login["data"]["login"]["accessToken"].as_str().unwrap().to_owned();
        // On PostgreSQL, connected to the other instance: the revocation
        // reaches it too (SQLite runs as one instance, without a fan-out).
        let postgres = sea_orm::ConnectionTrait::get_database_backend(&app.db) == sea_orm::DbBackend::Postgres;
        let mut socket = subscribe(if postgres { &other } else { &app }, &token, ADVERSE).await;
        let response = app
            .gql("mutation($input: DeactivateUserInput!) { deactivateUser(input: $input) { user { active } } }",
                json!({ "input": { "id": deactivated.id.to_string() } }), Some(&admin))
            .await;
        assert_eq!(response["data"]["deactivateUser"]["user"]["active"], false, "{response}");
        assert_eq!(close_code(&mut socket).await, Some(4403), "deactivation closes it: 4403 Forbidden");

        // Logout ends that session's connections, not the user's others.
        let user = app.create_user(Role::Provider).await;
        let first = app.login(&user.email, crate::helpers::TEST_PASSWORD).await;
        let second = app.login(&user.email, crate::helpers::TEST_PASSWORD).await;
        let first_token = first["data"]["login"]["accessToken"].as_str().unwrap().to_owned();
        let second_token = second["data"]["login"]["accessToken"].as_str().unwrap().to_owned();
        let mut first_socket = subscribe(&app, &first_token, ADVERSE).await;
        let mut second_socket = subscribe(&app, &second_token, ADVERSE).await;
        let out = app
            .gql("mutation($input: LogoutInput!) { logout(input: $input) { loggedOut } }",
                json!({ "input": { "refreshToken": first["data"]["login"]["refreshToken"] } }), Some(&first_token))
            .await;
        assert_eq!(out["data"]["logout"]["loggedOut"], true, "{out}");
        assert_eq!(closed_within(&mut first_socket, Duration::from_secs(5)).await, Ok(()), "logout closes its session's connection");
        assert_eq!(closed_within(&mut second_socket, Duration::from_secs(1)).await, Err(()), "the other session stays connected");

        // A role change: the connection held the old role.
        let account = dermagraph::services::users::find_user(&app.db, user.id).await.unwrap();
        let changed = app
            .gql("mutation($input: UpdateUserInput!) { updateUser(input: $input) { user { role } } }",
                json!({ "input": { "id": user.id.to_string(), "expectedVersion": account.version, "role": "FRONT_DESK" } }), Some(&admin))
            .await;
        assert_eq!(changed["data"]["updateUser"]["user"]["role"], "FRONT_DESK", "{changed}");
        assert_eq!(closed_within(&mut second_socket, Duration::from_secs(5)).await, Ok(()), "a role change closes it");
    })
    .await;
}

/// Gives the server time to start the subscriptions just sent (graphql-ws
/// acknowledges none).
async fn settle() {
    tokio::time::sleep(Duration::from_millis(300)).await;
}

/// Sends a subscribe message without waiting for an answer.
async fn open(socket: &mut Socket, id: &str) {
    let message = json!({ "id": id, "type": "subscribe", "payload": { "query": ADVERSE } });
    socket
        .send(Message::Text(message.to_string().into()))
        .await
        .unwrap();
}

#[tokio::test]
async fn subscriptions_are_capped_per_connection_and_per_caller() {
    crate::helpers::for_each_backend_with(
        |config| {
            config.connections.max_subscriptions_per_connection = 3;
            config.connections.max_subscriptions_per_actor = 4;
        },
        |app| async move {
            let (_, token) = app.sign_in(Role::Provider).await;
            let mut socket = connect(&app, &token).await;
            assert_eq!(next(&mut socket).await.unwrap()["type"], "connection_ack");
            for id in ["1", "2", "3"] {
                open(&mut socket, id).await;
            }
            // A connection starts its subscriptions in no set order: let
            // these three start before the fourth.
            settle().await;
            let refused = run_over(&mut socket, "4", ADVERSE, json!({})).await;
            assert_eq!(
                refused["type"], "error",
                "a capped subscription is refused with `error`: {refused}"
            );
            let errors = refused["payload"].as_array().cloned().unwrap_or_default();
            assert_eq!(
                errors[0]["extensions"]["code"], "QUERY_TOO_COMPLEX",
                "{refused}"
            );
            assert!(
                errors[0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("this connection already holds 3"),
                "{refused}"
            );
            // Completing one frees its place.
            socket
                .send(Message::Text(
                    json!({ "id": "1", "type": "complete" }).to_string().into(),
                ))
                .await
                .unwrap();
            settle().await;
            open(&mut socket, "5").await;
            settle().await;
            let refused = run_over(&mut socket, "6", ADVERSE, json!({})).await;
            assert!(
                refused
                    .to_string()
                    .contains("this connection already holds 3"),
                "{refused}"
            );

            // The same caller on a second connection: 3 open + 1 = 4, the limit.
            let mut second = connect(&app, &token).await;
            assert_eq!(next(&mut second).await.unwrap()["type"], "connection_ack");
            open(&mut second, "a").await;
            settle().await;
            let refused = run_over(&mut second, "b", ADVERSE, json!({})).await;
            assert!(
                refused
                    .to_string()
                    .contains("you already hold 4 subscriptions"),
                "{refused}"
            );
        },
    )
    .await;
}

#[tokio::test]
async fn r_audit_a_query_over_a_websocket_is_answered_once_its_reads_are_stored() {
    crate::helpers::for_each_backend_with(
        // Nothing but the answer's own wait writes the rows in this test.
        |config| config.audit_flush_ms = 600_000,
        |app| async move {
            let app = app;
            let (_, desk) = app.sign_in(Role::FrontDesk).await;
            let created = app
                .gql(
                    "mutation { createPatient(input: { firstName: \"Wes\", lastName: \"Socket\" }) { patient { id } } }",
                    json!({}),
                    Some(&desk),
                )
                .await;
            let patient = created["data"]["createPatient"]["patient"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("{created}"))
                .to_owned();
            let query = format!("{{ patient(id: \"{patient}\") {{ lastName }} }}");
            let mut socket = subscribe(&app, &desk, &query).await;
            let answer = next(&mut socket).await.unwrap();
            assert_eq!(answer["type"], "next", "{answer}");
            assert_eq!(answer["payload"]["data"]["patient"]["lastName"], "Socket");
            assert_eq!(
                crate::audit::stored_patient_reads(&app.database_url, &patient).await,
                1,
                "the READ row is stored before the answer leaves"
            );
        },
    )
    .await;
}
