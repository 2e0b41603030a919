using System.Net;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;

namespace Cadre.Cli.Apply;

/// <summary>What apply did with one item: <c>created</c>, <c>updated</c>, <c>unchanged</c>, <c>deleted</c> or <c>failed</c> (with the error).</summary>
internal sealed record ApplyOutcome(ManifestKind Kind, string Name, string Action, IReadOnlyList<FieldChange> Changes, CliException? Error = null)
{
    public string Label => $"{Kind.Label}/{Name}";
}

/// <summary>
/// Makes a workspace hold what the files declare: each item is read by name, created when missing, changed by a
/// JSON Merge Patch of its declared members (with <c>If-Match</c>, so a change made meanwhile is not overwritten)
/// when they differ, and left alone when they do not; with prune, items of the declared kinds that no file
/// declares are deleted. One item's failure is reported and the others are still tried.
/// </summary>
internal sealed class Applier(CliSession session, bool dryRun)
{
    /// <summary>Members compared by nothing: the name is how the item was found; a skill's <c>auth</c> is write-only, never read back.</summary>
    private static readonly HashSet<string> Ignored = new(StringComparer.Ordinal) { "name" };

    private static readonly HashSet<string> IgnoredForSkills = new(StringComparer.Ordinal) { "name", "auth" };

    private Dictionary<string, string>? _teamIds;

    public async Task ApplyAsync(IReadOnlyList<ManifestItem> items, bool prune, Action<ApplyOutcome> report, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(report);
        foreach (var kind in ManifestKind.All)
        {
            foreach (var item in items.Where(i => i.Kind == kind))
            {
                report(await Attempt(kind, item.Name, () => ApplyOneAsync(item, cancellationToken)));
            }
        }

        if (!prune)
        {
            return;
        }

        // Dependents first: a workflow goes before the persona it names, a persona before its skills.
        foreach (var kind in ManifestKind.All.Reverse().Where(k => items.Any(i => i.Kind == k)))
        {
            var declared = items.Where(i => i.Kind == kind).Select(i => i.Name).ToHashSet(StringComparer.Ordinal);
            var path = Collection(kind);
            if (kind == ManifestKind.EventType)
            {
                path = CadreApiClient.WithQuery(path, "builtIn", "false");
            }

            var (existing, _) = await session.Api.ListAsync(path, null, cancellationToken);
            foreach (var name in existing
                         .Where(item => item["builtIn"]?.GetValue<bool>() != true)
                         .Select(item => item["name"]?.GetValue<string>())
                         .OfType<string>()
                         .Where(name => !declared.Contains(name))
                         .Order(StringComparer.Ordinal))
            {
                report(await Attempt(kind, name, async () =>
                {
                    if (!dryRun)
                    {
                        await session.Api.SendAsync(HttpMethod.Delete, Item(kind, name), null, cancellationToken);
                    }

                    return new ApplyOutcome(kind, name, "deleted", []);
                }));
            }
        }
    }

    private async Task<ApplyOutcome> ApplyOneAsync(ManifestItem item, CancellationToken cancellationToken)
    {
        var path = Item(item.Kind, item.Name);
        if (await FindAsync(path, cancellationToken) is not { } current)
        {
            if (!dryRun)
            {
                var body = await SendableAsync(item, cancellationToken);
                Warn(item, await session.Api.SendAsync(HttpMethod.Post, Collection(item.Kind), body, cancellationToken));
            }

            return new ApplyOutcome(item.Kind, item.Name, "created", []);
        }

        if (current["builtIn"]?.GetValue<bool>() == true)
        {
            throw new CliException($"'{item.Name}' is one of Cadre's built-in event types, which cannot be changed; choose another name.");
        }

        var version = current["version"]?.ToString();
        // A workflow is compared as its export shows it: personas and the team by name, as files name them.
        var compared = item.Kind == ManifestKind.Workflow
            ? (await session.Api.GetAsync($"{path}/export", cancellationToken))?["workflows"]?[0] as JsonObject ?? current
            : current;
        var changes = JsonComparison.Differences(item.Body, compared, item.Kind == ManifestKind.Skill ? IgnoredForSkills : Ignored);
        if (changes.Count == 0)
        {
            return new ApplyOutcome(item.Kind, item.Name, "unchanged", []);
        }

        if (!dryRun)
        {
            // Every declared member is sent, not only the changed ones: a workflow's steps sent without its graph would get a new layout.
            var patch = await SendableAsync(item, cancellationToken);
            patch.Remove("name");
            var headers = version is null ? null : new Dictionary<string, string> { ["If-Match"] = $"\"{version}\"" };
            Warn(item, await session.Api.SendAsync(HttpMethod.Patch, path, patch, cancellationToken, headers));
        }

        return new ApplyOutcome(item.Kind, item.Name, "updated", changes);
    }

    private async Task<JsonObject?> FindAsync(string path, CancellationToken cancellationToken)
    {
        try
        {
            return await session.Api.GetAsync(path, cancellationToken) as JsonObject;
        }
        catch (CadreApiException ex) when (ex.Status == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The body to send: the declared one, with a workflow's team named in the file turned into the team's ID, which the API takes.</summary>
    private async Task<JsonObject> SendableAsync(ManifestItem item, CancellationToken cancellationToken)
    {
        var body = item.Body.DeepClone().AsObject();
        if (item.Kind == ManifestKind.Workflow && body["teamId"] is JsonValue value && value.TryGetValue<string>(out var team)
            && !team.StartsWith("team_", StringComparison.Ordinal))
        {
            if (_teamIds is null)
            {
                var (teams, _) = await session.Api.ListAsync($"{session.WorkspacePath}/teams", null, cancellationToken);
                _teamIds = teams
                    .Select(t => (Name: t["name"]?.GetValue<string>(), Id: t["id"]?.GetValue<string>()))
                    .Where(t => t.Name is not null && t.Id is not null)
                    .DistinctBy(t => t.Name)
                    .ToDictionary(t => t.Name!, t => t.Id!, StringComparer.Ordinal);
            }

            // A team that does not exist is left as named, for the API to say so.
            if (_teamIds.TryGetValue(team, out var id))
            {
                body["teamId"] = id;
            }
        }

        return body;
    }

    private void Warn(ManifestItem item, JsonNode? answer)
    {
        foreach (var warning in answer?["warnings"] as JsonArray ?? [])
        {
            session.Printer.Messages.WriteLine($"warning: {item.Label}: {warning}");
        }
    }

    /// <summary>Runs one item's change; an API's refusal becomes that item's failure, anything else (an unreachable server, a bad key) stops the apply.</summary>
    private static async Task<ApplyOutcome> Attempt(ManifestKind kind, string name, Func<Task<ApplyOutcome>> change)
    {
        try
        {
            return await change();
        }
        catch (CadreApiException ex) when (ex.Status != HttpStatusCode.Unauthorized)
        {
            return new ApplyOutcome(kind, name, "failed", [], ex);
        }
        catch (CliException ex) when (ex is not CadreApiException)
        {
            // Only the built-in check throws a plain CliException here; unreachable servers are not item failures.
            if (ex.ExitCode == ExitCodes.Unavailable)
            {
                throw;
            }

            return new ApplyOutcome(kind, name, "failed", [], ex);
        }
    }

    private string Collection(ManifestKind kind) => $"{session.WorkspacePath}/{kind.Path}";

    private string Item(ManifestKind kind, string name) => $"{Collection(kind)}/{CadreApiClient.Segment(name)}";
}
