/**
 * RFC 4514 strings parsed back into structure, for configured names (the name match table). The
 * grammar is RFC 4514 §3 with two leniencies operators expect from config files: whitespace around
 * `,` `+` `=` and at either end is ignored (RFC 4514 escapes significant leading and trailing spaces,
 * so nothing is lost), and `\*` `\?` `\=` escape those characters (for patterns). The RFC 2253
 * separator `;` and unescaped `"` `<` `>` are refused rather than guessed at. DN patterns may also
 * write a whole RDN as a bare `*` (parseDnPattern).
 */
import { encodeOid } from "../ocsp/der-oid.ts";
import { DerReader } from "../ocsp/der-reader.ts";
import { attributeOidOfName } from "./attribute-types.ts";

/** A parsed attribute value: text (with which characters were escaped), or DER from `#`-hex. */
export type ParsedValue =
  | {
      readonly kind: "text";
      readonly text: string;
      /** Per code point of `text`: whether it was written escaped (an escaped `*` is no wildcard). */
      readonly escaped: readonly boolean[];
    }
  | { readonly kind: "der"; readonly der: Buffer };

/** One parsed `type=value`. */
export interface ParsedAttribute {
  /** Dotted decimal, whatever name the string used. */
  readonly type: string;
  readonly value: ParsedValue;
}

/** A string that is not an RFC 4514 distinguished name; `position` is the offending offset. */
export class DistinguishedNameSyntaxError extends Error {
  override readonly name = "DistinguishedNameSyntaxError";
  readonly position: number;
  constructor(message: string, position: number) {
    super(`${message} at offset ${position}`);
    this.position = position;
  }
}

/** Characters `\` may escape literally (RFC 4514 `special` and `\`, plus `=`, `*`, `?`). */
const ESCAPABLE = new Set(['"', "+", ",", ";", "<", ">", "\\", " ", "#", "=", "*", "?"]);
/** Characters that must not appear unescaped in a value (RFC 4514 §3, minus our separators). */
const FORBIDDEN = new Set(['"', ";", "<", ">", "\0"]);
const HEX = /^[0-9a-fA-F]$/;
const WHITESPACE = /^\s$/;

/** One parsed RDN: its attributes (several for a multi-valued RDN). */
export type ParsedRdn = readonly ParsedAttribute[];

/** In a DN pattern, an RDN written as a bare `*`: any run of whole RDNs, none included. */
export const ANY_RDNS = "*";

/**
 * The RDNs of an RFC 4514 string in string order (most specific first, as written); `""` is the
 * empty DN. Attribute names are case-insensitive. Throws DistinguishedNameSyntaxError.
 */
export function parseDistinguishedName(text: string): readonly ParsedRdn[] {
  return new Parser(text, false).name() as ParsedRdn[];
}

/**
 * A DN pattern (SPEC §1): an RFC 4514 string in which an RDN may also be a bare `*` (ANY_RDNS),
 * e.g. `cn=Alice,*`. Wildcards inside values are left to the matcher (see `escaped`).
 * Throws DistinguishedNameSyntaxError.
 */
export function parseDnPattern(text: string): readonly (ParsedRdn | typeof ANY_RDNS)[] {
  return new Parser(text, true).name();
}

class Parser {
  private pos = 0;
  private readonly text: string;
  private readonly rdnWildcards: boolean;

  constructor(text: string, rdnWildcards: boolean) {
    this.text = text;
    this.rdnWildcards = rdnWildcards;
  }

  name(): (ParsedAttribute[] | typeof ANY_RDNS)[] {
    this.skipWhitespace();
    if (this.atEnd()) return [];
    const rdns: (ParsedAttribute[] | typeof ANY_RDNS)[] = [];
    for (;;) {
      if (this.rdnWildcards && this.atRdnWildcard()) {
        rdns.push(ANY_RDNS);
      } else {
        const rdn: ParsedAttribute[] = [this.attribute()];
        while (this.peek() === "+") {
          this.pos++;
          rdn.push(this.attribute());
        }
        rdns.push(rdn);
      }
      if (this.atEnd()) return rdns;
      if (this.peek() !== ",") this.fail(`expected ',' or '+', found ${JSON.stringify(this.peek())}`);
      this.pos++;
    }
  }

  /** A bare `*` standing for a whole RDN (followed by `,` or the end); consumes it. */
  private atRdnWildcard(): boolean {
    const match = /^\s*\*\s*(?=,|$)/.exec(this.text.slice(this.pos));
    if (match === null) return false;
    this.pos += match[0].length;
    return true;
  }

  private attribute(): ParsedAttribute {
    this.skipWhitespace();
    const type = this.attributeType();
    this.skipWhitespace();
    if (this.peek() !== "=") this.fail("expected '=' after the attribute type");
    this.pos++;
    this.skipWhitespace();
    const value = this.peek() === "#" ? this.hexValue() : this.textValue();
    this.skipWhitespace();
    return { type, value };
  }

  private attributeType(): string {
    const start = this.pos;
    const match = /^(?:[A-Za-z][A-Za-z0-9-]*|[0-9][0-9.]*)/.exec(this.text.slice(start));
    if (match === null) this.fail("expected an attribute type");
    const word = match[0];
    this.pos += word.length;
    if (/^[0-9]/.test(word)) {
      try {
        encodeOid(word);
      } catch {
        this.fail(`${JSON.stringify(word)} is not an OBJECT IDENTIFIER`, start);
      }
      return word;
    }
    const oid = attributeOidOfName(word);
    if (oid === undefined) this.fail(`unknown attribute type ${JSON.stringify(word)} (use its dotted OID)`, start);
    return oid;
  }

  /** `#` followed by the hex of one whole DER AttributeValue (RFC 4514 §2.4). */
  private hexValue(): ParsedValue {
    const start = this.pos;
    this.pos++;
    let digits = "";
    while (!this.atEnd() && HEX.test(this.peek())) digits += this.text[this.pos++];
    if (digits.length === 0 || digits.length % 2 !== 0) this.fail("#-value needs an even, non-zero number of hex digits", start);
    const der = Buffer.from(digits, "hex");
    try {
      const reader = DerReader.of(der, "AttributeValue");
      reader.checkDeep(reader.next(), "AttributeValue");
      reader.finish();
    } catch {
      this.fail("#-value is not one DER element", start);
    }
    return { kind: "der", der };
  }

  private textValue(): ParsedValue {
    const chars: string[] = [];
    const escaped: boolean[] = [];
    let lastSignificant = 0;
    while (!this.atEnd() && this.peek() !== "," && this.peek() !== "+") {
      const char = this.peek();
      if (char === "\\") {
        for (const decoded of this.escape()) {
          chars.push(decoded);
          escaped.push(true);
        }
        lastSignificant = chars.length;
        continue;
      }
      if (FORBIDDEN.has(char)) this.fail(`${JSON.stringify(char)} must be escaped in a value`);
      const codePoint = String.fromCodePoint(this.text.codePointAt(this.pos) ?? 0);
      this.pos += codePoint.length;
      chars.push(codePoint);
      escaped.push(false);
      if (!WHITESPACE.test(codePoint)) lastSignificant = chars.length;
    }
    // Unescaped trailing whitespace belongs to the separator, not the value.
    chars.length = lastSignificant;
    escaped.length = lastSignificant;
    return { kind: "text", text: chars.join(""), escaped };
  }

  /** One `\c` or a run of `\XX` hex pairs (UTF-8 octets); returns the code points written. */
  private escape(): string[] {
    const start = this.pos;
    const next = this.text[this.pos + 1] ?? "";
    const after = this.text[this.pos + 2] ?? "";
    if (!(HEX.test(next) && HEX.test(after))) {
      if (!ESCAPABLE.has(next)) this.fail(`cannot escape ${JSON.stringify(next)}`);
      this.pos += 2;
      return [next];
    }
    const octets: number[] = [];
    while (this.peek() === "\\" && HEX.test(this.text[this.pos + 1] ?? "") && HEX.test(this.text[this.pos + 2] ?? "")) {
      octets.push(Number.parseInt(this.text.slice(this.pos + 1, this.pos + 3), 16));
      this.pos += 3;
    }
    const bytes = Buffer.from(octets);
    let decoded: string;
    try {
      decoded = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
      this.fail("hex escapes are not UTF-8", start);
    }
    return Array.from(decoded);
  }

  private skipWhitespace(): void {
    while (!this.atEnd() && WHITESPACE.test(this.peek())) this.pos++;
  }

  private peek(): string {
    return this.text[this.pos] ?? "";
  }

  private atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  private fail(message: string, at: number = this.pos): never {
    throw new DistinguishedNameSyntaxError(message, at);
  }
}
