using System.CommandLine;
using Microsoft.Extensions.Logging;
using ModelContextProtocol.Protocol;
using ModelContextProtocol.Server;

namespace Cadre.Cli.Mcp;

/// <summary>
/// <c>cadre mcp</c>: an MCP server over standard input and output for one workspace, so an assistant (Claude
/// Desktop, Cursor, any MCP client) can find personas and workflows, start runs, follow them, decide approvals and
/// send events. It is a client of the API with the configured key, not a side door: the API decides what the key
/// may do, and its refusals are the tools' errors. docs/cli.md, "The MCP server".
/// </summary>
internal static class McpCommands
{
    public static IEnumerable<Command> Create() => [Mcp()];

    private static Command Mcp()
    {
        var command = new Command("mcp",
            "Serve the workspace to an AI assistant over MCP on standard input and output (tools for personas, workflows, runs, approvals, events; resources for cards and definitions)");
        command.SetAction(async (parse, cancellationToken) =>
        {
            // Standard output carries the protocol and nothing else: whatever else writes to the console goes to
            // standard error. The transport writes to the standard output stream itself, not through Console.Out.
            Console.SetOut(Console.Error);
            try
            {
                using var session = CliSession.From(parse, Console.Error, Console.Error);
                await CheckAsync(session, cancellationToken);
                await ServeAsync(session, cancellationToken);
                return ExitCodes.Success;
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
        return command;
    }

    /// <summary>
    /// Fails at the start, with the reason on standard error, when there is nothing to serve: no server, no key, no
    /// workspace, or one the key cannot see. An assistant's client shows that log; a server that started anyway
    /// would only fail every call.
    /// </summary>
    private static async Task CheckAsync(CliSession session, CancellationToken cancellationToken)
    {
        // Each of these throws, saying how to name what is missing.
        _ = session.Server;
        if (!session.HasKey)
        {
            throw new CliException("No API key: set CADRE_KEY (in the MCP client's \"env\"), or save one with `cadre login`.", ExitCodes.NotAllowed);
        }

        var workspace = session.Workspace;
        try
        {
            await session.Api.GetAsync(session.WorkspacePath, cancellationToken);
        }
        catch (CliException ex)
        {
            throw new CliException($"Cannot serve workspace '{workspace}' from {session.Server}: {ex.Message}", ex.ExitCode);
        }
    }

    private static async Task ServeAsync(CliSession session, CancellationToken cancellationToken)
    {
        using var logging = LoggerFactory.Create(builder => builder
            .SetMinimumLevel(LogLevel.Warning)
            .AddConsole(console => console.LogToStandardErrorThreshold = LogLevel.Trace));
        var resources = new CadreMcpResources(session);
        var options = new McpServerOptions
        {
            ServerInfo = new Implementation
            {
                Name = "cadre",
                Title = "Cadre",
                Version = typeof(McpCommands).Assembly.GetName().Version?.ToString(3) ?? "0.0.0",
            },
            ServerInstructions =
                $"Cadre workspace '{session.Workspace}' at {session.Server}. Personas are AI assistants; workflows are durable steps " +
                "that put them to work. Find a workflow (list_workflows, get_workflow), start it (start_run), follow its run (get_run, " +
                "get_run_events), decide the approvals it waits for (list_approvals, decide_approval), or send an event that starts the " +
                "workflows listening for its type (send_event). What the API key's role does not allow is refused with the API's reason.",
            ToolCollection = [.. new CadreMcpTools(session).All()],
            Handlers = new McpServerHandlers
            {
                ListResourcesHandler = resources.ListAsync,
                ListResourceTemplatesHandler = CadreMcpResources.ListTemplatesAsync,
                ReadResourceHandler = resources.ReadAsync,
            },
        };
        await using var server = McpServer.Create(new StdioServerTransport(options, logging), options, logging);
        await server.RunAsync(cancellationToken);
    }
}
