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

/// CI runs these (`test = true` in Cargo.toml), so the example keeps working.
#[cfg(test)]
mod tests {
    use super::*;
    use koo::client::{CallOutcome, Client};
    use serde_json::json;

    fn now_ms() -> i64 {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as i64)
    }

    async fn answer(client: &Client, url: &str, body: serde_json::Value) -> serde_json::Value {
        let exchange = client.call_basic(url, b"example-key", &body, now_ms()).await.expect("sent");
        match exchange.outcome {
            CallOutcome::Answered { body, .. } => body,
            other => panic!("no answer: {other:?}"),
        }
    }

    #[tokio::test]
    async fn the_example_seller_provisions_idempotently_and_releases_twice() {
        let app = koo::seller::router(Arc::new(MySeller::default()), SellerConfig::new("example-key"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/produce", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, app).await });
        let client = Client::new(true, koo::outbound::AddressPolicy::allowing_loopback()).unwrap();

        let buy = |business: &str| json!({"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": business, "testFlag": "1"});
        let first = answer(&client, &url, buy("b-1")).await;
        assert_eq!(first["resultCode"], "000000");
        let again = answer(&client, &url, buy("b-2")).await;
        assert_eq!(again["instanceId"], first["instanceId"], "a retried purchase gets the same instance");

        let id = first["instanceId"].as_str().unwrap();
        let query = answer(&client, &url, json!({"activity": "queryInstance", "instanceId": id})).await;
        assert_eq!(query["resultCode"], "000000");
        for _ in 0..2 {
            let release = answer(&client, &url, json!({"activity": "releaseInstance", "instanceId": id})).await;
            assert_eq!(release["resultCode"], "000000", "releasing twice succeeds");
        }
        let gone = answer(&client, &url, json!({"activity": "queryInstance", "instanceId": id})).await;
        assert_eq!(gone["resultCode"], "000003");
        let unsupported =
            answer(&client, &url, json!({"activity": "updateInstanceStatus", "instanceId": id, "status": "FREEZE"}))
                .await;
        assert_eq!(unsupported["resultCode"], "000002", "calls the example does not implement say so");
    }
}
