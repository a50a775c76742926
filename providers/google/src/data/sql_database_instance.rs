//! Data source `google_sql_database_instance`: an existing instance by name, with the
//! attributes of the resource of the same name.

use crate::sql::database_instance::{instance_value, DatabaseInstance};
use crate::sql::project_of;
use crate::GoogleProvider;
use infra_provider::*;

pub struct SqlDatabaseInstance;

#[async_trait::async_trait]
impl DataSource<GoogleProvider> for SqlDatabaseInstance {
    fn name(&self) -> &'static str {
        "google_sql_database_instance"
    }

    /// The resource's attributes, all computed but `name` (required) and `project`.
    fn schema(&self) -> Schema {
        let mut s = ResourceType::<GoogleProvider>::schema(&DatabaseInstance);
        for (k, a) in s.attributes.iter_mut() {
            let ty = a.ty.clone();
            *a = match k.as_str() {
                "name" => AttrSchema::required(ty),
                "project" => AttrSchema::optional_computed(ty),
                _ => AttrSchema::computed(ty),
            };
        }
        let settings = ResourceType::<GoogleProvider>::schema(&DatabaseInstance).blocks.get("settings").map(|b| b.schema.clone()).unwrap_or_default();
        s.blocks.clear();
        s.attributes.insert("settings".into(), AttrSchema::computed(Type::List(Box::new(object_type(&settings)))));
        s
    }

    async fn read(&self, c: &GoogleProvider, config: &Value) -> Outcome<Value> {
        let project = project_of(c, config)?;
        let name = attrs::req_string(config, "name")?;
        let path = format!("projects/{}/instances/{}", crate::api::enc(&project), crate::api::enc(&name));
        match c.client()?.api.get("instances.get", &path).await? {
            Some(j) => {
                let mut v = instance_value(&j, &Value::Null, &std::collections::BTreeMap::new());
                // A setting of the resource block, not of the instance: nothing to read.
                if let Value::Object(m) = &mut v {
                    m.insert("deletion_protection".into(), Value::Null);
                }
                Ok(v)
            }
            None => Err(Diagnostic::error("Instance not found", format!("no Cloud SQL instance named {name} exists in project {project}."))
                .with_path(attrs::at("name"))
                .into()),
        }
    }
}

/// A block schema as the object type a computed attribute holds.
pub fn object_type(s: &Schema) -> Type {
    use infra_lang::types::ObjectAttr;
    let mut m = std::collections::BTreeMap::new();
    for (k, a) in &s.attributes {
        m.insert(k.clone(), ObjectAttr { ty: a.ty.clone(), optional: false, default: None });
    }
    for (k, b) in &s.blocks {
        let inner = object_type(&b.schema);
        let ty = match b.nesting {
            Nesting::Single => inner,
            Nesting::List => Type::List(Box::new(inner)),
            Nesting::Set => Type::Set(Box::new(inner)),
        };
        m.insert(k.clone(), ObjectAttr { ty, optional: false, default: None });
    }
    Type::Object(m)
}
