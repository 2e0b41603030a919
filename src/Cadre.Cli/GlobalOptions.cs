using System.CommandLine;
using Cadre.Cli.Output;

namespace Cadre.Cli;

/// <summary>The options every command takes (recursive), each with an environment variable that stands in for it.</summary>
internal static class GlobalOptions
{
    public static readonly Option<string?> Context = new("--context")
    {
        Description = "The saved context to use (default: the current one; env CADRE_CONTEXT)",
        Recursive = true,
    };

    public static readonly Option<string?> Server = new("--server")
    {
        Description = "The server's URL, instead of the context's (env CADRE_SERVER)",
        Recursive = true,
    };

    public static readonly Option<string?> Workspace = new("--workspace", "-w")
    {
        Description = "The workspace to act in, instead of the context's (env CADRE_WORKSPACE)",
        Recursive = true,
    };

    public static readonly Option<OutputFormat> Output = new("--output", "-o")
    {
        Description = "How to print results: table, json or yaml",
        Recursive = true,
        DefaultValueFactory = _ => OutputFormat.Table,
    };

    public static void AddTo(RootCommand root)
    {
        ArgumentNullException.ThrowIfNull(root);
        root.Options.Add(Context);
        root.Options.Add(Server);
        root.Options.Add(Workspace);
        root.Options.Add(Output);
    }
}
