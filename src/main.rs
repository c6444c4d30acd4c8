//! The `dermagraph` command: serve the API (default), migrate the database,
//! create staff accounts, export the schema.

use std::{
    io::{IsTerminal, Write},
    path::PathBuf,
    process::ExitCode,
};

use anyhow::Context;
use clap::{Parser, Subcommand};
use dermagraph::{
    auth::actor::RequestContext,
    build_app,
    config::{Config, DatabaseConfig},
    db,
    domain::staff::{License, LicenseKind, Role},
    graphql, serve,
    services::users::{self, NewUser},
    shutdown_signal, telemetry,
};
use migration::{Migrator, MigratorTrait};
use tokio::net::TcpListener;

/// jemalloc rather than the platform's malloc for Rust allocations: a
/// GraphQL response is built from thousands of small allocations (~25 %
/// more headline throughput than glibc, BENCHMARKS.md). Blocks of 8 MiB or
/// more, like each login's 19 MiB argon2id working memory, go back to the
/// system when freed, where glibc kept them; a background thread returns
/// other freed memory within ~10 s.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

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

// One command is parsed once per process: the size of the server's
// settings in it costs nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Subcommand)]
enum Command {
    /// Run the API server (the default when no subcommand is given).
    Serve(Config),
    /// Apply, roll back or list database migrations.
    Migrate {
        #[command(flatten)]
        database: MigrateDatabase,
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Create a staff account, e.g. a clinic's first admin. The password
    /// comes from DERMAGRAPH_PASSWORD, else one line of standard input, else
    /// a prompt on the terminal.
    CreateUser(CreateUserArgs),
    /// Fill an empty database with a demo clinic (staff, patients,
    /// consultations, requests) to explore in GraphiQL. Staff passwords come
    /// from DERMAGRAPH_PASSWORD, else `demo-password-2026`.
    SeedDemo {
        #[command(flatten)]
        database: DatabaseConfig,
        /// How many patients to create.
        #[arg(long, default_value_t = 50)]
        patients: usize,
    },
    /// Fill an empty database quickly with a large clinic for the load
    /// benchmarks (bench/run.sh): staff, devices and patients with
    /// consultations, screenings, plans, procedures, device sessions and
    /// follow-ups, plus a pool of provider/patient pairs ready for the
    /// write-mix scenario. Staff passwords come from DERMAGRAPH_PASSWORD,
    /// else `bench-password-2026`.
    SeedBench {
        #[command(flatten)]
        database: DatabaseConfig,
        /// How many patients with a clinical history to create.
        #[arg(long, default_value_t = 10_000)]
        patients: usize,
        /// How many provider/patient pairs to prepare for the write-mix
        /// scenario (one per iteration: a provider cannot start two
        /// procedures within minutes, R-BOOKING).
        #[arg(long, default_value_t = 1_000)]
        write_pool: usize,
        /// Where to write the write pool's ids (JSON) for the scenario's driver.
        #[arg(long)]
        pool_file: Option<PathBuf>,
        /// Do not draw the progress bar.
        #[arg(long)]
        quiet: bool,
    },
    /// Write the GraphQL schema (SDL) that clients code against.
    ExportSchema {
        /// File to write; `-` writes to standard output.
        #[arg(long, short, default_value = "schema.graphql")]
        out: PathBuf,
    },
}

#[derive(clap::Args)]
struct CreateUserArgs {
    #[command(flatten)]
    database: DatabaseConfig,
    /// Login email.
    #[arg(long)]
    email: String,
    /// ADMIN, PROVIDER or FRONT_DESK.
    #[arg(long, value_parser = parse_role)]
    role: Role,
    /// Name shown to colleagues.
    #[arg(long)]
    display_name: String,
    /// License number (providers).
    #[arg(long, requires_all = ["license_kind", "license_state", "license_expires_on"])]
    license_number: Option<String>,
    /// License kind: MD, DO, NP, PA, RN or LICENSED_ESTHETICIAN.
    #[arg(long, value_parser = parse_license_kind)]
    license_kind: Option<LicenseKind>,
    /// License issuing state.
    #[arg(long)]
    license_state: Option<String>,
    /// Last valid day of the license (YYYY-MM-DD).
    #[arg(long)]
    license_expires_on: Option<chrono::NaiveDate>,
}

fn parse_role(name: &str) -> Result<Role, String> {
    match name.to_ascii_uppercase().as_str() {
        "ADMIN" => Ok(Role::Admin),
        "PROVIDER" => Ok(Role::Provider),
        "FRONT_DESK" => Ok(Role::FrontDesk),
        _ => Err("expected ADMIN, PROVIDER or FRONT_DESK".to_owned()),
    }
}

fn parse_license_kind(name: &str) -> Result<LicenseKind, String> {
    use sea_orm::ActiveEnum;
    LicenseKind::try_from_value(&name.to_ascii_uppercase())
        .map_err(|_| "expected MD, DO, NP, PA, RN or LICENSED_ESTHETICIAN".to_owned())
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

/// The database settings of `migrate`, accepted before or after its action
/// (`migrate status --database-url …` as people type it, and `migrate
/// --database-url … status`): the same settings as everywhere, marked
/// global so the actions take them too.
#[derive(clap::Args)]
struct MigrateDatabase {
    /// Database to migrate: `sqlite://path?mode=rwc` or `postgres://user@host/db`.
    #[arg(long, env = "DATABASE_URL", default_value = dermagraph::config::DEFAULT_DATABASE_URL, global = true)]
    database_url: String,
}

impl From<MigrateDatabase> for DatabaseConfig {
    fn from(database: MigrateDatabase) -> Self {
        DatabaseConfig::new(database.database_url)
    }
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
        // A reader that stopped early (`dermagraph migrate status | head -1`)
        // got what it wanted.
        Err(error) if reader_went_away(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve(config) => run_server(config).await,
        Command::Migrate { database, action } => run_migrations(&database.into(), action).await,
        Command::ExportSchema { out } => export_schema(&out),
        Command::CreateUser(args) => create_user(args).await,
        Command::SeedDemo { database, patients } => seed_demo(&database, patients).await,
        Command::SeedBench {
            database,
            patients,
            write_pool,
            pool_file,
            quiet,
        } => seed_bench(&database, patients, write_pool, pool_file, quiet).await,
    }
}

async fn create_user(args: CreateUserArgs) -> anyhow::Result<()> {
    let password = read_password()?;
    let license = match (
        args.license_number,
        args.license_kind,
        args.license_state,
        args.license_expires_on,
    ) {
        (Some(number), Some(kind), Some(issuing_state), Some(expires_on)) => Some(License {
            number,
            kind,
            issuing_state,
            expires_on,
        }),
        _ => None,
    };
    let conn = db::connect(&args.database).await?;
    db::migrate(&conn).await?;
    let new = NewUser {
        email: args.email,
        display_name: args.display_name,
        role: args.role,
        password,
        license,
    };
    let user = users::create_user(&conn, &RequestContext::system(), "cli:create-user", new)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    println!(
        "created {} {} ({})",
        user.role.as_str(),
        user.email,
        user.id
    );
    Ok(())
}

async fn seed_demo(database: &DatabaseConfig, patients: usize) -> anyhow::Result<()> {
    let password =
        std::env::var("DERMAGRAPH_PASSWORD").unwrap_or_else(|_| DEMO_PASSWORD.to_owned());
    let conn = db::connect(database).await?;
    db::migrate(&conn).await?;
    // Drawn on a terminal only; one patient is a few dozen writes.
    let progress = indicatif::ProgressBar::new(u64::try_from(patients).unwrap_or(u64::MAX))
        .with_style(
            indicatif::ProgressStyle::with_template(
                "seeding the demo clinic {bar:40} {pos}/{len} patients, {eta} left",
            )
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
    let summary = dermagraph::seed::seed_demo(&conn, patients, &password, &progress).await?;
    println!(
        "seeded {} patients, {} consultations, {} procedures, {} devices, {} consultation requests",
        summary.patients,
        summary.consultations,
        summary.procedures,
        summary.devices,
        summary.requests
    );
    println!("staff (password: {password}):");
    for (role, email) in summary.staff {
        println!("  {:<10} {email}", role.as_str());
    }
    Ok(())
}

async fn seed_bench(
    database: &DatabaseConfig,
    patients: usize,
    write_pool: usize,
    pool_file: Option<PathBuf>,
    quiet: bool,
) -> anyhow::Result<()> {
    use dermagraph::seed_bench::{BENCH_PASSWORD, BenchSeedOptions};
    let password =
        std::env::var("DERMAGRAPH_PASSWORD").unwrap_or_else(|_| BENCH_PASSWORD.to_owned());
    let conn = db::connect(database).await?;
    db::migrate(&conn).await?;
    let started = std::time::Instant::now();
    let options = BenchSeedOptions {
        patients,
        write_pool,
        password: password.clone(),
        progress: !quiet && std::io::stderr().is_terminal(),
    };
    let summary = dermagraph::seed_bench::seed_bench(&conn, &options).await?;
    if let Some(path) = pool_file {
        std::fs::write(&path, serde_json::to_string(&summary.write_pool)?)
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    println!(
        "seeded {} patients, {} consultations, {} procedures, {} device sessions, {} follow-ups \
         ({} due today and pending), {} devices, {} write-pool pairs in {:.1} s",
        summary.patients,
        summary.consultations,
        summary.procedures,
        summary.device_sessions,
        summary.follow_ups,
        summary.follow_ups_due_today,
        summary.devices,
        summary.write_pool.providers.len(),
        started.elapsed().as_secs_f64()
    );
    println!("staff (password: {password}):");
    for (role, email) in summary.staff {
        println!("  {:<10} {email}", role.as_str());
    }
    Ok(())
}

/// Password of the demo staff unless DERMAGRAPH_PASSWORD is set.
const DEMO_PASSWORD: &str = "demo-password-2026";

/// The new user's password: `DERMAGRAPH_PASSWORD`, else one line of
/// standard input when it is not a terminal, else a hidden prompt.
fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("DERMAGRAPH_PASSWORD") {
        return Ok(password);
    }
    if std::io::stdin().is_terminal() {
        let password = rpassword::prompt_password("Password (12-128 characters): ")?;
        let again = rpassword::prompt_password("Repeat the password: ")?;
        anyhow::ensure!(password == again, "the passwords differ");
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
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
    let pretty = config.effective_log_format() == dermagraph::config::LogFormat::Pretty;
    let app = build_app(config).await?;
    let listener = TcpListener::bind(bind)
        .await
        .with_context(|| format!("cannot listen on {bind}"))?;
    let address = listener.local_addr()?;
    tracing::info!(%address, %database, "dermagraph is serving");
    // For a person at a terminal; a log shipper reads JSON lines only.
    if pretty {
        println!("dermagraph is serving on http://{address} (database: {database})");
        if graphiql {
            println!("GraphiQL: open http://{address}/graphql in a browser");
        }
    }
    serve(app, listener, shutdown_signal()).await
}

/// Whether `error` is standard output's reader having closed the pipe.
fn reader_went_away(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

async fn run_migrations(database: &DatabaseConfig, action: MigrateAction) -> anyhow::Result<()> {
    let conn = db::connect(database).await?;
    match action {
        MigrateAction::Up { steps } => Migrator::up(&conn, steps).await?,
        MigrateAction::Down { steps } => Migrator::down(&conn, Some(steps)).await?,
        MigrateAction::Status => {}
    }
    let migrations = Migrator::get_migration_with_status(&conn).await?;
    let mut out = std::io::stdout().lock();
    for migration in migrations {
        writeln!(
            out,
            "{:<10} {}",
            format!("{:?}", migration.status()),
            migration.name()
        )?;
    }
    Ok(())
}

fn export_schema(out: &PathBuf) -> anyhow::Result<()> {
    let sdl = graphql::schema_sdl();
    if out.as_os_str() == "-" {
        std::io::stdout().lock().write_all(sdl.as_bytes())?;
    } else {
        std::fs::write(out, &sdl).with_context(|| format!("cannot write {}", out.display()))?;
        println!("wrote {}", out.display());
    }
    Ok(())
}
