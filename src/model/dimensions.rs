//! CloudWatch dimensions: the name → value pairs that identify what a metric is about.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// CloudWatch dimensions, name → value, sorted by name; in JSON an object. A sorted vector
/// rather than a map: alarms and metrics have one to four dimensions, and at 300,000 alarms a
/// B-tree node per alarm costs more memory than everything else the alarm holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Dimensions(Vec<(String, String)>);

impl Dimensions {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.position(name).ok().map(|at| self.0[at].1.as_str())
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_ok()
    }

    /// Sets `name` to `value`, replacing an earlier value.
    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        let (name, value) = (name.into(), value.into());
        match self.position(&name) {
            Ok(at) => self.0[at].1 = value,
            Err(at) => self.0.insert(at, (name, value)),
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    fn position(&self, name: &str) -> Result<usize, usize> {
        self.0.binary_search_by(|(k, _)| k.as_str().cmp(name))
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for Dimensions {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut dimensions = Dimensions::default();
        for (k, v) in pairs {
            dimensions.insert(k, v);
        }
        dimensions
    }
}

impl IntoIterator for Dimensions {
    type Item = (String, String);
    type IntoIter = std::vec::IntoIter<(String, String)>;

    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl From<BTreeMap<String, String>> for Dimensions {
    fn from(map: BTreeMap<String, String>) -> Self {
        // Already sorted and unique.
        Dimensions(map.into_iter().collect())
    }
}

impl Serialize for Dimensions {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.iter())
    }
}

impl<'de> Deserialize<'de> for Dimensions {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Dimensions;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an object of dimension names to values")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Dimensions, A::Error> {
                let mut pairs: Vec<(String, String)> = Vec::with_capacity(map.size_hint().unwrap_or(2));
                while let Some(pair) = map.next_entry::<String, String>()? {
                    pairs.push(pair);
                }
                pairs.sort_by(|a, b| a.0.cmp(&b.0));
                if let Some(pair) = pairs.windows(2).find(|w| w[0].0 == w[1].0) {
                    return Err(serde::de::Error::custom(format!("duplicate dimension {:?}", pair[0].0)));
                }
                Ok(Dimensions(pairs))
            }
        }
        deserializer.deserialize_map(Visitor)
    }
}

impl JsonSchema for Dimensions {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Dimensions".into()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <BTreeMap<String, String>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dimensions_stay_sorted_and_round_trip_as_an_object() {
        let dimensions: Dimensions = [("TargetGroup", "tg"), ("LoadBalancer", "lb")].into_iter().collect();
        assert_eq!(dimensions.iter().collect::<Vec<_>>(), [("LoadBalancer", "lb"), ("TargetGroup", "tg")]);
        let json = serde_json::to_string(&dimensions).unwrap();
        assert_eq!(json, r#"{"LoadBalancer":"lb","TargetGroup":"tg"}"#);
        assert_eq!(serde_json::from_str::<Dimensions>(&json).unwrap(), dimensions);
        assert!(serde_json::from_str::<Dimensions>(r#"{"a":"1","a":"2"}"#).is_err());
        assert_eq!(dimensions.get("TargetGroup"), Some("tg"));
        assert!(!dimensions.contains_key("InstanceId"));
    }
}
