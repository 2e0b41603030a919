using Cadre.Cli.Output;

namespace Cadre.Cli.Commands;

/// <summary>The verbs a resource's command offers, mirroring the API's methods on it.</summary>
[Flags]
internal enum Verbs
{
    List = 1,
    Get = 2,
    Create = 4,
    Update = 8,
    Delete = 16,
    Read = List | Get,
    All = List | Get | Create | Update | Delete,
}

/// <summary>
/// A resource of the API as a command: <c>cadre personas list|get|create|update|delete</c>. The commands are
/// made from this table rather than written one by one, so every resource behaves alike (the same
/// options, output, errors) and a new resource is one row.
/// </summary>
/// <param name="Name">The command (<c>personas</c>), plural like the API's path.</param>
/// <param name="Singular">For messages and argument names (<c>persona</c>).</param>
/// <param name="Path">The collection's path: under the workspace (<c>personas</c>) or, when <paramref name="InWorkspace"/> is false, from the server's root.</param>
/// <param name="Actions">Extra verbs that POST to <c>{item}/{action}</c> with no body (<c>runs halt</c>).</param>
/// <param name="More">Verbs written by hand, each made fresh per command tree (<c>runs tail</c>, <c>keys create</c>).</param>
internal sealed record Resource(
    string Name,
    string Singular,
    string Description,
    string Path,
    Verbs Verbs,
    IReadOnlyList<Column> Columns,
    bool InWorkspace = true,
    IReadOnlyList<string>? Actions = null,
    bool HasBin = false,
    IReadOnlyList<Func<System.CommandLine.Command>>? More = null,
    bool DeleteRevokes = false)
{
    public static readonly IReadOnlyList<Resource> All =
    [
        new("workspaces", "workspace", "Workspaces you may see; instance admins create them", "api/v1/workspaces", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("DISPLAY NAME", "displayName"), Column.Of("VERSION", "version"), Column.Of("CREATED", "createdAt")],
            InWorkspace: false),
        new("personas", "persona", "Personas: the assistants workflows put to work", "personas", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("DISPLAY NAME", "displayName"), Column.Of("PROVIDER", "provider"), Column.Of("MODEL", "model"),
             Column.Of("VERSION", "version"), Column.Of("STATUS", "status"), Column.Of("UPDATED", "updatedAt")],
            Actions: ["restore"], HasBin: true),
        new("workflows", "workflow", "Workflows: durable steps started by hand, events, webhooks or schedules", "workflows", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("TRIGGER", "trigger"), Column.Of("ACTIVE", "isActive"), Column.Of("STEPS", "stepCount"),
             Column.Of("VERSION", "version"), Column.Of("LAST RUN", "lastRun.status"), Column.Of("UPDATED", "updatedAt")],
            Actions: ["activate", "deactivate", "restore"], HasBin: true),
        new("runs", "run", "Runs of workflows; `cadre run` starts one", "runs", Verbs.Read,
            [Column.Of("ID", "id"), Column.Of("RUN", "displayId"), Column.Of("STATUS", "status"), Column.Of("TRIGGER", "trigger.type"),
             Column.Of("COST ($)", "usage.costUsd"), Column.Of("CREATED", "createdAt"), Column.Of("FINISHED", "finishedAt")],
            Actions: ["halt", "resume", "retry", "rerun"], More: [RunCommands.Tail]),
        new("events", "event", "Events: sent ones start the workflows that listen for their type", "events", Verbs.List | Verbs.Get | Verbs.Create,
            [Column.Of("ID", "id"), Column.Of("TYPE", "type"), Column.Of("SOURCE", "source"), Column.Of("ORIGIN", "origin"),
             new("RUNS", item => (item["runs"] as System.Text.Json.Nodes.JsonArray)?.Count.ToString(System.Globalization.CultureInfo.InvariantCulture)),
             Column.Of("CREATED", "createdAt")],
            Actions: ["replay"]),
        new("event-types", "event type", "Event types: built-in and the workspace's own, with payload schemas", "event-types", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("BUILT IN", "builtIn"), Column.Of("DESCRIPTION", "description"), Column.Of("VERSION", "version")]),
        new("approvals", "approval", "The approvals inbox; `cadre approvals approve|reject` decides", "approvals", Verbs.Read,
            [Column.Of("ID", "id"), Column.Of("STATUS", "status"), Column.Of("RUN", "runId"), Column.Of("STEP", "stepId"),
             Column.Of("APPROVERS", "approvers"), Column.Of("DEADLINE", "deadline"), Column.Of("CREATED", "createdAt")],
            More: [ApprovalCommands.Approve, ApprovalCommands.Reject]),
        new("skills", "skill", "Skills: tools agents may call", "skills", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("KIND", "kind"), Column.Of("DESCRIPTION", "description"), Column.Of("VERSION", "version"), Column.Of("UPDATED", "updatedAt")]),
        new("guardrails", "guardrail", "Guardrails: checks around model calls", "guardrails", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("STAGE", "stage"), Column.Of("KIND", "kind"), Column.Of("ACTION", "action"), Column.Of("VERSION", "version")]),
        new("providers", "provider", "Model providers (keys are write-only)", "providers", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("KIND", "kind"), Column.Of("SCOPE", "scope"), Column.Of("BASE URL", "baseUrl"), Column.Of("DEFAULT MODEL", "defaultModel"), Column.Of("KEY SET", "apiKeySet")]),
        new("secrets", "secret", "Secrets: names and metadata only; values are write-only", "secrets", Verbs.All,
            [Column.Of("NAME", "name"), Column.Of("DESCRIPTION", "description"), Column.Of("VERSION", "version"), Column.Of("UPDATED", "updatedAt")],
            More: [SecretCommands.Set]),
        new("keys", "API key", "The workspace's API keys; `cadre keys create` makes one for a service account", "api-keys", Verbs.Read | Verbs.Delete,
            [Column.Of("ID", "id"), Column.Of("NAME", "name"), Column.Of("ROLE", "role"), Column.Of("PREFIX", "prefix"), Column.Of("STATUS", "status"),
             Column.Of("OWNER", "owner.name"), Column.Of("LAST USED", "lastUsedAt"), Column.Of("EXPIRES", "expiresAt")],
            More: [KeyCommands.Create], DeleteRevokes: true),
        new("service-accounts", "service account", "Service accounts: the identities machines act as", "service-accounts", Verbs.All,
            [Column.Of("ID", "id"), Column.Of("NAME", "name"), Column.Of("ROLE", "role"), Column.Of("DESCRIPTION", "description")]),
        new("webhooks", "webhook subscription", "Outbound webhook subscriptions to event types", "webhook-subscriptions", Verbs.All,
            [Column.Of("ID", "id"), Column.Of("URL", "url"), Column.Of("EVENT TYPES", "eventTypes"), Column.Of("ACTIVE", "isActive"), Column.Of("UPDATED", "updatedAt")]),
        new("files", "file", "Files the workspace keeps for runs", "files", Verbs.Read | Verbs.Delete,
            [Column.Of("ID", "id"), Column.Of("NAME", "name"), Column.Of("TYPE", "contentType"), Column.Of("SIZE", "size"), Column.Of("STATUS", "status"), Column.Of("CREATED", "createdAt")]),
    ];
}
