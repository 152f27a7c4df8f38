//! The category tree: public reading, operator editing.

use crate::app::error::{AppError, AppResult, Refusal};
use crate::state::AppState;
use mercato_domain::ids::CategoryId;
use mercato_domain::validation::Checker;
use mercato_store::StoreError;
use mercato_store::entity::category;
use mercato_store::repo::categories;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::ToSchema;

pub const SLUG_MAX: usize = 64;
pub const NAME_MAX: usize = 64;
pub const POSITION_MAX: i64 = 1_000_000;
/// Depth of the tree: top-level categories and their sub-categories... and one more level.
pub const DEPTH_MAX: usize = 3;

/// A category with its sub-categories, ordered by position.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryNode {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub name_zh: String,
    pub position: i64,
    #[schema(no_recursion)]
    pub children: Vec<CategoryNode>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryTree {
    pub items: Vec<CategoryNode>,
}

/// One category as stored.
#[derive(Debug, Serialize, ToSchema)]
pub struct CategoryView {
    pub id: String,
    pub parent_id: Option<String>,
    pub slug: String,
    pub name: String,
    pub name_zh: String,
    pub position: i64,
}

impl From<category::Model> for CategoryView {
    fn from(c: category::Model) -> Self {
        CategoryView {
            id: c.id,
            parent_id: c.parent_id,
            slug: c.slug,
            name: c.name,
            name_zh: c.name_zh,
            position: c.position,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCategory {
    /// Parent category; omit for a top-level category.
    #[serde(default)]
    pub parent_id: Option<String>,
    /// Lowercase letters, digits and '-', unique.
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length = 64)]
    pub slug: String,
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub name: String,
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub name_zh: String,
    /// Order among siblings; default after the last one.
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub position: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateCategory {
    /// A new parent; `null` makes it top-level.
    #[serde(default, deserialize_with = "double_option")]
    #[schema(value_type = Option<String>)]
    pub parent_id: Option<Option<String>>,
    #[serde(default)]
    #[schema(pattern = "^[a-z0-9]([a-z0-9-]*[a-z0-9])?$", max_length = 64)]
    pub slug: Option<String>,
    #[serde(default)]
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub name: Option<String>,
    #[serde(default)]
    #[schema(
        pattern = r"^[^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*[^\s\u0000-\u001F\u007F-\u009F][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$",
        max_length = 64
    )]
    pub name_zh: Option<String>,
    #[serde(default)]
    #[schema(minimum = 0, maximum = 1_000_000)]
    pub position: Option<i64>,
}

/// Tells "absent" (None) from "null" (Some(None)).
pub fn double_option<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= SLUG_MAX
        && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !s.starts_with('-')
        && !s.ends_with('-')
}

fn check_fields(c: &mut Checker, slug: Option<&str>, name: Option<&str>, name_zh: Option<&str>, position: Option<i64>) {
    if let Some(s) = slug {
        c.check(is_slug(s), "slug", format!("must be 1 to {SLUG_MAX} lowercase letters, digits and inner '-'"));
    }
    if let Some(n) = name {
        c.text("name", n, 1, NAME_MAX);
    }
    if let Some(n) = name_zh {
        c.text("name_zh", n, 1, NAME_MAX);
    }
    if let Some(p) = position {
        c.check((0..=POSITION_MAX).contains(&p), "position", format!("must be between 0 and {POSITION_MAX}"));
    }
}

pub async fn tree(state: &AppState) -> AppResult<CategoryTree> {
    let rows = categories::all(&state.db.conn).await?;
    Ok(CategoryTree { items: build_tree(&rows, None, 0) })
}

fn build_tree(rows: &[category::Model], parent: Option<&str>, depth: usize) -> Vec<CategoryNode> {
    if depth > 16 {
        return Vec::new();
    }
    rows.iter()
        .filter(|c| c.parent_id.as_deref() == parent)
        .map(|c| CategoryNode {
            id: c.id.clone(),
            slug: c.slug.clone(),
            name: c.name.clone(),
            name_zh: c.name_zh.clone(),
            position: c.position,
            children: build_tree(rows, Some(&c.id), depth + 1),
        })
        .collect()
}

fn slug_taken(e: StoreError) -> AppError {
    match e {
        StoreError::Conflict(_) => AppError::conflict("slug_taken", "another category already uses this slug"),
        other => other.into(),
    }
}

/// 404 `parent_not_found`: `parent_id` names no category (a reference to
/// nothing, named in `errors`).
fn parent_not_found() -> AppError {
    AppError::about_field(Refusal::NotFound, "parent_not_found", "parent_id", "no such category")
}

/// 409 `too_deep`: under this parent the tree would be deeper than allowed
/// (the tree's current shape decides, so a conflict).
fn too_deep() -> AppError {
    AppError::about_field(
        Refusal::Conflict,
        "too_deep",
        "parent_id",
        &format!("categories nest at most {DEPTH_MAX} levels deep"),
    )
}

/// Depth of `id` (1 for a top-level category), walking up the parents.
async fn depth_of(db: &impl mercato_store::Executor, id: &str) -> AppResult<(usize, Vec<String>)> {
    let mut chain = Vec::new();
    let mut current = Some(id.to_string());
    while let Some(c) = current {
        if chain.contains(&c) || chain.len() > 16 {
            break;
        }
        let row = categories::find(db, &c).await?;
        chain.push(c);
        current = row.and_then(|r| r.parent_id);
    }
    Ok((chain.len(), chain))
}

pub async fn create(state: &AppState, req: CreateCategory) -> AppResult<CategoryView> {
    let mut c = Checker::new();
    check_fields(&mut c, Some(&req.slug), Some(&req.name), Some(&req.name_zh), req.position);
    c.finish()?;
    let tx = state.db.write().await?;
    if let Some(parent) = &req.parent_id {
        if categories::find(&tx, parent).await?.is_none() {
            return Err(parent_not_found());
        }
        if depth_of(&tx, parent).await?.0 >= DEPTH_MAX {
            return Err(too_deep());
        }
    }
    let position = match req.position {
        Some(p) => p,
        None => categories::next_position(&tx, req.parent_id.as_deref()).await?,
    };
    let row = category::Model {
        id: String::from(CategoryId::new()),
        parent_id: req.parent_id,
        slug: req.slug,
        name: req.name.trim().to_string(),
        name_zh: req.name_zh.trim().to_string(),
        position,
        created_at: state.now(),
    };
    categories::insert(&tx, row.clone()).await.map_err(slug_taken)?;
    tx.commit().await?;
    Ok(row.into())
}

pub async fn update(state: &AppState, id: &str, req: UpdateCategory) -> AppResult<CategoryView> {
    let mut c = Checker::new();
    check_fields(&mut c, req.slug.as_deref(), req.name.as_deref(), req.name_zh.as_deref(), req.position);
    c.finish()?;
    let tx = state.db.write().await?;
    let mut row = categories::find(&tx, id).await?.ok_or_else(|| AppError::not_found("category"))?;
    if let Some(parent) = &req.parent_id {
        if let Some(p) = parent {
            if categories::find(&tx, p).await?.is_none() {
                return Err(parent_not_found());
            }
            let (depth, chain) = depth_of(&tx, p).await?;
            if chain.iter().any(|a| a == id) {
                return Err(AppError::about_field(
                    Refusal::Conflict,
                    "category_cycle",
                    "parent_id",
                    "a category cannot be moved under itself or one of its sub-categories",
                ));
            }
            if depth >= DEPTH_MAX || (categories::count_children(&tx, id).await? > 0 && depth + 2 > DEPTH_MAX) {
                return Err(too_deep());
            }
        }
        row.parent_id = parent.clone();
    }
    if let Some(s) = req.slug {
        row.slug = s;
    }
    if let Some(n) = req.name {
        row.name = n.trim().to_string();
    }
    if let Some(n) = req.name_zh {
        row.name_zh = n.trim().to_string();
    }
    if let Some(p) = req.position {
        row.position = p;
    }
    categories::update(&tx, row.clone()).await.map_err(slug_taken)?;
    tx.commit().await?;
    Ok(row.into())
}

pub async fn delete(state: &AppState, id: &str) -> AppResult<()> {
    let tx = state.db.write().await?;
    if categories::find(&tx, id).await?.is_none() {
        return Err(AppError::not_found("category"));
    }
    if categories::count_children(&tx, id).await? > 0 {
        return Err(AppError::conflict(
            "category_in_use",
            "the category has sub-categories; move or delete them first",
        ));
    }
    if categories::used_by_products(&tx, id).await? {
        return Err(AppError::conflict("category_in_use", "products are filed under this category"));
    }
    categories::delete(&tx, id).await?;
    tx.commit().await?;
    Ok(())
}

/// True when the category exists (products must name a real one).
pub async fn exists(db: &impl mercato_store::Executor, id: &str) -> AppResult<bool> {
    Ok(categories::find(db, id).await?.is_some())
}
