// The placeholders of a persona's instructions, read the way the server's PromptTemplate reads them
// (src/Cadre.Core/Personas/PromptTemplate.cs): `{{ params.name }}` or a path into a json parameter,
// `\{{` for literal braces. The editor uses it to mark placeholders as you type; the API stays the judge.

export type Segment =
  | { kind: "text"; text: string }
  | { kind: "placeholder"; source: string; path: string[] }
  | { kind: "invalid"; source: string; message: string };

const parameterPath = /^params\.[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

export function parseTemplate(text: string): Segment[] {
  const segments: Segment[] = [];
  let literal = "";
  const flush = () => { if (literal) { segments.push({ kind: "text", text: literal }); literal = ""; } };
  let i = 0;
  while (i < text.length) {
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
