//! The category tree: public reading and operator editing.

use crate::helpers::{DATABASES_CATEGORY, Res, product_form, spawn_app};
use serde_json::json;

#[tokio::test]
async fn the_seeded_tree_is_public_and_ordered() {
    let app = spawn_app().await;
    let tree = app.get("/api/v1/catalog/categories", None).await.expect(200);
    let top = tree["items"].as_array().unwrap();
    assert!(top.len() >= 5);
    let positions: Vec<i64> = top.iter().map(|c| c["position"].as_i64().unwrap()).collect();
    assert!(positions.windows(2).all(|w| w[0] <= w[1]), "{positions:?}");
    assert_eq!(top[0]["slug"], "infrastructure");
    assert_eq!(top[0]["name_zh"], "基础软件");
    let children = top[0]["children"].as_array().unwrap();
    assert_eq!(children[0]["id"], DATABASES_CATEGORY);
    assert_eq!(children[0]["slug"], "databases");
    assert!(children[0]["children"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn operators_edit_categories() {
    let app = spawn_app().await;
    let op = app.operator().await;
    let (_, seller) = app.signup("seller").await;
    let url = "/api/v1/operator/categories";
    app.post(url, Some(&seller), json!({"slug": "x", "name": "X", "name_zh": "X"})).await.problem(403, "forbidden");
    app.post(url, None, json!({"slug": "x", "name": "X", "name_zh": "X"})).await.problem(401, "unauthorized");

    let top =
        app.post(url, Some(&op), json!({"slug": "gaming", "name": "Gaming", "name_zh": "游戏"})).await.expect(201);
    let top_id = top["id"].as_str().unwrap().to_string();
    assert!(top["parent_id"].is_null());
    assert!(top["position"].as_i64().unwrap() >= 8, "appended after the seeded ones");
    let child = app
        .post(url, Some(&op), json!({"parent_id": top_id, "slug": "game-servers", "name": "Game servers", "name_zh": "游戏服务器", "position": 1}))
        .await
        .expect(201);
    let child_id = child["id"].as_str().unwrap().to_string();
    let tree = app.get("/api/v1/catalog/categories", None).await.expect(200);
    let node = tree["items"].as_array().unwrap().iter().find(|c| c["id"] == top_id.as_str()).unwrap().clone();
    assert_eq!(node["children"][0]["slug"], "game-servers");

    // Bad input.
    app.post(url, Some(&op), json!({"slug": "gaming", "name": "Dup", "name_zh": "Dup"}))
        .await
        .problem(409, "slug_taken");
    let body = app
        .post(url, Some(&op), json!({"slug": "Bad Slug", "name": "", "name_zh": "x", "position": -1}))
        .await
        .problem(422, "validation_failed");
    let mut fields = Res::fields(&body);
    fields.sort();
    assert_eq!(fields, ["name", "position", "slug"]);
    // A parent that does not exist is a reference to nothing: 404.
    let body = app
        .post(url, Some(&op), json!({"parent_id": "cat_nope", "slug": "orphan", "name": "O", "name_zh": "O"}))
        .await
        .problem(404, "parent_not_found");
    assert_eq!(Res::fields(&body), ["parent_id"]);
    let body = app
        .patch(&format!("{url}/{child_id}"), Some(&op), json!({"parent_id": "cat_nope"}))
        .await
        .problem(404, "parent_not_found");
    assert_eq!(Res::fields(&body), ["parent_id"]);

    // Rename, move, reorder.
    let renamed = app
        .patch(&format!("{url}/{child_id}"), Some(&op), json!({"name": "Game hosting", "position": 5}))
        .await
        .expect(200);
    assert_eq!(renamed["name"], "Game hosting");
    assert_eq!(renamed["slug"], "game-servers");
    app.patch(&format!("{url}/{child_id}"), Some(&op), json!({"slug": "databases"})).await.problem(409, "slug_taken");
    // The tree as it is decides: a category under its own sub-category, or
    // one level too deep, conflicts with it.
    let body = app
        .patch(&format!("{url}/{top_id}"), Some(&op), json!({"parent_id": child_id}))
        .await
        .problem(409, "category_cycle");
    assert_eq!(Res::fields(&body), ["parent_id"]);
    let grandchild = app
        .post(url, Some(&op), json!({"parent_id": child_id, "slug": "grand", "name": "G", "name_zh": "G"}))
        .await
        .expect(201);
    let body = app
        .post(url, Some(&op), json!({"parent_id": grandchild["id"], "slug": "great", "name": "G", "name_zh": "G"}))
        .await
        .problem(409, "too_deep");
    assert_eq!(Res::fields(&body), ["parent_id"]);
    app.delete(&format!("{url}/{}", grandchild["id"].as_str().unwrap()), Some(&op)).await.expect(204);
    let moved = app.patch(&format!("{url}/{child_id}"), Some(&op), json!({"parent_id": null})).await.expect(200);
    assert!(moved["parent_id"].is_null());
    app.patch(&format!("{url}/cat_0193a0a0a0a0a0a0a0a0a0a0a0a0a0a0"), Some(&op), json!({"name": "x"}))
        .await
        .problem(404, "not_found");

    // Delete: refused while in use.
    app.patch(&format!("{url}/{child_id}"), Some(&op), json!({"parent_id": top_id})).await.expect(200);
    app.delete(&format!("{url}/{top_id}"), Some(&op)).await.problem(409, "category_in_use");
    let mut form = product_form("Game host");
    form["category_id"] = json!(child_id);
    app.post("/api/v1/seller/products", Some(&seller), form).await.expect(201);
    app.delete(&format!("{url}/{child_id}"), Some(&op)).await.problem(409, "category_in_use");
    let spare =
        app.post(url, Some(&op), json!({"slug": "spare", "name": "Spare", "name_zh": "备用"})).await.expect(201);
    let spare_id = spare["id"].as_str().unwrap();
    app.delete(&format!("{url}/{spare_id}"), Some(&op)).await.expect(204);
    app.delete(&format!("{url}/{spare_id}"), Some(&op)).await.problem(404, "not_found");
    let tree = app.get("/api/v1/catalog/categories", None).await.expect(200);
    assert!(!tree.to_string().contains("spare"));
}
