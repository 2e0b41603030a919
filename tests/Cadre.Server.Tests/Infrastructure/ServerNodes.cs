using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using Npgsql;

namespace Cadre.Server.Tests.Infrastructure;

/// <summary>
/// A scale-out under test: server processes (<see cref="ServerProcess"/>, killable) sharing one PostgreSQL
/// database and one encryption key, a workspace made through the first, and a client per node holding
/// that workspace's owner key. A node can be killed and started again on its own data directory.
/// </summary>
internal sealed class ServerNodes : IAsyncDisposable
{
    private readonly string[] _directories;
    private readonly Dictionary<string, string> _environment;
    private readonly ServerProcess[] _nodes;
    private readonly HttpClient?[] _clients;
    private readonly TimeSpan? _clientTimeout;

    private ServerNodes(string[] directories, Dictionary<string, string> environment, TimeSpan? clientTimeout)
    {
        _directories = directories;
        _environment = environment;
        _clientTimeout = clientTimeout;
        _nodes = [.. directories.Select(d => ServerProcess.Start(d, environment))];
        _clients = new HttpClient?[directories.Length];
    }

    public string WorkspaceName { get; private set; } = "";

    public string OwnerKey { get; private set; } = "";

    public IReadOnlyList<ServerProcess> Nodes => _nodes;

    /// <summary>Node <paramref name="node"/>'s client, with the workspace's owner key.</summary>
    public HttpClient Client(int node) => _clients[node]!;

    /// <summary>Starts <paramref name="count"/> nodes on <paramref name="database"/>; <paramref name="configure"/> adds to their environment.</summary>
    public static async Task<ServerNodes> StartAsync(
        int count, string database, string workspacePrefix, Action<Dictionary<string, string>>? configure = null, TimeSpan? clientTimeout = null)
    {
        var adminKey = "cadre_test_admin_" + Guid.NewGuid().ToString("N");
        var environment = ServerProcess.KillableEnvironment(adminKey, database);
        // Every node must open what another sealed.
        environment["CADRE_ENCRYPTION_KEY"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        configure?.Invoke(environment);
        var nodes = new ServerNodes([.. Enumerable.Range(0, count).Select(_ => TestDirectories.Create("node"))], environment, clientTimeout);
        try
        {
            await Task.WhenAll(nodes._nodes.Select(n => n.WaitUntilListeningAsync()));
            using var admin = nodes._nodes[0].Client(adminKey);
            nodes.WorkspaceName = Api.UniqueName(workspacePrefix);
            await (await admin.PostJsonAsync("/api/v1/workspaces", new { name = nodes.WorkspaceName })).ShouldBeAsync(HttpStatusCode.Created);
            nodes.OwnerKey = await admin.CreateKeyAsync(nodes.WorkspaceName, "owner");
            for (var i = 0; i < count; i++)
            {
                nodes.Connect(i);
            }

            return nodes;
        }
        catch
        {
            await nodes.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILLs node <paramref name="node"/> and starts it again on its data directory, with a new client.</summary>
    public async Task KillAndRestartAsync(int node)
    {
        await _nodes[node].KillAsync();
        await _nodes[node].DisposeAsync();
        _nodes[node] = ServerProcess.Start(_directories[node], _environment);
        await _nodes[node].WaitUntilListeningAsync();
        Connect(node);
    }

    /// <summary>A count (or any whole number) that <paramref name="sql"/> selects.</summary>
    public static async Task<long> ScalarAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private void Connect(int node)
    {
        _clients[node]?.Dispose();
        _clients[node] = _nodes[node].Client(OwnerKey);
        if (_clientTimeout is { } timeout)
        {
            _clients[node]!.Timeout = timeout;
        }
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var client in _clients)
        {
            client?.Dispose();
        }

        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
