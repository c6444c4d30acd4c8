//! Measuring a query text before it is parsed: its lexical tokens, how
//! deeply its fields nest and how deeply its values nest, so a document of a
//! million tiny tokens, a deeply nested bomb or a list nested hundreds of
//! levels deep (which would overflow the parser's stack, whatever the token
//! limit) is refused for the price of one scan.

/// The deepest nesting of list and input-object values (and list types)
/// any operation may write: far beyond what the schema's inputs need (at
/// most 3), and far below what the recursive parser can hold on a
/// thread's stack.
pub const MAX_VALUE_DEPTH: usize = 32;

/// The deepest nesting of braces and brackets of any kind together
/// (selection sets, inline fragments, values): inline fragments add no
/// field depth, so without this `{ ...{ ...{ …` could nest hundreds of
/// levels within the token limit and exhaust the parser's stack.
pub const MAX_NESTING: usize = 64;

/// What one scan of a query text found.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueryScan {
    /// Tokens, counted up to one past the limit.
    pub tokens: usize,
    /// The deepest nesting of fields written in the text: selection sets,
    /// not inline fragments or input objects. Named fragments are not
    /// expanded, so the depth async-graphql validates is at least this.
    pub depth: usize,
    /// The deepest nesting of values written in the text: lists and input
    /// objects in arguments, directive arguments and variable defaults, and
    /// list types in variable definitions.
    pub value_depth: usize,
    /// The deepest nesting of `{` and `[` of any kind together.
    pub nesting: usize,
}

/// Counts GraphQL tokens (names, numbers, strings, punctuators) in `query`,
/// stopping as soon as the count passes `limit`. Whitespace, commas and
/// comments are not tokens. Text the lexer would reject counts one token
/// per byte: the parser refuses it later anyway.
pub fn count_tokens(query: &str, limit: usize) -> usize {
    scan_query(query, limit).tokens
}

/// Scans `query` once for its tokens (see [`count_tokens`]) and the depth
/// of its fields, stopping as soon as the token count passes `limit`.
pub fn scan_query(query: &str, limit: usize) -> QueryScan {
    let bytes = query.as_bytes();
    let mut index = 0;
    let mut scan = QueryScan::default();
    // One entry per open selection set: whether it is a level of fields
    // (an inline fragment's is not).
    let mut open_sets: Vec<bool> = Vec::new();
    let mut field_levels = 0usize;
    let mut parentheses = 0usize;
    let mut open_values = 0usize;
    let mut open_brackets = 0usize;
    let mut after_spread = false;
    let mut inline_fragment = false;
    while index < bytes.len() && scan.tokens <= limit {
        let byte = bytes[index];
        let start = index;
        index = match byte {
            b' ' | b'\t' | b'\n' | b'\r' | b',' => {
                index += 1;
                continue;
            }
            b'#' => {
                index = skip_comment(bytes, index);
                continue;
            }
            0xEF if bytes[index..].starts_with("\u{feff}".as_bytes()) => {
                index += 3;
                continue;
            }
            b'"' if bytes[index..].starts_with(b"\"\"\"") => skip_block_string(bytes, index),
            b'"' => skip_string(bytes, index),
            b'.' if bytes[index..].starts_with(b"...") => index + 3,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => {
                skip_while(bytes, index, |b| b == b'_' || b.is_ascii_alphanumeric())
            }
            b'-' | b'0'..=b'9' => skip_while(bytes, index + 1, |b| {
                b.is_ascii_alphanumeric() || b == b'.' || b == b'+' || b == b'-'
            }),
            _ => index + 1,
        };
        scan.tokens += 1;
        let token = &bytes[start..index];
        if after_spread {
            // `... on T {`, `... @dir {` and `... {` are inline fragments;
            // `...Name` is a named spread.
            inline_fragment = matches!(token, b"on" | b"@" | b"{");
            after_spread = false;
        }
        match token {
            b"{" | b"[" => {
                open_brackets += 1;
                scan.nesting = scan.nesting.max(open_brackets);
            }
            b"}" | b"]" => open_brackets = open_brackets.saturating_sub(1),
            _ => {}
        }
        match token {
            b"..." => after_spread = true,
            b"(" => parentheses += 1,
            b")" => parentheses = parentheses.saturating_sub(1),
            b"[" | b"{" if parentheses > 0 => {
                open_values += 1;
                scan.value_depth = scan.value_depth.max(open_values);
            }
            b"]" | b"}" if parentheses > 0 => open_values = open_values.saturating_sub(1),
            b"{" if parentheses == 0 => {
                let fields = !inline_fragment;
                inline_fragment = false;
                open_sets.push(fields);
                if fields {
                    field_levels += 1;
                    scan.depth = scan.depth.max(field_levels);
                }
            }
            b"}" if parentheses == 0 => {
                field_levels -= usize::from(open_sets.pop() == Some(true));
            }
            _ => {}
        }
    }
    scan
}

fn skip_while(bytes: &[u8], from: usize, keep: impl Fn(u8) -> bool) -> usize {
    bytes[from..]
        .iter()
        .position(|&b| !keep(b))
        .map_or(bytes.len(), |offset| from + offset)
}

fn skip_comment(bytes: &[u8], from: usize) -> usize {
    skip_while(bytes, from, |b| b != b'\n' && b != b'\r')
}

/// Past the closing quote of `"…"`, honouring `\"`; a string cut by a line
/// end or the end of the text ends there (the parser reports it).
fn skip_string(bytes: &[u8], from: usize) -> usize {
    let mut index = from + 1;
    while index < bytes.len() {
        match bytes[index] {
            b'\\' => index += 2,
            b'"' => return index + 1,
            b'\n' | b'\r' => return index,
            _ => index += 1,
        }
    }
    bytes.len()
}

/// Past the closing `"""` of a block string, honouring `\"""`.
fn skip_block_string(bytes: &[u8], from: usize) -> usize {
    let mut index = from + 3;
    while index < bytes.len() {
        if bytes[index..].starts_with(b"\\\"\"\"") {
            index += 4;
        } else if bytes[index..].starts_with(b"\"\"\"") {
            return index + 3;
        } else {
            index += 1;
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    const NO_LIMIT: usize = usize::MAX - 1;

    #[test]
    fn counts_names_and_punctuators() {
        // {  me  {  id  }  }
        assert_eq!(count_tokens("{ me { id } }", NO_LIMIT), 6);
    }

    #[test]
    fn whitespace_commas_and_comments_are_not_tokens() {
        assert_eq!(count_tokens("{ a, b,,, c } # d e f g\n", NO_LIMIT), 5);
        assert_eq!(count_tokens("\u{feff}{ a }", NO_LIMIT), 3);
    }

    #[test]
    fn a_string_is_one_token_whatever_it_holds() {
        let query = r#"{ f(a: "x y { } \" z", b: """ block " "" { } \""" still """) }"#;
        // {  f  (  a  :  "…"  b  :  """…"""  )  }
        assert_eq!(count_tokens(query, NO_LIMIT), 11);
    }

    #[test]
    fn numbers_variables_and_spreads() {
        // query  (  $  n  :  Int  =  -12.5e3  )  {  ...  F  }
        assert_eq!(
            count_tokens("query($n: Int = -12.5e3) { ...F }", NO_LIMIT),
            13
        );
    }

    #[test]
    fn stops_counting_past_the_limit() {
        let huge = "{ a ".repeat(1_000_000);
        assert_eq!(count_tokens(&huge, 10), 11);
    }

    fn depth(query: &str) -> usize {
        scan_query(query, NO_LIMIT).depth
    }

    #[test]
    fn depth_counts_nested_selection_sets() {
        assert_eq!(depth("{ me }"), 1);
        assert_eq!(depth("{ clinicPolicy { depthGuidelines { area } } }"), 3);
        assert_eq!(depth("query Q($n: Int) { a { b } c { d { e { f } } } }"), 4);
    }

    #[test]
    fn inline_fragments_and_input_objects_add_no_depth() {
        assert_eq!(
            depth("{ me { ... on User { id } ... @include(if: true) { id } ... { id } } }"),
            2
        );
        assert_eq!(
            depth(r#"{ patients(filter: { search: "{ { {" }) { edges { node { id } } } }"#),
            4
        );
        assert_eq!(depth("query($f: F = { a: { b: 1 } }) { a }"), 1);
        assert_eq!(depth("{ ...F } fragment F on Query { a { b } }"), 2);
    }

    #[test]
    fn a_bomb_is_measured_without_parsing() {
        let bomb = format!("{}{}", "{ a ".repeat(200), "}".repeat(200));
        assert_eq!(depth(&bomb), 200);
    }

    fn value_depth(query: &str) -> usize {
        scan_query(query, NO_LIMIT).value_depth
    }

    #[test]
    fn value_depth_counts_lists_and_input_objects_in_arguments() {
        assert_eq!(value_depth("{ me { id } }"), 0);
        assert_eq!(value_depth("{ patients(first: 5) { totalCount } }"), 0);
        assert_eq!(value_depth("{ a(f: { b: [1, 2], c: { d: [[3]] } }) }"), 4);
        assert_eq!(value_depth("{ a(x: [1]) b(y: [[2]]) }"), 2);
        let deep = format!(
            "{{ patients(first: {}1{}) {{ totalCount }} }}",
            "[".repeat(300),
            "]".repeat(300)
        );
        assert_eq!(value_depth(&deep), 300);
    }

    #[test]
    fn value_depth_covers_directives_and_variable_definitions() {
        assert_eq!(value_depth("{ __typename @include(if: [[[true]]]) }"), 3);
        assert_eq!(value_depth("query($v: [[Int]] = [[[[1]]]]) { a }"), 4);
        assert_eq!(value_depth(r#"{ a(s: "[[[[") }"#), 0);
    }

    #[test]
    fn nesting_counts_inline_fragments_selections_and_values_together() {
        assert_eq!(scan_query("{ me { id } }", NO_LIMIT).nesting, 2);
        let fragments = format!("{{ {}", "...{ ".repeat(400));
        let scan = scan_query(&fragments, NO_LIMIT);
        assert_eq!(scan.depth, 1, "inline fragments add no field depth");
        assert_eq!(scan.nesting, 401);
        assert_eq!(
            scan_query("{ a(x: [{ b: [1] }]) { c } }", NO_LIMIT).nesting,
            4
        );
    }

    #[test]
    fn unterminated_strings_do_not_run_away() {
        assert_eq!(count_tokens("{ f(a: \"open\n) }", NO_LIMIT), 8);
        assert_eq!(count_tokens("\"\"\"never closed", NO_LIMIT), 1);
    }
}
