//! `bench-writes`: the load driver of benchmark scenario 5, the write mix
//! (bench/run.sh). Each iteration is one pair of the write pool that
//! `dermagraph seed-bench --pool-file` wrote: the pair's provider
//! schedules, starts, charts two device sessions (a new cartridge each)
//! and completes a procedure of the pair's patient, five mutations chained
//! on each other's results, which is why this is not a wrk script.
//!
//! Access tokens are signed here with the server's `DERMAGRAPH_JWT_SECRET`
//! (the same claims `login` issues) so that a thousand providers need not
//! each pay an argon2 login first. Prints one JSON line of results.

use std::{
    path::PathBuf,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use anyhow::Context;
use chrono::{DateTime, Utc};
use clap::Parser;
use dermagraph::{
    auth::tokens::TokenKeys,
    seed_bench::{WritePool, write_mix},
};
use serde_json::{Value, json};
use tokio::sync::Mutex;

/// Drives the write-mix scenario against a running server.
#[derive(Parser)]
#[command(name = "bench-writes")]
struct Args {
    /// GraphQL endpoint.
    #[arg(long, default_value = "http://127.0.0.1:8080/graphql")]
    url: String,
    /// The pool file written by `seed-bench --pool-file`.
    #[arg(long)]
    pool: PathBuf,
    /// First pool pair to use (pairs are single-use: give each run its own range).
    #[arg(long, default_value_t = 0)]
    offset: usize,
    /// Iterations (pool pairs) to run.
    #[arg(long)]
    iterations: usize,
    /// Concurrent workers, each on its own keep-alive connection.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// When the numbing cream went on for every iteration of this engine's
    /// runs (RFC 3339, within the last 3 hours); device sessions are
    /// charted in slots after it. Keep it the same across the runs on one
    /// database.
    #[arg(long)]
    numbing_at: DateTime<Utc>,
    /// Minutes after `--numbing-at` in which device sessions are charted
    /// (must have passed by the first run; the same for every run).
    #[arg(long, default_value_t = 140)]
    window_minutes: i64,
    /// The server's token-signing secret.
    #[arg(long, env = "DERMAGRAPH_JWT_SECRET", hide_env_values = true)]
    jwt_secret: String,
}

/// What the workers measured.
#[derive(Default)]
struct Tally {
    latencies_us: Vec<u64>,
    errors: u64,
    first_error: Option<String>,
    iterations: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let pool: WritePool = serde_json::from_slice(
        &std::fs::read(&args.pool)
            .with_context(|| format!("cannot read {}", args.pool.display()))?,
    )?;
    let end = args.offset + args.iterations;
    anyhow::ensure!(
        end <= pool.providers.len() && end <= pool.patients.len(),
        "the pool has {} pairs; runs need {end} (seed a larger --write-pool)",
        pool.providers.len().min(pool.patients.len())
    );
    anyhow::ensure!(!pool.devices.is_empty(), "the pool has no devices");
    // Slots long enough to spread every session of the pool over the
    // window after the numbing time (capped at 10 minutes); the same slots
    // in every run on this database, so runs never chart a device twice.
    anyhow::ensure!(
        args.numbing_at + chrono::Duration::minutes(args.window_minutes)
            <= Utc::now() + chrono::Duration::minutes(5)
            && args.numbing_at > Utc::now() - chrono::Duration::minutes(175),
        "--numbing-at must lie between 175 and --window-minutes minutes ago"
    );
    let budget = args.window_minutes * 60 - 120;
    let sessions = 2 * pool.providers.len();
    let per_device = i64::try_from(sessions.div_ceil(pool.devices.len()))?;
    let slot_seconds = (budget / per_device.max(1)).clamp(2, 600);
    anyhow::ensure!(
        budget > 0 && per_device * slot_seconds <= budget,
        "--numbing-at leaves too little time for {sessions} device sessions"
    );
    let keys = TokenKeys::from_secret(args.jwt_secret.as_bytes());
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(args.concurrency)
        .timeout(Duration::from_secs(30))
        .build()?;
    let shared = Arc::new(Shared {
        args,
        pool,
        keys,
        client,
        slot_seconds,
        next: AtomicUsize::new(0),
        tally: Mutex::new(Tally::default()),
    });
    let started = Instant::now();
    let workers: Vec<_> = (0..shared.args.concurrency.max(1))
        .map(|_| tokio::spawn(worker(Arc::clone(&shared))))
        .collect();
    for worker in workers {
        worker.await?;
    }
    let elapsed = started.elapsed().as_secs_f64();
    let mut tally = shared.tally.lock().await;
    tally.latencies_us.sort_unstable();
    let requests = tally.latencies_us.len();
    let percentile = |p: f64| -> f64 {
        if requests == 0 {
            return 0.0;
        }
        let rank = ((p / 100.0) * requests as f64).ceil() as usize;
        tally.latencies_us[rank.clamp(1, requests) - 1] as f64 / 1000.0
    };
    let report = json!({
        "requests": requests,
        "duration_s": elapsed,
        "rps": requests as f64 / elapsed,
        "iterations": tally.iterations,
        "iterations_per_s": tally.iterations as f64 / elapsed,
        "p50_ms": percentile(50.0),
        "p95_ms": percentile(95.0),
        "p99_ms": percentile(99.0),
        "errors": tally.errors,
        "first_error": tally.first_error,
    });
    println!("{report}");
    Ok(())
}

struct Shared {
    args: Args,
    pool: WritePool,
    keys: TokenKeys,
    client: reqwest::Client,
    slot_seconds: i64,
    next: AtomicUsize,
    tally: Mutex<Tally>,
}

/// Runs iterations until the range is used up.
async fn worker(shared: Arc<Shared>) {
    loop {
        let n = shared.next.fetch_add(1, Ordering::Relaxed);
        if n >= shared.args.iterations {
            return;
        }
        let index = shared.args.offset + n;
        let mut latencies = Vec::with_capacity(5);
        let outcome = iteration(&shared, index, &mut latencies).await;
        let mut tally = shared.tally.lock().await;
        tally.latencies_us.extend(latencies);
        match outcome {
            Ok(()) => tally.iterations += 1,
            Err(error) => {
                tally.errors += 1;
                if tally.first_error.is_none() {
                    tally.first_error = Some(format!("pair {index}: {error:#}"));
                }
            }
        }
    }
}

/// One pair's five mutations; stops at the first error.
async fn iteration(shared: &Shared, index: usize, latencies: &mut Vec<u64>) -> anyhow::Result<()> {
    let provider = shared.pool.providers[index];
    let patient = shared.pool.patients[index];
    let token = shared.keys.issue(provider, 0, None, Utc::now())?.token;
    let numbing_at = shared.args.numbing_at;
    let booked = send(
        shared,
        &token,
        write_mix::schedule(provider, patient, Utc::now()),
        latencies,
    )
    .await?;
    let procedure = &booked["data"]["scheduleProcedure"]["procedure"];
    let id = procedure["id"]
        .as_str()
        .context("no procedure id")?
        .to_owned();
    let version = procedure["version"].as_i64().context("no version")?;
    let started = send(
        shared,
        &token,
        write_mix::start(&id, version, numbing_at),
        latencies,
    )
    .await?;
    let mut version = started["data"]["startProcedure"]["procedure"]["version"]
        .as_i64()
        .context("no version")?;
    for k in 0..2 {
        let (device, window) = write_mix::session_window(
            index,
            k,
            shared.pool.devices.len(),
            numbing_at,
            shared.slot_seconds,
        );
        let serial = format!("WM-{index:06}-{k}");
        let added = send(
            shared,
            &token,
            write_mix::add_session(&id, k, shared.pool.devices[device], &serial, window),
            latencies,
        )
        .await?;
        version = added["data"]["addDeviceSession"]["procedure"]["version"]
            .as_i64()
            .context("no version")?;
    }
    send(shared, &token, write_mix::complete(&id, version), latencies).await?;
    Ok(())
}

/// Sends one mutation; its latency counts whatever the outcome.
async fn send(
    shared: &Shared,
    token: &str,
    body: Value,
    latencies: &mut Vec<u64>,
) -> anyhow::Result<Value> {
    let started = Instant::now();
    let response = shared
        .client
        .post(&shared.args.url)
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = response.status();
    let body: Value = response.json().await?;
    latencies.push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
    anyhow::ensure!(
        status.is_success() && body["errors"].is_null(),
        "HTTP {status}: {body}"
    );
    Ok(body)
}
