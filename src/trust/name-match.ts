/**
 * The SPEC §1 DN pattern: an RFC 4514 distinguished name whose values may hold `*` (any run of
 * characters, including none) and `?` (exactly one character), matched against a whole subject DN.
 *
 * Decisions (SPEC §1 leaves them open):
 * - Matching is structural, never on rendered text: each pattern RDN matches the subject RDN at the
 *   same place (multi-valued RDNs in any order), and a `*` or `?` inside a value stays inside that
 *   value. So `cn=*,o=Acme,c=SE` cannot match `CN=x,O=Evil\,o=Acme,C=SE` (an escaped comma is never a
 *   separator), and `cn=CA*` does not match `CN=CA,O=Acme`.
 * - A whole RDN written as a bare `*` matches any run of whole RDNs, none included: `cn=Alice,*`
 *   matches Alice under any organisation, `*,o=Acme,c=SE` anything under Acme, and `*` alone any DN.
 *   This is how a pattern spans RDNs, and it is the only way.
 * - Attribute types are case-insensitive and may be short names, long names or dotted OIDs.
 * - Values compare as RFC 4517 caseIgnoreMatch (see name-compare.ts): case, Unicode compatibility
 *   forms and insignificant whitespace are ignored, whatever string type the certificate used.
 *   `?` matches one character of the prepared value (so one space stands for any whitespace run).
 * - Whitespace around `,` `+` `=` in a pattern is ignored (parse-distinguished-name.ts).
 * - `\*` and `\?` (or `\2a`, `\3f`) are a literal asterisk and question mark.
 * - A `#`-hex value matches the DER of the subject's value exactly; no wildcards there.
 */
import { ConfigError } from "../errors.ts";
import type { NameAttribute, NameRdn } from "./distinguished-name.ts";
import { decodeName } from "./distinguished-name.ts";
import { prepareValue } from "./name-compare.ts";
import type { ParsedAttribute, ParsedRdn } from "./parse-distinguished-name.ts";
import { ANY_RDNS, DistinguishedNameSyntaxError, parseDnPattern } from "./parse-distinguished-name.ts";

/** Tests subject names against a list of DN patterns. */
export interface NameMatcher {
  /** True when the subject Name DER matches at least one pattern; false for a malformed Name. */
  matches(subjectDer: Buffer): boolean;
}

/** Subjects whose answer a matcher keeps. */
const REMEMBERED_SUBJECTS = 1024;

const ANY_RUN: unique symbol = Symbol("*");
const ANY_ONE: unique symbol = Symbol("?");
/** A prepared value pattern: literal code points and wildcards. */
type GlobToken = string | typeof ANY_RUN | typeof ANY_ONE;

type AttributePattern =
  | { readonly type: string; readonly kind: "glob"; readonly tokens: readonly GlobToken[] }
  | { readonly type: string; readonly kind: "der"; readonly der: Buffer };

/** One compiled pattern: RDNs (or ANY_RDNS) in DER order (most general first), like decodeName's output. */
type NamePattern = readonly (readonly AttributePattern[] | typeof ANY_RDNS)[];

/**
 * A matcher for `patterns`, compiled once. Throws ConfigError naming `${field}[i]` for a pattern
 * that is not an RFC 4514 string (or is empty), and `field` when `patterns` is not a list of strings.
 */
export function nameMatcher(patterns: readonly string[], field: string): NameMatcher {
  if (!Array.isArray(patterns)) throw new ConfigError(field, "must be a list of DN patterns");
  const compiled = patterns.map((pattern, index) => compilePattern(pattern, `${field}[${index}]`));
  // byname authorization asks about the same few requestors on every request; decoding and
  // preparing (NFKC, case folding) their names again each time is the matcher's whole cost. The
  // answer depends only on the subject's bytes, so it is remembered by them (bounded, oldest first).
  const answers = new Map<string, boolean>();
  return {
    matches(subjectDer: Buffer): boolean {
      const key = subjectDer.toString("latin1");
      const known = answers.get(key);
      if (known !== undefined) return known;
      let subject: readonly NameRdn[] | undefined;
      try {
        subject = decodeName(subjectDer);
      } catch {
        subject = undefined;
      }
      const answer = subject !== undefined && compiled.some((pattern) => matchesName(pattern, subject));
      answers.set(key, answer);
      if (answers.size > REMEMBERED_SUBJECTS) answers.delete(answers.keys().next().value!);
      return answer;
    },
  };
}

function compilePattern(pattern: unknown, field: string): NamePattern {
  if (typeof pattern !== "string") throw new ConfigError(field, "must be a DN pattern string");
  let rdns: readonly (ParsedRdn | typeof ANY_RDNS)[];
  try {
    rdns = parseDnPattern(pattern);
  } catch (error) {
    if (error instanceof DistinguishedNameSyntaxError) throw new ConfigError(field, `not an RFC 4514 DN pattern: ${error.message}`, { cause: error });
    throw error;
  }
  if (rdns.length === 0) throw new ConfigError(field, "must not be empty");
  return rdns.toReversed().map((rdn) => (rdn === ANY_RDNS ? ANY_RDNS : rdn.map(compileAttribute)));
}

function compileAttribute(attribute: ParsedAttribute): AttributePattern {
  const { type, value } = attribute;
  if (value.kind === "der") return { type, kind: "der", der: value.der };
  // Split at unescaped wildcards; prepare each literal run as the subject's value is prepared.
  const chars = Array.from(value.text);
  const tokens: GlobToken[] = [];
  let literal = "";
  const flush = (atEnd: boolean): void => {
    let prepared = literal.normalize("NFKC").toUpperCase().toLowerCase().replace(/\s+/gu, " ");
    if (tokens.length === 0) prepared = prepared.trimStart();
    if (atEnd) prepared = prepared.trimEnd();
    tokens.push(...Array.from(prepared));
    literal = "";
  };
  chars.forEach((char, index) => {
    const wildcard = value.escaped[index] !== true && (char === "*" || char === "?");
    if (!wildcard) {
      literal += char;
      return;
    }
    flush(false);
    tokens.push(char === "*" ? ANY_RUN : ANY_ONE);
  });
  flush(true);
  return { type, kind: "glob", tokens };
}

/**
 * Whether the pattern matches the whole subject: dynamic programming over (pattern RDNs, subject
 * RDNs), so several ANY_RDNS never cost more than pattern length × subject length RDN comparisons.
 */
function matchesName(pattern: NamePattern, subject: readonly NameRdn[]): boolean {
  // reachable[j]: the pattern's first i items can match the subject's first j RDNs.
  let reachable = subject.map(() => false).concat(false);
  reachable[0] = true;
  for (const item of pattern) {
    const next = reachable.map(() => false);
    for (let j = 0; j <= subject.length; j++) {
      if (item === ANY_RDNS) {
        next[j] = reachable[j] === true || (j > 0 && next[j - 1] === true);
      } else {
        next[j] = j > 0 && reachable[j - 1] === true && matchesRdn(item, subject[j - 1] ?? []);
      }
    }
    reachable = next;
  }
  return reachable[subject.length] === true;
}

/** A one-to-one assignment of pattern attributes to subject attributes (backtracking; RDNs are tiny). */
function matchesRdn(pattern: readonly AttributePattern[], subject: NameRdn): boolean {
  if (pattern.length !== subject.length) return false;
  const used = new Array<boolean>(subject.length).fill(false);
  const assign = (index: number): boolean => {
    const attribute = pattern[index];
    if (attribute === undefined) return true;
    for (let j = 0; j < subject.length; j++) {
      const candidate = subject[j];
      if (used[j] === true || candidate === undefined || !matchesAttribute(attribute, candidate)) continue;
      used[j] = true;
      if (assign(index + 1)) return true;
      used[j] = false;
    }
    return false;
  };
  return assign(0);
}

function matchesAttribute(pattern: AttributePattern, attribute: NameAttribute): boolean {
  if (pattern.type !== attribute.type) return false;
  if (pattern.kind === "der") return pattern.der.equals(attribute.valueDer);
  return attribute.text !== undefined && glob(pattern.tokens, Array.from(prepareValue(attribute.text)));
}

/** Wildcard matching with single-star backtracking: linear in practice, O(n·m) at worst. */
function glob(pattern: readonly GlobToken[], text: readonly string[]): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let starText = 0;
  while (t < text.length) {
    const token = pattern[p];
    if (token !== undefined && (token === ANY_ONE || token === text[t])) {
      p++;
      t++;
    } else if (token === ANY_RUN) {
      star = p++;
      starText = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++starText;
    } else {
      return false;
    }
  }
  while (pattern[p] === ANY_RUN) p++;
  return p === pattern.length;
}
