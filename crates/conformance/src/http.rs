//! reqwest as the checker's [`Transport`]: what `mercato isv check` and the
//! marketplace's debug runs send the cases through.

use super::wire::{BoxFuture, HttpAnswer, Transport, WireRequest};
use koo::outbound::{self, AddressPolicy};

/// Sends the checker's requests over HTTP(S). The checker applies the 5 s
/// timeout itself; redirects are not followed (a signed body must not travel
/// to another host); answers are read up to koo's limit.
#[derive(Debug, Clone)]
pub struct HttpTransport {
    client: reqwest::Client,
    addresses: AddressPolicy,
}

impl HttpTransport {
    /// A transport announcing itself as `mercato-isv-check/<version>`, for a
    /// seller checking its own server: every address is reachable.
    pub fn new() -> Result<Self, reqwest::Error> {
        Self::guarded(concat!("mercato-isv-check/", env!("CARGO_PKG_VERSION")), AddressPolicy::unrestricted())
    }

    /// A transport with its own `user-agent` reaching only what `addresses`
    /// permits (the marketplace's debug runs).
    pub fn guarded(user_agent: &str, addresses: AddressPolicy) -> Result<Self, reqwest::Error> {
        let client = addresses.client_builder().user_agent(user_agent).build()?;
        Ok(HttpTransport { client, addresses })
    }
}

impl Transport for HttpTransport {
    fn post(&self, request: WireRequest) -> BoxFuture<'_, Result<HttpAnswer, String>> {
        Box::pin(async move {
            let url = reqwest::Url::parse(&request.url).map_err(|e| format!("invalid URL: {e}"))?;
            self.addresses.check_url(&url).map_err(|refused| refused.to_string())?;
            let mut builder =
                self.client.post(url).header("content-type", "application/json;charset=UTF-8").body(request.body);
            for (name, value) in &request.headers {
                builder = builder.header(name, value);
            }
            let mut response = builder.send().await.map_err(|e| outbound::describe(&e))?;
            let status = response.status().as_u16();
            let mut body = Vec::new();
            while let Some(chunk) = response.chunk().await.map_err(|e| outbound::describe(&e))? {
                let room = koo::client::MAX_RESPONSE_BYTES.saturating_sub(body.len());
                body.extend_from_slice(&chunk[..chunk.len().min(room)]);
                if chunk.len() > room {
                    break;
                }
            }
            Ok(HttpAnswer { status, body: String::from_utf8_lossy(&body).into_owned() })
        })
    }
}
