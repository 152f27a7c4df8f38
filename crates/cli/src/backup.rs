//! `mercato backup --out FILE`: an online, consistent copy of the embedded
//! SQLite database, checked before it is put in place.

use anyhow::{Context, bail};
use mercato_server::Config;
use mercato_store::{Db, backup};
use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub db: crate::DbArgs,
    /// The backup file to write (must not exist).
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn run(config: &Config, out: &Path) -> anyhow::Result<()> {
    if !config.database_url.is_empty() {
        bail!("{}", backup::BackupError::Postgres);
    }
    let source = config.data_dir.join("mercato.db");
    if !source.is_file() {
        bail!("no database at {}; point --data-dir at the marketplace's data directory", source.display());
    }
    let db = Db::open_sqlite(&source).await.with_context(|| format!("opening {}", source.display()))?;
    let made = backup::sqlite_online(&db, out).await;
    db.conn.close().await.ok();
    made?;
    let size = std::fs::metadata(out).map(|m| m.len()).unwrap_or(0);
    println!("backed up {} to {} ({size} bytes, integrity ok)", source.display(), out.display());
    println!("keep the master key ({}) with it: the backup's secrets are encrypted under it", key_location(config));
    Ok(())
}

fn key_location(config: &Config) -> String {
    if config.master_key.is_empty() {
        config.data_dir.join("master.key").display().to_string()
    } else {
        "MERCATO_MASTER_KEY".into()
    }
}
