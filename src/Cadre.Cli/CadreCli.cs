using System.CommandLine;
using Cadre.Cli.Commands;

namespace Cadre.Cli;

/// <summary>The <c>cadre</c> command's entry point: the command tree, then System.CommandLine parses and invokes.</summary>
internal static class CadreCli
{
    public static async Task<int> Main(string[] args)
    {
        var root = CreateRootCommand();
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            // System.CommandLine would answer 1, which here means "ran and failed": a wrong command line is 2.
            foreach (var error in parse.Errors)
            {
                await Console.Error.WriteLineAsync($"error: {error.Message}");
            }

            await Console.Error.WriteLineAsync($"See `{string.Join(' ', CommandPath(parse.CommandResult.Command, root))} --help`.");
            return ExitCodes.Usage;
        }

        return await parse.InvokeAsync();
    }

    public static RootCommand CreateRootCommand()
    {
        var root = new RootCommand("cadre: manage Cadre's personas, workflows and runs from a terminal, serve them over MCP, or run the server.");
        GlobalOptions.AddTo(root);
        IEnumerable<Command>[] groups =
        [
            LoginCommands.Create(),
            ResourceCommands.Create(),
            Apply.ApplyCommands.Create(),
            Mcp.McpCommands.Create(),
            RunCommands.Create(),
            OperatorCommands.Create(),
        ];
        foreach (var command in groups.SelectMany(group => group))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }

    /// <summary><c>cadre personas list</c>: the names from the root down to <paramref name="command"/>.</summary>
    private static List<string> CommandPath(Command command, RootCommand root)
    {
        var names = new List<string>();
        for (Command? current = command; current is not null && current != root; current = current.Parents.OfType<Command>().FirstOrDefault())
        {
            names.Insert(0, current.Name);
        }

        names.Insert(0, "cadre");
        return names;
    }
}
