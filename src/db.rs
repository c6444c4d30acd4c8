//! Connecting to the database and applying migrations.
//!
//! SQLite is tuned for a server: WAL so readers never wait for the writer,
//! foreign keys on, a busy timeout so concurrent writers queue instead of
//! failing with "database is locked", and `synchronous=NORMAL` (safe with WAL).

use std::{str::FromStr, time::Duration};

use anyhow::Context;
use migration::{Migrator, MigratorTrait};
use sea_orm::{
    ConnectOptions, Database, DatabaseConnection, DbErr,
    sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqliteSynchronous},
};

use crate::config::DatabaseConfig;

/// How long a SQLite writer waits for the lock before giving up.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Opens the connection pool, creating the SQLite file and its folder on
/// first use.
///
/// # Errors
/// When the folder cannot be created or the database cannot be reached.
pub async fn connect(config: &DatabaseConfig) -> anyhow::Result<DatabaseConnection> {
    if config.is_sqlite() {
        create_sqlite_folder(&config.database_url)?;
    }
    let mut options = ConnectOptions::new(config.database_url.clone());
    options
        .max_connections(config.db_max_connections)
        .min_connections(1)
        .acquire_timeout(Duration::from_secs(config.db_acquire_timeout_secs))
        .connect_timeout(Duration::from_secs(config.db_acquire_timeout_secs))
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|options: SqliteConnectOptions| {
            options
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(SQLITE_BUSY_TIMEOUT)
        });
    Database::connect(options).await.with_context(|| {
        format!(
            "cannot connect to the database at {}",
            redact(&config.database_url)
        )
    })
}

/// Applies every pending migration.
///
/// # Errors
/// The database error of the failing migration.
pub async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    Migrator::up(db, None).await
}

/// How many migrations are not yet applied.
///
/// # Errors
/// When the migration table cannot be read.
pub async fn pending_migrations(db: &DatabaseConnection) -> Result<usize, DbErr> {
    Ok(Migrator::get_pending_migrations(db).await?.len())
}

fn create_sqlite_folder(url: &str) -> anyhow::Result<()> {
    let options =
        SqliteConnectOptions::from_str(url).with_context(|| format!("invalid SQLite URL {url}"))?;
    let file = options.get_filename();
    if file.as_os_str() == ":memory:" {
        return Ok(());
    }
    if let Some(folder) = file
        .parent()
        .filter(|folder| !folder.as_os_str().is_empty())
    {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("cannot create the database folder {}", folder.display()))?;
    }
    Ok(())
}

/// The URL without its password, for messages and logs.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.split_once(':') {
                Some((user, _password)) => {
                    format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
                }
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/dermagraph"),
            "postgres://app:***@db:5432/dermagraph"
        );
        assert_eq!(
            redact("postgres://postgres@127.0.0.1/test"),
            "postgres://postgres@127.0.0.1/test"
        );
        assert_eq!(
            redact("sqlite://./data/x.db?mode=rwc"),
            "sqlite://./data/x.db?mode=rwc"
        );
    }

    #[test]
    fn creates_the_sqlite_folder() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!(
            "sqlite://{}/nested/dermagraph.db?mode=rwc",
            dir.path().display()
        );
        create_sqlite_folder(&url).unwrap();
        assert!(dir.path().join("nested").is_dir());
    }
}
