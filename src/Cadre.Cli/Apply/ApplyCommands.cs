using System.CommandLine;
using System.Text.Json.Nodes;
using Cadre.Cli.Commands;
using Cadre.Cli.Output;

namespace Cadre.Cli.Apply;

/// <summary><c>cadre apply</c> and <c>cadre export</c>: a workspace's personas, workflows, skills and event types as files, and back (docs/cli.md).</summary>
internal static class ApplyCommands
{
    public static IEnumerable<Command> Create() => [Apply(), Export()];

    private static Command Apply()
    {
        var files = new Option<string[]>("--file", "-f")
        {
            Description = "A YAML or JSON file, a directory of them (recursively), or - for standard input (repeatable)",
            Required = true,
            AllowMultipleArgumentsPerToken = false,
        };
        var dryRun = new Option<bool>("--dry-run") { Description = "Show what would change, field by field, and change nothing" };
        var prune = new Option<bool>("--prune")
        {
            Description = "Also delete items of the kinds the files declare that no file declares any more (personas and workflows go to the bin)",
        };
        var mapSecret = MapOption("--map-secret", "secret");
        var mapPersona = MapOption("--map-persona", "persona");
        var mapProvider = MapOption("--map-provider", "model provider");
        var mapTeam = MapOption("--map-team", "team");
        var mappingFile = new Option<string?>("--mapping")
        {
            Description = "A YAML or JSON file of renames: {secrets: {from: to}, personas: …, providers: …, teams: …}",
        };
        var command = new Command("apply", "Make the workspace hold what the files declare: create what is missing, update what differs (by name)")
        {
            files, dryRun, prune, mapSecret, mapPersona, mapProvider, mapTeam, mappingFile,
        };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var mapping = NameMapping.From(parse.GetValue(mappingFile), parse.GetValue(mapSecret) ?? [], parse.GetValue(mapPersona) ?? [],
                parse.GetValue(mapProvider) ?? [], parse.GetValue(mapTeam) ?? []);
            var items = ManifestFiles.Read(parse.GetValue(files) ?? []).Select(mapping.Apply).ToList();
            if (items.GroupBy(i => i.Label).FirstOrDefault(g => g.Count() > 1) is { } twice)
            {
                throw new CliException(
                    $"Nothing was applied: {twice.Key} is declared more than once ({string.Join(", ", twice.Select(i => i.Source))}).", ExitCodes.Usage);
            }

            // Without a server or a workspace, say so before any request (exit 3 or 2), not once per item.
            _ = session.Workspace;
            var isDryRun = parse.GetValue(dryRun);
            var outcomes = new List<ApplyOutcome>();
            var printer = session.Printer;
            await new Applier(session, isDryRun).ApplyAsync(items, parse.GetValue(prune), outcome =>
            {
                outcomes.Add(outcome);
                Report(printer, outcome, isDryRun);
            }, cancellationToken);

            var count = (string action) => outcomes.Count(o => o.Action == action);
            if (printer.Format == OutputFormat.Table)
            {
                var failed = count("failed");
                printer.Output.WriteLine(
                    $"{count("created")} created, {count("updated")} updated, {count("unchanged")} unchanged, {count("deleted")} deleted" +
                    (failed > 0 ? $", {failed} failed" : "") + (isDryRun ? " (dry run: nothing was changed)" : ""));
            }
            else
            {
                printer.Document(new JsonObject
                {
                    ["dryRun"] = isDryRun,
                    ["items"] = new JsonArray([.. outcomes.Select(Json)]),
                    ["created"] = count("created"),
                    ["updated"] = count("updated"),
                    ["unchanged"] = count("unchanged"),
                    ["deleted"] = count("deleted"),
                    ["failed"] = count("failed"),
                });
            }

            // One kind of failure keeps its own code (5: changed meanwhile, 3: not allowed); a mix is just "failed".
            var codes = outcomes.Where(o => o.Error is not null).Select(o => o.Error!.ExitCode).Distinct().ToList();
            return codes switch
            {
                [] => ExitCodes.Success,
                [var only] => only,
                _ => ExitCodes.Failed,
            };
        });
        return command;
    }

    private static Command Export()
    {
        var directory = new Option<string?>("--dir", "-d") { Description = "Write one file per item: DIR/<kind>s/<name>.yaml" };
        var file = new Option<string?>("--file", "-f")
        {
            Description = "Write every item to one file: YAML documents, or a JSON array if it ends in .json (- or neither: standard output)",
        };
        var kinds = new Option<string[]>("--kind")
        {
            Description = "Only these kinds (repeatable): persona, workflow, skill, event-type (default: all four)",
            AllowMultipleArgumentsPerToken = false,
        };
        var command = new Command("export", "Write the workspace's personas, workflows, skills and event types as files `cadre apply` takes")
        {
            directory, file, kinds,
        };
        command.Runs(async (session, parse, cancellationToken) =>
        {
            var dir = parse.GetValue(directory);
            var path = parse.GetValue(file);
            if (dir is not null && path is not null)
            {
                throw new CliException("Give either --dir or --file, not both.", ExitCodes.Usage);
            }

            var selected = (parse.GetValue(kinds) ?? []).Select(k => ManifestKind.Find(k)
                    ?? throw new CliException($"--kind {k}: not one of persona, workflow, skill, event-type.", ExitCodes.Usage))
                .ToHashSet();
            var documents = await Exporter.ReadAsync(session, selected.Count > 0 ? selected : [.. ManifestKind.All], cancellationToken);

            if (dir is not null)
            {
                foreach (var document in documents)
                {
                    var kind = ManifestKind.Find(document["kind"]!.GetValue<string>())!;
                    var target = Path.Combine(dir, kind.Path, Exporter.FileName(document["name"]!.GetValue<string>()));
                    Write(target, ManifestYaml.Serialize(document));
                }

                session.Printer.Messages.WriteLine($"Wrote {documents.Count} files to {dir}.");
            }
            else if (path is not null && path != "-")
            {
                Write(path, path.EndsWith(".json", StringComparison.OrdinalIgnoreCase)
                    ? new JsonArray([.. documents]).ToJsonString(Api.CadreApiClient.Json) + "\n"
                    : ManifestYaml.SerializeAll(documents));
                session.Printer.Messages.WriteLine($"Wrote {documents.Count} items to {path}.");
            }
            else if (session.Printer.Format == OutputFormat.Json)
            {
                session.Printer.Document(new JsonArray([.. documents]));
            }
            else
            {
                session.Printer.Output.Write(ManifestYaml.SerializeAll(documents));
            }

            return ExitCodes.Success;
        });
        return command;
    }

    private static Option<string[]> MapOption(string name, string what) => new(name)
    {
        Description = $"Rename a {what} on the way in: from=to (repeatable)",
        AllowMultipleArgumentsPerToken = false,
    };

    private static void Report(Printer printer, ApplyOutcome outcome, bool dryRun)
    {
        if (outcome.Error is { } error)
        {
            printer.Messages.WriteLine($"error: {outcome.Label}: {error.Message}");
            return;
        }

        if (printer.Format != OutputFormat.Table)
        {
            return;
        }

        printer.Output.WriteLine($"{outcome.Label}: {outcome.Action}{(dryRun && outcome.Action != "unchanged" ? " (dry run)" : "")}");
        foreach (var change in outcome.Changes)
        {
            printer.Output.WriteLine($"  {change.Path}: {JsonComparison.Show(change.Before)} → {JsonComparison.Show(change.After)}");
        }
    }

    private static JsonObject Json(ApplyOutcome outcome) => new()
    {
        ["kind"] = outcome.Kind.Kind,
        ["name"] = outcome.Name,
        ["action"] = outcome.Action,
        ["changes"] = new JsonArray([.. outcome.Changes.Select(c => new JsonObject
        {
            ["path"] = c.Path,
            ["before"] = c.Before?.DeepClone(),
            ["after"] = c.After?.DeepClone(),
        })]),
        ["error"] = outcome.Error?.Message,
    };

    private static void Write(string path, string text)
    {
        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(path)) is { } parent)
            {
                Directory.CreateDirectory(parent);
            }

            File.WriteAllText(path, text);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CliException($"Cannot write {path}: {ex.Message}", ExitCodes.Usage);
        }
    }
}
