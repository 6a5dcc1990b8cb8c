//! Creates (or promotes) an admin in a deployed stack's table, with the operator's own AWS
//! credentials: the only way to get the first admin, since no HTTP route grants admin to a
//! non-admin.
//!
//! ```text
//! TABLE_NAME=<table from the stack outputs> SHOP_ADMIN_PASSWORD='…' \
//!     cargo run --release -p local --bin create-admin -- --email admin@example.com
//! ```
//!
//! The password is read from `SHOP_ADMIN_PASSWORD` or, when unset, from standard input, never
//! from the command line (which other users of the machine and shell history can see).

use std::io::BufRead;

use anyhow::{Context, bail};
use clap::Parser;
use shared::auth::ensure_admin;

#[derive(Parser)]
#[command(version, about = "Create or promote an admin account in the shop table")]
struct Args {
    /// The admin's e-mail address.
    #[arg(long)]
    email: String,
    /// The table (the stack's `TableName` output).
    #[arg(long, env = "TABLE_NAME")]
    table: String,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let password = match std::env::var("SHOP_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) => {
            eprintln!("password for {} (8–128 characters), then Enter:", args.email);
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line).context("reading the password")?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    let sdk = aws_config::load_from_env().await;
    let store = shared::store::DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), &args.table);
    match ensure_admin(&store, &args.email, &password).await {
        Ok(outcome) => {
            println!("{}: {outcome}", args.email);
            Ok(())
        }
        Err(error) => bail!("{}: {error}", args.email),
    }
}
