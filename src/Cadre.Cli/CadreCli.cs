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
            OperatorCommands.Create(),
        ];
        foreach (var command in groups.SelectMany(group => group))
        {
            root.Subcommands.Add(command);
        }

        return root;
    }
}
