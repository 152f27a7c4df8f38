//! Catalog search: relevance reads the name from the first line of
//! `pub_search` with a per-backend expression (`split_part` on PostgreSQL,
//! `substr`/`instr` on SQLite); both must score and page the same.

use crate::common::{TestDb, time};
use crate::fixtures::{account, product};
use chrono::Duration;
use mercato_domain::account::Role;
use mercato_domain::catalog::{CatalogSort, ProductStatus, SCORE_NAME, SCORE_NAME_PREFIX, SCORE_TEXT, SortKey};
use mercato_store::entity::product::Model as Product;
use mercato_store::repo::catalog::{self, Search};
use mercato_store::repo::products;
use mercato_store::sea_orm::ConnectionTrait;

const SELLER: &str = "acc_seller";

fn by_relevance(terms: &[String]) -> Search<'_> {
    Search {
        terms,
        category_ids: None,
        product_type: None,
        charging_mode: None,
        min_price_minor: None,
        max_price_minor: None,
        sort: CatalogSort::Relevance,
        after: None,
        limit: 100,
    }
}

fn terms(text: &str) -> Vec<String> {
    text.split_whitespace().map(str::to_string).collect()
}

/// A listed product whose search text is `search`, listed `at` seconds in.
fn listed(id: &str, search: &str, at: i64) -> Product {
    Product {
        listed_at: Some(time("2026-02-01T00:00:00Z") + Duration::seconds(at)),
        ..product(id, SELLER, ProductStatus::Listed, Some(search))
    }
}

async fn put(db: &impl ConnectionTrait, p: Product) {
    products::insert(db, p).await.unwrap();
}

/// (id, score) of every hit.
async fn scored(db: &impl ConnectionTrait, s: &Search<'_>) -> Vec<(String, i64)> {
    catalog::search(db, s).await.unwrap().into_iter().map(|h| (h.id, h.score)).collect()
}

#[tokio::test]
async fn relevance_reads_the_name_from_the_first_line() {
    let t = TestDb::new().await;
    account(&t.conn, SELLER, Role::Seller).await;
    put(&t.conn, listed("prd_prefix", "mysql tools\nsummary", 1)).await;
    // No second line: the whole text is the name.
    put(&t.conn, listed("prd_bare", "mysql", 2)).await;
    put(&t.conn, listed("prd_inside", "fast mysql\nsummary", 3)).await;
    // The term below the name counts as text only.
    put(&t.conn, listed("prd_text", "backup\nworks with mysql", 4)).await;
    put(&t.conn, listed("prd_no_name", "\nmysql in the text", 5)).await;
    put(&t.conn, listed("prd_cjk", "数据库 mysql\n云", 6)).await;
    put(&t.conn, listed("prd_other", "postgres\nnothing here", 7)).await;
    put(&t.conn, product("prd_delisted", SELLER, ProductStatus::Delisted, Some("mysql"))).await;
    put(&t.conn, product("prd_unpublished", SELLER, ProductStatus::Listed, None)).await;

    let mysql = terms("mysql");
    let expected = [
        ("prd_bare", SCORE_NAME_PREFIX),
        ("prd_prefix", SCORE_NAME_PREFIX),
        ("prd_cjk", SCORE_NAME),
        ("prd_inside", SCORE_NAME),
        ("prd_no_name", SCORE_TEXT),
        ("prd_text", SCORE_TEXT),
    ]
    .map(|(id, s)| (id.to_string(), s));
    assert_eq!(scored(&t.conn, &by_relevance(&mysql)).await, expected);

    // Scores add up over terms, and every term must occur.
    let two = terms("mysql tools");
    assert_eq!(scored(&t.conn, &by_relevance(&two)).await, [("prd_prefix".into(), SCORE_NAME_PREFIX + SCORE_NAME)]);
    let cjk = terms("数据库");
    assert_eq!(scored(&t.conn, &by_relevance(&cjk)).await, [("prd_cjk".into(), SCORE_NAME_PREFIX)]);
    let cloud = terms("云");
    assert_eq!(scored(&t.conn, &by_relevance(&cloud)).await, [("prd_cjk".into(), SCORE_TEXT)]);

    assert!(catalog::find_listed(&t.conn, "prd_prefix").await.unwrap().is_some());
    assert!(catalog::find_listed(&t.conn, "prd_delisted").await.unwrap().is_none());
    assert!(catalog::find_listed(&t.conn, "prd_unpublished").await.unwrap().is_none());
    assert!(catalog::find_listed(&t.conn, "prd_unknown").await.unwrap().is_none());
}

#[tokio::test]
async fn relevance_pages_never_skip_or_repeat_through_ties() {
    let t = TestDb::new().await;
    account(&t.conn, SELLER, Role::Seller).await;
    let mut expected = Vec::new();
    for i in 0..23 {
        let (search, score) = match i % 3 {
            0 => (format!("mysql {i}\nsummary"), SCORE_NAME_PREFIX),
            1 => (format!("my mysql {i}\nsummary"), SCORE_NAME),
            _ => (format!("item {i}\nmysql"), SCORE_TEXT),
        };
        // Four listing times only: many rows tie on (score, listed_at).
        let p = listed(&format!("prd_{i:02}"), &search, i % 4);
        expected.push((score, p.listed_at.unwrap(), p.id.clone()));
        put(&t.conn, p).await;
    }
    expected.sort_by(|a, b| b.cmp(a));
    let expected: Vec<String> = expected.into_iter().map(|(_, _, id)| id).collect();

    let mysql = terms("mysql");
    let mut seen = Vec::new();
    let mut cursor: Option<(SortKey, String)> = None;
    loop {
        let mut page = by_relevance(&mysql);
        page.limit = 4;
        page.after = cursor.as_ref().map(|(k, id)| (k, id.as_str()));
        let hits = catalog::search(&t.conn, &page).await.unwrap();
        let Some(last) = hits.last() else { break };
        cursor = Some((last.sort_key(CatalogSort::Relevance), last.id.clone()));
        seen.extend(hits.into_iter().map(|h| h.id));
        assert!(seen.len() <= expected.len(), "pages repeat rows: {seen:?}");
    }
    assert_eq!(seen, expected);
}
