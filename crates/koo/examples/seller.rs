//! A complete (in-memory) seller on the `koo` SDK.
//!
//! Run: `cargo run -p koo --example seller -- 8090 my-access-key`, then point
//! a marketplace (or `mercato isv check --url http://127.0.0.1:8090/produce
//! --key my-access-key`) at it. State is lost on restart: a real seller keeps
//! instances in its database, keyed the same way.

use koo::calls::{AppInfo, InstanceInfo, NewInstance, QueryInstance, ReleaseInstance};
use koo::seller::{IdempotencyCache, IdempotencyKey, ProductionInterface, Provisioned, Refusal, Reply, SellerConfig};
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct MySeller {
    /// (orderId, orderLineId) -> instanceId: retries get the same instance.
    instances: IdempotencyCache<String>,
    released: Mutex<HashSet<String>>,
}

impl ProductionInterface for MySeller {
    async fn new_instance(&self, call: NewInstance) -> Reply<Provisioned> {
        // The signature, timestamp, nonce and mandatory fields are already checked.
        let key = IdempotencyKey::for_new_instance(&call.order_id, &call.order_line_id);
        // The first call's businessId becomes the instanceId (spec recommendation).
        let (instance_id, _created) = self.instances.get_or_insert_with(key, || call.business_id.clone());
        Ok(Provisioned::Ready { instance_id })
    }

    async fn query_instance(&self, call: QueryInstance) -> Reply<Vec<InstanceInfo>> {
        let released = self.released.lock().map_err(|_| Refusal::internal("lock poisoned"))?;
        let info: Vec<InstanceInfo> = call
            .instance_ids()
            .into_iter()
            .filter(|id| !released.contains(*id))
            .map(|id| InstanceInfo {
                instance_id: id.to_owned(),
                app_info: Some(AppInfo {
                    front_end_url: format!("https://app.example.com/{id}"),
                    admin_url: None,
                    user_name: None,
                    password: None,
                    memo: None,
                }),
                usage_info: None,
            })
            .collect();
        // A real seller would also check that the instance exists.
        if info.is_empty() { Err(Refusal::not_found(&call.instance_id)) } else { Ok(info) }
    }

    async fn release_instance(&self, call: ReleaseInstance) -> Reply<()> {
        // Releasing twice must succeed: inserting into a set is idempotent.
        self.released.lock().map_err(|_| Refusal::internal("lock poisoned"))?.insert(call.instance_id);
        Ok(())
    }
    // refreshInstance, updateInstanceStatus, upgradeInstance, ... answer
    // 000002 "not supported" until you override them.
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().and_then(|p| p.parse().ok()).unwrap_or(8090);
    let key = args.next().unwrap_or_else(|| "my-access-key".to_owned());
    // POST /produce?signature=..&timestamp=..&nonce=..
    let app = koo::seller::router(Arc::new(MySeller::default()), SellerConfig::new(key));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("seller listening on http://{}/produce", listener.local_addr()?);
    axum::serve(listener, app).await
}
