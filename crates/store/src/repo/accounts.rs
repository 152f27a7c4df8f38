use crate::entity::account;
use crate::error::StoreResult;
use mercato_domain::account::Role;
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};

pub struct NewAccount<'a> {
    pub id: &'a str,
    pub role: Role,
    pub name: &'a str,
    pub email: &'a str,
    pub password_hash: Option<&'a str>,
    pub created_at: chrono::DateTime<chrono::Utc>,
}

/// Inserts an account; a taken email is `StoreError::Conflict`.
pub async fn insert(db: &impl ConnectionTrait, a: NewAccount<'_>) -> StoreResult<account::Model> {
    let model = account::ActiveModel {
        id: Set(a.id.to_string()),
        role: Set(a.role),
        name: Set(a.name.to_string()),
        email: Set(a.email.to_string()),
        password_hash: Set(a.password_hash.map(str::to_string)),
        created_at: Set(a.created_at),
    };
    account::Entity::insert(model).exec_without_returning(db).await?;
    Ok(find(db, a.id).await?.expect("inserted account is readable in the same transaction"))
}

pub async fn find(db: &impl ConnectionTrait, id: &str) -> StoreResult<Option<account::Model>> {
    Ok(account::Entity::find_by_id(id.to_string()).one(db).await?)
}

pub async fn find_by_email(db: &impl ConnectionTrait, email: &str) -> StoreResult<Option<account::Model>> {
    Ok(account::Entity::find().filter(account::Column::Email.eq(email)).one(db).await?)
}

/// Finds an account of a given role (e.g. a seller by id for an operator).
pub async fn find_with_role(db: &impl ConnectionTrait, id: &str, role: &str) -> StoreResult<Option<account::Model>> {
    Ok(account::Entity::find_by_id(id.to_string()).filter(account::Column::Role.eq(role)).one(db).await?)
}
