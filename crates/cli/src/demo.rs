//! `mercato demo`: a seeded marketplace to click through.

use mercato_server::Config;

pub async fn run(config: Config) -> anyhow::Result<()> {
    let _ = config;
    anyhow::bail!("the demo is not seeded yet")
}
