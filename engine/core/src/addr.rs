//! Addresses: immutable values that display in HCL syntax (`module.net["a"].aws_subnet.x[0]`)
//! and parse back.

use infra_lang::config::Mode;
use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum InstanceKey {
    Int(i64),
    Str(String),
}

impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InstanceKey::Int(i) => write!(f, "[{i}]"),
            InstanceKey::Str(s) => write!(f, "[{}]", serde_json::to_string(s).unwrap_or_default()),
        }
    }
}

impl InstanceKey {
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            InstanceKey::Int(i) => serde_json::Value::from(*i),
            InstanceKey::Str(s) => serde_json::Value::String(s.clone()),
        }
    }

    pub fn from_json(v: &serde_json::Value) -> Option<InstanceKey> {
        match v {
            serde_json::Value::Number(n) => n.as_i64().map(InstanceKey::Int),
            serde_json::Value::String(s) => Some(InstanceKey::Str(s.clone())),
            _ => None,
        }
    }
}

/// A module instance path: empty for the root.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ModuleInstance(pub Vec<(String, Option<InstanceKey>)>);

impl ModuleInstance {
    pub fn root() -> ModuleInstance {
        ModuleInstance(Vec::new())
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn child(&self, name: &str, key: Option<InstanceKey>) -> ModuleInstance {
        let mut v = self.0.clone();
        v.push((name.to_string(), key));
        ModuleInstance(v)
    }

    /// The static module path (call names only).
    pub fn static_path(&self) -> Vec<String> {
        self.0.iter().map(|(n, _)| n.clone()).collect()
    }
}

impl fmt::Display for ModuleInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, (name, key)) in self.0.iter().enumerate() {
            if i > 0 {
                write!(f, ".")?;
            }
            write!(f, "module.{name}")?;
            if let Some(k) = key {
                write!(f, "{k}")?;
            }
        }
        Ok(())
    }
}

/// One resource instance: `aws_subnet.private[1]`, `data.aws_ami.ubuntu`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct InstanceAddr {
    pub module: ModuleInstance,
    pub mode: Mode,
    pub type_name: String,
    pub name: String,
    pub key: Option<InstanceKey>,
}

impl InstanceAddr {
    /// `type.name` or `data.type.name`, the key of the resource in its module.
    pub fn resource_key(&self) -> String {
        match self.mode {
            Mode::Managed => format!("{}.{}", self.type_name, self.name),
            Mode::Data => format!("data.{}.{}", self.type_name, self.name),
        }
    }

    /// The resource address without the instance key.
    pub fn resource(&self) -> String {
        if self.module.is_root() {
            self.resource_key()
        } else {
            format!("{}.{}", self.module, self.resource_key())
        }
    }
}

impl fmt::Display for InstanceAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.resource())?;
        if let Some(k) = &self.key {
            write!(f, "{k}")?;
        }
        Ok(())
    }
}

/// A parsed address as a user types it: a module path, optionally a resource, optionally a key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub module: ModuleInstance,
    pub resource: Option<(Mode, String, String)>,
    /// `None` means "every instance".
    pub key: Option<InstanceKey>,
}

impl Target {
    /// Does this target cover the given instance?
    pub fn matches(&self, a: &InstanceAddr) -> bool {
        let mod_prefix =
            a.module.0.len() >= self.module.0.len() && self.module.0.iter().zip(&a.module.0).all(|((n1, k1), (n2, k2))| n1 == n2 && (k1.is_none() || k1 == k2));
        if !mod_prefix {
            return false;
        }
        match &self.resource {
            None => true,
            Some((mode, ty, name)) => {
                a.module.0.len() == self.module.0.len() && *mode == a.mode && *ty == a.type_name && *name == a.name && (self.key.is_none() || self.key == a.key)
            }
        }
    }
}

/// Parses `module.a["x"].aws_vpc.main[0]` and friends.
pub fn parse_target(s: &str) -> Result<Target, String> {
    let mut segs: Vec<(String, Option<InstanceKey>)> = Vec::new();
    let bytes: Vec<char> = s.trim().chars().collect();
    let mut i = 0;
    while i < bytes.len() {
        let start = i;
        while i < bytes.len() && bytes[i] != '.' && bytes[i] != '[' {
            i += 1;
        }
        let name: String = bytes[start..i].iter().collect();
        if name.is_empty() || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-') {
            return Err(format!("invalid address {s:?}: expected a name at position {}", start + 1));
        }
        let mut key = None;
        if i < bytes.len() && bytes[i] == '[' {
            let close = bytes[i..].iter().position(|&c| c == ']').map(|p| p + i).ok_or_else(|| format!("invalid address {s:?}: unclosed ["))?;
            let inner: String = bytes[i + 1..close].iter().collect();
            key = Some(if let Ok(n) = inner.parse::<i64>() {
                InstanceKey::Int(n)
            } else if let Ok(s2) = serde_json::from_str::<String>(&inner) {
                InstanceKey::Str(s2)
            } else {
                return Err(format!("invalid address {s:?}: index must be a number or a quoted string"));
            });
            i = close + 1;
        }
        segs.push((name, key));
        if i < bytes.len() {
            if bytes[i] != '.' {
                return Err(format!("invalid address {s:?}: expected . at position {}", i + 1));
            }
            i += 1;
            if i == bytes.len() {
                return Err(format!("invalid address {s:?}: trailing ."));
            }
        }
    }
    let mut module = ModuleInstance::root();
    let mut j = 0;
    while j < segs.len() && segs[j].0 == "module" && segs[j].1.is_none() && j + 1 < segs.len() {
        let (name, key) = segs[j + 1].clone();
        module = module.child(&name, key);
        j += 2;
    }
    let rest = &segs[j..];
    let (resource, key) = match rest {
        [] => (None, None),
        [(d, None), (ty, None), (name, key)] if d == "data" => (Some((Mode::Data, ty.clone(), name.clone())), key.clone()),
        [(ty, None), (name, key)] => (Some((Mode::Managed, ty.clone(), name.clone())), key.clone()),
        _ => return Err(format!("invalid address {s:?}: expected TYPE.NAME, data.TYPE.NAME or module.NAME")),
    };
    Ok(Target { module, resource, key })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_round_trip_through_text() {
        for text in
            ["aws_vpc.main", "aws_subnet.private[1]", "module.net[\"a b\"].aws_subnet.x[0]", "data.aws_ami.ubuntu", "module.app.module.db.random_id.x[\"k\"]"]
        {
            let t = parse_target(text).unwrap();
            let (mode, ty, name) = t.resource.clone().unwrap();
            let a = InstanceAddr { module: t.module.clone(), mode, type_name: ty, name, key: t.key.clone() };
            assert_eq!(a.to_string(), text);
        }
        assert!(parse_target("aws_vpc.").is_err());
        assert!(parse_target("aws_vpc.main[x]").is_err());
    }
}
