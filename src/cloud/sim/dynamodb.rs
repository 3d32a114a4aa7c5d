//! DynamoDB in the simulated account: the patterns' two tables with their key schemas,
//! GetItem, PutItem honouring a [`Condition`], and Query on the hash key.

use crate::cloud::{AttrValue, Condition, Item, Query};
use std::cmp::Ordering;
use std::collections::BTreeMap;

#[derive(Debug, Clone)]
pub struct Table {
    pub name: String,
    pub hash_key: String,
    pub range_key: Option<String>,
    /// hash value → range value → item (keys rendered to sortable strings).
    items: BTreeMap<String, BTreeMap<SortKey, Item>>,
}

/// A key value ordered as DynamoDB orders it (numbers numerically, strings by bytes).
#[derive(Debug, Clone, PartialEq)]
enum SortKey {
    None,
    N(f64),
    S(String),
}

impl Eq for SortKey {}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            (SortKey::None, SortKey::None) => Ordering::Equal,
            (SortKey::None, _) => Ordering::Less,
            (_, SortKey::None) => Ordering::Greater,
            (SortKey::N(a), SortKey::N(b)) => a.total_cmp(b),
            (SortKey::N(_), SortKey::S(_)) => Ordering::Less,
            (SortKey::S(_), SortKey::N(_)) => Ordering::Greater,
            (SortKey::S(a), SortKey::S(b)) => a.cmp(b),
        }
    }
}

fn sort_key(v: &AttrValue) -> Option<SortKey> {
    match v {
        AttrValue::S(s) => Some(SortKey::S(s.clone())),
        AttrValue::N(n) => n.parse().ok().map(SortKey::N),
        _ => None,
    }
}

fn hash_repr(v: &AttrValue) -> Option<String> {
    match v {
        AttrValue::S(s) => Some(format!("S:{s}")),
        AttrValue::N(n) => n.parse::<f64>().ok().map(|f| format!("N:{f}")),
        _ => None,
    }
}

pub enum DdbError {
    NotFound(String),
    Invalid(String),
    ConditionFailed(String),
}

impl Table {
    pub fn new(name: &str, hash_key: &str, range_key: Option<&str>) -> Table {
        Table {
            name: name.to_string(),
            hash_key: hash_key.to_string(),
            range_key: range_key.map(str::to_string),
            items: BTreeMap::new(),
        }
    }

    fn key_of(&self, item: &Item) -> Result<(String, SortKey), DdbError> {
        let missing = |k: &str| {
            DdbError::Invalid(format!(
                "One or more parameter values were invalid: Missing the key {k} in the item"
            ))
        };
        let h = item
            .get(&self.hash_key)
            .and_then(hash_repr)
            .ok_or_else(|| missing(&self.hash_key))?;
        let r = match &self.range_key {
            Some(rk) => item.get(rk).and_then(sort_key).ok_or_else(|| missing(rk))?,
            None => SortKey::None,
        };
        Ok((h, r))
    }

    pub fn get(&self, key: &Item) -> Result<Option<Item>, DdbError> {
        let (h, r) = self.key_of(key)?;
        Ok(self.items.get(&h).and_then(|m| m.get(&r)).cloned())
    }

    pub fn put(&mut self, item: Item, condition: Option<&Condition>) -> Result<(), DdbError> {
        let (h, r) = self.key_of(&item)?;
        if let Some(c) = condition {
            let current = self.items.get(&h).and_then(|m| m.get(&r));
            if !holds(c, current) {
                return Err(DdbError::ConditionFailed(
                    "The conditional request failed".into(),
                ));
            }
        }
        self.items.entry(h).or_default().insert(r, item);
        Ok(())
    }

    /// DeleteItem: deleting a missing item is not an error, unless a condition needs it.
    pub fn delete(&mut self, key: &Item, condition: Option<&Condition>) -> Result<(), DdbError> {
        let (h, r) = self.key_of(key)?;
        if let Some(c) = condition {
            let current = self.items.get(&h).and_then(|m| m.get(&r));
            if !holds(c, current) {
                return Err(DdbError::ConditionFailed(
                    "The conditional request failed".into(),
                ));
            }
        }
        if let Some(m) = self.items.get_mut(&h) {
            m.remove(&r);
            if m.is_empty() {
                self.items.remove(&h);
            }
        }
        Ok(())
    }

    pub fn query(&self, q: &Query) -> Result<Vec<Item>, DdbError> {
        if q.hash_key != self.hash_key {
            return Err(DdbError::Invalid(format!(
                "Query condition missed key schema element: {}",
                self.hash_key
            )));
        }
        let h = hash_repr(&q.hash_value)
            .ok_or_else(|| DdbError::Invalid("the hash key value must be S or N".into()))?;
        let Some(m) = self.items.get(&h) else {
            return Ok(Vec::new());
        };
        let limit = match q.limit {
            Some(l) if l < 1 => {
                return Err(DdbError::Invalid("Limit must be at least 1".into()));
            }
            Some(l) => l as usize,
            None => usize::MAX,
        };
        Ok(if q.newest_first {
            m.values().rev().take(limit).cloned().collect()
        } else {
            m.values().take(limit).cloned().collect()
        })
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    pub fn len(&self) -> usize {
        self.items.values().map(BTreeMap::len).sum()
    }
}

fn compare(a: &AttrValue, b: &AttrValue) -> Option<Ordering> {
    match (a, b) {
        (AttrValue::S(x), AttrValue::S(y)) => Some(x.cmp(y)),
        (AttrValue::N(x), AttrValue::N(y)) => {
            let (x, y): (f64, f64) = (x.parse().ok()?, y.parse().ok()?);
            x.partial_cmp(&y)
        }
        _ => None,
    }
}

/// Whether a condition holds on the current item (None when it does not exist).
pub fn holds(c: &Condition, current: Option<&Item>) -> bool {
    match c {
        Condition::AttributeNotExists(a) => current.is_none_or(|i| !i.contains_key(a)),
        Condition::LessThan(a, v) => current
            .and_then(|i| i.get(a))
            .and_then(|x| compare(x, v))
            .is_some_and(|o| o == Ordering::Less),
        Condition::Equals(a, v) => current
            .and_then(|i| i.get(a))
            .is_some_and(|x| compare(x, v).map_or(x == v, |o| o == Ordering::Equal)),
        Condition::Or(a, b) => holds(a, current) || holds(b, current),
        Condition::And(a, b) => holds(a, current) && holds(b, current),
    }
}

#[derive(Debug, Clone, Default)]
pub struct Dynamo {
    pub tables: BTreeMap<String, Table>,
}

impl Dynamo {
    pub fn table(&self, name: &str) -> Result<&Table, DdbError> {
        self.tables.get(name).ok_or_else(|| {
            DdbError::NotFound(format!(
                "Requested resource not found: Table: {name} not found"
            ))
        })
    }

    /// CreateTable: refused when the table exists, as DynamoDB does (ResourceInUseException).
    pub fn create(
        &mut self,
        name: &str,
        hash_key: &str,
        range_key: Option<&str>,
    ) -> Result<(), DdbError> {
        if self.tables.contains_key(name) {
            return Err(DdbError::Invalid(format!("Table already exists: {name}")));
        }
        self.tables
            .insert(name.to_string(), Table::new(name, hash_key, range_key));
        Ok(())
    }

    pub fn table_mut(&mut self, name: &str) -> Result<&mut Table, DdbError> {
        self.tables.get_mut(name).ok_or_else(|| {
            DdbError::NotFound(format!(
                "Requested resource not found: Table: {name} not found"
            ))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(pairs: &[(&str, AttrValue)]) -> Item {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }

    #[test]
    fn conditions_and_queries() {
        let mut t = Table::new("m03p02_anomaly_data", "deviceid", Some("timestamp"));
        let a = item(&[
            ("deviceid", AttrValue::S("D1".into())),
            ("timestamp", AttrValue::S("2024-05-01 10:00:00".into())),
        ]);
        let cond = Condition::AttributeNotExists("deviceid".into());
        assert!(t.put(a.clone(), Some(&cond)).is_ok());
        assert!(matches!(
            t.put(a.clone(), Some(&cond)),
            Err(DdbError::ConditionFailed(_))
        ));
        let mut b = a.clone();
        b.insert(
            "timestamp".into(),
            AttrValue::S("2024-05-01 11:00:00".into()),
        );
        t.put(b.clone(), None).ok();
        let q = Query {
            table: t.name.clone(),
            hash_key: "deviceid".into(),
            hash_value: AttrValue::S("D1".into()),
            limit: Some(1),
            newest_first: true,
        };
        assert_eq!(t.query(&q).ok().unwrap(), vec![b.clone()]);
        assert!(matches!(t.put(item(&[]), None), Err(DdbError::Invalid(_))));
        // Only the named writer may delete; a missing item holds no Equals.
        let who = Condition::Equals("who".into(), AttrValue::S("alice".into()));
        assert!(matches!(
            t.delete(&b, Some(&who)),
            Err(DdbError::ConditionFailed(_))
        ));
        t.delete(&b, None).ok().unwrap();
        assert_eq!(t.query(&q).ok().unwrap(), vec![a]);
        let mut d = Dynamo::default();
        assert!(d.create("x", "k", None).is_ok());
        assert!(matches!(
            d.create("x", "k", None),
            Err(DdbError::Invalid(_))
        ));
    }
}
