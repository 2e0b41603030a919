using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cadre.Cli.Output;
using Cadre.Server.Hosting;

namespace Cadre.Cli.Commands;

/// <summary>
/// What runs on the server's own machine rather than over HTTP: <c>cadre server</c> (the server itself),
/// <c>cadre db status|migrate</c> and <c>cadre admin create-key|list-keys|revoke-key</c> on the database the
/// server's settings name, and <c>cadre completion</c> for shells.
/// </summary>
internal static class OperatorCommands
{
    private static readonly Option<string?> Database = new("--database")
    {
        Description = "The database, as CADRE_DATABASE takes it: sqlite, sqlite:PATH, a postgres:// URL or a connection string (default: the server's settings)",
        Recursive = true,
    };

    private static readonly Option<string?> DataDir = new("--data-dir")
    {
        Description = "The server's data directory, holding cadre.db with the default database (default: CADRE_DATA_DIR, else ./data)",
        Recursive = true,
    };

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };

    public static IEnumerable<Command> Create() => [Server(), Db(), Admin(), CompletionCommand.Create()];

    private static Command Server()
    {
        var command = new Command("server",
            "Run the Cadre server here, the same host as Cadre.Server: every argument goes to it (--urls http://0.0.0.0:8080, --Cadre:Database=…)")
        {
            // The server's own arguments (--urls, --Cadre:…=…) are not this command's options: pass them on as they are.
            TreatUnmatchedTokensAsErrors = false,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // The host stops itself on SIGINT and SIGTERM and takes the time a graceful stop needs (hands back
            // leased tasks): System.CommandLine must not end the process first. Set before the first await,
            // which is before System.CommandLine reads it.
            parse.InvocationConfiguration.ProcessTerminationTimeout = null;
            return await CadreHost.RunAsync([.. parse.UnmatchedTokens], cancellationToken);
        });
        return command;
    }

    private static Command Db()
    {
        var status = new Command("status", "The database's schema version against this build's, the migrations it lacks, and whether this build can run on it (exit 1 if not)");
        status.OnDatabase(async (cadre, printer, _, cancellationToken) =>
        {
            var state = await cadre.GetStatusAsync(cancellationToken);
            if (printer.Format != OutputFormat.Table)
            {
                printer.Document(JsonSerializer.SerializeToNode(state, Json));
            }
            else
            {
                PrintStatus(printer.Output, state);
            }

            if (state.Problem is { } problem)
            {
                throw new CliException(problem);
            }

            return ExitCodes.Success;
        });

        var migrate = new Command("migrate", "Create the database if needed and apply the migrations it lacks, as the server does when it starts (nothing to apply is success)");
        migrate.OnDatabase(async (cadre, printer, _, cancellationToken) =>
        {
            var table = printer.Format == OutputFormat.Table;
            var result = await cadre.MigrateAsync(
                table ? applied => printer.Output.WriteLine($"Applied migration {applied.Version} ({applied.Name})") : null, cancellationToken);
            if (!table)
            {
                printer.Document(JsonSerializer.SerializeToNode(result, Json));
            }
            else if (result.Applied.Count == 0)
            {
                printer.Output.WriteLine($"Nothing to apply: {result.Database} is at schema version {result.Version}{Against(result.Version, result.LatestVersion)}.");
            }
            else
            {
                printer.Output.WriteLine($"{result.Database} is at schema version {result.Version} (was {result.FromVersion}).");
            }

            return ExitCodes.Success;
        });

        return new Command("db", "The server's database, on this machine: schema version and migrations (settings as the server's: CADRE_DATABASE, CADRE_DATA_DIR)")
        {
            Options = { Database, DataDir },
            Subcommands = { status, migrate },
        };
    }

    private static Command Admin()
    {
        var name = new Option<string?>("--name") { Description = "What the key is for, shown in lists and the audit log (default: `Admin key from cadre admin create-key`)" };
        var create = new Command("create-key", "Add an instance admin key (owner of every workspace) directly in the database, for an operator who lost theirs; prints it once on standard output")
        {
            name,
        };
        create.OnDatabase(async (cadre, printer, parse, cancellationToken) =>
        {
            var created = await cadre.CreateInstanceKeyAsync(parse.GetValue(name) ?? "Admin key from cadre admin create-key", cancellationToken);
            if (printer.Format != OutputFormat.Table)
            {
                var document = JsonSerializer.SerializeToNode(created.Key, Json)!.AsObject();
                document["key"] = created.Secret;
                printer.Document(document);
            }
            else
            {
                printer.Output.WriteLine(created.Secret);
            }

            printer.Messages.WriteLine(
                $"Added instance admin key {created.Key.Id} ({created.Key.Name}) to {cadre.Database}. It is shown this once: Cadre keeps only its hash. " +
                $"Revoke it with `cadre admin revoke-key {created.Key.Id}`.");
            return ExitCodes.Success;
        });

        var list = new Command("list-keys", "The instance admin keys (never their secrets), revoked ones too");
        list.OnDatabase(async (cadre, printer, _, cancellationToken) =>
        {
            var keys = await cadre.ListInstanceKeysAsync(cancellationToken);
            printer.List([.. keys.Select(key => JsonSerializer.SerializeToNode(key, Json)!)],
            [
                Column.Of("ID", "id"), Column.Of("NAME", "name"), Column.Of("PREFIX", "prefix"), Column.Of("STATUS", "status"),
                Column.Of("CREATED", "createdAt"), Column.Of("LAST USED", "lastUsedAt"),
            ]);
            return ExitCodes.Success;
        });

        var id = new Argument<string>("id") { Description = "The key's ID (key_…), as `cadre admin list-keys` shows it" };
        var revoke = new Command("revoke-key", "Revoke an instance admin key: the next request with it is refused") { id };
        revoke.OnDatabase(async (cadre, printer, parse, cancellationToken) =>
        {
            var key = await cadre.RevokeInstanceKeyAsync(parse.GetValue(id)!, cancellationToken);
            if (printer.Format != OutputFormat.Table)
            {
                printer.Document(JsonSerializer.SerializeToNode(key, Json));
            }

            printer.Messages.WriteLine($"Instance admin key {key.Id} ({key.Name}) is revoked since {key.RevokedAt:u}.");
            return ExitCodes.Success;
        });

        return new Command("admin", "Instance admin keys, directly in the server's database on this machine (settings as the server's: CADRE_DATABASE, CADRE_DATA_DIR)")
        {
            Options = { Database, DataDir },
            Subcommands = { create, list, revoke },
        };
    }

    /// <summary>Runs an operator command on the database the settings name; a failure is one line and its exit code.</summary>
    private static void OnDatabase(this Command command, Func<CadreOperator, Printer, ParseResult, CancellationToken, Task<int>> action)
    {
        command.SetAction(async (parse, cancellationToken) =>
        {
            var printer = new Printer(Console.Out, Console.Error, parse.GetValue(GlobalOptions.Output));
            try
            {
                await using var cadre = CadreOperator.Create(ServerArguments(parse));
                return await action(cadre, printer, parse, cancellationToken);
            }
            catch (CadreOperatorException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ExitCodeFor(ex.Failure);
            }
            catch (CliException ex)
            {
                await Console.Error.WriteLineAsync($"error: {ex.Message}");
                return ex.ExitCode;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return 130;
            }
        });
    }

    /// <summary>--database and --data-dir as the server's command line takes them, above every other source.</summary>
    private static IEnumerable<string> ServerArguments(ParseResult parse)
    {
        if (parse.GetValue(Database) is { } database)
        {
            yield return $"--Cadre:Database={database}";
        }

        if (parse.GetValue(DataDir) is { } dataDir)
        {
            yield return $"--Cadre:DataDir={dataDir}";
        }
    }

    private static int ExitCodeFor(OperatorFailure failure) => failure switch
    {
        OperatorFailure.Settings or OperatorFailure.Invalid => ExitCodes.Usage,
        OperatorFailure.Unreachable => ExitCodes.Unavailable,
        OperatorFailure.NotFound => ExitCodes.NotFound,
        _ => ExitCodes.Failed,
    };

    private static void PrintStatus(TextWriter output, DatabaseStatus state)
    {
        var pending = state.Pending.Count;
        var migrations = pending == 1 ? "1 migration" : $"{pending} migrations";
        output.WriteLine($"Database:       {state.Database}");
        output.WriteLine(state.Exists
            ? $"Schema version: {state.CurrentVersion}{Against(state.CurrentVersion, state.LatestVersion)}"
            : $"Schema version: none, the database does not exist (this build's is {state.LatestVersion})");
        output.WriteLine("State:          " + state.State switch
        {
            DatabaseStates.NotCreated => $"not created yet; `cadre db migrate` (or the server, when it starts) creates it and applies {migrations}",
            DatabaseStates.Empty => $"empty; `cadre db migrate` (or the server, when it starts) applies {migrations}",
            DatabaseStates.Behind => $"{migrations} pending; `cadre db migrate` (or the server, when it starts) applies them: back up first",
            DatabaseStates.UpToDate => "up to date; this build runs on it",
            DatabaseStates.Ahead => "newer than this build, by migrations compatible with it; this build runs on it (finish the upgrade)",
            _ => "this build cannot run on it",
        });
        if (pending > 0 && state.CanRun)
        {
            output.WriteLine("Pending:");
            foreach (var migration in state.Pending)
            {
                output.WriteLine($"  {migration.Version,4}  {migration.Name}");
            }
        }
    }

    private static string Against(int version, int latest) => version == latest
        ? " (this build's latest)"
        : $" (this build's is {latest})";
}
