//! The public catalog: listed products only (status `listed`), searched and
//! sorted on the denormalised `pub_*` columns that approval writes, paged by
//! keyset so that pages never skip or repeat a product.
//!
//! Relevance is computed in SQL: per search term, `SCORE_NAME_PREFIX` when the
//! (lower-cased) name starts with it, `SCORE_NAME` when the name contains it,
//! else `SCORE_TEXT` (every term must occur in `pub_search`). The lower-cased
//! name is the first line of `pub_search`, so the comparison is the same on
//! SQLite and PostgreSQL whatever their case folding does.

use crate::entity::{category, product};
use crate::error::StoreResult;
use crate::repo::like_escape;
use chrono::{DateTime, Utc};
use mercato_domain::catalog::{
    CatalogSort, ChargingMode, ListedSnapshot, ProductStatus, ProductType, SCORE_NAME, SCORE_NAME_PREFIX, SCORE_TEXT,
    SortKey,
};
use sea_orm::sea_query::{Expr, LikeExpr};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbBackend, EntityTrait, ExprTrait, FromQueryResult, Order, QueryFilter,
    QueryOrder, QuerySelect,
};

/// A catalog search, already validated.
#[derive(Debug, Clone)]
pub struct Search<'a> {
    /// Lower-cased terms; each must occur in the product's search text.
    pub terms: &'a [String],
    /// Category ids to keep (a category and its descendants), if filtering.
    pub category_ids: Option<&'a [String]>,
    pub product_type: Option<ProductType>,
    pub charging_mode: Option<ChargingMode>,
    pub min_price_minor: Option<i64>,
    pub max_price_minor: Option<i64>,
    pub sort: CatalogSort,
    /// The last row of the previous page: its sort key (of `sort`) and id.
    pub after: Option<(&'a SortKey, &'a str)>,
    pub limit: u64,
}

/// One listed product as the catalog finds it.
#[derive(Debug, Clone, FromQueryResult)]
pub struct Hit {
    pub id: String,
    pub listed: ListedSnapshot,
    pub listed_at: DateTime<Utc>,
    pub pub_price_minor: Option<i64>,
    pub pub_currency: Option<String>,
    pub pub_modes: Option<String>,
    pub score: i64,
}

impl Hit {
    /// This row's key under `sort`, for the next page's cursor.
    pub fn sort_key(&self, sort: CatalogSort) -> SortKey {
        SortKey::of(sort, self.score, self.listed_at, self.pub_price_minor)
    }
}

fn contains(text: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}%", like_escape(text))).escape('\\')
}

fn starts_with(text: &str) -> LikeExpr {
    LikeExpr::new(format!("{}%", like_escape(text))).escape('\\')
}

/// The first line of `pub_search`: the lower-cased name.
fn name_line(backend: DbBackend) -> Expr {
    match backend {
        DbBackend::Postgres => Expr::cust("split_part(pub_search, chr(10), 1)"),
        _ => Expr::cust("substr(pub_search, 1, instr(pub_search || char(10), char(10)) - 1)"),
    }
}

/// The relevance score of a row for `terms` (0 without terms), as BIGINT.
fn score_expr(backend: DbBackend, terms: &[String]) -> Expr {
    let mut score: Option<Expr> = None;
    for t in terms {
        let term_score: Expr =
            Expr::case(name_line(backend).like(starts_with(t)), Expr::cust(SCORE_NAME_PREFIX.to_string()))
                .case(name_line(backend).like(contains(t)), Expr::cust(SCORE_NAME.to_string()))
                .finally(Expr::cust(SCORE_TEXT.to_string()))
                .into();
        score = Some(match score {
            None => term_score,
            Some(s) => s.add(term_score),
        });
    }
    score.unwrap_or_else(|| Expr::cust("0")).cast_as("BIGINT")
}

/// 1 for rows without a price, so that they sort last either way.
fn no_price() -> Expr {
    Expr::case(product::Column::PubPriceMinor.is_null(), Expr::cust("1")).finally(Expr::cust("0")).into()
}

/// Rows strictly after `key`/`id` in the order of `key`'s sort.
fn after(score: &Expr, key: &SortKey, id: &str) -> Condition {
    use product::Column as C;
    let newer_tail = |at: DateTime<Utc>| {
        Condition::any().add(C::ListedAt.lt(at)).add(Condition::all().add(C::ListedAt.eq(at)).add(C::Id.lt(id)))
    };
    match key {
        SortKey::Newest { at } => newer_tail(*at),
        SortKey::Relevance { score: s, at } => Condition::any()
            .add(score.clone().lt(*s))
            .add(Condition::all().add(score.clone().eq(*s)).add(newer_tail(*at))),
        SortKey::PriceAsc { price: Some(p) } => Condition::any()
            .add(C::PubPriceMinor.is_null())
            .add(C::PubPriceMinor.gt(*p))
            .add(Condition::all().add(C::PubPriceMinor.eq(*p)).add(C::Id.gt(id))),
        SortKey::PriceDesc { price: Some(p) } => Condition::any()
            .add(C::PubPriceMinor.is_null())
            .add(C::PubPriceMinor.lt(*p))
            .add(Condition::all().add(C::PubPriceMinor.eq(*p)).add(C::Id.lt(id))),
        SortKey::PriceAsc { price: None } => Condition::all().add(C::PubPriceMinor.is_null()).add(C::Id.gt(id)),
        SortKey::PriceDesc { price: None } => Condition::all().add(C::PubPriceMinor.is_null()).add(C::Id.lt(id)),
    }
}

/// Up to `limit` listed products matching `s`, in its order.
pub async fn search(db: &impl ConnectionTrait, s: &Search<'_>) -> StoreResult<Vec<Hit>> {
    use product::Column as C;
    let backend = db.get_database_backend();
    let score = score_expr(backend, s.terms);
    let mut q = product::Entity::find()
        .select_only()
        .columns([C::Id, C::ListedAt, C::PubPriceMinor, C::PubCurrency, C::PubModes])
        .column_as(C::Listed, "listed")
        .expr_as(score.clone(), "score")
        .filter(C::Status.eq(ProductStatus::Listed))
        .filter(C::Listed.is_not_null())
        .filter(C::ListedAt.is_not_null());
    for t in s.terms {
        q = q.filter(Expr::col(C::PubSearch).like(contains(t)));
    }
    if let Some(ids) = s.category_ids {
        q = q.filter(C::PubCategoryId.is_in(ids.iter().cloned()));
    }
    if let Some(t) = s.product_type {
        q = q.filter(C::ProductType.eq(t));
    }
    if let Some(m) = s.charging_mode {
        q = q.filter(Expr::col(C::PubModes).like(contains(&format!(",{},", m.as_str()))));
    }
    if let Some(min) = s.min_price_minor {
        q = q.filter(C::PubPriceMinor.gte(min));
    }
    if let Some(max) = s.max_price_minor {
        q = q.filter(C::PubPriceMinor.lte(max));
    }
    if let Some((key, id)) = s.after {
        q = q.filter(after(&score, key, id));
    }
    q = match s.sort {
        CatalogSort::Relevance => {
            q.order_by(score, Order::Desc).order_by(C::ListedAt, Order::Desc).order_by(C::Id, Order::Desc)
        }
        CatalogSort::Newest => q.order_by(C::ListedAt, Order::Desc).order_by(C::Id, Order::Desc),
        CatalogSort::PriceAsc => {
            q.order_by(no_price(), Order::Asc).order_by(C::PubPriceMinor, Order::Asc).order_by(C::Id, Order::Asc)
        }
        CatalogSort::PriceDesc => {
            q.order_by(no_price(), Order::Asc).order_by(C::PubPriceMinor, Order::Desc).order_by(C::Id, Order::Desc)
        }
    };
    Ok(q.limit(s.limit).into_model::<Hit>().all(db).await?)
}

/// A listed product by id (None when unknown or not listed).
pub async fn find_listed(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<product::Model>> {
    Ok(product::Entity::find_by_id(id.to_string())
        .filter(product::Column::Status.eq(ProductStatus::Listed))
        .filter(product::Column::Listed.is_not_null())
        .one(db)
        .await?)
}

/// The whole category tree (it is small), for resolving a category filter.
pub async fn categories(db: &impl ConnectionTrait) -> StoreResult<Vec<category::Model>> {
    Ok(category::Entity::find().all(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Db;
    use crate::migrate;
    use mercato_domain::catalog::{
        Cooperation, ListedSku, ListedSnapshot, Prices, ProductContent, SkuSpec, search_terms,
    };
    use sea_orm::ActiveValue::Set;

    /// A fresh database: a new PostgreSQL database when
    /// MERCATO_TEST_DATABASE_URL is set, else a SQLite file.
    async fn open() -> (tempfile_dir::Dir, Db) {
        let mut dir = tempfile_dir::Dir::new();
        let db = match std::env::var("MERCATO_TEST_DATABASE_URL").ok().filter(|u| !u.is_empty()) {
            Some(admin_url) => {
                let name = format!("mercato_t_{}", uuid::Uuid::new_v4().simple());
                let admin = Db::open(&admin_url).await.unwrap();
                admin.conn.execute_unprepared(&format!("CREATE DATABASE {name}")).await.unwrap();
                admin.close().await;
                let (base, _) = admin_url.rsplit_once('/').unwrap();
                dir.pg = Some((name.clone(), admin_url.clone()));
                Db::open(&format!("{base}/{name}")).await.unwrap()
            }
            None => Db::open_sqlite(&dir.path.join("t.db")).await.unwrap(),
        };
        migrate::run(&db).await.unwrap();
        (dir, db)
    }

    /// Closes the pool and drops the PostgreSQL test database, if any.
    async fn close(dir: tempfile_dir::Dir, db: Db) {
        db.close().await;
        if let Some((name, admin_url)) = &dir.pg {
            let admin = Db::open(admin_url).await.unwrap();
            let _ = admin.conn.execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")).await;
            admin.close().await;
        }
    }

    /// A throwaway directory without pulling a dev-dependency in.
    mod tempfile_dir {
        pub struct Dir {
            pub path: std::path::PathBuf,
            /// (database, admin URL) of a PostgreSQL test database.
            pub pg: Option<(String, String)>,
        }
        impl Dir {
            pub fn new() -> Dir {
                let path = std::env::temp_dir().join(format!("mercato-catalog-{}", uuid::Uuid::new_v4().simple()));
                std::fs::create_dir_all(&path).unwrap();
                Dir { path, pg: None }
            }
        }
        impl Drop for Dir {
            fn drop(&mut self) {
                let _ = std::fs::remove_dir_all(&self.path);
            }
        }
    }

    async fn seller(db: &Db) -> String {
        let id = "acc_seller".to_string();
        db.conn
            .execute_unprepared(&format!(
                "INSERT INTO accounts (id, role, name, email, created_at) VALUES ('{id}', 'seller', 'S', 's@x.io', '2026-01-01 00:00:00+00:00')"
            ))
            .await
            .unwrap();
        id
    }

    #[allow(clippy::too_many_arguments)]
    async fn put(
        db: &Db,
        seller: &str,
        id: &str,
        status: ProductStatus,
        name: &str,
        tags: &[&str],
        price: Option<i64>,
        at_secs: i64,
    ) {
        let mode = if price.is_some() { ChargingMode::OneTime } else { ChargingMode::OnDemand };
        let snap = ListedSnapshot {
            product_type: ProductType::Saas,
            cooperation: Cooperation::General,
            content: ProductContent {
                name: name.into(),
                version: "1".into(),
                category_id: "cat_40e17c0b45e75b4f852f7bdaba236472".into(),
                summary: "summary".into(),
                description: "a description with 100% of _things_".into(),
                usage_guide: String::new(),
                support_terms: String::new(),
                tags: tags.iter().map(|t| t.to_string()).collect(),
            },
            seller_id: seller.into(),
            seller_name: "S".into(),
            logo_url: None,
            images: vec![],
            skus: vec![ListedSku {
                id: mercato_domain::ids::SkuId::new().into(),
                spec: SkuSpec {
                    sku_code: "a".into(),
                    name: "a".into(),
                    charging_mode: mode,
                    prices: Prices { one_time_minor: price, ..Prices::default() },
                    currency: "CNY".into(),
                    trial_days: None,
                    metering: None,
                    package: None,
                    linear: None,
                },
            }],
        };
        let cols = snap.search_columns();
        let at = DateTime::from_timestamp(1_800_000_000 + at_secs, 0).unwrap();
        let row = product::ActiveModel {
            id: Set(id.into()),
            seller_id: Set(seller.into()),
            product_type: Set(mercato_domain::catalog::ProductType::Saas),
            cooperation: Set(mercato_domain::catalog::Cooperation::General),
            status: Set(status),
            revision_state: Set(mercato_domain::catalog::RevisionState::None),
            content: Set(snap.content.clone()),
            logo_media_id: Set(None),
            images_json: Set("[]".into()),
            endpoint_url: Set(None),
            endpoint_key_enc: Set(None),
            listed: Set(Some(snap)),
            pub_name: Set(Some(cols.name)),
            pub_search: Set(Some(cols.search_text)),
            pub_category_id: Set(Some(cols.category_id)),
            pub_price_minor: Set(cols.price_minor),
            pub_currency: Set(cols.currency),
            pub_modes: Set(Some(cols.modes)),
            listed_at: Set(Some(at)),
            created_at: Set(at),
            updated_at: Set(at),
        };
        product::Entity::insert(row).exec_without_returning(&db.conn).await.unwrap();
    }

    fn search<'a>(terms: &'a [String], sort: CatalogSort) -> Search<'a> {
        Search {
            terms,
            category_ids: None,
            product_type: None,
            charging_mode: None,
            min_price_minor: None,
            max_price_minor: None,
            sort,
            after: None,
            limit: 100,
        }
    }

    async fn ids(db: &Db, s: &Search<'_>) -> Vec<String> {
        super::search(&db.conn, s).await.unwrap().into_iter().map(|h| h.id).collect()
    }

    /// Pages through with `limit` 1, returning every id in order.
    async fn paged(db: &Db, s: &Search<'_>) -> Vec<String> {
        let mut out = Vec::new();
        let mut last: Option<(SortKey, String)> = None;
        loop {
            let mut page = s.clone();
            page.limit = 1;
            page.after = last.as_ref().map(|(k, id)| (k, id.as_str()));
            let hits = super::search(&db.conn, &page).await.unwrap();
            let Some(h) = hits.into_iter().next() else { break };
            out.push(h.id.clone());
            last = Some((h.sort_key(s.sort), h.id));
        }
        out
    }

    #[tokio::test]
    async fn search_filters_scores_and_pages() {
        let (dir, db) = open().await;
        let s = seller(&db).await;
        put(&db, &s, "prd_a", ProductStatus::Listed, "MySQL 云数据库", &["数据库"], Some(500), 1).await;
        put(&db, &s, "prd_b", ProductStatus::Listed, "Backup for mysql", &[], Some(100), 2).await;
        put(&db, &s, "prd_c", ProductStatus::Listed, "Log analytics", &["MySQL"], None, 3).await;
        put(&db, &s, "prd_d", ProductStatus::Listed, "Same price", &[], Some(100), 2).await;
        put(&db, &s, "prd_e", ProductStatus::Delisted, "MySQL old", &[], Some(1), 9).await;

        let none: Vec<String> = vec![];
        assert_eq!(ids(&db, &search(&none, CatalogSort::Newest)).await, ["prd_c", "prd_d", "prd_b", "prd_a"]);
        let t = search_terms("MYSQL").unwrap();
        assert_eq!(ids(&db, &search(&t, CatalogSort::Relevance)).await, ["prd_a", "prd_b", "prd_c"]);
        let t = search_terms("数据库").unwrap();
        assert_eq!(ids(&db, &search(&t, CatalogSort::Newest)).await, ["prd_a"]);
        let t = search_terms("100%").unwrap();
        assert_eq!(ids(&db, &search(&t, CatalogSort::Newest)).await.len(), 4);
        let t = search_terms("1%0").unwrap();
        assert!(ids(&db, &search(&t, CatalogSort::Newest)).await.is_empty(), "% is literal");
        let t = search_terms("_t").unwrap();
        assert_eq!(ids(&db, &search(&t, CatalogSort::Newest)).await.len(), 4, "'_things_' has '_t'");
        let t = search_terms("a_t").unwrap();
        assert!(ids(&db, &search(&t, CatalogSort::Newest)).await.is_empty(), "_ is literal");

        assert_eq!(ids(&db, &search(&none, CatalogSort::PriceAsc)).await, ["prd_b", "prd_d", "prd_a", "prd_c"]);
        assert_eq!(ids(&db, &search(&none, CatalogSort::PriceDesc)).await, ["prd_a", "prd_d", "prd_b", "prd_c"]);
        for sort in CatalogSort::ALL {
            let s = search(&none, *sort);
            assert_eq!(paged(&db, &s).await, ids(&db, &s).await, "{sort}");
        }
        let t = search_terms("mysql").unwrap();
        let s = search(&t, CatalogSort::Relevance);
        assert_eq!(paged(&db, &s).await, ids(&db, &s).await);

        let mut f = search(&none, CatalogSort::Newest);
        f.charging_mode = Some(ChargingMode::OnDemand);
        assert_eq!(ids(&db, &f).await, ["prd_c"]);
        f.charging_mode = None;
        f.min_price_minor = Some(100);
        f.max_price_minor = Some(400);
        assert_eq!(ids(&db, &f).await, ["prd_d", "prd_b"]);
        let cats = vec!["cat_other".to_string()];
        f.category_ids = Some(&cats);
        assert!(ids(&db, &f).await.is_empty());

        assert!(find_listed(&db.conn, "prd_a").await.unwrap().is_some());
        assert!(find_listed(&db.conn, "prd_e").await.unwrap().is_none());
        assert!(!categories(&db.conn).await.unwrap().is_empty());
        close(dir, db).await;
    }
}
