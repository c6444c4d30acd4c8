//! The command line: `create-user` bootstraps a clinic's first admin, and
//! listings end quietly when their reader stops early.

use std::{
    io::Write,
    process::{Command, Stdio},
};

use crate::helpers::for_each_backend;

#[tokio::test]
async fn create_user_reads_the_password_from_stdin_and_the_user_can_log_in() {
    for_each_backend(|app| async move {
        let mut child = Command::new(env!("CARGO_BIN_EXE_dermagraph"))
            .args([
                "create-user",
                "--email",
                "Founder@Clinic.test",
                "--role",
                "ADMIN",
                "--display-name",
                "Founding Admin",
            ])
            .env("DATABASE_URL", &app.database_url)
            .env_remove("DERMAGRAPH_PASSWORD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(b"founder passphrase 2026\n")
            .unwrap();
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout).contains("created ADMIN founder@clinic.test")
        );

        let login = app
            .login("founder@clinic.test", "founder passphrase 2026")
            .await;
        assert_eq!(login["data"]["login"]["user"]["role"], "ADMIN", "{login}");

        let refused = Command::new(env!("CARGO_BIN_EXE_dermagraph"))
            .args([
                "create-user",
                "--email",
                "x@clinic.test",
                "--role",
                "ADMIN",
                "--display-name",
                "X",
            ])
            .env("DATABASE_URL", &app.database_url)
            .env("DERMAGRAPH_PASSWORD", "short")
            .output()
            .unwrap();
        assert!(!refused.status.success());
        assert!(String::from_utf8_lossy(&refused.stderr).contains("at least 12 characters"));
    })
    .await;
}

#[tokio::test]
async fn listing_to_a_reader_that_went_away_ends_quietly() {
    for_each_backend(|app| async move {
        // `dermagraph migrate status | head -0`: the pipe is closed before
        // the first line is written.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = Command::new(env!("CARGO_BIN_EXE_dermagraph"))
            .args(["migrate", "status"])
            .env("DATABASE_URL", &app.database_url)
            .stdout(writer)
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{:?}: {stderr}", output.status);
        assert!(!stderr.contains("panicked"), "{stderr}");
    })
    .await;
}

#[tokio::test]
async fn migrate_takes_the_database_url_before_or_after_its_action() {
    for_each_backend(|app| async move {
        for args in [
            vec![
                "migrate",
                "status",
                "--database-url",
                app.database_url.as_str(),
            ],
            vec![
                "migrate",
                "--database-url",
                app.database_url.as_str(),
                "status",
            ],
        ] {
            let output = Command::new(env!("CARGO_BIN_EXE_dermagraph"))
                .args(&args)
                // Nowhere else to find it: the flag alone says which database.
                .env_remove("DATABASE_URL")
                .current_dir(std::env::temp_dir())
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&output.stdout);
            assert!(
                output.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            assert!(
                stdout.contains("Applied"),
                "{args:?} lists the applied migrations: {stdout}"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn a_production_server_writes_json_lines_only() {
    for_each_backend(|app| async move {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = Command::new(env!("CARGO_BIN_EXE_dermagraph"))
            .arg("serve")
            .env("DATABASE_URL", &app.database_url)
            .env("DERMAGRAPH_ENV", "production")
            .env(
                "DERMAGRAPH_JWT_SECRET",
                "a2f1c0d98e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39",
            )
            .env("DERMAGRAPH_BIND", format!("127.0.0.1:{port}"))
            // As docker-compose.yml sets it.
            .env("RUST_LOG", "info")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let ready = format!("http://127.0.0.1:{port}/readyz");
        let mut up = false;
        for _ in 0..100 {
            if reqwest::get(&ready).await.is_ok_and(|r| r.status() == 200) {
                up = true;
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        // SIGTERM for a graceful stop, then read everything it wrote.
        let pid = i32::try_from(server.id()).unwrap();
        std::process::Command::new("kill")
            .arg(pid.to_string())
            .status()
            .unwrap();
        let output = server.wait_with_output().unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(up, "the server did not become ready: {text}");
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let parsed: Result<serde_json::Value, _> = serde_json::from_str(line);
            assert!(parsed.is_ok(), "not a JSON line: {line:?}");
        }
        assert!(
            !text.contains("already exists, skipping"),
            "PostgreSQL's notices stay out at RUST_LOG=info: {text}"
        );
        assert!(text.contains("dermagraph is serving"), "{text}");
    })
    .await;
}
