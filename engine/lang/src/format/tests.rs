//! One case per formatting rule: the input, and the bytes `terraform fmt` writes for it (derived
//! from the rules of HashiCorp's formatter). Every expected text is also checked to be a fixed
//! point, as `terraform fmt` leaves its own output alone.

use super::format;

const CASES: &[(&str, &str, &str)] = &[
    (
        "equals align across consecutive single-line arguments",
        "resource \"aws_instance\" \"web\" {\nami = \"ami-1\"\ninstance_type=\"t3.micro\"\n}\n",
        "resource \"aws_instance\" \"web\" {\n  ami           = \"ami-1\"\n  instance_type = \"t3.micro\"\n}\n",
    ),
    (
        "a multi-line value ends the run and is not padded",
        "module \"vpc\" {\n  name = \"x\"\n  cidr = \"10.0.0.0/16\"\n  security_group_rules = {\n    ingress = 1\n  }\n  azs = [\"a\"]\n  private_subnets = [\"b\"]\n}\n",
        "module \"vpc\" {\n  name = \"x\"\n  cidr = \"10.0.0.0/16\"\n  security_group_rules = {\n    ingress = 1\n  }\n  azs             = [\"a\"]\n  private_subnets = [\"b\"]\n}\n",
    ),
    (
        "blank lines and comment lines end a run; blank lines are kept",
        "locals {\n  a = 1\n  bbbb = 2\n\n\n  cc = 3\n  # note\n  dddddd = 4\n  e = 5\n}\n",
        "locals {\n  a    = 1\n  bbbb = 2\n\n\n  cc = 3\n  # note\n  dddddd = 4\n  e      = 5\n}\n",
    ),
    (
        "an object inside a multi-line call is one level in and `})` lines up with the opening line",
        "resource \"aws_iam_policy\" \"p\" {\n  policy = jsonencode({\n      Version = \"2012-10-17\"\n      Statement = [\n        {\n          Effect = \"Allow\"\n          Action = [\"s3:GetObject\"]\n          Resource = \"*\"\n        },\n      ]\n    })\n}\n",
        "resource \"aws_iam_policy\" \"p\" {\n  policy = jsonencode({\n    Version = \"2012-10-17\"\n    Statement = [\n      {\n        Effect   = \"Allow\"\n        Action   = [\"s3:GetObject\"]\n        Resource = \"*\"\n      },\n    ]\n  })\n}\n",
    ),
    (
        "nested merge calls",
        "locals {\ntags = merge(var.tags, {\nName = \"x\"\n}, var.extra)\nb = merge(\nvar.a,\n{\nc = 1\n},\n)\n}\n",
        "locals {\n  tags = merge(var.tags, {\n    Name = \"x\"\n  }, var.extra)\n  b = merge(\n    var.a,\n    {\n      c = 1\n    },\n  )\n}\n",
    ),
    (
        "a line that closes and reopens stays at the inner level, as terraform fmt leaves it",
        "x = [{\na = 1\n}, {\nb = 2\n}]\n",
        "x = [{\n  a = 1\n  }, {\n  b = 2\n}]\n",
    ),
    (
        "trailing comments line up after the longest line of their run",
        "variable \"a\" {\n  type = string # the type\n  default = \"x\" # default value\n  // other\n  /* block */\n}\n",
        "variable \"a\" {\n  type    = string # the type\n  default = \"x\"    # default value\n  // other\n  /* block */\n}\n",
    ),
    (
        "a comment after an opening bracket joins the comment run",
        "a=\"apple\"# foo\nbungle=(# woo parens\n\"bonce\"\n)# baz\nzebra=\"striped\"# baz\n",
        "a = \"apple\" # foo\nbungle = (  # woo parens\n  \"bonce\"\n)                 # baz\nzebra = \"striped\" # baz\n",
    ),
    (
        "comment lines take the indentation of their level; block comments are copied",
        "resource \"a\" \"b\" {\n# one\n        // two\n/* three\n     keep   this\n*/\nx = 1\n}\n",
        "resource \"a\" \"b\" {\n  # one\n  // two\n  /* three\n     keep   this\n*/\n  x = 1\n}\n",
    ),
    (
        "heredoc text is untouched and the heredoc argument aligns with its neighbours",
        "resource \"x\" \"y\" {\n      user_data = <<-EOT\n    #!/bin/bash\n      echo {  hi\n  EOT\n  name = \"n\"\n  plain = <<EOF\n   as is   \nEOF\n}\n",
        "resource \"x\" \"y\" {\n  user_data = <<-EOT\n    #!/bin/bash\n      echo {  hi\n  EOT\n  name      = \"n\"\n  plain     = <<EOF\n   as is   \nEOF\n}\n",
    ),
    (
        "for expressions: spaces around `:`, `=>`, `in`, `if`",
        "locals {\n  a = [for s in var.list: upper(s) if s != \"\"]\n  m = {for k,v in var.m: k=>v...}\n  t = [for x in [1,2]: x]\n}\n",
        "locals {\n  a = [for s in var.list : upper(s) if s != \"\"]\n  m = { for k, v in var.m : k => v... }\n  t = [for x in [1, 2] : x]\n}\n",
    ),
    (
        "multi-line for expression",
        "locals {\n  m = {\n    for k, v in var.m:\n    k => v\n    if v != null\n  }\n}\n",
        "locals {\n  m = {\n    for k, v in var.m :\n    k => v\n    if v != null\n  }\n}\n",
    ),
    (
        "empty, one-line and nested blocks",
        "b{}\nresource \"a\" \"b\" {\n}\nresource \"a\" \"c\" {\nlifecycle {ignore_changes=[tags]}\ndynamic \"ingress\" {\nfor_each = var.rules\ncontent {\nfrom_port = ingress.value.from\nto_port=ingress.value.to\n}\n}\n}\n",
        "b {}\nresource \"a\" \"b\" {\n}\nresource \"a\" \"c\" {\n  lifecycle { ignore_changes = [tags] }\n  dynamic \"ingress\" {\n    for_each = var.rules\n    content {\n      from_port = ingress.value.from\n      to_port   = ingress.value.to\n    }\n  }\n}\n",
    ),
    (
        "spaces between tokens: operators, calls, indexes, splats, unary minus and not",
        "locals {\n  a = var.x*2+-1\n  b = ! var.enabled\n  c = element( var.list , 0 )\n  d = var.list[ 0 ]\n  e = aws_instance.web[*].id\n  f = var.a? -1 : 1\n  g = f(var.args ...)\n  h = (var.a -2)\n  i = [ [ ] ]\n}\n",
        "locals {\n  a = var.x * 2 + -1\n  b = !var.enabled\n  c = element(var.list, 0)\n  d = var.list[0]\n  e = aws_instance.web[*].id\n  f = var.a ? -1 : 1\n  g = f(var.args...)\n  h = (var.a - 2)\n  i = [[]]\n}\n",
    ),
    (
        "templates: interpolation spaces go, literal text stays",
        "locals {\n  a = \"hello ${ var.name }  x\"\n  b = \"${~ var.a ~}\"\n  c = \"%{ if var.b }yes%{ else }no%{ endif }\"\n  d = \"$${literal} { x }\"\n}\n",
        "locals {\n  a = \"hello ${var.name}  x\"\n  b = \"${~var.a~}\"\n  c = \"%{if var.b}yes%{else}no%{endif}\"\n  d = \"$${literal} { x }\"\n}\n",
    ),
    (
        "legacy spellings: bare labels quoted, interpolation-only values unwrapped, variable types",
        "resource aws_s3_bucket b {\n  bucket = \"${var.name}\"\n  tags = \"${merge(var.tags, {a = \"b\"})}\"\n  keep = \"${var.a}-${var.b}\"\n}\nvariable \"v\" {\n  type = \"string\"\n}\nvariable \"l\" {\n  type = list\n}\n",
        "resource \"aws_s3_bucket\" \"b\" {\n  bucket = var.name\n  tags   = merge(var.tags, { a = \"b\" })\n  keep   = \"${var.a}-${var.b}\"\n}\nvariable \"v\" {\n  type = string\n}\nvariable \"l\" {\n  type = list(any)\n}\n",
    ),
    (
        "tabs and trailing spaces go; the end of the file stays as written",
        "locals {\n\ta = 1   \n\t\tbb = 2\t\n}",
        "locals {\n  a  = 1\n  bb = 2\n}",
    ),
    (
        "several blank lines at the end stay",
        "a = 1\n\n\n",
        "a = 1\n\n\n",
    ),
    (
        "keys of objects over several lines align; colon keys do not",
        "locals {\n  o = {\n    a = 1\n    \"long-key\" = 2\n    k: 3\n  }\n}\n",
        "locals {\n  o = {\n    a          = 1\n    \"long-key\" = 2\n    k : 3\n  }\n}\n",
    ),
    (
        "unicode width for alignment",
        "a = \"é\" # x\nbb = \"🇬🇧\" # y\nccc = \"ab\" # z\n",
        "a   = \"é\"  # x\nbb  = \"🇬🇧\"  # y\nccc = \"ab\" # z\n",
    ),
    (
        "provider-defined function namespaces stay joined",
        "locals {\n  a = provider::aws::arn_parse(var.arn)\n}\n",
        "locals {\n  a = provider::aws::arn_parse(var.arn)\n}\n",
    ),
];

#[test]
fn each_rule_formats_as_terraform_fmt() {
    let mut failures = Vec::new();
    for (name, input, want) in CASES {
        match format(input) {
            Ok(got) if got == *want => {}
            Ok(got) => failures.push(format!("{name}:\n--- got\n{got}\n--- want\n{want}")),
            Err(e) => failures.push(format!("{name}: {}: {}", e.summary, e.detail)),
        }
        match format(want) {
            Ok(again) if again == *want => {}
            Ok(again) => failures.push(format!("{name}: expected text is not a fixed point:\n{again}")),
            Err(e) => failures.push(format!("{name}: expected text fails: {}", e.summary)),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_file_that_does_not_parse_is_an_error() {
    assert!(format("locals {\n  x = \n}\n").is_err());
}
