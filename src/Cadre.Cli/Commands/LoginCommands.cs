using System.CommandLine;
using System.Text.Json.Nodes;
using Cadre.Cli.Api;
using Cadre.Cli.Config;
using Cadre.Cli.Output;
using Spectre.Console;

namespace Cadre.Cli.Commands;

/// <summary><c>cadre login</c>, <c>logout</c>, <c>whoami</c> and <c>contexts</c>: the saved servers and keys.</summary>
internal static class LoginCommands
{
    public static IEnumerable<Command> Create() => [Login(), Logout(), WhoAmI(), Contexts()];

    private static Command Login()
    {
        var name = new Option<string?>("--name") { Description = "The context's name (default: `default`)" };
        var keyFromStdin = new Option<bool>("--key-stdin")
        {
            Description = "Read the API key from standard input (else CADRE_KEY, else a prompt); never pass a key as an argument",
        };
        var command = new Command("login", "Check an API key against a server and save both as a context (in a file only you can read)")
        {
            name, keyFromStdin,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            try
            {
                var serverText = parse.GetValue(GlobalOptions.Server) ?? Environment.GetEnvironmentVariable("CADRE_SERVER");
                var url = CliSession.ParseServer(string.IsNullOrEmpty(serverText)
                    ? throw new CliException("Which server? `cadre login --server URL`.", ExitCodes.Usage)
                    : serverText);
                var key = ReadKey(parse.GetValue(keyFromStdin));
                using var client = new CadreApiClient(url, key);
                var me = await client.GetAsync("api/v1/me", cancellationToken) as JsonObject
                    ?? throw new CliException($"{url} answered /api/v1/me with nothing.");
                var workspaces = (me["workspaces"] as JsonArray ?? []).Select(w => w?["name"]?.ToString()).OfType<string>().ToList();
                // --workspace saves the workspace commands act in unless told; by default the key's only one, if it has one.
                var chosen = parse.GetValue(GlobalOptions.Workspace) ?? (workspaces.Count == 1 ? workspaces[0] : null);

                var path = CliConfig.DefaultPath();
                var config = CliConfig.Load(path);
                var contextName = parse.GetValue(name) ?? "default";
                config.Contexts[contextName] = new CliContextEntry { Server = url.ToString(), Key = key, Workspace = chosen };
                config.CurrentContext = contextName;
                config.Save(path);

                var who = me["actor"]?["name"]?.ToString() ?? me["actor"]?["id"]?.ToString() ?? "?";
                await Console.Error.WriteLineAsync(
                    $"Logged in to {url} as {who}; saved as context '{contextName}' in {path}" +
                    (chosen is null ? "." : $", workspace '{chosen}'."));
                return ExitCodes.Success;
            }
            catch (CliException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ex.ExitCode;
            }
        });
        return command;
    }

    private static string ReadKey(bool fromStdin)
    {
        string? key;
        if (fromStdin)
        {
            key = Console.In.ReadLine();
        }
        else if (Environment.GetEnvironmentVariable("CADRE_KEY") is { Length: > 0 } fromEnvironment)
        {
            key = fromEnvironment;
        }
        else if (!Console.IsInputRedirected)
        {
            key = AnsiConsole.Prompt(new TextPrompt<string>("API key:").Secret());
        }
        else
        {
            throw new CliException("No API key: pass --key-stdin and pipe it in, or set CADRE_KEY.", ExitCodes.Usage);
        }

        return string.IsNullOrWhiteSpace(key)
            ? throw new CliException("The API key is empty.", ExitCodes.Usage)
            : key.Trim();
    }

    private static Command Logout()
    {
        var command = new Command("logout", "Forget the current context (or --context NAME) and its key");
        command.Runs((session, parse, _) =>
        {
            var name = session.ContextName
                ?? throw new CliException("No context to log out of.", ExitCodes.Usage);
            session.Config.Contexts.Remove(name);
            if (session.Config.CurrentContext == name)
            {
                session.Config.CurrentContext = null;
            }

            session.Config.Save(session.ConfigPath);
            session.Printer.Messages.WriteLine($"Forgot context '{name}'.");
            return Task.FromResult(ExitCodes.Success);
        });
        return command;
    }

    private static Command WhoAmI()
    {
        var command = new Command("whoami", "Who the key is, and its workspaces and roles");
        command.Runs(async (session, _, cancellationToken) =>
        {
            var me = await session.Api.GetAsync("api/v1/me", cancellationToken);
            if (session.Printer.Format != OutputFormat.Table)
            {
                session.Printer.Document(me);
                return ExitCodes.Success;
            }

            session.Printer.Output.WriteLine($"{me?["actor"]?["name"]} ({me?["actor"]?["kind"]}) at {session.Api.Server}");
            session.Printer.List([.. (me?["workspaces"] as JsonArray ?? []).OfType<JsonNode>()],
                [Column.Of("WORKSPACE", "name"), Column.Of("ROLE", "role")]);
            return ExitCodes.Success;
        });
        return command;
    }

    private static Command Contexts()
    {
        var list = new Command("list", "The saved contexts; * marks the current one");
        list.Runs((session, _, _) =>
        {
            var rows = session.Config.Contexts.Select(pair => (JsonNode)new JsonObject
            {
                ["current"] = pair.Key == session.Config.CurrentContext ? "*" : "",
                ["name"] = pair.Key,
                ["server"] = pair.Value.Server,
                ["workspace"] = pair.Value.Workspace,
            }).ToList();
            session.Printer.List(rows, [Column.Of("", "current"), Column.Of("NAME", "name"), Column.Of("SERVER", "server"), Column.Of("WORKSPACE", "workspace")]);
            return Task.FromResult(ExitCodes.Success);
        });

        var useName = new Argument<string>("name") { Description = "The context to make current" };
        var use = new Command("use", "Make a saved context the current one") { useName };
        use.Runs((session, parse, _) =>
        {
            var name = parse.GetValue(useName)!;
            if (!session.Config.Contexts.ContainsKey(name))
            {
                throw new CliException($"No context named '{name}'; `cadre contexts list` shows the saved ones.", ExitCodes.NotFound);
            }

            session.Config.CurrentContext = name;
            session.Config.Save(session.ConfigPath);
            session.Printer.Messages.WriteLine($"Now using context '{name}'.");
            return Task.FromResult(ExitCodes.Success);
        });

        var deleteName = new Argument<string>("name") { Description = "The context to forget" };
        var delete = new Command("delete", "Forget a saved context and its key") { deleteName };
        delete.Runs((session, parse, _) =>
        {
            var name = parse.GetValue(deleteName)!;
            if (!session.Config.Contexts.Remove(name))
            {
                throw new CliException($"No context named '{name}'.", ExitCodes.NotFound);
            }

            if (session.Config.CurrentContext == name)
            {
                session.Config.CurrentContext = null;
            }

            session.Config.Save(session.ConfigPath);
            session.Printer.Messages.WriteLine($"Forgot context '{name}'.");
            return Task.FromResult(ExitCodes.Success);
        });

        return new Command("contexts", "Saved servers and keys (`cadre login` adds one)") { list, use, delete };
    }
}
