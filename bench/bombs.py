#!/usr/bin/env python3
"""Prints a GraphQL request body whose list value nests 300 levels deep: the
shape that overflowed async-graphql's parser stack (issue 16). `.ci/run`
sends each kind to the debug (`cargo run`) and the release server and
expects 400 QUERY_TOO_COMPLEX, not a crash.

  python3 bench/bombs.py argument   # { patients(first: [[[…1…]]]) { totalCount } }
  python3 bench/bombs.py include    # { __typename @include(if: [[[…true…]]]) }
  python3 bench/bombs.py default    # query($n: Int = [[[…1…]]]) { __typename }
"""

import json
import sys

LEVELS = 300


def nested(leaf: str) -> str:
    return "[" * LEVELS + leaf + "]" * LEVELS


QUERIES = {
    "argument": "{ patients(first: %s) { totalCount } }" % nested("1"),
    "include": "{ __typename @include(if: %s) }" % nested("true"),
    "default": "query($n: Int = %s) { __typename }" % nested("1"),
}

if __name__ == "__main__":
    kind = sys.argv[1] if len(sys.argv) > 1 else "argument"
    print(json.dumps({"query": QUERIES[kind]}))
