pub use sea_orm_migration::prelude::*;
pub mod m20261128_000200_digest;
