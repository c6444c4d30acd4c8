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
