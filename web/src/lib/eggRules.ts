/**
 * Laravel-style egg variable rules (`required|string|max:20`), checked in the browser the way the server's
 * src/nubes/compute/rules.py checks them, with the same messages. The server stays the judge: a rule this
 * module cannot evaluate (a PCRE feature JavaScript lacks) is left to it.
 */

const MAX_VALUE_LENGTH = 4096;
const INTEGER = /^[+-]?(?:0|[1-9][0-9]*)$/;
const NUMERIC = /^\s*[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DELIMITERS: Record<string, string> = { "/": "/", "#": "#", "~": "~", "!": "!", "@": "@", "%": "%", "+": "+", "{": "}", "(": ")", "[": "]" };

export interface Rule {
  name: string;
  args: string[];
  /** The rule as written in the egg (`max:20`). */
  text: string;
  pattern?: RegExp | null;
}

/** Split on `|`, except inside a `regex:` / `not_regex:` pattern. */
function split(text: string): string[] {
  const parts: string[] = [];
  let position = 0;
  while (position < text.length) {
    const rest = text.slice(position);
    if (rest.startsWith("regex:") || rest.startsWith("not_regex:")) {
      const start = position + rest.indexOf(":") + 1;
      const end = regexEnd(text, start);
      parts.push(text.slice(position, end));
      position = end + 1;
      continue;
    }
    let end = text.indexOf("|", position);
    if (end < 0) end = text.length;
    parts.push(text.slice(position, end));
    position = end + 1;
  }
  return parts.map((part) => part.trim()).filter((part) => part !== "");
}

function regexEnd(text: string, start: number): number {
  const opening = text[start];
  const closing = opening === undefined ? undefined : DELIMITERS[opening];
  if (closing === undefined) {
    const end = text.indexOf("|", start);
    return end < 0 ? text.length : end;
  }
  let index = start + 1;
  while (index < text.length) {
    const char = text[index];
    if (char === "\\") {
      index += 2;
      continue;
    }
    if (char === closing) {
      let flagsEnd = index + 1;
      while (flagsEnd < text.length && /[A-Za-z]/.test(text[flagsEnd] ?? "")) flagsEnd += 1;
      if (flagsEnd === text.length || text[flagsEnd] === "|") return flagsEnd;
    }
    index += 1;
  }
  return text.length;
}

/** A PHP `/pattern/flags` regex as a JavaScript RegExp, or null when JavaScript cannot express it. */
function phpRegex(source: string): RegExp | null {
  const opening = source[0];
  const closing = opening === undefined ? undefined : DELIMITERS[opening];
  if (closing === undefined) return null;
  const end = source.lastIndexOf(closing);
  if (end <= 0) return null;
  const flags = source.slice(end + 1);
  if (/[^imsuD]/.test(flags)) return null;
  try {
    return new RegExp(source.slice(1, end), flags.replace(/[uD]/g, ""));
  } catch {
    return null;
  }
}

/** Parse a rule string; unknown rules are kept (the server refused eggs with those at import). */
export function parseRules(rules: string): Rule[] {
  return split(rules).map((item) => {
    const colon = item.indexOf(":");
    const name = (colon < 0 ? item : item.slice(0, colon)).trim().toLowerCase();
    const argument = colon < 0 ? "" : item.slice(colon + 1);
    if (name === "regex" || name === "not_regex") return { name, args: [argument], text: `${name}:${argument}`, pattern: phpRegex(argument) };
    const args = argument === "" ? [] : argument.split(",").map((arg) => arg.replace(/^"|"$/g, ""));
    return { name, args, text: args.length > 0 ? `${name}:${args.join(",")}` : name };
  });
}

const isNumeric = (value: string): boolean => NUMERIC.test(value);
const isInteger = (value: string): boolean => INTEGER.test(value);
const isBoolean = (value: string): boolean => ["0", "1", "true", "false"].includes(value);

function isIp(value: string, version?: 4 | 6): boolean {
  const v4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/.test(value);
  const v6 = !v4 && value.includes(":") && /^[0-9a-fA-F:.]+$/.test(value);
  return version === 4 ? v4 : version === 6 ? v6 : v4 || v6;
}

function isUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return ["http:", "https:", "ftp:", "ftps:"].includes(url.protocol) && url.host !== "" && !value.includes(" ");
  } catch {
    return false;
  }
}

const TYPE_CHECKS: Record<string, [(value: string) => boolean, string]> = {
  integer: [isInteger, "must be an integer"],
  int: [isInteger, "must be an integer"],
  numeric: [isNumeric, "must be a number"],
  boolean: [isBoolean, "must be true or false (1 or 0)"],
  bool: [isBoolean, "must be true or false (1 or 0)"],
  alpha: [(v) => /^\p{L}+$/u.test(v), "may contain only letters"],
  alpha_num: [(v) => /^[\p{L}\p{N}]+$/u.test(v), "may contain only letters and digits"],
  alpha_dash: [(v) => /^[\p{L}\p{N}_-]+$/u.test(v), "may contain only letters, digits, - and _"],
  url: [isUrl, "must be a URL (http, https, ftp)"],
  ip: [(v) => isIp(v), "must be an IP address"],
  ipv4: [(v) => isIp(v, 4), "must be an IPv4 address"],
  ipv6: [(v) => isIp(v, 6), "must be an IPv6 address"],
  email: [(v) => EMAIL.test(v), "must be an email address"],
  lowercase: [(v) => v === v.toLowerCase(), "must be lower case"],
  uppercase: [(v) => v === v.toUpperCase(), "must be upper case"],
};

function fmt(number: string): string {
  const value = Number(number);
  return Number.isInteger(value) ? String(value) : String(value);
}

function checkOne(value: string, rule: Rule, numeric: boolean): string | null {
  const { name, args } = rule;
  const typeCheck = TYPE_CHECKS[name];
  if (typeCheck !== undefined) return typeCheck[0](value) ? null : typeCheck[1];
  const [first = "0", second = "0"] = args;
  if (["max", "min", "size", "between"].includes(name)) {
    if (numeric && !isNumeric(value)) return null;
    const size = numeric ? Number(value) : Array.from(value).length;
    const unit = numeric ? "" : " characters";
    if (name === "max" && size > Number(first)) return `must be at most ${fmt(first)}${unit}`;
    if (name === "min" && size < Number(first)) return `must be at least ${fmt(first)}${unit}`;
    if (name === "size" && size !== Number(first)) return `must be exactly ${fmt(first)}${unit}`;
    if (name === "between" && !(Number(first) <= size && size <= Number(second))) return `must be between ${fmt(first)} and ${fmt(second)}${unit}`;
    return null;
  }
  if (name === "digits" || name === "digits_between") {
    if (!/^[0-9]+$/.test(value)) return "must contain only digits";
    if (name === "digits" && value.length !== Math.trunc(Number(first))) return `must be ${fmt(first)} digits`;
    if (name === "digits_between" && !(Number(first) <= value.length && value.length <= Number(second))) return `must have between ${fmt(first)} and ${fmt(second)} digits`;
    return null;
  }
  if (name === "in") return args.includes(value) ? null : `must be one of: ${args.join(", ")}`;
  if (name === "not_in") return args.includes(value) ? `must not be one of: ${args.join(", ")}` : null;
  if (name === "starts_with") return args.some((arg) => value.startsWith(arg)) ? null : `must start with one of: ${args.join(", ")}`;
  if (name === "ends_with") return args.some((arg) => value.endsWith(arg)) ? null : `must end with one of: ${args.join(", ")}`;
  if ((name === "regex" || name === "not_regex") && rule.pattern) {
    const found = rule.pattern.test(value);
    if (name === "regex" && !found) return `does not match the pattern ${first}`;
    if (name === "not_regex" && found) return `must not match the pattern ${first}`;
  }
  return null;
}

/** The first rule `value` breaks, as the server words it (`must be at most 20 characters (rule max:20)`), or null. */
export function checkValue(value: string, rules: Rule[]): string | null {
  const names = new Set(rules.map((rule) => rule.name));
  if (value === "") {
    const required = rules.find((rule) => rule.name === "required" || rule.name === "filled");
    return required ? `is required (rule ${required.text})` : null;
  }
  if (value.length > MAX_VALUE_LENGTH) return `must be at most ${MAX_VALUE_LENGTH} characters (rule max)`;
  const numeric = names.has("numeric") || names.has("integer") || names.has("int");
  for (const rule of rules) {
    const message = checkOne(value, rule, numeric);
    if (message !== null) return `${message} (rule ${rule.text})`;
  }
  return null;
}

/** How to render the variable's input: a checkbox for booleans, a select for `in:`, a number box for integers. */
export type InputKind = { kind: "boolean" } | { kind: "choice"; options: string[] } | { kind: "number"; min?: number; max?: number } | { kind: "text"; maxLength?: number };

export function inputKind(rules: Rule[]): InputKind {
  const byName = new Map(rules.map((rule) => [rule.name, rule]));
  if (byName.has("boolean") || byName.has("bool")) return { kind: "boolean" };
  const choice = byName.get("in");
  if (choice) return { kind: "choice", options: choice.args };
  if (byName.has("integer") || byName.has("int") || byName.has("numeric")) {
    const between = byName.get("between");
    const min = between?.args[0] ?? byName.get("min")?.args[0];
    const max = between?.args[1] ?? byName.get("max")?.args[0];
    return { kind: "number", ...(min !== undefined ? { min: Number(min) } : {}), ...(max !== undefined ? { max: Number(max) } : {}) };
  }
  const max = byName.get("max")?.args[0];
  return { kind: "text", ...(max !== undefined ? { maxLength: Number(max) } : {}) };
}
