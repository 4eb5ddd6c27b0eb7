//! What the mock's HTTP tests share: one GET and the answer it got.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use serde_json::Value;

/// One answer of the mock: status, headers, and the body as JSON.
pub struct Answer {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
}

impl Answer {
    /// GETs `url`, with `token` as a bearer token if given; the body must be JSON.
    pub async fn get(http: &reqwest::Client, url: &str, token: Option<&str>) -> Answer {
        let mut request = http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let response = request.send().await.expect("the mock answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let bytes = response.bytes().await.expect("a body");
        let body = serde_json::from_slice(&bytes).unwrap_or_else(|error| panic!("{url}: not JSON: {error}"));
        Answer { status, headers, body }
    }

    /// A numeric header (X's `x-rate-limit-*`).
    pub fn header(&self, name: &str) -> Option<u64> {
        self.headers.get(name).map(|value| value.to_str().expect("ASCII").parse().expect("a number"))
    }

    /// The ids of the items under `key`: `id`, else `value` (X's partial
    /// errors), else `resource_id` (its not-found Problems).
    pub fn ids(&self, key: &str) -> Vec<&str> {
        let items = self.body.get(key).and_then(Value::as_array).map(Vec::as_slice).unwrap_or_default();
        items
            .iter()
            .map(|item| {
                let id = item.get("id").or(item.get("value")).or(item.get("resource_id"));
                id.and_then(Value::as_str).expect("an id")
            })
            .collect()
    }

    /// The ids of the `includes` of `kind` (`users`, `topics`).
    pub fn include_ids(&self, kind: &str) -> Vec<&str> {
        let items = self.body.pointer(&format!("/includes/{kind}")).and_then(Value::as_array);
        items.map(Vec::as_slice).unwrap_or_default().iter().filter_map(|item| item.get("id")?.as_str()).collect()
    }

    /// The Space `id` of `data`.
    pub fn space(&self, id: &str) -> &Value {
        let data = self.body["data"].as_array().unwrap_or_else(|| panic!("no data: {}", self.body));
        data.iter().find(|space| space["id"] == id).unwrap_or_else(|| panic!("{id} not in {}", self.body))
    }
}
