using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Cadre.Llm;

/// <summary>An MCP server the operator lets agents start as a local process, speaking MCP over stdio.</summary>
public sealed class StdioMcpServer
{
    /// <summary>The program, such as <c>npx</c> or <c>/opt/tools/files-mcp</c>.</summary>
    public string? Command { get; set; }

    public List<string> Args { get; } = [];

    /// <summary>Variables set for the process (its own secrets); Cadre's environment is not passed on beyond PATH and HOME.</summary>
    public Dictionary<string, string> Environment { get; } = new(StringComparer.Ordinal);

    public string? WorkingDirectory { get; set; }

    /// <summary>The workspaces (names or IDs) whose skills may use it; empty: every workspace.</summary>
    public List<string> Workspaces { get; } = [];

    public bool Allows(string workspaceId, string workspaceName) =>
        Workspaces.Count == 0 || Workspaces.Contains(workspaceId, StringComparer.Ordinal) || Workspaces.Contains(workspaceName, StringComparer.Ordinal);
}

/// <summary>
/// Section <c>Cadre:Mcp:Servers:&lt;name&gt;</c> (<c>CADRE_MCP__SERVERS__FILES__COMMAND=…</c>): stdio MCP
/// servers. Only an operator can declare one: a workspace's skill names it (<c>config.server</c>) and
/// never supplies a command, so no API caller can make the server start a program of its choosing.
/// </summary>
public sealed class McpServerOptions
{
    public const string SectionName = "Cadre:Mcp";

    public Dictionary<string, StdioMcpServer> Servers { get; } = new(StringComparer.Ordinal);

    internal static void Bind(McpServerOptions options, IConfiguration configuration) =>
        configuration.GetSection(SectionName + ":Servers").Bind(options.Servers);
}

internal sealed class McpServerOptionsValidator : IValidateOptions<McpServerOptions>
{
    public ValidateOptionsResult Validate(string? name, McpServerOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = options.Servers.Where(s => string.IsNullOrWhiteSpace(s.Value.Command))
            .Select(s => $"Cadre:Mcp:Servers:{s.Key}:Command is required: the program that runs the MCP server.")
            .Concat(options.Servers.Keys.Where(k => !SkillService.IsServerName(k)).Select(k => $"Cadre:Mcp:Servers:{k}: a server's name is lowercase letters, digits and dashes."))
            .ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
