namespace Cadre.Cli.Apply;

/// <summary>
/// A kind of item <c>cadre apply</c> and <c>cadre export</c> handle: its <c>kind:</c> in files, its label in
/// output (<c>persona/billing</c>) and its collection's path under the workspace (also the export's folder).
/// </summary>
internal sealed record ManifestKind(string Kind, string Label, string Path)
{
    public static readonly ManifestKind EventType = new("EventType", "event-type", "event-types");
    public static readonly ManifestKind Skill = new("Skill", "skill", "skills");
    public static readonly ManifestKind Persona = new("Persona", "persona", "personas");
    public static readonly ManifestKind Workflow = new("Workflow", "workflow", "workflows");

    /// <summary>In the order they are applied: what others refer to first (workflows start on event types and name personas, personas install skills).</summary>
    public static readonly IReadOnlyList<ManifestKind> All = [EventType, Skill, Persona, Workflow];

    /// <summary>What a file calls a skill's own <c>kind</c> (<c>http</c>, <c>mcp</c>), since <c>kind:</c> names the document's kind.</summary>
    public const string SkillKind = "skillKind";

    /// <summary>The names <c>kind:</c> may take, for messages.</summary>
    public static string Names => string.Join(", ", All.Select(k => k.Kind));

    /// <summary>A kind by its <c>kind:</c> name (any case), label or plural (<c>Persona</c>, <c>persona</c>, <c>personas</c>), or null.</summary>
    public static ManifestKind? Find(string text) => All.FirstOrDefault(k =>
        string.Equals(k.Kind, text, StringComparison.OrdinalIgnoreCase) || k.Label == text || k.Path == text);
}

/// <summary>One document of the files: its kind, its name (after renames), its body (the API's create body, without <c>kind</c>) and where it was read.</summary>
internal sealed record ManifestItem(ManifestKind Kind, string Name, System.Text.Json.Nodes.JsonObject Body, string Source)
{
    public string Label => $"{Kind.Label}/{Name}";
}
