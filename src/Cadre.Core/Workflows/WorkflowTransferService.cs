using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Auth;
using Cadre.Common;
using Cadre.Storage;
using Microsoft.EntityFrameworkCore;

namespace Cadre.Workflows;

/// <summary>Renames applied while importing, so a workflow moves between workspaces (dev → prod) whose personas, secrets and teams are named differently.</summary>
public sealed record ImportMapping(
    IReadOnlyDictionary<string, string>? Personas = null,
    IReadOnlyDictionary<string, string>? Secrets = null,
    IReadOnlyDictionary<string, string>? Teams = null);

/// <summary>
/// Export (JSON or YAML: personas and teams by name, secrets by reference only, as definitions hold
/// them) and import (create-only or upsert by name, a dry run answering the diff, and name mapping).
/// </summary>
internal sealed partial class WorkflowTransferService(CadreDbContext db, WorkflowService workflows)
{
    /// <summary>An export document: <c>{exportedAt, workspace, workflows: [...]}</c>, ready to write as JSON or YAML.</summary>
    public async Task<ServiceResult<JsonObject>> ExportAsync(
        string workspaceId, string workspaceName, WorkflowQuery? filter, string? single, DateTime now, CancellationToken cancellationToken)
    {
        List<Workflow> selected;
        if (single is not null)
        {
            if (await workflows.FindAsync(workspaceId, single, tracking: false, cancellationToken) is not { } one)
            {
                return ServiceError.NotFound($"Workflow '{single}' not found.");
            }

            selected = [one];
        }
        else
        {
            var all = await workflows.AllAsync(workspaceId, filter ?? new WorkflowQuery(), cancellationToken);
            if (all.Error is { } error)
            {
                return error;
            }

            selected = all.Value!;
        }

        var personaNames = await db.Personas.AsNoTracking().Where(p => p.WorkspaceId == workspaceId).ToDictionaryAsync(p => p.Id, p => p.Name, cancellationToken);
        var teamNames = await db.Teams.AsNoTracking().Where(t => t.WorkspaceId == workspaceId).ToDictionaryAsync(t => t.Id, t => t.Name, cancellationToken);
        var items = new JsonArray();
        foreach (var workflow in selected)
        {
            var spec = JsonNode.Parse(workflow.Definition)!.AsObject();
            Rename(spec, new ImportMapping(personaNames, null, teamNames));
            items.Add(spec);
        }

        return new JsonObject
        {
            ["exportedAt"] = now,
            ["workspace"] = workspaceName,
            ["workflows"] = items,
        };
    }

    /// <summary>Imports each workflow of an export document (or a bare array) by name, reporting each; with <paramref name="dryRun"/>, changes nothing.</summary>
    public async Task<ServiceResult<ImportResponse>> ImportAsync(
        string workspaceId, JsonNode? document, string mode, bool dryRun, Caller caller, CancellationToken cancellationToken)
    {
        var (items, mapping) = document switch
        {
            JsonArray array => (array, null),
            JsonObject obj when obj["workflows"] is JsonArray array => (array, obj["mapping"]),
            _ => ((JsonArray?)null, (JsonNode?)null),
        };
        if (items is null)
        {
            return ServiceError.Validation("body", "Must be an export document ({\"workflows\": [...], \"mapping\": {...}}) or an array of workflows.");
        }

        ImportMapping renames;
        try
        {
            renames = mapping?.Deserialize<ImportMapping>(StrictJson.Options) ?? new ImportMapping();
        }
        catch (JsonException ex)
        {
            var (field, message) = JsonErrors.Describe(ex, typeof(ImportMapping));
            return ServiceError.Validation(field == "body" ? "mapping" : $"mapping.{field}", message);
        }

        var results = new List<ImportItemResult>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < items.Count; i++)
        {
            results.Add(await ImportOneAsync(workspaceId, i, items[i], renames, mode, dryRun, caller, seen, cancellationToken));
        }

        return ImportResponse.Of(dryRun, mode, results);
    }

    private async Task<ImportItemResult> ImportOneAsync(
        string workspaceId, int index, JsonNode? item, ImportMapping mapping, string mode, bool dryRun, Caller caller, HashSet<string> seen, CancellationToken cancellationToken)
    {
        if (item is not JsonObject obj)
        {
            return Failed(index, null, ServiceError.Validation("body", "Must be a workflow object."));
        }

        var renamed = obj.DeepClone().AsObject();
        Rename(renamed, mapping);
        await ResolveTeamAsync(workspaceId, renamed, cancellationToken);
        WorkflowSpec spec;
        try
        {
            spec = renamed.Deserialize<WorkflowSpec>(StrictJson.Options)!;
        }
        catch (JsonException ex)
        {
            var (field, message) = JsonErrors.Describe(ex, typeof(WorkflowSpec));
            return Failed(index, (string?)(obj["name"] as JsonValue), ServiceError.Validation(field, message));
        }

        var checkedSpec = await workflows.CheckAsync(workspaceId, spec, cancellationToken);
        if (checkedSpec.Error is { } invalid)
        {
            return Failed(index, spec.Name, invalid);
        }

        var normalized = checkedSpec.Value.Spec;
        var name = normalized.Name!;
        if (!seen.Add(name))
        {
            return Failed(index, name, ServiceError.Conflict($"'{name}' appears more than once in this import."));
        }

        var existing = await workflows.FindAsync(workspaceId, name, tracking: !dryRun, cancellationToken);
        if (existing is null)
        {
            if (dryRun)
            {
                return new ImportItemResult(index, name, "create", null, 201, null, null);
            }

            var created = await workflows.AddAsync(workspaceId, normalized, caller, "imported", cancellationToken);
            return created.Match(w => new ImportItemResult(index, name, "create", w.Id, 201, null, null), error => Failed(index, name, error));
        }

        if (mode == "create-only")
        {
            return Failed(index, name, ServiceError.Conflict($"A workflow named '{name}' exists; import with mode=upsert to update it."));
        }

        var changes = JsonDiff.Compare(JsonNode.Parse(existing.Definition), JsonNode.Parse(WorkflowJson.Serialize(normalized)));
        if (changes.Count == 0)
        {
            return new ImportItemResult(index, name, "unchanged", existing.Id, 200, [], null);
        }

        if (dryRun)
        {
            return new ImportItemResult(index, name, "update", existing.Id, 200, changes, null);
        }

        var updated = await workflows.ReplaceAsync(existing, normalized, caller, null, "imported", cancellationToken);
        return updated.Match(w => new ImportItemResult(index, name, "update", w.Id, 200, changes, null), error => Failed(index, name, error));
    }

    /// <summary>
    /// Applies a mapping in place: persona references (the executing agent, agent steps, pipeline
    /// stages), the team, and secret names (credentials, the repository token, notification and webhook signing secrets, and <c>secrets.x</c> in templates).
    /// </summary>
    internal static void Rename(JsonObject spec, ImportMapping mapping)
    {
        if (mapping.Personas is { Count: > 0 } personas)
        {
            RenameValue(spec, "executingAgent", personas);
            foreach (var step in (spec["steps"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (step["input"] is JsonObject input)
                {
                    RenameValue(input, "persona", personas);
                }
            }

            foreach (var stage in new[] { "designer", "checker", "optimizer" })
            {
                if (spec["personaPipeline"]?[stage] is JsonObject pipelineStage)
                {
                    RenameValue(pipelineStage, "persona", personas);
                }
            }
        }

        if (mapping.Teams is { Count: > 0 } teams)
        {
            RenameValue(spec, "teamId", teams);
        }

        if (mapping.Secrets is { Count: > 0 } secrets)
        {
            if (spec["credentials"] is JsonObject credentials)
            {
                foreach (var name in credentials.Select(c => c.Key).ToList())
                {
                    RenameValue(credentials, name, secrets);
                }
            }

            if (spec["repository"] is JsonObject repository)
            {
                RenameValue(repository, "repoTokenSecret", secrets);
            }

            if (spec["notifications"] is JsonObject notifications)
            {
                RenameValue(notifications, "signingSecret", secrets);
            }

            // A webhook's signing secrets, by name.
            if (spec["trigger"]?["webhook"]?["signature"]?["secrets"] is JsonArray signing)
            {
                for (var i = 0; i < signing.Count; i++)
                {
                    if (signing[i] is JsonValue value && value.TryGetValue<string>(out var current) && secrets.TryGetValue(current, out var renamed))
                    {
                        signing[i] = renamed;
                    }
                }
            }

            RenameSecretReads(spec, secrets);
        }
    }

    private static void RenameValue(JsonObject owner, string member, IReadOnlyDictionary<string, string> names)
    {
        if (owner[member] is JsonValue value && value.TryGetValue<string>(out var current) && names.TryGetValue(current, out var renamed))
        {
            owner[member] = renamed;
        }
    }

    /// <summary>
    /// Renames the secrets one template reads. Only the name itself is replaced (a secret called <c>s</c> must not
    /// touch the word <c>secrets</c>), and a new name that is not an identifier is read as <c>secrets['new-name']</c>.
    /// </summary>
    private static string RenameSecretReads(string template, IReadOnlyDictionary<string, string> secrets) =>
        SecretRead().Replace(template, match =>
        {
            var name = match.Groups["name"];
            if (!secrets.TryGetValue(name.Value, out var renamed))
            {
                return match.Value;
            }

            var dotted = match.Value[name.Index - match.Index - 1] != '\'' && match.Value[name.Index - match.Index - 1] != '"';
            if (dotted && !Identifier().IsMatch(renamed))
            {
                return $"secrets['{renamed}']";
            }

            return string.Concat(match.Value.AsSpan(0, name.Index - match.Index), renamed, match.Value.AsSpan(name.Index - match.Index + name.Length));
        });

    // Templates read secrets as secrets.name or secrets['name']: rewritten in every string that holds a template.
    private static void RenameSecretReads(JsonNode? node, IReadOnlyDictionary<string, string> secrets)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(m => m.Key).ToList())
                {
                    if (obj[key] is JsonValue value && value.TryGetValue<string>(out var text) && text.Contains("{{", StringComparison.Ordinal))
                    {
                        obj[key] = RenameSecretReads(text, secrets);
                    }
                    else
                    {
                        RenameSecretReads(obj[key], secrets);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (array[i] is JsonValue value && value.TryGetValue<string>(out var text) && text.Contains("{{", StringComparison.Ordinal))
                    {
                        array[i] = RenameSecretReads(text, secrets);
                    }
                    else
                    {
                        RenameSecretReads(array[i], secrets);
                    }
                }

                break;
        }
    }

    // An export names the team; the importing workspace resolves that name to its own team's ID.
    private async Task ResolveTeamAsync(string workspaceId, JsonObject spec, CancellationToken cancellationToken)
    {
        if (spec["teamId"] is JsonValue value && value.TryGetValue<string>(out var team) && !team.StartsWith("team_", StringComparison.Ordinal))
        {
            var id = await db.Teams.AsNoTracking().Where(t => t.WorkspaceId == workspaceId && t.Name == team).Select(t => t.Id).FirstOrDefaultAsync(cancellationToken);
            if (id is not null)
            {
                spec["teamId"] = id;
            }
        }
    }

    private static ImportItemResult Failed(int index, string? name, ServiceError error) =>
        new(index, name, "error", null, Bulk.StatusOf(error.Kind), null, Bulk.ErrorOf(error));

    [GeneratedRegex(@"\bsecrets\s*(?:\.\s*(?<name>[A-Za-z_$][A-Za-z0-9_$]*)|\[\s*['""](?<name>[^'""]+)['""]\s*\])", RegexOptions.CultureInvariant)]
    private static partial Regex SecretRead();

    [GeneratedRegex(@"^[A-Za-z_$][A-Za-z0-9_$]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
