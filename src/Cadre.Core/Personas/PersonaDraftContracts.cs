using System.Text.Json.Nodes;
using Cadre.Common;

namespace Cadre.Personas;

/// <summary>One editor's draft of a persona: the form state, what is wrong with it, and whether the persona moved on.</summary>
/// <param name="Version">The draft's own revision: send it as <c>expectedVersion</c> when changing the draft.</param>
/// <param name="BaseVersion">The persona version the draft started from.</param>
/// <param name="PersonaVersion">The persona's version now.</param>
/// <param name="Stale">The persona was published since the draft started: publishing needs <c>force</c>.</param>
/// <param name="Errors">What publishing would refuse, by field (a draft may be incomplete).</param>
public sealed record PersonaDraftResponse(
    string PersonaId,
    string PersonaName,
    Actor Owner,
    int Version,
    int BaseVersion,
    int PersonaVersion,
    bool Stale,
    PersonaSpec Definition,
    IReadOnlyDictionary<string, string[]> Errors,
    IReadOnlyList<string> Warnings,
    DateTime CreatedAt,
    DateTime UpdatedAt);

/// <summary>A draft as the list of your drafts shows it.</summary>
public sealed record PersonaDraftSummary(string PersonaId, string PersonaName, int Version, int BaseVersion, int PersonaVersion, bool Stale, DateTime UpdatedAt);

/// <summary>Body of <c>POST …/personas/{persona}/draft</c> (optional).</summary>
/// <param name="ExpectedVersion">The persona version the editor has loaded; a persona published since is a 409 naming the current version.</param>
public sealed record StartPersonaDraftRequest(int? ExpectedVersion = null);

/// <summary>Body of <c>PATCH …/personas/{persona}/draft</c>.</summary>
/// <param name="ExpectedVersion">The draft version you changed; a stale one answers 409 with the current version.</param>
/// <param name="Changes">A JSON Merge Patch (RFC 7396) of the draft's definition.</param>
public sealed record UpdatePersonaDraftRequest(int? ExpectedVersion, JsonObject? Changes);

/// <summary>Body of <c>POST …/personas/{persona}/draft/publish</c>.</summary>
/// <param name="Force">Publish even though the persona changed since the draft started (their changes are overwritten).</param>
public sealed record PublishPersonaDraftRequest(bool? Force = null);
