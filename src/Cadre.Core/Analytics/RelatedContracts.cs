namespace Cadre.Analytics;

/// <summary>How one persona version did in a workflow's runs (all time, from the rollups).</summary>
/// <param name="FirstSeen">The quarter hour its first counted run or call fell in.</param>
public sealed record PersonaVersionUse(
    int Version, long Runs, long Succeeded, long Failed, double? SuccessRate, double? AverageDurationSeconds, decimal CostUsd, long ModelCalls, DateTime? FirstSeen, DateTime? LastSeen);

/// <summary>A persona the workflow names or its runs used.</summary>
/// <param name="Name">Null when the persona no longer exists.</param>
/// <param name="CurrentVersion">Its published version now.</param>
/// <param name="Named">Whether the workflow's definition names it now (a step's persona, the executing agent, the persona pipeline).</param>
/// <param name="Versions">The versions its runs used, oldest first.</param>
public sealed record RelatedPersona(string Id, string? Name, int? CurrentVersion, bool Named, IReadOnlyList<PersonaVersionUse> Versions);

/// <summary>Another workflow this one starts, or that starts this one (<c>run_workflow</c> steps).</summary>
public sealed record RelatedWorkflow(string Id, string Name, IReadOnlyList<string> Steps);

/// <summary>A persona version a run used.</summary>
public sealed record RunPersonaVersion(string PersonaId, int Version);

/// <summary>A recent run and the persona versions it used.</summary>
public sealed record RelatedRun(string Id, string DisplayId, string Status, DateTime CreatedAt, DateTime? FinishedAt, decimal CostUsd, IReadOnlyList<RunPersonaVersion> Personas);

/// <summary>
/// A run that used a newer (or older) version of a persona than the run before it: where an edit to
/// the persona reached the workflow, with how each version did, so a change in results can be traced to it.
/// </summary>
public sealed record PersonaVersionChange(
    string PersonaId, string? PersonaName, int FromVersion, int ToVersion, string RunId, string RunDisplayId, DateTime At, PersonaVersionUse? Before, PersonaVersionUse? After);

/// <summary>What a workflow is connected to.</summary>
/// <param name="Skills">Skills its personas carry and the workflow adds (names or IDs, as written).</param>
/// <param name="EventTypes">The event type that triggers it and those its steps emit or wait for.</param>
/// <param name="RecentRuns">Its newest runs (up to 20).</param>
/// <param name="VersionChanges">Persona version changes between consecutive runs among its newest 200, newest first.</param>
public sealed record RelatedResponse(
    IReadOnlyList<RelatedPersona> Personas,
    IReadOnlyList<string> Skills,
    IReadOnlyList<string> EventTypes,
    IReadOnlyList<RelatedWorkflow> ChildWorkflows,
    IReadOnlyList<RelatedWorkflow> ParentWorkflows,
    IReadOnlyList<RelatedRun> RecentRuns,
    IReadOnlyList<PersonaVersionChange> VersionChanges);
