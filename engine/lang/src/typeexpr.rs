//! Type constraint syntax: reads `list(map(string))` or `object({ a = optional(string, "x") })`
//! as written after `type =` into a [`Type`]. Apart from `types` because an optional
//! attribute's default is a constant expression, which needs the evaluator (and the evaluator
//! needs the types).

use crate::types::{convert, ObjectAttr, Type};
use hcl_edit::expr::{Expression, TraversalOperator};
use std::collections::BTreeMap;

/// Reads a type constraint expression, as written after `type =` in a `variable` block.
pub fn parse_type(expr: &Expression) -> Result<Type, String> {
    match expr {
        Expression::Variable(v) => match v.as_str() {
            "any" => Ok(Type::Any),
            "bool" => Ok(Type::Bool),
            "number" => Ok(Type::Number),
            "string" => Ok(Type::String),
            "list" => Ok(Type::List(Box::new(Type::Any))),
            "map" => Ok(Type::Map(Box::new(Type::Any))),
            "set" => Ok(Type::Set(Box::new(Type::Any))),
            other => Err(format!("the keyword \"{other}\" is not a valid type constraint")),
        },
        Expression::FuncCall(call) => {
            let name = call.name.name.as_str();
            let args: Vec<&Expression> = call.args.iter().collect();
            let one = |args: &[&Expression]| -> Result<Type, String> {
                match args {
                    [a] => parse_type(a),
                    _ => Err(format!("{name}(...) takes exactly one type argument")),
                }
            };
            match name {
                "list" => Ok(Type::List(Box::new(one(&args)?))),
                "set" => Ok(Type::Set(Box::new(one(&args)?))),
                "map" => Ok(Type::Map(Box::new(one(&args)?))),
                "tuple" => match args.as_slice() {
                    [Expression::Array(items)] => Ok(Type::Tuple(items.iter().map(parse_type).collect::<Result<_, _>>()?)),
                    _ => Err("tuple(...) takes a list of types, like tuple([string, number])".into()),
                },
                "object" => match args.as_slice() {
                    [Expression::Object(obj)] => {
                        let mut attrs = BTreeMap::new();
                        for (key, value) in obj.iter() {
                            let key = match key {
                                hcl_edit::expr::ObjectKey::Ident(i) => i.as_str().to_string(),
                                hcl_edit::expr::ObjectKey::Expression(Expression::String(s)) => s.as_str().to_string(),
                                _ => return Err("object type attribute names must be identifiers".into()),
                            };
                            attrs.insert(key, parse_object_attr(value.expr())?);
                        }
                        Ok(Type::Object(attrs))
                    }
                    _ => Err("object(...) takes an object of attribute types, like object({ name = string })".into()),
                },
                "optional" => Err("optional(...) is only allowed for attributes inside object(...)".into()),
                other => Err(format!("\"{other}\" is not a type constructor")),
            }
        }
        Expression::Traversal(t) if t.operators.is_empty() => parse_type(&t.expr),
        Expression::Traversal(t) => match (&t.expr, t.operators.first().map(|o| o.value())) {
            (Expression::Variable(_), Some(TraversalOperator::GetAttr(_))) => Err("a type constraint cannot be an attribute reference".into()),
            _ => Err("invalid type constraint".into()),
        },
        _ => Err("a type constraint is a type keyword or constructor, like string or list(number)".into()),
    }
}

fn parse_object_attr(expr: &Expression) -> Result<ObjectAttr, String> {
    if let Expression::FuncCall(call) = expr {
        if call.name.name.as_str() == "optional" {
            let args: Vec<&Expression> = call.args.iter().collect();
            let ty = parse_type(args.first().ok_or("optional(...) needs a type argument")?)?;
            let default = match args.get(1) {
                Some(e) => Some(crate::eval::eval_constant(e).map_err(|e| format!("invalid default for optional attribute: {e}"))?),
                None => None,
            };
            if args.len() > 2 {
                return Err("optional(...) takes a type and an optional default".into());
            }
            let default = match default {
                Some(d) => Some(convert(&d, &ty).map_err(|e| format!("invalid default for optional attribute: {e}"))?),
                None => None,
            };
            return Ok(ObjectAttr { ty, optional: true, default });
        }
    }
    Ok(ObjectAttr { ty: parse_type(expr)?, optional: false, default: None })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::Value;
    use std::str::FromStr;

    fn ty(src: &str) -> Type {
        parse_type(&Expression::from_str(src).unwrap()).unwrap()
    }

    #[test]
    fn parses_nested_type_constraints() {
        assert_eq!(ty("list(map(string))").to_string(), "list(map(string))");
        assert_eq!(ty("object({a=number, b=optional(string)})").to_string(), "object({a=number, b=optional(string)})");
        assert_eq!(ty("tuple([string, bool])").to_string(), "tuple([string, bool])");
    }

    #[test]
    fn converts_like_terraform() {
        assert_eq!(convert(&Value::string("1"), &Type::Number).unwrap(), Value::int(1));
        assert_eq!(convert(&Value::Bool(true), &Type::String).unwrap(), Value::string("true"));
        assert!(convert(&Value::string("x"), &Type::Number).is_err());
        let obj = ty("object({a=number, b=optional(string, \"d\")})");
        let v = convert(&Value::object([("a", Value::string("2"))]), &obj).unwrap();
        assert_eq!(v, Value::object([("a", Value::int(2)), ("b", Value::string("d"))]));
        assert_eq!(convert(&Value::object([("b", Value::string("x"))]), &obj).unwrap_err(), "attribute \"a\" is required");
    }

    #[test]
    fn set_conversion_sorts_and_dedups() {
        let v = convert(&Value::Tuple(vec![Value::string("b"), Value::string("a"), Value::string("b")]), &ty("set(string)")).unwrap();
        assert_eq!(v, Value::Set(vec![Value::string("a"), Value::string("b")]));
    }
}
