import assert from "node:assert/strict";
import { compileFilter } from "./filter.ts";
import type { Filter } from "./engine_types.ts";

const doc = {
  lang: "en",
  year: 2021,
  draft: false,
  tags: ["a", "b"],
  scores: [1, 5],
  meta: { author: { name: "ada" }, level: 3 },
  "dotted.key": "flat",
};

Deno.test("filter: match, any, range, must_not, arrays and dotted keys", () => {
  const cases: [Filter, boolean][] = [
    [{ must: [{ key: "lang", match: "en" }] }, true],
    [{ must: [{ key: "lang", match: "de" }] }, false],
    [{ must: [{ key: "draft", match: false }] }, true],
    [{ must: [{ key: "year", match: 2021 }] }, true],
    [{ must: [{ key: "year", match: "2021" }] }, false],
    [{ must: [{ key: "lang", match: { any: ["de", "en"] } }] }, true],
    [{ must: [{ key: "lang", match: { any: [] } }] }, false],
    [{ must: [{ key: "year", range: { gte: 2021, lt: 2022 } }] }, true],
    [{ must: [{ key: "year", range: { gt: 2021 } }] }, false],
    [{ must: [{ key: "lang", range: { gt: 0 } }] }, false],
    [{ must: [{ key: "tags", match: "b" }] }, true],
    [{ must: [{ key: "scores", range: { gt: 4 } }] }, true],
    [{ must: [{ key: "meta.author.name", match: "ada" }] }, true],
    [{ must: [{ key: "meta.level", range: { lte: 3 } }] }, true],
    [{ must: [{ key: "dotted.key", match: "flat" }] }, true],
    [{ must: [{ key: "missing", match: 1 }] }, false],
    [{ mustNot: [{ key: "missing", match: 1 }] }, true],
    [{ mustNot: [{ key: "lang", match: "en" }] }, false],
    [{ must: [{ key: "lang", match: "en" }], mustNot: [{ key: "tags", match: "z" }] }, true],
  ];
  for (const [filter, expected] of cases) {
    const passes = compileFilter(filter);
    assert.ok(passes, JSON.stringify(filter));
    assert.equal(passes(doc), expected, JSON.stringify(filter));
    assert.equal(passes(undefined), filter.must === undefined, "no metadata passes only must_not");
  }
  const alias = compileFilter({ must_not: [{ key: "lang", match: "en" }] } as Filter);
  assert.equal(alias?.(doc), false);
  assert.equal(compileFilter({}), undefined);
  assert.equal(compileFilter(undefined), undefined);
});

Deno.test("filter: malformed filters are rejected with clear messages", () => {
  const cases: [unknown, RegExp][] = [
    [[], /expected an object/],
    [{ should: [] }, /unknown field "should"/],
    [{ must: {} }, /must must be an array/],
    [{ must: [{ key: "a", near: 1 }] }, /must\[0\]: unknown operator "near"/],
    [{ must: [{ key: "a" }] }, /exactly one of match or range/],
    [{ must: [{ key: "a", match: 1, range: { gt: 1 } }] }, /exactly one of match or range/],
    [{ must: [{ key: "", match: 1 }] }, /key must be a non-empty string/],
    [{ must: [{ key: "a", match: null }] }, /expected a string, number, boolean or \{any\}/],
    [{ must: [{ key: "a", match: { all: [1] } }] }, /unknown operator "all", expected any/],
    [{ must: [{ key: "a", match: { any: [{}] } }] }, /values must be strings/],
    [{ must: [{ key: "a", range: { gt: "1" } }] }, /range.gt: expected a finite number/],
    [{ must: [{ key: "a", range: { between: 1 } }] }, /unknown operator "between"/],
    [{ mustNot: [{ key: "a", range: {} }] }, /at least one of gt/],
  ];
  for (const [filter, message] of cases) {
    assert.throws(() => compileFilter(filter as Filter), TypeError);
    assert.throws(() => compileFilter(filter as Filter), message);
  }
  const many = { must: Array.from({ length: 65 }, () => ({ key: "a", match: 1 })) };
  assert.throws(() => compileFilter(many), RangeError);
});
