using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;

namespace Cadre.Cli.Apply;

/// <summary>
/// Reads a workspace's items as the documents <c>cadre apply</c> takes: <c>kind</c>, then the resource's fields
/// without what the server manages (IDs, versions, who and when, status, warnings), so applying an export to
/// the same workspace changes nothing and applying it to another makes equal items.
/// </summary>
internal static class Exporter
{
    /// <summary>Members the server sets, never part of a create body.</summary>
    private static readonly HashSet<string> ServerManaged = new(StringComparer.Ordinal)
    {
        "id", "workspaceId", "version", "status", "warnings", "builtIn", "webhookPath", "authHeader",
        "createdAt", "createdBy", "updatedAt", "updatedBy", "deletedAt", "deletedBy",
    };

    public static async Task<List<JsonObject>> ReadAsync(CliSession session, IReadOnlyCollection<ManifestKind> kinds, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(session);
        ArgumentNullException.ThrowIfNull(kinds);
        var documents = new List<JsonObject>();
        foreach (var kind in ManifestKind.All.Where(kinds.Contains))
        {
            var collection = $"{session.WorkspacePath}/{kind.Path}";
            IEnumerable<JsonNode> items;
            if (kind == ManifestKind.Workflow)
            {
                // The export names personas and the team, where the stored definition may hold their IDs.
                items = ((await session.Api.GetAsync($"{collection}/export", cancellationToken))?["workflows"] as JsonArray ?? [])
                    .OfType<JsonNode>();
            }
            else if (kind == ManifestKind.Persona)
            {
                // Lists show summaries; the whole persona is one GET each.
                var (summaries, _) = await session.Api.ListAsync(collection, null, cancellationToken);
                var personas = new List<JsonNode>();
                foreach (var name in summaries.Select(s => s["name"]?.GetValue<string>()).OfType<string>())
                {
                    personas.Add(await session.Api.GetAsync($"{collection}/{CadreApiClient.Segment(name)}", cancellationToken)
                        ?? throw new CliException($"{collection}/{name} answered nothing."));
                }

                items = personas;
            }
            else
            {
                var path = kind == ManifestKind.EventType ? CadreApiClient.WithQuery(collection, "builtIn", "false") : collection;
                items = (await session.Api.ListAsync(path, null, cancellationToken)).Items;
            }

            foreach (var item in items.OfType<JsonObject>()
                         .Where(item => item["builtIn"]?.GetValue<bool>() != true)
                         .OrderBy(item => item["name"]?.GetValue<string>(), StringComparer.Ordinal))
            {
                if (kind == ManifestKind.Skill && item["authHeader"]?.GetValue<string>() is { } header)
                {
                    session.Printer.Messages.WriteLine(
                        $"note: skill/{item["name"]}: its {header} header's value is write-only and not exported; " +
                        "add auth: {header, value} to the file, or send it from a secret in config.headers.");
                }

                documents.Add(Document(kind, item));
            }
        }

        return documents;
    }

    /// <summary><c>kind</c> and <c>name</c> first, then the fields as the API orders them, without server-managed members and nulls.</summary>
    private static JsonObject Document(ManifestKind kind, JsonObject item)
    {
        var document = new JsonObject { ["kind"] = kind.Kind, ["name"] = item["name"]?.DeepClone() };
        var skipGraph = kind == ManifestKind.Workflow && IsAutomaticLayout(item);
        foreach (var (name, value) in item)
        {
            if (name == "graph" && skipGraph)
            {
                continue;
            }

            if (name != "name" && !ServerManaged.Contains(name) && WithoutNulls(value) is { } kept)
            {
                document[kind == ManifestKind.Skill && name == "kind" ? ManifestKind.SkillKind : name] = kept;
            }
        }

        return document;
    }

    /// <summary>
    /// Whether a workflow's graph is the layout the server makes by itself from the steps. Such a graph is left
    /// out of the file: the server lays the steps out again, so a step can be added in the file without drawing
    /// it. A layout someone arranged in the builder is kept.
    /// </summary>
    private static bool IsAutomaticLayout(JsonObject workflow)
    {
        if (workflow["graph"] is not JsonObject graph || workflow["steps"] is not JsonArray steps)
        {
            return false;
        }

        try
        {
            var options = Cadre.Common.StrictJson.Options;
            var laidOut = Cadre.Workflows.WorkflowGraphs.Layout(steps.Deserialize<List<Cadre.Workflows.WorkflowStep>>(options) ?? []);
            return JsonSerializer.Serialize(laidOut, options) == JsonSerializer.Serialize(graph.Deserialize<Cadre.Workflows.WorkflowGraph>(options), options);
        }
        catch (JsonException)
        {
            // A shape this CLI does not know (a newer server): keep the graph, which is always right.
            return false;
        }
    }

    // A null member says nothing a file needs to say: apply leaves undeclared members alone.
    private static JsonNode? WithoutNulls(JsonNode? node) => node switch
    {
        null => null,
        JsonObject obj => new JsonObject(obj
            .Select(pair => KeyValuePair.Create(pair.Key, WithoutNulls(pair.Value)))
            .Where(pair => pair.Value is not null)),
        _ => node.DeepClone(),
    };

    /// <summary>A name as a file name: characters that file systems refuse (<c>:</c> on Windows, <c>/</c>) become <c>_</c>.</summary>
    public static string FileName(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var invalid = Path.GetInvalidFileNameChars().Append(':').ToHashSet();
        return string.Concat(name.Select(c => invalid.Contains(c) ? '_' : c)) + ".yaml";
    }
}
