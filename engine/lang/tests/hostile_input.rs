//! Nothing a user writes may panic the parser or the evaluator: each input here either
//! evaluates or produces diagnostics. The same entry point is the cargo-fuzz target in `fuzz/`.

use infra_lang::robustness::exercise;

const HOSTILE: &[&str] = &[
    "",
    "\u{feff}",
    "x = ",
    "x = {",
    "x = \"${",
    "x = <<EOT\nunterminated",
    "x = [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
    "x = format(\"%999999999999d\", 1)",
    "x = format(\"%.99999999999f\", 1)",
    "x = indent(99999999999999, \"a\\nb\")",
    "x = range(99999999999999999999)",
    "x = cidrsubnet(\"::/0\", 0, 0)",
    "x = cidrsubnet(\"::/0\", 128, 1)",
    "x = cidrsubnet(\"10.0.0.0/8\", -1, 0)",
    "x = cidrsubnets(\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ff00/120\", 1, 1, 1)",
    "x = cidrhost(\"::/0\", -1)",
    "x = cidrhost(\"10.0.0.0/8\", 99999999999999999)",
    "x = pow(10, 99999)",
    "x = 1e999999999999 * 1e999999999999",
    "x = 18446744073709551615 * 18446744073709551615 * 18446744073709551615",
    "x = 1 / 0",
    "x = 1 % 0",
    "x = parseint(\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz\", 36)",
    "x = substr(\"héllo\", 99999999999, -99999999999)",
    "x = substr(\"héllo\", -99999999999, 2)",
    "x = element([], 1)",
    "x = element([1], -1)",
    "x = slice([1, 2], 2, 1)",
    "x = chunklist([1, 2], 9999999999999)",
    "x = regex(\"(((((((((((a*)*)*)*)*)*)*)*)*)*)*\", \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!\")",
    "x = regex(\"[\", \"a\")",
    "x = replace(\"a\", \"/[/\", \"b\")",
    "x = timeadd(\"2024-01-01T00:00:00Z\", \"9999999999999999h\")",
    "x = timeadd(\"2024-01-01T00:00:00Z\", \"-.h\")",
    "x = formatdate(\"'\", \"2024-01-01T00:00:00Z\")",
    "x = base64decode(\"%%%\")",
    "x = jsondecode(\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]\")",
    "x = yamldecode(\"&a [*a, *a]\")",
    "x = yamldecode(\"a: !!binary AAAA\")",
    "x = csvdecode(\"a,b\\n1\")",
    "x = file(\"/nonexistent/\\u0000\")",
    "x = templatefile(\"/dev/null\", {})",
    "x = fileset(\"/nonexistent\", \"[\")",
    "x = uuidv5(\"bogus\", \"x\")",
    "x = bcrypt(\"x\", 99)",
    "x = tonumber(\"0x10\")",
    "x = tobool(null)",
    "x = tolist({a = 1})",
    "x = setproduct()",
    "x = setunion()",
    "x = merge(1)",
    "x = zipmap([\"a\"], [])",
    "x = flatten(null)",
    "x = [for k, v in null : v]",
    "x = {for v in [\"a\", \"a\"] : v => v}",
    "x = null[*].a",
    "x = \"abc\"[0]",
    "x = {a = 1}[\"b\"]",
    "x = [1][\"x\"]",
    "x = true ? null.a : 1",
    "x = -\"x\"",
    "x = !1",
    "x = \"${[1]}\"",
    "x = \"%{ for x in 1 }%{ endfor }\"",
    "x = \"%{ if \"yes\" }a%{ endif }\"",
    "x = try()",
    "x = can(1, 2)",
    "x = provider::aws::arn_parse(\"x\")",
    "x = nosuch()",
    "x = upper(\"\\u{10FFFF}ǅ\")",
    "x = strrev(\"e\\u0301\")",
    "x = lookup({}, \"a\", \"b\", \"c\")",
    "x = format(\"%[9]s\", 1)",
    "x = format(\"%\")",
    "x = sum([1, \"x\"])",
    "x = join(\",\", [[1]])",
    "x = length(1)",
    "x = jsondecode(\"1e99999999\")",
    "x = yamldecode(\"1e99999999\")",
    "x = tonumber(\"1e99999999\")",
    "x = 1e999 * 1e999",
];

#[test]
fn hostile_inputs_never_panic() {
    let mut evaluated = 0;
    for input in HOSTILE {
        evaluated += exercise(input);
    }
    // Most of these must fail cleanly; a few are valid and evaluate.
    assert!(evaluated > 0, "expected some inputs to evaluate");
}

#[test]
fn huge_numbers_are_refused_not_printed() {
    for input in
        ["x = 1e99999999", "x = jsondecode(\"1e99999999\")", "x = tonumber(\"1e99999999\")", "x = pow(10, 300) * pow(10, 300) * pow(10, 300) * pow(10, 300)"]
    {
        assert_eq!(exercise(input), 0, "{input} must be refused");
    }
    assert_eq!(exercise("x = pow(10, 300) * pow(10, 300) * pow(10, 300)"), 1, "a 901-digit number is still fine");
}

#[test]
fn deep_nesting_is_a_diagnostic() {
    let deep = format!("x = {}1{}", "(".repeat(100_000), ")".repeat(100_000));
    assert_eq!(exercise(&deep), 0);
}

/// Inputs the fuzzer found that made the parser backtrack exponentially (unclosed brackets
/// inside operator chains, brackets hidden after an unterminated string). They are now refused
/// by the check that runs before parsing.
#[test]
fn fuzzer_found_slow_inputs_are_refused_before_parsing() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        assert_eq!(exercise(&text), 0);
        let sources = infra_lang::source::SourceMap::new();
        let (_, body) = infra_lang::parse::parse_source(&sources, std::path::Path::new("f.tf"), &format!("x = {text}"));
        let summary = body.err().map(|d| d.summary).unwrap_or_default();
        assert!(summary.contains("bracket") || summary.contains("Unclosed") || summary.contains("Unterminated"), "{summary}");
        n += 1;
    }
    assert!(n >= 4);
}

/// Runs `f` on a thread with the stack the CLI gives its work (1 GiB reserved).
fn with_cli_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new().stack_size(1 << 30).spawn(f).unwrap().join().unwrap();
}

#[test]
fn long_operator_chains_and_unary_runs_do_not_overflow() {
    with_cli_stack(|| {
        for input in [
            format!("x = {}1", "1+".repeat(3000)),
            format!("x = {}true", "!".repeat(3000)),
            format!("x = {}1", "-".repeat(3000)),
            format!("x = {}1", "a.b ? 1 : ".repeat(1000)),
            format!("x = \"{}\"", "${1}".repeat(2000)),
            format!("x = a{}", ".b".repeat(3000)),
            format!("x = a{}", "[0]".repeat(2000)),
            format!("x = {}1", "1+".repeat(99_000)),
            format!("x = {}1", "true ? 1 : ".repeat(49_000)),
        ] {
            exercise(&input);
        }
        // Beyond the limits, the input is refused before parsing.
        assert_eq!(exercise(&format!("x = {}1", "1+".repeat(100_001))), 0);
        assert_eq!(exercise(&format!("x = {}true", "!".repeat(65))), 0);
    });
}
