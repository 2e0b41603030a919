using System.CommandLine;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;

namespace Cadre.Cli.Commands;

/// <summary>Makes <c>cadre &lt;resource&gt; list|get|create|update|delete|&lt;action&gt;</c> from <see cref="Resource.All"/>.</summary>
internal static class ResourceCommands
{
    private static readonly Option<int> Limit = new("--limit")
    {
        Description = "At most this many items (the pages are followed for you)",
        DefaultValueFactory = _ => 50,
    };

    private static readonly Option<bool> AllItems = new("--all") { Description = "Every item, however many pages" };

    private static readonly Option<string?> Query = new("--query", "-q") { Description = "Search (the API's `q`)" };

    private static readonly Option<string[]> Filters = new("--filter", "-F")
    {
        Description = "A filter of the API's list as name=value (repeatable): -F status=failed -F workflow=nightly",
        AllowMultipleArgumentsPerToken = false,
    };

    private static readonly Option<bool> Bin = new("--deleted") { Description = "List the bin (what was deleted and can be restored)" };

    private static readonly Option<string> File = new("--file", "-f")
    {
        Description = "The document: a JSON or YAML file, or - for standard input",
        Required = true,
    };

    private static readonly Option<string?> IfMatch = new("--if-match")
    {
        Description = "Change it only if it is still at this version (else exit 5)",
    };

    private static readonly Option<bool> Permanent = new("--permanent") { Description = "Delete for good instead of moving to the bin (admin)" };

    public static IEnumerable<Command> Create() => Resource.All.Select(Command);

    private static Command Command(Resource resource)
    {
        var command = new Command(resource.Name, resource.Description);
        if (resource.Verbs.HasFlag(Verbs.List))
        {
            command.Subcommands.Add(ListCommand(resource));
        }

        if (resource.Verbs.HasFlag(Verbs.Get))
        {
            command.Subcommands.Add(GetCommand(resource));
        }

        if (resource.Verbs.HasFlag(Verbs.Create))
        {
            command.Subcommands.Add(CreateCommand(resource));
        }

        if (resource.Verbs.HasFlag(Verbs.Update))
        {
            command.Subcommands.Add(UpdateCommand(resource));
        }

        if (resource.Verbs.HasFlag(Verbs.Delete))
        {
            command.Subcommands.Add(DeleteCommand(resource));
        }

        foreach (var action in resource.Actions ?? [])
        {
            command.Subcommands.Add(ActionCommand(resource, action));
        }

        foreach (var make in resource.More ?? [])
        {
            command.Subcommands.Add(make());
        }

        return command;
    }

    private static Argument<string> Id(Resource resource) => new(resource.Singular.Replace(' ', '-'))
    {
        Description = $"The {resource.Singular}'s name or ID",
    };

    private static Command ListCommand(Resource resource)
    {
        var command = new Command("list", $"List {resource.Name}") { Limit, AllItems, Query, Filters };
        command.Aliases.Add("ls");
        if (resource.HasBin)
        {
            command.Options.Add(Bin);
        }

        command.Runs(async (session, parse, cancellationToken) =>
        {
            var path = CollectionPath(session, resource);
            path = CadreApiClient.WithQuery(path, "q", parse.GetValue(Query));
            if (resource.HasBin && parse.GetValue(Bin))
            {
                path = CadreApiClient.WithQuery(path, "status", "deleted");
            }

            foreach (var filter in parse.GetValue(Filters) ?? [])
            {
                var (name, value) = NameValue(filter, "--filter");
                path = CadreApiClient.WithQuery(path, name, value);
            }

            var max = parse.GetValue(AllItems) ? (int?)null : parse.GetValue(Limit);
            if (max is < 1)
            {
                throw new CliException("--limit must be at least 1.", ExitCodes.Usage);
            }

            var (items, count) = await session.Api.ListAsync(path, max, cancellationToken);
            var footer = items.Count < count
                ? $"{items.Count} of {count} {resource.Name}; --all or --limit shows more."
                : null;
            session.Printer.List(items, resource.Columns, footer);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command GetCommand(Resource resource)
    {
        var id = Id(resource);
        var command = new Command("get", $"Show one {resource.Singular}") { id };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            session.Printer.Item(await session.Api.GetAsync(ItemPath(session, resource, parse.GetValue(id)!), cancellationToken));
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command CreateCommand(Resource resource)
    {
        var command = new Command("create", $"Create a {resource.Singular} from a JSON or YAML document (the API's request body)") { File };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var document = DocumentFiles.Read(parse.GetValue(File)!);
            var created = await session.Api.SendAsync(HttpMethod.Post, CollectionPath(session, resource), document, cancellationToken);
            session.Printer.Messages.WriteLine($"Created {resource.Singular} {Describe(created)}.");
            session.Printer.Item(created);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command UpdateCommand(Resource resource)
    {
        var id = Id(resource);
        var command = new Command("update", $"Change a {resource.Singular}: the document is a JSON Merge Patch (members named change, null removes)")
        {
            id, File, IfMatch,
        };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var patch = DocumentFiles.Read(parse.GetValue(File)!);
            var updated = await session.Api.SendAsync(HttpMethod.Patch, ItemPath(session, resource, parse.GetValue(id)!), patch, cancellationToken,
                IfMatchHeader(parse.GetValue(IfMatch)));
            session.Printer.Messages.WriteLine($"Updated {resource.Singular} {Describe(updated)}.");
            session.Printer.Item(updated);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command DeleteCommand(Resource resource)
    {
        var id = Id(resource);
        var command = new Command("delete", resource.HasBin ? $"Move a {resource.Singular} to the bin (--permanent: delete for good)"
            : resource.DeleteRevokes ? $"Revoke an {resource.Singular} (it stays listed, as revoked)" : $"Delete a {resource.Singular}")
        {
            id, IfMatch,
        };
        command.Aliases.Add("rm");
        if (resource.HasBin)
        {
            command.Options.Add(Permanent);
        }

        command.Runs(async (session, parse, cancellationToken) =>
        {
            var name = parse.GetValue(id)!;
            var path = ItemPath(session, resource, name);
            if (resource.HasBin && parse.GetValue(Permanent))
            {
                // Emptying the bin names what is in it, which only its ID reaches.
                var binned = await LiveOrBinnedAsync(session, resource, name, cancellationToken);
                path = CadreApiClient.WithQuery(ItemPath(session, resource, binned), "permanent", "true");
            }

            await session.Api.SendAsync(HttpMethod.Delete, path, null, cancellationToken, IfMatchHeader(parse.GetValue(IfMatch)));
            // A key's DELETE revokes it: the record stays, listed as revoked, so the message says what happened.
            session.Printer.Messages.WriteLine($"{(resource.DeleteRevokes ? "Revoked" : "Deleted")} {resource.Singular} {name}.");
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command ActionCommand(Resource resource, string action)
    {
        var id = Id(resource);
        var command = new Command(action, $"{char.ToUpperInvariant(action[0])}{action[1..]} a {resource.Singular} (POST …/{action})") { id };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var name = parse.GetValue(id)!;
            // What is in the bin has no name as far as the API's paths go: the name is looked up there.
            var target = action == "restore" ? await BinnedIdAsync(session, resource, name, cancellationToken) ?? name : name;
            var answer = await session.Api.SendAsync(HttpMethod.Post, $"{ItemPath(session, resource, target)}/{action}", null, cancellationToken);
            session.Printer.Item(answer);
            return ExitCodes.Success;
        });
        return command;
    }

    /// <summary>The ID of the most recently binned <paramref name="resource"/> called <paramref name="name"/>, or null.</summary>
    private static async Task<string?> BinnedIdAsync(CliSession session, Resource resource, string name, CancellationToken cancellationToken)
    {
        var path = CadreApiClient.WithQuery(CadreApiClient.WithQuery(CollectionPath(session, resource), "status", "deleted"), "q", name);
        var (items, _) = await session.Api.ListAsync(path, 100, cancellationToken);
        return items.FirstOrDefault(item => item["name"]?.ToString() == name)?["id"]?.ToString();
    }

    /// <summary>A live item's name as given, else the ID of a binned one of that name, else the name (for the API's 404).</summary>
    private static async Task<string> LiveOrBinnedAsync(CliSession session, Resource resource, string name, CancellationToken cancellationToken)
    {
        try
        {
            await session.Api.GetAsync(ItemPath(session, resource, name), cancellationToken);
            return name;
        }
        catch (CadreApiException ex) when (ex.Status == System.Net.HttpStatusCode.NotFound)
        {
            return await BinnedIdAsync(session, resource, name, cancellationToken) ?? name;
        }
    }

    public static string CollectionPath(CliSession session, Resource resource) =>
        resource.InWorkspace ? $"{session.WorkspacePath}/{resource.Path}" : resource.Path;

    public static string ItemPath(CliSession session, Resource resource, string id) =>
        $"{CollectionPath(session, resource)}/{CadreApiClient.Segment(id)}";

    /// <summary><c>name=value</c>, refused without the <c>=</c>.</summary>
    public static (string Name, string Value) NameValue(string text, string option)
    {
        ArgumentNullException.ThrowIfNull(text);
        var equals = text.IndexOf('=', StringComparison.Ordinal);
        return equals > 0
            ? (text[..equals], text[(equals + 1)..])
            : throw new CliException($"{option} takes name=value, not '{text}'.", ExitCodes.Usage);
    }

    private static Dictionary<string, string>? IfMatchHeader(string? version) =>
        version is null ? null : new() { ["If-Match"] = $"\"{version.Trim('"')}\"" };

    private static string Describe(JsonNode? item) =>
        item?["name"]?.ToString() ?? item?["id"]?.ToString() ?? "";

}
