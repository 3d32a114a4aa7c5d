//! DynamoDB answered from the world's tables ([`crate::cloud::sim::dynamodb`]).

use super::errors::*;
use crate::cloud::sim::SimCloud;
use crate::cloud::{CloudResult, Condition, Item, Query};

pub(crate) async fn get_item(sim: &SimCloud, table: &str, key: Item) -> CloudResult<Option<Item>> {
    const OP: &str = "GetItem";
    sim.gate("dynamodb", OP, Some(table)).await?;
    sim.with(|w, _, _| {
        w.ddb
            .table(table)
            .and_then(|t| t.get(&key))
            .map_err(|e| ddb_err(e, OP, table))
    })
}

pub(crate) async fn put_item(
    sim: &SimCloud,
    table: &str,
    item: Item,
    condition: Option<Condition>,
) -> CloudResult<()> {
    const OP: &str = "PutItem";
    sim.gate("dynamodb", OP, Some(table)).await?;
    sim.with(|w, _, _| {
        w.ddb
            .table_mut(table)
            .and_then(|t| t.put(item, condition.as_ref()))
            .map_err(|e| ddb_err(e, OP, table))
    })
}

pub(crate) async fn query(sim: &SimCloud, query: Query) -> CloudResult<Vec<Item>> {
    const OP: &str = "Query";
    let table = query.table.clone();
    sim.gate("dynamodb", OP, Some(&table)).await?;
    sim.with(|w, _, _| {
        w.ddb
            .table(&table)
            .and_then(|t| t.query(&query))
            .map_err(|e| ddb_err(e, OP, &table))
    })
}

pub(crate) async fn delete_item(
    sim: &SimCloud,
    table: &str,
    key: Item,
    condition: Option<Condition>,
) -> CloudResult<()> {
    const OP: &str = "DeleteItem";
    sim.gate("dynamodb", OP, Some(table)).await?;
    sim.with(|w, _, _| {
        w.ddb
            .table_mut(table)
            .and_then(|t| t.delete(&key, condition.as_ref()))
            .map_err(|e| ddb_err(e, OP, table))
    })
}

pub(crate) async fn create_table(
    sim: &SimCloud,
    table: &str,
    hash_key: &str,
    range_key: Option<&str>,
) -> CloudResult<()> {
    const OP: &str = "CreateTable";
    sim.gate("dynamodb", OP, Some(table)).await?;
    sim.with(|w, _, _| w.ddb.create(table, hash_key, range_key))
        .map_err(|e| ddb_err(e, OP, table))
}
