//! Mercato nodes as real child processes of this binary (`mercato serve`),
//! killed with SIGKILL and started again on the same data and port.

use anyhow::{Context, bail};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// base64 of 32 fixed bytes: every node and every restart decrypts what the
/// others wrote.
pub const MASTER_KEY: &str = "Y2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtY2hhb3MtMzI=";
/// Job and scheduler leases: a killed node's work is taken over after this.
pub const LEASE_SECS: &str = "3";
/// How often an idle worker looks for due jobs.
pub const POLL_MS: &str = "100";
/// How long a node may take to answer `/readyz`.
const READY_WITHIN: Duration = Duration::from_secs(60);

/// Where a node's data lives: a SQLite data directory, or a PostgreSQL
/// database shared with other nodes.
#[derive(Debug, Clone)]
pub struct Store {
    pub data_dir: PathBuf,
    pub database_url: Option<String>,
}

impl Store {
    /// `--data-dir` and, on PostgreSQL, `--database-url`.
    fn args(&self) -> Vec<String> {
        let mut args = vec!["--data-dir".to_string(), self.data_dir.display().to_string()];
        if let Some(url) = &self.database_url {
            args.extend(["--database-url".to_string(), url.clone()]);
        }
        args
    }

    /// What `mercato_store::Db::open` takes.
    pub fn location(&self) -> String {
        match &self.database_url {
            Some(url) => url.clone(),
            None => self.data_dir.join("mercato.db").display().to_string(),
        }
    }
}

/// PostgreSQL connections per child process: three nodes, a killed node's
/// connections the server has not reaped yet, the driver and the ledger
/// check must fit in a stock `max_connections = 100` next to other tests.
pub const NODE_POOL: u32 = 6;

/// This binary, with the environment every child shares: the fixed master
/// key, no configuration from the caller's environment or directory.
fn mercato(work_dir: &Path) -> anyhow::Result<Command> {
    let mut cmd = Command::new(std::env::current_exe().context("finding the mercato binary")?);
    for (name, _) in std::env::vars_os() {
        if name.to_string_lossy().starts_with("MERCATO_") {
            cmd.env_remove(name);
        }
    }
    cmd.current_dir(work_dir)
        .env("MERCATO_MASTER_KEY", MASTER_KEY)
        .env("MERCATO_LOG", "warn")
        .env("MERCATO_DATABASE_MAX_CONNECTIONS", NODE_POOL.to_string());
    Ok(cmd)
}

/// Runs `mercato <args>` on `store` to the end; its standard output, or an
/// error naming the command and the last line it printed on failure.
pub fn run_to_end(work_dir: &Path, store: &Store, args: &[&str]) -> anyhow::Result<(bool, String)> {
    let out = mercato(work_dir)?.args(args).args(store.args()).stdin(Stdio::null()).output()?;
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() && stdout.trim().is_empty() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or("no output");
        bail!("mercato {} failed: {last}", args.join(" "));
    }
    Ok((out.status.success(), stdout))
}

/// Creates the operator with `mercato admin create-operator`; returns its
/// API key (the last line printed).
pub fn create_operator(work_dir: &Path, store: &Store) -> anyhow::Result<String> {
    let args = ["admin", "create-operator", "--name", "Chaos Operator", "--email", "operator@chaos.mercato.test"];
    let (ok, stdout) = run_to_end(work_dir, store, &args)?;
    let key = stdout.lines().last().unwrap_or_default().trim().to_string();
    if !ok || !key.starts_with("mk_") {
        bail!("mercato admin create-operator printed no API key: {stdout}");
    }
    Ok(key)
}

/// One `mercato serve` on a fixed port, on the operator test clock.
pub struct Node {
    pub name: String,
    pub base: String,
    port: u16,
    store: Store,
    work_dir: PathBuf,
    log: PathBuf,
    child: Option<Child>,
    /// Log bytes written before the current process started.
    log_mark: u64,
    /// This process's worker id (`node-...`), read from its log.
    owner: Option<String>,
    pub starts: u32,
}

impl Node {
    /// A node not started yet, on a free port, logging to `<work_dir>/<name>.log`.
    pub fn new(name: &str, store: Store, work_dir: &Path) -> anyhow::Result<Node> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        Ok(Node {
            name: name.to_string(),
            base: format!("http://127.0.0.1:{port}"),
            port,
            store,
            work_dir: work_dir.to_path_buf(),
            log: work_dir.join(format!("{name}.log")),
            child: None,
            log_mark: 0,
            owner: None,
            starts: 0,
        })
    }

    /// Starts the process (after a kill: on the same data and port).
    pub fn spawn(&mut self) -> anyhow::Result<()> {
        let log = std::fs::OpenOptions::new().create(true).append(true).open(&self.log)?;
        self.log_mark = log.metadata()?.len();
        self.owner = None;
        let child = mercato(&self.work_dir)?
            .args(["serve", "--listen", &format!("127.0.0.1:{}", self.port), "--test-clock"])
            .args(["--allow-insecure-endpoints", "--outbound-allow", "127.0.0.0/8", "--log-format", "json"])
            .args(self.store.args())
            .env("MERCATO_JOB_LEASE_SECS", LEASE_SECS)
            .env("MERCATO_WORKER_POLL_MS", POLL_MS)
            // Warnings, and the worker's start (which names its owner id).
            .env("MERCATO_LOG", "warn,mercato_server::workers::runner=info")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.name))?;
        self.child = Some(child);
        self.starts += 1;
        Ok(())
    }

    /// Waits until `/readyz` answers 200; an error with the log's last line
    /// if the process ends or does not answer in time.
    pub async fn wait_ready(&mut self, http: &reqwest::Client) -> anyhow::Result<()> {
        let deadline = Instant::now() + READY_WITHIN;
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                self.child = None;
                bail!("{} exited ({status}) while starting: {}", self.name, self.last_log_line());
            }
            let ready = http.get(format!("{}/readyz", self.base)).timeout(Duration::from_secs(2)).send().await;
            if ready.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            if Instant::now() >= deadline {
                bail!("{} was not ready within {READY_WITHIN:?}: {}", self.name, self.last_log_line());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// SIGKILL (what `Child::kill` sends on Unix), then reaps the process.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        self.owner = None;
    }

    /// This process's worker id, once its worker has started.
    pub fn owner(&mut self) -> Option<&str> {
        if self.owner.is_none() && self.child.is_some() {
            self.owner = self.read_owner();
        }
        self.owner.as_deref()
    }

    fn read_owner(&self) -> Option<String> {
        let log = std::fs::read(&self.log).ok()?;
        let since = log.get(self.log_mark as usize..)?;
        String::from_utf8_lossy(since).lines().rev().find_map(|line| {
            let v: serde_json::Value = serde_json::from_str(line).ok()?;
            v["fields"]["owner"].as_str().or(v["owner"].as_str()).map(str::to_string)
        })
    }

    fn last_log_line(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        log.lines().last().unwrap_or("(nothing logged)").chars().take(400).collect()
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}
