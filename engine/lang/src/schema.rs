//! Schemas of resource types, data sources and provider configurations: attribute types,
//! required / optional / computed, force-new, sensitive, and nested blocks with item limits.

use crate::types::Type;
use crate::value::Value;
use std::collections::{BTreeMap, BTreeSet};

#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub attributes: BTreeMap<String, AttrSchema>,
    pub blocks: BTreeMap<String, BlockSchema>,
    /// Blocks that may also be written as one argument holding every item, Terraform's
    /// "attributes as blocks" (`ingress = []` removes every rule): with neither blocks nor the
    /// argument the value is null (not managed), where an ordinary block decodes as empty.
    pub attr_blocks: BTreeSet<String>,
    pub description: String,
}

#[derive(Clone, Debug)]
pub struct AttrSchema {
    pub ty: Type,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    /// Changing it replaces the object.
    pub force_new: bool,
    pub sensitive: bool,
    pub description: String,
    /// The value planned when the configuration leaves the attribute null (an optional
    /// argument with a default, as terraform-provider-aws documents it).
    pub default: Option<Value>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
}

#[derive(Clone, Debug)]
pub struct BlockSchema {
    pub nesting: Nesting,
    pub min_items: usize,
    pub max_items: usize,
    pub force_new: bool,
    pub schema: Schema,
}

impl AttrSchema {
    fn base(ty: Type) -> AttrSchema {
        AttrSchema { ty, required: false, optional: false, computed: false, force_new: false, sensitive: false, description: String::new(), default: None }
    }
    pub fn required(ty: Type) -> AttrSchema {
        AttrSchema { required: true, ..AttrSchema::base(ty) }
    }
    pub fn optional(ty: Type) -> AttrSchema {
        AttrSchema { optional: true, ..AttrSchema::base(ty) }
    }
    pub fn computed(ty: Type) -> AttrSchema {
        AttrSchema { computed: true, ..AttrSchema::base(ty) }
    }
    /// Optional in configuration; the provider fills it in when it is not set.
    pub fn optional_computed(ty: Type) -> AttrSchema {
        AttrSchema { optional: true, computed: true, ..AttrSchema::base(ty) }
    }
    pub fn force_new(mut self) -> AttrSchema {
        self.force_new = true;
        self
    }
    pub fn sensitive(mut self) -> AttrSchema {
        self.sensitive = true;
        self
    }
    /// Optional, planned as `v` when not set. Not computed: the default is known at plan time.
    pub fn default(mut self, v: Value) -> AttrSchema {
        self.optional = true;
        self.default = Some(v);
        self
    }
    pub fn describe(mut self, d: &str) -> AttrSchema {
        self.description = d.to_string();
        self
    }
}

impl Schema {
    pub fn new() -> Schema {
        Schema::default()
    }
    pub fn attr(mut self, name: &str, a: AttrSchema) -> Schema {
        self.attributes.insert(name.to_string(), a);
        self
    }
    pub fn block(mut self, name: &str, b: BlockSchema) -> Schema {
        self.blocks.insert(name.to_string(), b);
        self
    }
    /// A block that may also be written as an argument (see `attr_blocks`).
    pub fn attr_as_blocks(mut self, name: &str, b: BlockSchema) -> Schema {
        self.attr_blocks.insert(name.to_string());
        self.block(name, b)
    }
    /// The type of an argument holding every item of block `name` (an attribute-as-blocks).
    pub fn block_collection_type(&self, name: &str) -> Option<Type> {
        let b = self.blocks.get(name)?;
        let object = Type::Object(
            b.schema
                .attributes
                .iter()
                .filter(|(_, a)| a.required || a.optional)
                .map(|(n, a)| (n.clone(), crate::types::ObjectAttr { ty: a.ty.clone(), optional: false, default: None }))
                .collect(),
        );
        Some(match b.nesting {
            Nesting::Single => object,
            Nesting::List => Type::List(Box::new(object)),
            Nesting::Set => Type::Set(Box::new(object)),
        })
    }
    /// Names of every attribute that forces replacement.
    pub fn force_new_attrs(&self) -> impl Iterator<Item = &String> {
        self.attributes.iter().filter(|(_, a)| a.force_new).map(|(n, _)| n)
    }
}
