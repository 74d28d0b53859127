//! The Terraform functions static resolution understands. A call to any other function fails
//! to evaluate, so the value it produces stays unresolved.

use hcl::{
    eval::{Context, FuncArgs, FuncDef, ParamType},
    Value,
};

pub fn declare(context: &mut Context) {
    let any = || FuncDef::builder().param(ParamType::Any);
    context.declare_func("jsonencode", any().build(jsonencode));
    context.declare_func("tostring", any().build(tostring));
    context.declare_func("tonumber", any().build(tonumber));
    context.declare_func("toset", any().build(toset));
    context.declare_func("tolist", any().build(tolist));
    context.declare_func("tomap", any().build(tomap));
    context.declare_func("length", any().build(length));
    context.declare_func("lower", FuncDef::builder().param(ParamType::String).build(|a| Ok(Value::String(a[0].as_str().unwrap().to_lowercase()))));
    context.declare_func("upper", FuncDef::builder().param(ParamType::String).build(|a| Ok(Value::String(a[0].as_str().unwrap().to_uppercase()))));
    context.declare_func("merge", FuncDef::builder().variadic_param(ParamType::Any).build(merge));
    context.declare_func("concat", FuncDef::builder().variadic_param(ParamType::Any).build(concat));
    context.declare_func("join", FuncDef::builder().param(ParamType::String).param(ParamType::Any).build(join));
    context.declare_func("lookup", FuncDef::builder().param(ParamType::Any).param(ParamType::Any).variadic_param(ParamType::Any).build(lookup));
    // The patched hcl-edit parses a number beyond f64 (`1e400`, valid HCL) as this call: its value
    // stays unresolved, with a reason naming the number (vendor/hcl-edit/PATCH.md).
    let beyond = hcl::expr::FuncName::new(hcl::Identifier::unchecked(hcl_edit::parser::OUT_OF_RANGE_NUMBER));
    context.declare_func(beyond, FuncDef::builder().param(ParamType::String).build(beyond_f64));
}

fn beyond_f64(args: FuncArgs) -> Result<Value, String> {
    Err(format!("the number {} is beyond the range of a 64-bit float, which onwatch reads numbers as", args[0].as_str().unwrap()))
}

fn jsonencode(args: FuncArgs) -> Result<Value, String> {
    serde_json::to_string(&args[0]).map(Value::String).map_err(|e| e.to_string())
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::String(s) => Ok(Value::String(s.clone())),
        Value::Number(n) => Ok(Value::String(n.to_string())),
        Value::Bool(b) => Ok(Value::String(b.to_string())),
        other => Err(format!("tostring of {other}")),
    }
}

fn tonumber(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Number(n) => Ok(Value::Number(*n)),
        Value::String(s) => s.trim().parse::<f64>().ok().and_then(hcl::Number::from_f64).map(Value::Number).ok_or_else(|| format!("tonumber of {s:?}")),
        other => Err(format!("tonumber of {other}")),
    }
}

fn toset(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Array(items) => {
            let mut unique: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !unique.contains(item) {
                    unique.push(item.clone());
                }
            }
            Ok(Value::Array(unique))
        }
        other => Err(format!("toset of {other}")),
    }
}

fn tolist(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Array(items) => Ok(Value::Array(items.clone())),
        other => Err(format!("tolist of {other}")),
    }
}

fn tomap(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Object(map) => Ok(Value::Object(map.clone())),
        other => Err(format!("tomap of {other}")),
    }
}

fn length(args: FuncArgs) -> Result<Value, String> {
    match &args[0] {
        Value::Array(items) => Ok(Value::from(items.len())),
        Value::Object(map) => Ok(Value::from(map.len())),
        Value::String(s) => Ok(Value::from(s.chars().count())),
        other => Err(format!("length of {other}")),
    }
}

fn merge(args: FuncArgs) -> Result<Value, String> {
    let mut merged = hcl::Map::new();
    for arg in args.iter() {
        match arg {
            Value::Object(map) => merged.extend(map.clone()),
            Value::Null => {}
            other => return Err(format!("merge of {other}")),
        }
    }
    Ok(Value::Object(merged))
}

fn concat(args: FuncArgs) -> Result<Value, String> {
    let mut all = Vec::new();
    for arg in args.iter() {
        match arg {
            Value::Array(items) => all.extend(items.iter().cloned()),
            other => return Err(format!("concat of {other}")),
        }
    }
    Ok(Value::Array(all))
}

fn join(args: FuncArgs) -> Result<Value, String> {
    let separator = args[0].as_str().unwrap();
    match &args[1] {
        Value::Array(items) => {
            let parts: Result<Vec<&str>, String> = items.iter().map(|i| i.as_str().ok_or_else(|| format!("join of {i}"))).collect();
            Ok(Value::String(parts?.join(separator)))
        }
        other => Err(format!("join of {other}")),
    }
}

fn lookup(args: FuncArgs) -> Result<Value, String> {
    let key = args[1].as_str().ok_or("lookup key is not a string")?;
    match (&args[0], args.get(2)) {
        (Value::Object(map), default) => map.get(key).cloned().or_else(|| default.cloned()).ok_or_else(|| format!("lookup: no key {key:?}")),
        (other, _) => Err(format!("lookup in {other}")),
    }
}
