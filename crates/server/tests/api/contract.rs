//! The API keeps the contract its OpenAPI document states (issue 11, item 1):
//! malformed query parameters are refused as problems, and the document
//! describes the shapes and answers the server has.

use crate::helpers::{Res, spawn_app};
use serde_json::Value;

/// `?limit=` with no value, a limit past u64 and past i64, and a repeated
/// parameter: each a 422 problem naming `limit`, on a list behind a key, on
/// the public catalog (its own parser) and on a filtered operator list.
#[tokio::test]
async fn malformed_limits_are_refused_with_a_problem_naming_the_parameter() {
    let app = spawn_app().await;
    let (_, buyer) = app.signup("buyer").await;
    let op = app.operator().await;
    let bad = ["limit=", "limit=%20", "limit=99999999999999999999", "limit=9223372036854775808", "limit=1&limit=2"];
    let lists = [
        ("/api/v1/buyer/orders", Some(buyer.as_str())),
        ("/api/v1/notifications", Some(buyer.as_str())),
        ("/api/v1/catalog/products", None),
        ("/api/v1/operator/orders", Some(op.as_str())),
    ];
    for (path, key) in lists {
        for query in bad {
            let body = app.get(&format!("{path}?{query}"), key).await.problem(422, "validation_failed");
            assert_eq!(Res::fields(&body), ["limit"], "{path}?{query}: {body}");
        }
        // The same lists answer well-formed limits.
        app.get(&format!("{path}?limit=1"), key).await.expect(200);
        app.get(path, key).await.expect(200);
    }
}

#[tokio::test]
async fn repeated_and_empty_parameters_are_refused_but_unrelated_ones_are_not() {
    let app = spawn_app().await;
    let body =
        app.get("/api/v1/catalog/products?sort=newest&sort=price_asc", None).await.problem(422, "validation_failed");
    assert_eq!(Res::fields(&body), ["sort"]);
    assert!(body["errors"][0]["message"].as_str().unwrap().contains("more than once"), "{body}");
    for query in ["sort=", "type=", "charging_mode=", "min_price_minor=", "max_price_minor="] {
        let body = app.get(&format!("/api/v1/catalog/products?{query}"), None).await.problem(422, "validation_failed");
        assert_eq!(Res::fields(&body).len(), 1, "{query}: {body}");
    }
    // A minimum above the maximum is a well-formed search that matches nothing.
    let page = app.get("/api/v1/catalog/products?min_price_minor=10&max_price_minor=9", None).await.expect(200);
    assert_eq!(page["items"], Value::Array(vec![]));
}

/// Every operation, from the document as served.
fn operations(doc: &Value) -> Vec<(String, String, &Value)> {
    let mut ops = Vec::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            if ["get", "put", "post", "patch", "delete"].contains(&method.as_str()) {
                ops.push((method.to_uppercase(), path.clone(), op));
            }
        }
    }
    ops
}

/// No `allOf` whose members are all plain objects is left anywhere.
fn all_of_is_never_of_objects_only(value: &Value, schemas: &Value) {
    match value {
        Value::Object(map) => {
            if let Some(members) = map.get("allOf").and_then(Value::as_array) {
                let is_object = |m: &Value| {
                    let m = match m["$ref"].as_str() {
                        Some(r) => &schemas[r.trim_start_matches("#/components/schemas/")],
                        None => m,
                    };
                    m["type"] == "object" && m.get("oneOf").is_none() && m.get("anyOf").is_none()
                };
                assert!(!members.iter().all(is_object), "an allOf of objects is left: {value}");
            }
            map.values().for_each(|v| all_of_is_never_of_objects_only(v, schemas));
        }
        Value::Array(items) => items.iter().for_each(|v| all_of_is_never_of_objects_only(v, schemas)),
        _ => {}
    }
}

#[tokio::test]
async fn the_document_describes_what_the_server_answers() {
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    // Flattened structs are one object: `allOf` with a closed member made
    // every SKU in every answer invalid. What `allOf` is left combines an
    // object with a rule (`anyOf`) or describes a reference.
    let schemas = &doc["components"]["schemas"];
    all_of_is_never_of_objects_only(&doc, schemas);
    // A flattened SKU is one open object per charging mode.
    let shapes = schemas["SkuView"]["oneOf"].as_array().expect("SkuView: one shape per charging mode");
    assert_eq!(shapes.len(), 4);
    for sku in shapes {
        for field in ["id", "product_id", "status", "sku_code", "charging_mode", "prices"] {
            assert!(sku["properties"][field].is_object(), "SkuView has {field}: {sku}");
        }
        assert!(sku.get("additionalProperties").is_none(), "an answer's object is open: {sku}");
    }

    let mut ids = std::collections::HashSet::new();
    for (method, path, op) in operations(&doc) {
        let id = op["operationId"].as_str().unwrap_or_default().to_string();
        assert!(ids.insert(id.clone()), "{method} {path}: operationId {id} is unique");
        let responses = op["responses"].as_object().unwrap();
        for (status, response) in responses {
            let description = response["description"].as_str().unwrap_or_default();
            assert!(!description.is_empty(), "{method} {path} {status} has a description");
        }
        let signed = path.starts_with("/api/mkp-openapi-public/");
        let problem = |status: &str| {
            responses.get(status).and_then(|r| r["content"]["application/problem+json"]["schema"]["$ref"].as_str())
                == Some("#/components/schemas/Problem")
        };
        if op["requestBody"]["content"]["application/json"].is_object() && !signed {
            for status in ["400", "413", "415", "422"] {
                assert!(problem(status), "{method} {path} documents {status} as a problem");
            }
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        if params.iter().any(|p| p["in"] == "query") && !signed {
            assert!(problem("422"), "{method} {path} documents 422 for its query");
        }
        for limit in params.iter().filter(|p| p["name"] == "limit") {
            let schema = &limit["schema"];
            assert_eq!(
                (schema["minimum"].as_i64(), schema["maximum"].as_i64()),
                (Some(1), Some(100)),
                "{method} {path}"
            );
        }
    }
}

/// The OpenAPI document names each schema by its Rust type's name, and two
/// types of one name silently share one entry (an appeal decision was once
/// documented as the onboarding decision's enum). Every type that derives a
/// schema, or is declared with `string_enum!`, must have a name of its own.
#[test]
fn schema_names_are_unique_across_the_crates() {
    fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap().flatten() {
            let path = entry.path();
            if path.is_dir() {
                rust_files(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let crates = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut files = Vec::new();
    for krate in ["domain", "server"] {
        rust_files(&crates.join(krate).join("src"), &mut files);
    }
    let mut seen: std::collections::BTreeMap<String, String> = std::collections::BTreeMap::new();
    let mut names = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<&str> = text.lines().map(str::trim).collect();
        for (i, line) in lines.iter().enumerate() {
            let declared = if line.starts_with("#[derive(") && line.contains("ToSchema") {
                // The type follows its attributes and doc comments.
                lines[i + 1..]
                    .iter()
                    .find(|l| l.starts_with("pub struct ") || l.starts_with("pub enum "))
                    .and_then(|l| l.split_whitespace().nth(2).map(|n| n.trim_end_matches(['{', '(', ';']).to_string()))
            } else if *line == "string_enum!(" {
                lines[i + 1..]
                    .iter()
                    .find(|l| !l.starts_with("///"))
                    .map(|l| l.trim_end_matches('{').trim().to_string())
            } else {
                None
            };
            if let Some(name) = declared {
                names += 1;
                let place = file.display().to_string();
                if let Some(other) = seen.insert(name.clone(), place.clone()) {
                    panic!("schema {name} is declared twice: {other} and {place}");
                }
            }
        }
    }
    assert!(names > 100, "found the declarations: {names}");
}

/// Every schema the document refers to is in it: a type named only by a
/// query parameter's `value_type` is not registered by utoipa on its own,
/// and a client generator or fuzzer then skips that parameter.
#[tokio::test]
async fn every_schema_reference_resolves() {
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                if let Some(Value::String(r)) = map.get("$ref") {
                    out.push(r.clone());
                }
                map.values().for_each(|v| refs(v, out));
            }
            Value::Array(items) => items.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let app = spawn_app().await;
    let doc = app.get("/api/v1/openapi.json", None).await.expect(200);
    let mut found = Vec::new();
    refs(&doc, &mut found);
    assert!(found.len() > 100, "the document uses references: {}", found.len());
    let missing: Vec<&String> = found
        .iter()
        .filter(|r| r.strip_prefix("#/").is_none_or(|path| doc.pointer(&format!("/{path}")).is_none()))
        .collect();
    assert!(missing.is_empty(), "references to nothing: {missing:?}");
}
