//! `cargo run --release -p local`: the whole API on 127.0.0.1:3000.

use std::{env, net::IpAddr, path::PathBuf, sync::Arc};

use anyhow::Context;
use clap::Parser;
use local::{
    Consumers, DEFAULT_SENDER, EXPLORER_PATH, Payments, StoreKind, app_with, demo,
    in_process_queue, open_store,
    payments::{spawn_payment_jobs, with_local_payments},
};
use secrecy::ExposeSecret;
use shared::metrics::{Emf, MetricsSink};
use shared::notify::mail::EmlFolder;
use shared::{
    AppState,
    auth::ensure_admin,
    config::{FromEnvironment, LocalConfig},
    domain::UrlPolicy,
    webhooks::HttpSender,
};
use tracing_subscriber::EnvFilter;

/// Serves every shop endpoint on one port, with no AWS account needed.
#[derive(Parser)]
#[command(version)]
struct Args {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", env = "SHOP_HOST")]
    host: IpAddr,
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 3000, env = "SHOP_PORT")]
    port: u16,
    /// Where data lives: `memory` (default) or `dynamodb` (AWS SDK defaults + TABLE_NAME).
    #[arg(long, value_enum, default_value_t = StoreKind::Memory, env = "SHOP_STORE")]
    store: StoreKind,
    /// Folder the order e-mails are written to, one `.eml` file each.
    #[arg(long, default_value = "outbox", env = "SHOP_OUTBOX_DIR")]
    outbox: PathBuf,
    /// The From address of the order e-mails.
    #[arg(long, default_value = DEFAULT_SENDER, env = "SHOP_EMAIL_SENDER")]
    sender: String,
    /// Seed a demo shop (products, coupons, an admin and a customer whose passwords are
    /// printed); idempotent. Loopback addresses only.
    #[arg(long, env = "SHOP_DEMO", value_parser = clap::builder::FalseyValueParser::new())]
    demo: bool,
    /// `local` serves the Stripe-compatible payment provider under /provider/stripe (a Stripe
    /// client's base URL: http://HOST:PORT/provider/stripe, any sk_test_ key); `--demo`
    /// implies it.
    #[arg(long, value_enum, default_value_t = Payments::Off, env = "SHOP_PAYMENTS")]
    payments: Payments,
    /// Create the table `TABLE_NAME` (from template.yaml's definition) on the DynamoDB endpoint
    /// the AWS settings name (`AWS_ENDPOINT_URL`), then exit: the setup of the functions'
    /// `cargo lambda watch` loop (local/watch.env).
    #[arg(long)]
    create_table: bool,
    /// Where the CloudWatch EMF metric lines go: a file (appended), or `stdout` to print them
    /// as the Lambda functions do.
    #[arg(long, default_value = "metrics.jsonl", env = "SHOP_METRICS")]
    metrics: PathBuf,
}

/// The functions' EMF lines, in the file `--metrics` names (or on standard output).
fn metrics(args: &Args) -> anyhow::Result<Arc<dyn MetricsSink>> {
    let emf = Emf::from_env("local");
    if args.metrics.as_os_str() == "stdout" {
        return Ok(Arc::new(emf));
    }
    let emf = emf
        .to_file(&args.metrics)
        .with_context(|| format!("cannot open the metrics file {}", args.metrics.display()))?;
    Ok(Arc::new(emf))
}

/// The order events' consumers: e-mails as `.eml` files, and webhooks over real HTTP with
/// receivers on this machine's loopback allowed (a receiver run next to the server); other
/// internal addresses are still refused.
fn consumers(args: &Args, config: &LocalConfig) -> anyhow::Result<Consumers> {
    Ok(Consumers {
        outbox: EmlFolder::new(&args.outbox),
        sender: args.sender.clone(),
        branding: config.branding.clone(),
        webhooks: Arc::new(HttpSender::new(UrlPolicy::AllowLoopback)?),
        retry_base_seconds: config.retry_base_seconds,
        redelivery: local::Redelivery {
            visibility_timeout: std::time::Duration::from_secs(config.visibility_timeout_seconds),
            ..local::Redelivery::default()
        },
    })
}

/// The operator's admin account (`SHOP_ADMIN_EMAIL`, `SHOP_ADMIN_PASSWORD`) and with `--demo`
/// the demo shop: what the banner prints.
async fn seed(
    args: &Args,
    store: &dyn shared::store::Store,
    config: &LocalConfig,
) -> anyhow::Result<Option<demo::Seeded>> {
    if let Some((email, password)) = &config.admin {
        let outcome = ensure_admin(store, email, password.expose_secret())
            .await
            .map_err(|error| anyhow::anyhow!("SHOP_ADMIN_EMAIL/SHOP_ADMIN_PASSWORD: {error}"))?;
        tracing::info!(email, outcome, "admin account");
    }
    if !args.demo {
        return Ok(None);
    }
    Ok(Some(demo::seed(store).await.context("seeding the demo shop")?))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
        )
        .init();
    let args = Args::parse();
    if args.demo {
        demo::check_host(args.host)?;
    }
    let lookup = |name: &str| env::var(name).ok();
    let config = LocalConfig::from_env()?;
    let table = &config.table_name;
    if args.create_table {
        local::open_dynamo(table).await?;
        println!("table {table} is ready");
        return Ok(());
    }
    let store = open_store(args.store, table).await?;
    if config.generated_secret {
        tracing::warn!(
            "JWT_SECRET is not set: generated a random one for this run; tokens end with it"
        );
    }
    let seeded = seed(&args, store.as_ref(), &config).await?;

    // The same EMF lines as the Lambda functions print, in a file: the terminal keeps the
    // banner and the request log.
    let metrics = metrics(&args)?;
    let consumers = consumers(&args, &config)?;
    // The payment provider sends its events with the webhooks' client (loopback allowed).
    let payments = if args.demo { Payments::Local } else { args.payments };
    let provider = (payments == Payments::Local)
        .then(|| local::stripe::LocalStripe::new(Arc::clone(&consumers.webhooks)));
    let branding = consumers.branding.clone();
    let queue = in_process_queue(Arc::clone(&store), consumers, Arc::clone(&metrics));
    let listener = tokio::net::TcpListener::bind((args.host, args.port))
        .await
        .with_context(|| format!("cannot listen on {}:{}", args.host, args.port))?;
    let address = listener.local_addr()?;
    let mut state = AppState::new(Arc::clone(&store), config.tokens.clone())
        .with_events(queue)
        .with_webhook_policy(UrlPolicy::AllowLoopback)
        .with_metrics(metrics)
        .with_login_policy(config.login)
        .with_cors(config.cors.clone());
    if let Some(provider) = &provider {
        state = with_local_payments(state, provider, address, &lookup, &branding)?;
        spawn_payment_jobs(state.clone(), std::time::Duration::from_secs(1));
    }
    tracing::info!(store = ?args.store, outbox = %args.outbox.display(), metrics = %args.metrics.display(), "shop API listening on http://{address} (explorer: http://{address}{EXPLORER_PATH})");
    if let Some(seeded) = &seeded {
        println!("{}", demo::banner(address, seeded));
    }
    axum::serve(listener, app_with(state, provider))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await?;
    Ok(())
}
