//! DynamoDB: the patterns' tables (`anomaly-detection`, `m03p02_anomaly_data`). Conditions
//! arrive as structure ([`Condition`]) and are rendered here to a ConditionExpression with
//! placeholder names and values, so no attribute name or value is ever spliced into the
//! expression text.

use super::errors::map_sdk_error;
use crate::cloud::{AttrValue, CloudResult, Condition, Item, Query};
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::types::AttributeValue;
use std::collections::HashMap;

const SERVICE: &str = "dynamodb";

pub fn to_sdk(v: &AttrValue) -> AttributeValue {
    match v {
        AttrValue::S(s) => AttributeValue::S(s.clone()),
        AttrValue::N(n) => AttributeValue::N(n.clone()),
        AttrValue::Bool(b) => AttributeValue::Bool(*b),
        AttrValue::Null => AttributeValue::Null(true),
    }
}

/// The seam keeps the scalar types the patterns use; anything richer is shown as text.
pub fn from_sdk(v: &AttributeValue) -> AttrValue {
    match v {
        AttributeValue::S(s) => AttrValue::S(crate::sanitize::clean(s)),
        AttributeValue::N(n) => AttrValue::N(crate::sanitize::clean(n)),
        AttributeValue::Bool(b) => AttrValue::Bool(*b),
        AttributeValue::Null(_) => AttrValue::Null,
        other => AttrValue::S(crate::sanitize::clean(&format!("{other:?}"))),
    }
}

fn item_to_sdk(item: &Item) -> HashMap<String, AttributeValue> {
    item.iter().map(|(k, v)| (k.clone(), to_sdk(v))).collect()
}

fn item_from_sdk(item: &HashMap<String, AttributeValue>) -> Item {
    item.iter()
        .map(|(k, v)| (crate::sanitize::clean(k), from_sdk(v)))
        .collect()
}

/// A ConditionExpression with its placeholder maps.
#[derive(Debug, Default, PartialEq)]
pub struct RenderedCondition {
    pub expression: String,
    pub names: HashMap<String, String>,
    pub values: HashMap<String, AttributeValue>,
}

impl RenderedCondition {
    fn name(&mut self, attr: &str) -> String {
        let key = format!("#n{}", self.names.len());
        self.names.insert(key.clone(), attr.to_string());
        key
    }

    fn value(&mut self, v: &AttrValue) -> String {
        let key = format!(":v{}", self.values.len());
        self.values.insert(key.clone(), to_sdk(v));
        key
    }

    fn render(&mut self, c: &Condition) -> String {
        match c {
            Condition::AttributeNotExists(a) => {
                let n = self.name(a);
                format!("attribute_not_exists({n})")
            }
            Condition::LessThan(a, v) => {
                let (n, v) = (self.name(a), self.value(v));
                format!("{n} < {v}")
            }
            Condition::Equals(a, v) => {
                let (n, v) = (self.name(a), self.value(v));
                format!("{n} = {v}")
            }
            Condition::Or(l, r) => {
                let (l, r) = (self.render(l), self.render(r));
                format!("({l} OR {r})")
            }
            Condition::And(l, r) => {
                let (l, r) = (self.render(l), self.render(r));
                format!("({l} AND {r})")
            }
        }
    }
}

pub fn render_condition(c: &Condition) -> RenderedCondition {
    let mut r = RenderedCondition::default();
    r.expression = r.render(c);
    r
}

/// The ConditionExpression and its placeholder maps, as the requests' setters take them
/// (DynamoDB refuses an empty value map, so none is sent).
type ConditionParts = (
    Option<String>,
    Option<HashMap<String, String>>,
    Option<HashMap<String, AttributeValue>>,
);

fn condition_parts(condition: Option<Condition>) -> ConditionParts {
    match condition {
        None => (None, None, None),
        Some(c) => {
            let r = render_condition(&c);
            let values = (!r.values.is_empty()).then_some(r.values);
            (Some(r.expression), Some(r.names), values)
        }
    }
}

pub async fn get_item(c: &Client, table: &str, key: Item) -> CloudResult<Option<Item>> {
    let out = c
        .get_item()
        .table_name(table)
        .set_key(Some(item_to_sdk(&key)))
        .consistent_read(true)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "GetItem", Some(table), e))?;
    Ok(out.item().map(item_from_sdk))
}

pub async fn put_item(
    c: &Client,
    table: &str,
    item: Item,
    condition: Option<Condition>,
) -> CloudResult<()> {
    let (expression, names, values) = condition_parts(condition);
    c.put_item()
        .table_name(table)
        .set_item(Some(item_to_sdk(&item)))
        .set_condition_expression(expression)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "PutItem", Some(table), e))?;
    Ok(())
}

pub async fn delete_item(
    c: &Client,
    table: &str,
    key: Item,
    condition: Option<Condition>,
) -> CloudResult<()> {
    let (expression, names, values) = condition_parts(condition);
    c.delete_item()
        .table_name(table)
        .set_key(Some(item_to_sdk(&key)))
        .set_condition_expression(expression)
        .set_expression_attribute_names(names)
        .set_expression_attribute_values(values)
        .send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "DeleteItem", Some(table), e))?;
    Ok(())
}

/// CreateTable (on demand, string keys), then DescribeTable until it is ACTIVE: items cannot
/// be written while it is CREATING.
pub async fn create_table(
    c: &Client,
    table: &str,
    hash_key: &str,
    range_key: Option<&str>,
) -> CloudResult<()> {
    use aws_sdk_dynamodb::types::{
        AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType,
        TableStatus,
    };
    let build = |e: aws_sdk_dynamodb::error::BuildError| {
        crate::cloud::CloudError::new(
            crate::cloud::ErrorKind::InvalidRequest,
            SERVICE,
            "CreateTable",
            e.to_string(),
        )
    };
    let mut req = c
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest);
    let keys =
        std::iter::once((hash_key, KeyType::Hash)).chain(range_key.map(|r| (r, KeyType::Range)));
    for (name, kind) in keys {
        req = req
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .map_err(build)?,
            )
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(name)
                    .key_type(kind)
                    .build()
                    .map_err(build)?,
            );
    }
    req.send()
        .await
        .map_err(|e| map_sdk_error(SERVICE, "CreateTable", Some(table), e))?;
    for _ in 0..120 {
        let out = c
            .describe_table()
            .table_name(table)
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "DescribeTable", Some(table), e))?;
        if out.table().and_then(|t| t.table_status()) == Some(&TableStatus::Active) {
            return Ok(());
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
    Err(crate::cloud::CloudError::new(
        crate::cloud::ErrorKind::ServiceUnavailable,
        SERVICE,
        "CreateTable",
        format!("table {table} was created but is not ACTIVE after 60 s"),
    ))
}

pub async fn query(c: &Client, q: Query) -> CloudResult<Vec<Item>> {
    let mut items = Vec::new();
    let mut start: Option<HashMap<String, AttributeValue>> = None;
    loop {
        let out = c
            .query()
            .table_name(&q.table)
            .key_condition_expression("#k = :v")
            .expression_attribute_names("#k", &q.hash_key)
            .expression_attribute_values(":v", to_sdk(&q.hash_value))
            .scan_index_forward(!q.newest_first)
            .set_limit(q.limit.map(|l| l - items.len() as i32))
            .set_exclusive_start_key(start.take())
            .send()
            .await
            .map_err(|e| map_sdk_error(SERVICE, "Query", Some(&q.table), e))?;
        items.extend(out.items().iter().map(item_from_sdk));
        let full = q.limit.is_some_and(|l| items.len() as i32 >= l);
        match out.last_evaluated_key() {
            Some(k) if !k.is_empty() && !full => start = Some(k.clone()),
            _ => return Ok(items),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_render_with_placeholders() {
        let c = Condition::Or(
            Box::new(Condition::AttributeNotExists("snapshot".into())),
            Box::new(Condition::LessThan(
                "timestamp".into(),
                AttrValue::S("x') OR 1=1".into()),
            )),
        );
        let r = render_condition(&c);
        assert_eq!(r.expression, "(attribute_not_exists(#n0) OR #n1 < :v0)");
        assert_eq!(r.names["#n0"], "snapshot");
        assert_eq!(r.names["#n1"], "timestamp");
        assert_eq!(r.values[":v0"], AttributeValue::S("x') OR 1=1".into()));
    }

    #[test]
    fn values_round_trip() {
        for v in [
            AttrValue::S("a".into()),
            AttrValue::N("1.5".into()),
            AttrValue::Bool(true),
            AttrValue::Null,
        ] {
            assert_eq!(from_sdk(&to_sdk(&v)), v);
        }
    }
}
