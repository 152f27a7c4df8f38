//! Who runs which job kind and which periodic tasks: handlers by kind and
//! tasks by name, built once at start-up ([`super::registry`]) and shared by
//! the node's worker loop and anything driving workers by hand (tests,
//! benchmarks).

use crate::app::error::AppResult;
use crate::app::outbox::{JobOutcome, JobView};
use crate::state::AppState;
use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The work for one job kind. Closures `Fn(AppState, JobView) -> impl
/// Future<Output = JobOutcome>` are handlers too.
pub trait JobHandler: Send + Sync + 'static {
    fn run<'a>(&'a self, state: &'a AppState, job: &'a JobView) -> BoxFuture<'a, JobOutcome>;
}

impl<F, Fut> JobHandler for F
where
    F: Fn(AppState, JobView) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = JobOutcome> + Send + 'static,
{
    fn run<'a>(&'a self, state: &'a AppState, job: &'a JobView) -> BoxFuture<'a, JobOutcome> {
        Box::pin(self(state.clone(), job.clone()))
    }
}

/// A task the scheduler runs every `every` on one node per slot.
#[derive(Clone)]
pub struct PeriodicTask {
    pub name: String,
    pub every: Duration,
    #[allow(clippy::type_complexity)]
    pub(super) run: Arc<dyn Fn(AppState) -> BoxFuture<'static, AppResult<()>> + Send + Sync>,
}

impl PeriodicTask {
    pub fn new<F, Fut>(name: impl Into<String>, every: Duration, run: F) -> PeriodicTask
    where
        F: Fn(AppState) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = AppResult<()>> + Send + 'static,
    {
        PeriodicTask { name: name.into(), every, run: Arc::new(move |s| Box::pin(run(s))) }
    }
}

impl std::fmt::Debug for PeriodicTask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PeriodicTask").field("name", &self.name).field("every", &self.every).finish()
    }
}

/// The job handlers and periodic tasks a node runs.
#[derive(Default)]
pub struct Registry {
    handlers: RwLock<HashMap<String, Arc<dyn JobHandler>>>,
    tasks: RwLock<Vec<PeriodicTask>>,
}

impl Registry {
    /// Registers (or replaces) the handler of `kind`.
    pub fn register(&self, kind: &str, handler: impl JobHandler) {
        self.handlers.write().unwrap_or_else(|p| p.into_inner()).insert(kind.to_string(), Arc::new(handler));
    }

    /// Adds a periodic task, replacing one of the same name.
    pub fn add_task(&self, task: PeriodicTask) {
        let mut tasks = self.tasks.write().unwrap_or_else(|p| p.into_inner());
        tasks.retain(|t| t.name != task.name);
        tasks.push(task);
    }

    /// The kinds with a handler, sorted.
    pub fn kinds(&self) -> Vec<String> {
        let mut kinds: Vec<String> = self.handlers.read().unwrap_or_else(|p| p.into_inner()).keys().cloned().collect();
        kinds.sort();
        kinds
    }

    pub fn tasks(&self) -> Vec<PeriodicTask> {
        self.tasks.read().unwrap_or_else(|p| p.into_inner()).clone()
    }

    pub(super) fn handler(&self, kind: &str) -> Option<Arc<dyn JobHandler>> {
        self.handlers.read().unwrap_or_else(|p| p.into_inner()).get(kind).cloned()
    }
}
