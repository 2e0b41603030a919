using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Cadre.Common;

namespace Cadre.Personas;

/// <summary>A persona: its definition with every default filled in, and its identity and history.</summary>
public sealed record PersonaResponse : PersonaSpec
{
    public PersonaResponse(PersonaSpec spec)
        : base(spec)
    {
    }

    public required string Id { get; init; }

    public required string WorkspaceId { get; init; }

    /// <summary>Incremented by every published change; also the ETag.</summary>
    public required int Version { get; init; }

    /// <summary><c>active</c>, or <c>deleted</c> while in the bin.</summary>
    public required string Status { get; init; }

    /// <summary>What is allowed but probably wrong, such as a provider Cadre does not know yet.</summary>
    public required IReadOnlyList<string> Warnings { get; init; }

    public Actor? CreatedBy { get; init; }

    public Actor? UpdatedBy { get; init; }

    public required DateTime CreatedAt { get; init; }

    public required DateTime UpdatedAt { get; init; }

    public DateTime? DeletedAt { get; init; }

    public Actor? DeletedBy { get; init; }
}

/// <summary>A persona as lists show it: enough to recognise and filter, not the instructions.</summary>
public sealed record PersonaSummary(
    string Id,
    string Name,
    string DisplayName,
    string? Description,
    string? AvatarUrl,
    string? Color,
    string? Icon,
    IReadOnlyList<string> Departments,
    IReadOnlyList<string> Tags,
    IReadOnlyList<string> Flags,
    string? Provider,
    string? Model,
    int Version,
    string Status,
    Actor? CreatedBy,
    Actor? UpdatedBy,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>Search, filters and order of <c>GET …/personas</c>.</summary>
/// <param name="Search">Words that must all appear (as word prefixes) in the name, display name, description or instructions.</param>
/// <param name="Status"><c>active</c> (default), <c>deleted</c> (the bin) or <c>all</c>.</param>
/// <param name="Sort"><c>createdAt</c>, <c>updatedAt</c>, <c>name</c> or <c>displayName</c>; a leading <c>-</c> for descending. Default <c>-createdAt</c>.</param>
public sealed record PersonaQuery(
    string? Search = null,
    IReadOnlyList<string>? Departments = null,
    IReadOnlyList<string>? Tags = null,
    IReadOnlyList<string>? Flags = null,
    IReadOnlyList<string>? Parameters = null,
    string? Provider = null,
    string? Model = null,
    string? Status = null,
    string? Sort = null);

/// <summary>A version in a persona's history.</summary>
/// <param name="Change">What made it: <c>created</c>, <c>updated</c>, <c>published</c>, <c>reverted</c>, <c>restored</c> or <c>imported</c>.</param>
public sealed record PersonaVersionSummary(int Version, string Change, string Name, string DisplayName, Actor? CreatedBy, DateTime CreatedAt);

/// <summary>A persona as it was at one version.</summary>
public sealed record PersonaVersionResponse(int Version, string Change, Actor? CreatedBy, DateTime CreatedAt, PersonaSpec Definition);

public sealed record PersonaDiffResponse(int From, int To, IReadOnlyList<FieldChange> Changes);

/// <summary>Body of <c>POST …/personas/{persona}/revert</c>.</summary>
public sealed record RevertPersonaRequest(int? Version);

/// <summary>Body of <c>POST …/personas/{persona}/duplicate</c>.</summary>
/// <param name="Name">The copy's name; default the first free of <c>name-copy</c>, <c>name-copy-2</c>, …</param>
public sealed record DuplicatePersonaRequest(string? Name = null, string? DisplayName = null);

/// <summary>Body of <c>POST …/personas/{persona}/preview</c>.</summary>
/// <param name="Parameters">Values for the persona's parameters; defaults fill the rest.</param>
public sealed record PreviewPersonaRequest(JsonObject? Parameters = null);

/// <summary>The rendered system prompt and the parameter values it used.</summary>
public sealed record PersonaPreviewResponse(string SystemPrompt, JsonObject Parameters);

/// <summary>Body of <c>POST …/personas/bulk-create</c>.</summary>
public sealed record BulkCreatePersonasRequest(IReadOnlyList<PersonaSpec>? Items);

/// <summary>One change of <c>POST …/personas/bulk-update</c>.</summary>
/// <param name="Persona">The persona's ID or name.</param>
/// <param name="ExpectedVersion">Apply only if the persona is at this version.</param>
/// <param name="Changes">A JSON Merge Patch (RFC 7396) of the persona.</param>
public sealed record BulkUpdateItem(string? Persona, int? ExpectedVersion, JsonObject? Changes);

/// <summary>Body of <c>POST …/personas/bulk-update</c>.</summary>
public sealed record BulkUpdatePersonasRequest(IReadOnlyList<BulkUpdateItem>? Items);

/// <summary>Body of <c>POST …/personas/bulk-delete</c>: personas (IDs or names) to move to the bin.</summary>
public sealed record BulkDeletePersonasRequest(IReadOnlyList<string>? Items);

/// <summary>A persona as exports carry it: the definition plus the ID and version it had (ignored on import).</summary>
public sealed record PersonaExport : PersonaSpec
{
    public PersonaExport(PersonaSpec spec)
        : base(spec)
    {
    }

    [JsonConstructor]
    public PersonaExport()
        : base(new PersonaSpec())
    {
    }

    public string? Id { get; init; }

    public int? Version { get; init; }
}

/// <summary>A JSON export, also what JSON import takes (a bare array of personas works too).</summary>
public sealed record PersonaExportDocument(DateTime? ExportedAt, string? Workspace, IReadOnlyList<PersonaExport>? Personas);


/// <summary>How personas are written as JSON where Cadre itself reads them back (stored definitions, imports, patches).</summary>
public static class PersonaJson
{
    /// <summary>Strict, like the API: unknown fields and wrong types are errors.</summary>
    public static JsonSerializerOptions Options => StrictJson.Options;

    public static string Serialize(PersonaSpec spec) => JsonSerializer.Serialize(spec, Options);

    public static PersonaSpec Deserialize(string json) =>
        JsonSerializer.Deserialize<PersonaSpec>(json, Options) ?? throw new JsonException("A persona definition is null.");

    public static JsonObject ToNode(PersonaSpec spec) => JsonSerializer.SerializeToNode(spec, Options)!.AsObject();
}
