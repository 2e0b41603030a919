// The placeholders of a persona's instructions, read the way the server's PromptTemplate reads them
// (src/Cadre.Core/Personas/PromptTemplate.cs): `{{ params.name }}` or a path into a json parameter,
// `\{{` for literal braces. The editor uses it to mark placeholders as you type; the API stays the judge.

/** A piece of the instructions; the `source`s of all the pieces, in order, are exactly the text as written. */
export type Segment =
  | { kind: "text"; text: string; source: string }
  | { kind: "placeholder"; source: string; path: string[] }
  | { kind: "invalid"; source: string; message: string };

const parameterPath = /^params\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function parseTemplate(text: string): Segment[] {
  const segments: Segment[] = [];
  let literal = "";
  let i = 0;
  let start = 0; // where the literal text began in `text`
  const flush = () => { if (literal) { segments.push({ kind: "text", text: literal, source: text.slice(start, i) }); literal = ""; } };
  while (i < text.length) {
    if (!literal) start = i;
    if (text[i] === "\\" && text.startsWith("{{", i + 1)) {
      literal += "{{";
      i += 3;
      continue;
    }
    if (!text.startsWith("{{", i)) {
      literal += text[i++];
      continue;
    }
    const close = text.indexOf("}}", i + 2);
    flush();
    if (close < 0) {
      segments.push({ kind: "invalid", source: text.slice(i), message: "Never closed with }}." });
      break;
    }
    const source = text.slice(i, close + 2);
    const expression = text.slice(i + 2, close).trim();
    if (parameterPath.test(expression)) segments.push({ kind: "placeholder", source, path: expression.slice("params.".length).split(".") });
    else segments.push({ kind: "invalid", source, message: "Not a placeholder Cadre knows; use {{ params.<name> }}." });
    i = close + 2;
  }
  flush();
  return segments;
}

/** Each parameter name the instructions use, once, in order of first use. */
export function usedParameters(segments: Segment[]): string[] {
  return [...new Set(segments.flatMap((s) => (s.kind === "placeholder" && s.path[0] ? [s.path[0]] : [])))];
}

/**
 * The text as written, cut into runs for `HighlightedTextArea`: each placeholder is marked as a declared parameter's
 * (`hl-known`), an undeclared one's (`hl-unknown`) or not one Cadre reads (`hl-invalid`).
 */
export function placeholderRuns(text: string, declared: ReadonlySet<string>): { text: string; className?: string }[] {
  return parseTemplate(text).map((s) => {
    if (s.kind === "text") return { text: s.source };
    if (s.kind === "invalid") return { text: s.source, className: "hl-invalid" };
    return { text: s.source, className: declared.has(s.path[0] ?? "") ? "hl-known" : "hl-unknown" };
  });
}
