using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Cadre.Cli.Commands;

namespace Cadre.Cli.Apply;

/// <summary>
/// Renames applied to the files before anything is compared or sent, so definitions move between workspaces
/// (dev → prod) whose personas, secrets, providers and teams are named differently. The places renamed are
/// the ones the server's workflow import renames (docs/workflows.md), plus providers and the personas' own names.
/// </summary>
internal sealed partial class NameMapping
{
    public static readonly IReadOnlyList<string> Sections = ["secrets", "personas", "providers", "teams"];

    public Dictionary<string, string> Secrets { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Personas { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Providers { get; } = new(StringComparer.Ordinal);

    public Dictionary<string, string> Teams { get; } = new(StringComparer.Ordinal);

    /// <summary>A mapping file's (<c>{secrets: {from: to}, personas: …, providers: …, teams: …}</c>), then the options, which win.</summary>
    public static NameMapping From(string? file, IEnumerable<string> secrets, IEnumerable<string> personas, IEnumerable<string> providers, IEnumerable<string> teams)
    {
        var mapping = new NameMapping();
        if (file is not null)
        {
            if (DocumentFiles.Read(file) is not JsonObject sections)
            {
                throw new CliException($"{file} must be an object: {{secrets: {{from: to}}, personas: …, providers: …, teams: …}}.", ExitCodes.Usage);
            }

            foreach (var (section, names) in sections)
            {
                var target = mapping.Section(section)
                    ?? throw new CliException($"{file}: '{section}' is not one of {string.Join(", ", Sections)}.", ExitCodes.Usage);
                foreach (var (from, to) in names as JsonObject ?? throw new CliException($"{file}: {section} must map names to names.", ExitCodes.Usage))
                {
                    target[from] = to is JsonValue value && value.TryGetValue<string>(out var name) && name.Length > 0
                        ? name
                        : throw new CliException($"{file}: {section}.{from} must be a name.", ExitCodes.Usage);
                }
            }
        }

        Add(mapping.Secrets, secrets, "--map-secret");
        Add(mapping.Personas, personas, "--map-persona");
        Add(mapping.Providers, providers, "--map-provider");
        Add(mapping.Teams, teams, "--map-team");
        return mapping;
    }

    /// <summary>The item with its names mapped (a copy): a persona's own name and provider, a workflow's references, templates' secret reads.</summary>
    public ManifestItem Apply(ManifestItem item)
    {
        ArgumentNullException.ThrowIfNull(item);
        var body = item.Body.DeepClone().AsObject();
        var name = item.Name;
        if (item.Kind == ManifestKind.Persona)
        {
            RenameValue(body, "name", Personas);
            RenameValue(body["model"] as JsonObject, "provider", Providers);
        }
        else if (item.Kind == ManifestKind.Workflow)
        {
            RenameWorkflow(body);
        }

        if (item.Kind != ManifestKind.EventType)
        {
            RenameSecretReads(body);
        }

        if (body["name"] is JsonValue value && value.TryGetValue<string>(out var renamed))
        {
            name = renamed;
        }

        return item with { Name = name, Body = body };
    }

    private Dictionary<string, string>? Section(string name) => name switch
    {
        "secrets" => Secrets,
        "personas" => Personas,
        "providers" => Providers,
        "teams" => Teams,
        _ => null,
    };

    private static void Add(Dictionary<string, string> target, IEnumerable<string> pairs, string option)
    {
        foreach (var pair in pairs)
        {
            var (from, to) = ResourceCommands.NameValue(pair, option);
            target[from] = to.Length > 0 ? to : throw new CliException($"{option} takes from=to, not '{pair}'.", ExitCodes.Usage);
        }
    }

    private void RenameWorkflow(JsonObject spec)
    {
        RenameValue(spec, "executingAgent", Personas);
        RenameValue(spec, "teamId", Teams);
        foreach (var step in (spec["steps"] as JsonArray ?? []).OfType<JsonObject>())
        {
            if (step["input"] is JsonObject input)
            {
                RenameValue(input, "persona", Personas);
                RenameValue(input["model"] as JsonObject, "provider", Providers);
            }
        }

        foreach (var stage in new[] { "designer", "checker", "optimizer" })
        {
            if (spec["personaPipeline"]?[stage] is JsonObject pipelineStage)
            {
                RenameValue(pipelineStage, "persona", Personas);
                RenameValue(pipelineStage["model"] as JsonObject, "provider", Providers);
            }
        }

        if (spec["credentials"] is JsonObject credentials)
        {
            foreach (var name in credentials.Select(c => c.Key).ToList())
            {
                RenameValue(credentials, name, Secrets);
            }
        }

        RenameValue(spec["repository"] as JsonObject, "repoTokenSecret", Secrets);
        RenameValue(spec["notifications"] as JsonObject, "signingSecret", Secrets);
        if (spec["trigger"]?["webhook"]?["signature"]?["secrets"] is JsonArray signing)
        {
            for (var i = 0; i < signing.Count; i++)
            {
                if (signing[i] is JsonValue value && value.TryGetValue<string>(out var current) && Secrets.TryGetValue(current, out var renamed))
                {
                    signing[i] = renamed;
                }
            }
        }
    }

    private static void RenameValue(JsonObject? owner, string member, Dictionary<string, string> names)
    {
        if (owner?[member] is JsonValue value && value.TryGetValue<string>(out var current) && names.TryGetValue(current, out var renamed))
        {
            owner[member] = renamed;
        }
    }

    // Templates read secrets as secrets.name or secrets['name'], in any string that holds a template (workflows, skills' requests).
    private void RenameSecretReads(JsonNode? node)
    {
        if (Secrets.Count == 0)
        {
            return;
        }

        switch (node)
        {
            case JsonObject obj:
                foreach (var key in obj.Select(m => m.Key).ToList())
                {
                    if (Template(obj[key]) is { } text)
                    {
                        obj[key] = RenameSecretReads(text);
                    }
                    else
                    {
                        RenameSecretReads(obj[key]);
                    }
                }

                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    if (Template(array[i]) is { } text)
                    {
                        array[i] = RenameSecretReads(text);
                    }
                    else
                    {
                        RenameSecretReads(array[i]);
                    }
                }

                break;
        }
    }

    private static string? Template(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) && text.Contains("{{", StringComparison.Ordinal) ? text : null;

    private string RenameSecretReads(string text) => SecretRead().Replace(text, match =>
    {
        var name = match.Groups["name"];
        if (!Secrets.TryGetValue(name.Value, out var renamed))
        {
            return match.Value;
        }

        // secrets.dev_key renamed to prod-key must become secrets['prod-key']: a dash cannot follow a dot.
        if (!match.Value.Contains('[', StringComparison.Ordinal) && !Identifier().IsMatch(renamed))
        {
            return $"secrets['{renamed}']";
        }

        // Only the name is replaced, by position: a secret called `s` must not rename the `s`s of `secrets`.
        return string.Concat(match.Value.AsSpan(0, name.Index - match.Index), renamed, match.Value.AsSpan(name.Index - match.Index + name.Length));
    });

    // The same pattern as the server's import (WorkflowTransferService), so both rename the same reads.
    [GeneratedRegex(@"\bsecrets\s*(?:\.\s*(?<name>[A-Za-z_$][A-Za-z0-9_$]*)|\[\s*['""](?<name>[^'""]+)['""]\s*\])", RegexOptions.CultureInvariant)]
    private static partial Regex SecretRead();

    [GeneratedRegex("^[A-Za-z_$][A-Za-z0-9_$]*$", RegexOptions.CultureInvariant)]
    private static partial Regex Identifier();
}
