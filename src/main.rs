//! The `dermagraph` command: serve the API (default), migrate the database,
//! export the schema.

use std::{path::PathBuf, process::ExitCode};

use anyhow::Context;
use clap::{Parser, Subcommand};
use dermagraph::{
    build_app,
    config::{Config, DatabaseConfig},
    db, graphql, serve, shutdown_signal, telemetry,
};
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;

/// Practice-management GraphQL API for micro-needling clinics.
#[derive(Parser)]
#[command(
    name = "dermagraph",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Server settings when no subcommand is given (same as `serve`).
    #[command(flatten)]
    serve: Config,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default when no subcommand is given).
    Serve(Config),
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(flatten)]
        database: DatabaseConfig,
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Write the GraphQL schema (SDL) that clients code against.
    ExportSchema {
        /// File to write; `-` writes to standard output.
        #[arg(long, short, default_value = "schema.graphql")]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply pending migrations (all unless --steps).
    Up {
        /// How many migrations to apply.
        #[arg(long)]
        steps: Option<u32>,
    },
    /// Roll back the latest migrations.
    Down {
        /// How many migrations to roll back.
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List every migration and whether it is applied.
    Status,
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve(cli.serve));
    let log_format = match &command {
        Command::Serve(config) => config.effective_log_format(),
        _ => dermagraph::config::LogFormat::Pretty,
    };
    telemetry::init_tracing(log_format);
    match run(command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(config) => run_server(config).await,
        Command::Migrate { database, action } => run_migrations(&database, action).await,
        Command::ExportSchema { out } => export_schema(&out),
    }
}

async fn run_server(config: Config) -> anyhow::Result<()> {
    if config.is_production() && config.database.is_sqlite() {
        tracing::warn!(
            "production on SQLite: use PostgreSQL (DATABASE_URL=postgres://…) for a clinic's live data"
        );
    }
    let bind = config.bind;
    let database = db::redact(&config.database.database_url);
    let graphiql = config.graphiql_enabled();
    let app = build_app(config).await?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, %database, "dermagraph is serving");
    println!("dermagraph is serving on http://{address} (database: {database})");
    if graphiql {
        println!("GraphiQL: open http://{address}/graphql in a browser");
    }
    serve(app, listener, shutdown_signal()).await
}

async fn run_migrations(database: &DatabaseConfig, action: MigrateAction) -> anyhow::Result<()> {
    let conn = db::connect(database).await?;
    match action {
        MigrateAction::Up { steps } => Migrator::up(&conn, steps).await?,
        MigrateAction::Down { steps } => Migrator::down(&conn, Some(steps)).await?,
        MigrateAction::Status => {}
    }
    for migration in Migrator::get_migration_with_status(&conn).await? {
        println!(
            "{:<10} {}",
            format!("{:?}", migration.status()),
            migration.name()
        );
    }
    Ok(())
}

fn export_schema(out: &PathBuf) -> anyhow::Result<()> {
    let sdl = graphql::schema_sdl();
    if out.as_os_str() == "-" {
        print!("{sdl}");
    } else {
        std::fs::write(out, &sdl).with_context(|| format!("cannot write {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
