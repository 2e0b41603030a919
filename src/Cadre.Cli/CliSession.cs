using System.CommandLine;
using Cadre.Cli.Api;
using Cadre.Cli.Config;
using Cadre.Cli.Output;

namespace Cadre.Cli;

/// <summary>
/// What a command acts with, from the command line, then the environment, then the saved context:
/// the server, the key (never taken from the command line, where other users could read it), the workspace.
/// </summary>
internal sealed class CliSession : IDisposable
{
    private readonly Lazy<CadreApiClient> _client;
    private readonly string? _workspace;
    private readonly Uri? _server;

    private CliSession(string configPath, CliConfig config, string? contextName, Uri? server, string? key, string? workspace, Printer printer)
    {
        ConfigPath = configPath;
        Config = config;
        ContextName = contextName;
        _workspace = workspace;
        _server = server;
        Printer = printer;
        HasKey = !string.IsNullOrEmpty(key);
        _client = new Lazy<CadreApiClient>(() => new CadreApiClient(Server, key));
    }

    public string ConfigPath { get; }

    public CliConfig Config { get; }

    /// <summary>The context in use, if any.</summary>
    public string? ContextName { get; }

    public Printer Printer { get; }

    public CadreApiClient Api => _client.Value;

    /// <summary>Whether an API key was found (CADRE_KEY or the context's); without one the API answers 401.</summary>
    public bool HasKey { get; }

    /// <summary>The server to talk to; without one, nothing else matters, so this is checked first.</summary>
    public Uri Server => _server
        ?? throw new CliException("No server to talk to: run `cadre login --server URL` first, or set CADRE_SERVER.", ExitCodes.NotAllowed);

    /// <summary>The workspace to act in; a command that needs one and has none fails with how to name one.</summary>
    public string Workspace => Server is not null && _workspace is not null
        ? _workspace
        : throw new CliException("No workspace: pass --workspace NAME, set CADRE_WORKSPACE, or save one with `cadre login --workspace NAME`.", ExitCodes.Usage);

    /// <summary><c>api/v1/workspaces/{workspace}</c>, escaped, for the workspace's resources (relative to the server's URL).</summary>
    public string WorkspacePath => $"api/v1/workspaces/{CadreApiClient.Segment(Workspace)}";

    public static CliSession From(ParseResult parse, TextWriter output, TextWriter messages)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var configPath = CliConfig.DefaultPath();
        var config = CliConfig.Load(configPath);
        var contextName = parse.GetValue(GlobalOptions.Context) ?? Environment("CADRE_CONTEXT") ?? config.CurrentContext;
        CliContextEntry? context = null;
        if (contextName is not null && !config.Contexts.TryGetValue(contextName, out context) && parse.GetValue(GlobalOptions.Context) is not null)
        {
            throw new CliException($"No context named '{contextName}' in {configPath}; `cadre contexts list` shows the saved ones.", ExitCodes.Usage);
        }

        var serverText = parse.GetValue(GlobalOptions.Server) ?? Environment("CADRE_SERVER") ?? context?.Server;
        var key = Environment("CADRE_KEY") ?? context?.Key;
        var workspace = parse.GetValue(GlobalOptions.Workspace) ?? Environment("CADRE_WORKSPACE") ?? context?.Workspace;
        var printer = new Printer(output, messages, parse.GetValue(GlobalOptions.Output));
        return new CliSession(configPath, config, context is null ? null : contextName, serverText is null ? null : ParseServer(serverText), key, workspace, printer);
    }

    /// <summary>A server URL as given (<c>localhost:5080</c> means http), refused if it is not http(s).</summary>
    public static Uri ParseServer(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var withScheme = text.Contains("://", StringComparison.Ordinal) ? text : "http://" + text;
        if (!Uri.TryCreate(withScheme, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https"))
        {
            throw new CliException($"'{text}' is not a server URL (http:// or https://).", ExitCodes.Usage);
        }

        // A path is kept (a server behind a proxy at /cadre/): the API's paths are resolved relative to it.
        var path = uri.AbsolutePath.EndsWith('/') ? uri.AbsolutePath : uri.AbsolutePath + "/";
        return new Uri(uri.GetLeftPart(UriPartial.Authority) + path);
    }

    public void Dispose()
    {
        if (_client.IsValueCreated)
        {
            _client.Value.Dispose();
        }
    }

    private static string? Environment(string name) =>
        System.Environment.GetEnvironmentVariable(name) is { Length: > 0 } value ? value : null;
}
