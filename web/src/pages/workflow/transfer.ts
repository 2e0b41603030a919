// The import dialog's reading of an export document in the browser: which format it is, which names of the source
// workspace it references (to offer them in the mapping), and the document to send with the mapping in it. The API
// decides everything else; a document this cannot read is sent as it is, so the API's own problem is what shows.
import type { ExportFormat, ExportFile, ImportMapping } from "../../api/workflows";

export type MappingKind = "personas" | "secrets" | "teams";
export const mappingKinds: MappingKind[] = ["personas", "secrets", "teams"];

/** Per kind of name: the names the document references, and its own mapping (JSON documents only). */
export interface References {
  names: Record<MappingKind, string[]>;
  mapping: Record<MappingKind, Record<string, string>>;
}

const empty = (): References => ({
  names: { personas: [], secrets: [], teams: [] },
  mapping: { personas: {}, secrets: {}, teams: {} },
});

/**
 * JSON when the text opens as JSON does (`{` or `[`), YAML otherwise. JSON is YAML too, but sent as JSON it gets the
 * API's sharper messages; a YAML flow document opening with `{` is the price (the API then says it is not JSON).
 */
export function documentFormat(text: string): ExportFormat {
  return /^\s*[[{]/.test(text) ? "json" : "yaml";
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === "object" && value !== null && !Array.isArray(value);

// Templates read secrets as secrets.name or secrets['name'] (the API's own pattern, WorkflowTransferService).
const secretRead = /\bsecrets\s*(?:\.\s*([A-Za-z_$][A-Za-z0-9_$]*)|\[\s*['"]([^'"]+)['"]\s*\])/g;

function secretReads(text: string, into: Set<string>) {
  if (!text.includes("{{")) return;
  for (const match of text.matchAll(secretRead)) into.add((match[1] ?? match[2])!);
}

/** A plain name, not a template (`{{ context.persona.name }}`) nor an ID the exporting workspace kept. */
const isName = (value: unknown): value is string => typeof value === "string" && value.trim() !== "" && !value.includes("{{");

/**
 * The names of the source workspace a document references, where the API's mapping renames them: personas (the
 * executing agent, agent steps, pipeline stages), the team, secrets (credentials, the repository token, signing
 * secrets, `secrets.x` in templates). JSON is read whole; YAML line by line, a best effort (no YAML parser here).
 */
export function references(text: string): References {
  const found = { personas: new Set<string>(), secrets: new Set<string>(), teams: new Set<string>() };
  const result = empty();
  if (documentFormat(text) === "json") {
    let document: unknown;
    try { document = JSON.parse(text); } catch { return result; }
    const items = Array.isArray(document) ? document : isObject(document) && Array.isArray(document.workflows) ? document.workflows : [];
    for (const spec of items.filter(isObject)) collect(spec, found);
    if (isObject(document) && isObject(document.mapping)) {
      for (const kind of mappingKinds) {
        const own = document.mapping[kind];
        if (!isObject(own)) continue;
        for (const [from, to] of Object.entries(own)) if (typeof to === "string") result.mapping[kind][from] = to;
      }
    }
  } else {
    scanYaml(text, found);
  }
  for (const kind of mappingKinds) result.names[kind] = [...found[kind]].sort((a, b) => a.localeCompare(b));
  return result;
}

function collect(spec: Record<string, unknown>, found: Record<MappingKind, Set<string>>) {
  if (isName(spec.executingAgent)) found.personas.add(spec.executingAgent);
  for (const step of Array.isArray(spec.steps) ? spec.steps : []) {
    if (isObject(step) && isObject(step.input) && isName(step.input.persona)) found.personas.add(step.input.persona);
  }
  const pipeline = spec.personaPipeline;
  for (const stage of ["designer", "checker", "optimizer"]) {
    const persona = isObject(pipeline) && isObject(pipeline[stage]) ? pipeline[stage].persona : undefined;
    if (isName(persona)) found.personas.add(persona);
  }
  // An export names the team; an ID (team_…) was not renamed by it and means nothing in another workspace.
  if (isName(spec.teamId) && !spec.teamId.startsWith("team_")) found.teams.add(spec.teamId);
  if (isObject(spec.credentials)) for (const secret of Object.values(spec.credentials)) if (isName(secret)) found.secrets.add(secret);
  if (isObject(spec.repository) && isName(spec.repository.repoTokenSecret)) found.secrets.add(spec.repository.repoTokenSecret);
  if (isObject(spec.notifications) && isName(spec.notifications.signingSecret)) found.secrets.add(spec.notifications.signingSecret);
  const trigger = spec.trigger;
  const signature = isObject(trigger) && isObject(trigger.webhook) && isObject(trigger.webhook.signature) ? trigger.webhook.signature : null;
  for (const secret of signature && Array.isArray(signature.secrets) ? signature.secrets : []) if (isName(secret)) found.secrets.add(secret);
  walkStrings(spec, (text) => secretReads(text, found.secrets));
}

function walkStrings(value: unknown, visit: (text: string) => void) {
  if (typeof value === "string") visit(value);
  else if (Array.isArray(value)) value.forEach((item) => walkStrings(item, visit));
  else if (isObject(value)) Object.values(value).forEach((item) => walkStrings(item, visit));
}

// `key: value` on one line, the value plain or quoted; block and flow values are left alone.
const yamlMember = /^\s*(?:-\s+)?(executingAgent|persona|teamId|repoTokenSecret|signingSecret):[ \t]+(.+?)\s*$/;

function scanYaml(text: string, found: Record<MappingKind, Set<string>>) {
  for (const line of text.split(/\r?\n/)) {
    secretReads(line, found.secrets);
    const match = yamlMember.exec(line);
    if (!match) continue;
    const raw = match[2]!.replace(/\s+#.*$/, "");
    if (/^[|>{[&*!]/.test(raw)) continue;
    const value = raw.replace(/^(['"])(.*)\1$/, "$2");
    if (!isName(value)) continue;
    switch (match[1]) {
      case "executingAgent": case "persona": found.personas.add(value); break;
      case "teamId": if (!value.startsWith("team_")) found.teams.add(value); break;
      default: found.secrets.add(value);
    }
  }
}

/** The mapping without empty rows: a name left blank keeps its name. */
export function compactMapping(rows: Record<MappingKind, { from: string; to: string }[]>): ImportMapping {
  const mapping: ImportMapping = {};
  for (const kind of mappingKinds) {
    const pairs = rows[kind].map((r) => [r.from.trim(), r.to.trim()] as const).filter(([from, to]) => from && to);
    if (pairs.length) mapping[kind] = Object.fromEntries(pairs);
  }
  return mapping;
}

/**
 * The document to send: the mapping set as its `mapping` member. For JSON the dialog's mapping replaces the
 * document's own (which filled the dialog), and a bare array is wrapped as `{workflows, mapping}`. YAML gets the
 * mapping appended as a top-level member (JSON is YAML's flow style); a YAML document with a `mapping` of its own
 * then holds two, and the API says so. Text that is not a document is sent as it is, for the API to explain.
 */
export function withMapping(text: string, mapping: ImportMapping): string {
  const none = Object.keys(mapping).length === 0;
  if (documentFormat(text) === "json") {
    let document: unknown;
    try { document = JSON.parse(text); } catch { return text; }
    if (Array.isArray(document)) return none ? text : JSON.stringify({ workflows: document, mapping });
    if (!isObject(document)) return text;
    if (none && !("mapping" in document)) return text;
    const sent: Record<string, unknown> = { ...document };
    delete sent.mapping;
    return JSON.stringify(none ? sent : { ...sent, mapping });
  }
  if (none) return text;
  // The document's markers go: a mapping after an end marker (`...`) would be a second document, and a start marker
  // (`---`) indented under `workflows` would be none.
  const body = text.replace(/\s+$/, "").replace(/\r?\n\.\.\.$/, "").replace(/^(\s*#.*\r?\n)*\s*---[ \t]*\r?\n/, "");
  // A sequence at the top (a bare list of workflows) becomes the `workflows` member, indented under it.
  const firstLine = body.split(/\r?\n/).find((line) => line.trim() !== "" && !line.trimStart().startsWith("#"));
  if (firstLine?.startsWith("-")) {
    const indented = body.split(/\r?\n/).map((line) => (line ? `  ${line}` : line)).join("\n");
    return `workflows:\n${indented}\nmapping: ${JSON.stringify(mapping)}\n`;
  }
  return `${body}\nmapping: ${JSON.stringify(mapping)}\n`;
}

/**
 * Saves a file the API answered through the browser's download (a Blob's address on a link with `download`): the
 * answer is read first, so a refusal shows as the API's problem in the dialog instead of a failed download.
 */
export function saveFile(file: ExportFile) {
  const url = URL.createObjectURL(new Blob([file.text], { type: file.format === "yaml" ? "application/yaml" : "application/json" }));
  const link = document.createElement("a");
  link.href = url;
  link.download = file.fileName;
  link.click();
  // The download has its own copy once it starts; the address is freed after that, not before (Firefox reads it late).
  window.setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
